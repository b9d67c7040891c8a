package recording

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/internal/fsutil"
	"github.com/edr-lab/edr/recording/internal/dirsync"
	"github.com/edr-lab/edr/recording/internal/pqfile"
	"github.com/edr-lab/edr/recording/wal"
)

// WriterOptions configure a Writer. The zero value is usable.
type WriterOptions struct {
	Source   event.Source // recorded in segment metadata
	Producer string       // e.g. "edr generate 0.1"; recorded in metadata

	// FlushInterval is how often buffered events are written to the
	// write-ahead log (a crash loses at most about this much). Default
	// 200 ms. Negative: every Write goes to the log before it returns.
	FlushInterval time.Duration
	// Fsync makes every WAL flush and segment close reach stable storage
	// (not needed to survive a process crash, only a machine crash).
	Fsync bool

	// MaxSegmentBytes rotates a segment once its size reaches this
	// (default 128 MiB), checked when a row group completes.
	// MaxSegmentAge rotates a segment once an event is this much later, in
	// event time, than the segment's first event (default 1 h). Segments
	// also never span a UTC day.
	MaxSegmentBytes int64
	MaxSegmentAge   time.Duration
	// ReorderWindow bounds how out of order (in event time) a segment may
	// be (default 10 s): readers restore order with a buffer of that span.
	// An event later than this behind a segment's latest event is still
	// accepted, but then the segment closes at unsortedMax events, so
	// input in file order (imports of several files) or in reverse order
	// yields sorted segments or small ones, never a large unsorted one.
	ReorderWindow time.Duration
	// RowGroupRows is the Parquet row group size (default 131072).
	RowGroupRows int
	// MaxBufferBytes bounds the writer's memory: the events buffered in
	// the open row groups of all open segments, counted as their encoded
	// size (~ what the encoder holds), stay below it; beyond it the largest
	// row group is cut (ended early). Default 64 MiB. The cuts depend only
	// on the events, so the output stays deterministic.
	MaxBufferBytes int64
	// MaxOpenSegments bounds the segments (one per host and day) open at
	// once; the least recently written is closed beyond it (default 16).
	MaxOpenSegments int
	// PageCompression is the zstd level of the Parquet pages of segments
	// and raw-layer files: "fastest", "default" or "better" (empty:
	// DefaultPageCompression). Files stay zstd whatever the level, so
	// every reader reads them.
	PageCompression string

	// Durable, when set, is called after each completed flush of every
	// open segment's buffered events to the WAL (by the flush timer or
	// Flush) with the largest Seq that is now durable: every event with a
	// Seq up to it is in a WAL or a finished segment and survives a crash
	// of the process (of the machine too with Fsync). It runs on the
	// flusher's goroutine and must not call the Writer.
	Durable func(lastSeq uint64)

	// Snapshot, when set, is called when a segment opens; its bytes are
	// stored as the segment-start state (SegmentMeta.State).
	Snapshot func(host string, firstTime int64) []byte

	Logger *slog.Logger
}

func (o *WriterOptions) defaults() {
	if o.FlushInterval == 0 {
		o.FlushInterval = 200 * time.Millisecond
	}
	if o.MaxSegmentBytes <= 0 {
		o.MaxSegmentBytes = 128 << 20
	}
	if o.MaxSegmentAge <= 0 {
		o.MaxSegmentAge = time.Hour
	}
	if o.ReorderWindow <= 0 {
		o.ReorderWindow = 10 * time.Second
	}
	if o.RowGroupRows <= 0 {
		o.RowGroupRows = 131072
	}
	if o.MaxBufferBytes <= 0 {
		o.MaxBufferBytes = 64 << 20
	}
	if o.MaxOpenSegments <= 0 {
		o.MaxOpenSegments = 16
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
}

// WriterStats counts what a Writer did, including crash recovery on open.
type WriterStats struct {
	Events               int64
	RawRecords           int64 // raw records written (WriteRaw)
	RecoveredRawRecords  int64 // raw records recovered from WALs on open
	SegmentsClosed       int
	RecoveredSegments    int   // WALs turned into segments on open
	RecoveredEvents      int64 // events in them
	RecoveryDroppedBytes int64 // WAL bytes not recovered (damaged ranges, torn tails; kept in *.wal.bad)
	// RecoveryLostRecords and RecoveryLostEvents were in damaged WAL ranges
	// that intact records follow (counted exactly; see RecoveryGap).
	RecoveryLostRecords int64
	RecoveryLostEvents  int64
	// RecoveryDroppedEvents were in a WAL past the durable prefix of a
	// source not completed (an interrupted import writes them again).
	RecoveryDroppedEvents int64
	RecoveryFailed        int // WALs that could not be read at all (kept, renamed *.bad)
	StaleWALs             int // WALs whose segment was already finished
	// RecoveredWALs were read on open (stale ones aside); Recovery says
	// what each gave. KeptAsideBytes were not recovered and are kept in
	// *.wal.bad files beside their WALs.
	RecoveredWALs  int
	KeptAsideBytes int64
	Recovery       []WALRecovery
	// SpecialFiles names the special files (FIFOs, devices, sockets)
	// found under .wal/ and skipped.
	SpecialFiles []string
}

// WALRecovery is what recovery made of one write-ahead log.
type WALRecovery struct {
	WAL     string `json:"wal"`
	Segment string `json:"segment,omitempty"` // the segment it became ("" when none)
	Records int    `json:"records"`           // good records read
	// Resynced of them were read after a damaged range.
	Resynced int   `json:"resynced_records,omitempty"`
	Events   int64 `json:"events"` // events put into the segment
	Bytes    int64 `json:"bytes"`  // size of the WAL
	// KeptAside bytes were not recovered: the ranges in Gaps, the first
	// from offset KeptFrom, copied in order into BadFile ("" when every
	// byte was read). LostRecords and LostEvents sum the gaps' counts.
	KeptAside    int64         `json:"kept_aside_bytes"`
	KeptFrom     int64         `json:"kept_from"`
	BadFile      string        `json:"bad_file,omitempty"`
	Gaps         []RecoveryGap `json:"gaps,omitempty"`
	LostRecords  int64         `json:"records_lost,omitempty"`
	LostEvents   int64         `json:"events_lost,omitempty"`
	MagicDamaged bool          `json:"magic_damaged,omitempty"`
	Reason       string        `json:"reason,omitempty"` // why reading stopped early
}

// Writer appends events to a recording. It is safe for concurrent use.
// Only one Writer may have a recording open at a time.
type Writer struct {
	dir   string
	opts  WriterOptions
	level pqfile.Level // of opts.PageCompression

	mu       sync.Mutex
	open     map[segKey]*openSeg
	raws     map[segKey]*rawSeg // open raw segments (rawlayer.go)
	tick     uint64
	nextSeq  uint64
	last     *openSeg
	sources  map[string]SourceInfo // completed (AddSource)
	progress map[string]int64      // events held of sources not completed
	cur      *srcCursor            // the source begun (BeginSource), if any
	srcLog   *os.File              // sources log, once AddSource was called
	loss     map[string]uint64     // waiting for a segment
	acked    uint64                // largest Seq handed to opts.Durable's queue
	buffered int64                 // bytes in open row groups (segWriter.rgBytes summed)
	stats    WriterStats
	err      error // sticky
	closed   bool

	fl   *flusher
	lock *os.File // the recording's writer lock, held until Close
}

type segKey struct {
	host string
	day  int64 // UTC day number; formatted only when a segment opens
}

// walBatchMax bounds a WAL record (uncompressed): at high rates a batch is
// handed to the flusher before the interval is up. Every open segment (and
// raw segment) holds one batch and the flusher queues up to flushQueue more
// and keeps as many for reuse, so this also bounds the WAL's memory.
// 256 KiB instead of 1 MiB held ~4.5 MB of batches instead of ~23 MB near
// the peak of edr live's raw-synthetic benchmark (4 hosts, 8 open WALs).
// When the WAL was zstd, 256 KiB cost ~5-8 % more CPU time (four times as
// many frames); S2 blocks have no such fixed cost (the 4x records are a
// few thousand more write calls per million events), so 256 KiB it is.
const walBatchMax = 256 << 10

type openSeg struct {
	key     segKey
	rel     string // partition-relative path of the final segment
	wal     *wal.Writer
	batch   wal.Batch
	sw      *segWriter
	lastUse uint64
	run     srcCursor // the source index recovery infers for the next event entry
	// records handed to the WAL, and event entries in them and in batch:
	// what the next record's walSync entry says came before it.
	records, walEvents int64
}

// OpenWriter creates a recording or reopens one to append to it: Seq
// continues after the largest in the recording, and a WAL left by a crash
// becomes a segment first. It fails with ErrLocked while another Writer
// has the recording open.
func OpenWriter(dir string, opts WriterOptions) (w *Writer, err error) {
	opts.defaults()
	level, err := pageLevel(opts.PageCompression)
	if err != nil {
		return nil, fmt.Errorf("recording %s: %w", dir, err)
	}
	if err := os.MkdirAll(filepath.Join(dir, walDir), 0o755); err != nil {
		return nil, fmt.Errorf("recording %s: %w", dir, err)
	}
	lock, err := acquireLock(dir)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			lock.Close()
		}
	}()
	w = &Writer{dir: dir, opts: opts, open: map[segKey]*openSeg{}, raws: map[segKey]*rawSeg{}, sources: map[string]SourceInfo{}, progress: map[string]int64{},
		loss: map[string]uint64{}, nextSeq: 1, lock: lock, level: level}
	if err := w.scan(); err != nil {
		return nil, err
	}
	if err := w.loadSources(); err != nil {
		return nil, err
	}
	if err := w.recover(); err != nil {
		return nil, err
	}
	w.fl = newFlusher(opts.FlushInterval, w.flushTick)
	return w, nil
}

// scan reads every segment footer for the largest Seq, the sources and
// the progress of sources not completed.
func (w *Writer) scan() error {
	paths, err := listSegments(w.dir)
	if err != nil {
		return err
	}
	for _, p := range paths {
		m, err := readSegmentMeta(p)
		if err != nil {
			// A corrupt segment cannot be appended to anyway; readers
			// report it. Seq stays unique as long as later segments are fine.
			w.opts.Logger.Warn("recording: unreadable segment", "segment", p, "err", err)
			continue
		}
		w.noteSegment(m)
	}
	return nil
}

// noteSegment takes in the metadata of a finished segment.
func (w *Writer) noteSegment(m *SegmentMeta) {
	if m.Events > 0 && m.LastSeq >= w.nextSeq {
		w.nextSeq = m.LastSeq + 1
	}
	for _, s := range m.Sources {
		w.sources[s.ContentHash] = s
	}
	for _, sp := range m.Spans {
		w.progress[sp.ContentHash] = max(w.progress[sp.ContentHash], sp.End)
	}
}

// ErrEventRejected is wrapped by a Write error that concerns only the event
// written (its host's partition directory cannot be created): the event is
// not in the recording (it still uses up its index in the current source),
// and the Writer stays usable. Every other Write error leaves the Writer
// failed.
var ErrEventRejected = errors.New("event not written")

// Write appends an event: it sets e.Seq and does not retain e.
func (w *Writer) Write(e *event.Event) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.usable(); err != nil {
		return err
	}
	e.Seq = w.nextSeq
	key := segKey{e.Host, dayOf(e.Time)}
	s := w.open[key]
	if s != nil && (e.Time-s.sw.meta.FirstTime >= int64(w.opts.MaxSegmentAge) || w.tooDisordered(s, e)) {
		if err := w.closeSeg(s); err != nil {
			return w.fail(err)
		}
		s = nil
	}
	if s == nil {
		var err error
		if s, err = w.openSeg(key, e); err != nil {
			if errors.Is(err, ErrEventRejected) {
				// The writer goes on. The event keeps its index in the
				// current source (see sources.go): an importer resuming
				// the source skips it with the events before it, as it
				// counts decoded events, not written ones.
				if w.cur != nil {
					w.cur.next++
				}
				return err
			}
			return w.fail(err)
		}
	}
	w.nextSeq++
	w.tick++
	s.lastUse = w.tick
	w.last = s
	s.begin()
	if w.cur != nil || s.run.hash != "" {
		w.noteRun(s)
	}
	body := s.batch.AppendFunc(walEvent, func(b []byte) []byte { return appendEvent(b, e) })
	s.walEvents++
	before := s.sw.rgBytes
	if err := s.sw.addEncoded(e, body); err != nil {
		return w.fail(err)
	}
	w.buffered += s.sw.rgBytes - before // less when the row group was cut
	if c := w.cur; c != nil {
		s.sw.spans.add(c.hash, c.next)
		c.next++
		s.run.next++
	}
	w.stats.Events++
	if s.batch.Size() >= walBatchMax {
		if err := w.flushSeg(s); err != nil {
			return w.fail(err)
		}
	}
	if w.opts.FlushInterval < 0 {
		if err := w.flushSeg(s); err != nil {
			return w.fail(err)
		}
		if err := w.fl.wait(); err != nil {
			return w.fail(err)
		}
	}
	for w.buffered > w.opts.MaxBufferBytes {
		if err := w.cutLargest(); err != nil {
			return w.fail(err)
		}
	}
	if _, open := w.open[s.key]; open {
		return w.fail2(w.rotateIfFull(s))
	}
	return nil
}

// cutLargest ends the largest open row group (ties: the first segment by
// path), to bound the memory of all of them.
func (w *Writer) cutLargest() error {
	var big *openSeg
	for _, s := range w.open {
		if big == nil || s.sw.rgBytes > big.sw.rgBytes || s.sw.rgBytes == big.sw.rgBytes && s.rel < big.rel {
			big = s
		}
	}
	w.buffered -= big.sw.rgBytes
	big.sw.cut()
	return w.rotateIfFull(big)
}

// rotateIfFull closes a segment whose row group just ended if it reached
// MaxSegmentBytes.
func (w *Writer) rotateIfFull(s *openSeg) error {
	full, err := s.sw.rowGroupDone(w.opts.MaxSegmentBytes)
	if err != nil || !full {
		return err
	}
	return w.closeSeg(s)
}

// unsortedMax is the most events a segment holds once its disorder exceeds
// the reorder window: readers sort such a segment in memory.
const unsortedMax = 8192

// tooDisordered reports that adding e would leave a segment of at least
// unsortedMax events more out of order than the reorder window.
func (w *Writer) tooDisordered(s *openSeg, e *event.Event) bool {
	m := &s.sw.meta
	if m.Events < unsortedMax {
		return false
	}
	return max(m.MaxDisorder, s.sw.last-e.Time) > int64(w.opts.ReorderWindow)
}

func (w *Writer) usable() error {
	if w.closed {
		return errors.New("recording: writer closed")
	}
	return w.err
}

func (w *Writer) fail(err error) error {
	if w.err == nil {
		w.err = err
	}
	return err
}

func (w *Writer) openSeg(key segKey, first *event.Event) (*openSeg, error) {
	if len(w.open) >= w.opts.MaxOpenSegments {
		var lru *openSeg
		for _, s := range w.open {
			if lru == nil || s.lastUse < lru.lastUse {
				lru = s
			}
		}
		if err := w.closeSeg(lru); err != nil {
			return nil, err
		}
	}
	date := dateOf(first.Time)
	rel := filepath.Join(partitionDir(key.host, date), segmentName(first.Time, w.nextSeq))
	tmp := filepath.Join(w.dir, walDir, rel)
	if err := mkdirs(filepath.Dir(tmp), filepath.Join(w.dir, filepath.Dir(rel))); err != nil {
		// Only this host's partition is affected (a file in the way of its
		// directory, no permission on it): the event is refused, and the
		// writer stays usable for every other host.
		return nil, fmt.Errorf("recording %s: host %q: %w: %w", w.dir, key.host, ErrEventRejected, err)
	}
	meta := SegmentMeta{SchemaVersion: event.SchemaVersion, Producer: w.opts.Producer, Source: w.opts.Source.String(), Host: key.host, Date: date}
	hdr := walHeaderDoc{SchemaVersion: event.SchemaVersion, Host: key.host, Date: date, FirstTime: first.Time, FirstSeq: w.nextSeq,
		Producer: w.opts.Producer, Source: meta.Source, Fields: fieldNames()}
	wl, err := w.createWAL(tmp + ".wal")
	if err != nil {
		return nil, err
	}
	sw, err := newSegWriter(tmp+".tmp", w.opts.RowGroupRows, w.opts.MaxBufferBytes, w.level, meta)
	if err != nil {
		wl.Close()
		return nil, err
	}
	s := &openSeg{key: key, rel: rel, wal: wl, sw: sw}
	hb, _ := json.Marshal(hdr)
	s.batch.Append(walHeader, hb)
	if w.opts.Snapshot != nil {
		st := w.opts.Snapshot(key.host, first.Time)
		sw.meta.State = st
		s.batch.Append(walState, st)
	}
	if len(w.loss) > 0 {
		w.addLoss(s, w.loss)
		w.loss = map[string]uint64{}
	}
	w.open[key] = s
	return s, nil
}

// mkdirs creates directories, stopping at the first error.
func mkdirs(dirs ...string) error {
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	return nil
}

// createWAL creates a segment's (or raw segment's) write-ahead log.
func (w *Writer) createWAL(path string) (*wal.Writer, error) {
	wl, err := wal.Create(path, w.opts.Fsync)
	if err != nil {
		return nil, fmt.Errorf("recording %s: %w", w.dir, err)
	}
	if w.opts.Fsync {
		// the new log's name must survive a machine crash too
		if err := syncDir(filepath.Dir(path)); err != nil {
			wl.Close()
			os.Remove(path) // empty: nothing was written to it
			return nil, fmt.Errorf("recording %s: %w", w.dir, err)
		}
	}
	return wl, nil
}

// flushSeg hands the segment's buffered WAL entries to the flusher.
func (w *Writer) flushSeg(s *openSeg) error {
	if s.batch.Len() == 0 {
		return nil
	}
	s.records++
	return w.fl.write(s.wal, &s.batch)
}

// flushTick runs on the flusher's timer.
func (w *Writer) flushTick() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed || w.err != nil {
		return
	}
	if err := w.flushAll(); err != nil {
		w.fail(err)
		return
	}
	w.queueDurable()
}

// flushAll hands every open segment's buffered WAL entries to the flusher,
// in a fixed order.
func (w *Writer) flushAll() error {
	for _, s := range w.sortedOpen() {
		if err := w.flushSeg(s); err != nil {
			return err
		}
	}
	for _, s := range w.sortedRaw() {
		if s.batch.Len() > 0 {
			if err := w.fl.write(s.wal, &s.batch); err != nil {
				return err
			}
		}
	}
	return nil
}

// queueDurable, after every open segment's batch was handed to the flusher,
// has opts.Durable told the last Seq once the flusher has written them.
func (w *Writer) queueDurable() {
	last := w.nextSeq - 1
	if w.opts.Durable == nil || last <= w.acked {
		return
	}
	w.acked = last
	fn := w.opts.Durable
	w.fl.acknowledge(func() { fn(last) })
}

// sortedOpen lists open segments in a fixed order (map order is random).
func (w *Writer) sortedOpen() []*openSeg {
	out := make([]*openSeg, 0, len(w.open))
	for _, s := range w.open {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].rel < out[j].rel })
	return out
}

// closeSeg finishes a segment: footer, fsync, rename into its partition,
// then the WAL is removed. A crash before the rename leaves the WAL, which
// recovery turns into the segment; a crash after it leaves a stale WAL that
// recovery deletes. Every other open segment's buffered events reach their
// WAL first: whatever was written before a finished segment's events is
// durable too, which source progress relies on (see sources.go).
func (w *Writer) closeSeg(s *openSeg) error {
	delete(w.open, s.key)
	w.buffered -= s.sw.rgBytes
	if w.last == s {
		w.last = nil
	}
	// On every error the segment's files are closed (a failed writer must
	// not hold them: its WAL is what a later open recovers from).
	defer s.wal.Close()
	if err := w.flushBefore(s); err != nil {
		s.sw.abort()
		return err
	}
	if err := s.sw.finish(w.opts.Fsync); err != nil {
		return err
	}
	final := filepath.Join(w.dir, s.rel)
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return err
	}
	if err := os.Rename(s.sw.path, final); err != nil {
		return fmt.Errorf("segment %s: %w", final, err)
	}
	if w.opts.Fsync {
		if err := syncDir(filepath.Dir(final)); err != nil {
			// The WAL stays: the next open finds the segment (and drops
			// the WAL) or, after a crash lost the rename, recovers it.
			s.wal.Close()
			return fmt.Errorf("segment %s: %w", final, err)
		}
	}
	s.wal.Close()
	if err := os.Remove(s.wal.Name()); err != nil {
		return fmt.Errorf("recording %s: %w", w.dir, err)
	}
	w.stats.SegmentsClosed++
	return nil
}

// flushBefore has every buffered event of s and of the other open
// segments written to their WALs.
func (w *Writer) flushBefore(s *openSeg) error {
	if err := w.flushSeg(s); err != nil {
		return err
	}
	if err := w.flushAll(); err != nil {
		return err
	}
	return w.fl.wait()
}

// Flush writes every buffered event to the WAL (and fsyncs it with Fsync).
func (w *Writer) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.usable(); err != nil {
		return err
	}
	return w.flushLocked()
}

// flushLocked is Flush with w.mu held.
func (w *Writer) flushLocked() error {
	if err := w.flushAll(); err != nil {
		return w.fail(err)
	}
	w.queueDurable()
	return w.fail2(w.fl.wait())
}

func (w *Writer) fail2(err error) error {
	if err != nil {
		return w.fail(err)
	}
	return nil
}

// Close finishes every open segment. The Writer is unusable afterwards.
func (w *Writer) Close() error {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil
	}
	var errs []error
	if w.err != nil {
		errs = append(errs, w.err)
	}
	for _, s := range w.sortedOpen() {
		if err := w.closeSeg(s); err != nil {
			errs = append(errs, err)
		}
	}
	for _, s := range w.sortedRaw() {
		if err := w.closeRaw(s); err != nil {
			errs = append(errs, err)
		}
	}
	w.endSource()
	if w.srcLog != nil && len(errs) == 0 {
		errs = append(errs, w.compactSources())
	}
	w.closed = true
	w.mu.Unlock()
	errs = append(errs, w.fl.stop())
	if w.srcLog != nil {
		w.srcLog.Close()
	}
	w.lock.Close()
	return errors.Join(errs...)
}

// Stats returns counters of what the writer did so far.
func (w *Writer) Stats() WriterStats {
	w.mu.Lock()
	defer w.mu.Unlock()
	st := w.stats
	st.Recovery = append([]WALRecovery(nil), st.Recovery...)
	st.SpecialFiles = append([]string(nil), st.SpecialFiles...)
	return st
}

// NextSeq is the Seq the next event will get.
func (w *Writer) NextSeq() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.nextSeq
}

// AddLoss adds to a named loss counter (events the producer lost before
// they reached the writer). It is stored with the most recently written
// segment, or the next one opened.
func (w *Writer) AddLoss(name string, n uint64) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.last != nil {
		w.addLoss(w.last, map[string]uint64{name: n})
		return
	}
	w.loss[name] += n
}

func (w *Writer) addLoss(s *openSeg, m map[string]uint64) {
	if s.sw.meta.Loss == nil {
		s.sw.meta.Loss = map[string]uint64{}
	}
	for k, v := range m {
		s.sw.meta.Loss[k] += v
	}
	b, _ := json.Marshal(m)
	s.begin()
	s.batch.Append(walLoss, b)
}

func writeFileSync(path string, b []byte, fsync bool) error {
	f, err := fsutil.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if fsync {
		if err := f.Sync(); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}

// syncDir makes new entries of a directory durable (a variable so that
// tests can make it fail).
var syncDir = dirsync.Sync

// isWAL reports whether a path under .wal is a segment's log.
func isWAL(p string) bool { return strings.HasSuffix(p, segmentExt+".wal") }

// DefaultPageCompression is the page level when
// WriterOptions.PageCompression is empty: fastest, because on a live
// recording's pages (BenchmarkPageLevels) it took ~0.5x the CPU of the
// default level, for event segments of the same size and a raw layer
// ~13 % larger (~7 % more bytes in all).
const DefaultPageCompression = "fastest"

// pageLevels are the values of WriterOptions.PageCompression.
var pageLevels = map[string]pqfile.Level{"fastest": pqfile.LevelFastest, "default": pqfile.LevelDefault, "better": pqfile.LevelBetter}

// pageLevel parses WriterOptions.PageCompression.
func pageLevel(s string) (pqfile.Level, error) {
	if s == "" {
		s = DefaultPageCompression
	}
	if l, ok := pageLevels[s]; ok {
		return l, nil
	}
	return 0, fmt.Errorf("page compression %q: want fastest, default or better", s)
}
