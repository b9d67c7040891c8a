package recording

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/edr-lab/edr/internal/fsutil"
)

// Source bookkeeping: which source files (by content hash) a recording
// holds completely, and how far an interrupted import of one got.
//
// Completed sources are in sources.json (sorted, rewritten only when a
// Writer opens or closes) plus, while a Writer is open, an append-only log
// .wal/sources.log: AddSource appends one checksummed record, so adding a
// source costs the same however many the recording has. OpenWriter and
// Close fold the log into sources.json (written to a temporary file and
// renamed, then the log removed; a crash in between leaves both, which
// read as their union). A torn last record is one whose AddSource never
// returned: it is ignored.
//
// Progress: between BeginSource and AddSource every event written is the
// source's next one (index 0, 1, …). Each segment's WAL records where the
// source's index runs continue (walRun entries) and each finished segment
// lists, per source, the span of indexes it holds (SegmentMeta.Spans). A
// segment is finished only after every open segment's buffered events are
// in their WALs, so the indexes below the largest span end are all durable.
// Recovery keeps, of a source that was not completed, exactly its first K
// events, K being the first index at or after that end that no WAL holds:
// the events of a source in a recording are always a prefix of its events,
// and SourceProgress says how long. An importer that decodes a file the same
// way every time skips that many and so imports every event exactly once.
const (
	sourcesFile  = "sources.json"
	sourcesLog   = "sources.log" // under walDir
	sourcesMagic = "EDRSRC1\n"
)

// SourceSpan is what a segment holds of one source file's events: indexes
// (the order in which they were written) in [First, End), Events of them
// (fewer than End-First when other segments, e.g. of another host, hold the
// rest).
type SourceSpan struct {
	ContentHash string `json:"content_hash"`
	First       int64  `json:"first"`
	End         int64  `json:"end"`
	Events      int64  `json:"events"`
}

// srcCursor is a source and the index of its next event.
type srcCursor struct {
	hash string
	next int64
}

// HasSource reports whether a source file with this content hash was added
// to the recording (by this or an earlier writer) with AddSource.
func (w *Writer) HasSource(contentHash string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	_, ok := w.sources[contentHash]
	return ok
}

// SourceProgress reports how many of a source's first events the recording
// holds (written since BeginSource by this or an interrupted earlier
// writer), and whether the source was completed with AddSource (then n is
// its SourceInfo.Events).
func (w *Writer) SourceProgress(contentHash string) (n int64, complete bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if si, ok := w.sources[contentHash]; ok {
		return si.Events, true
	}
	if w.cur != nil && w.cur.hash == contentHash {
		return w.cur.next, false
	}
	return w.progress[contentHash], false
}

// BeginSource makes the following writes the events of a source file,
// continuing after the SourceProgress events the recording already holds;
// AddSource (or another BeginSource) ends it. A completed source cannot be
// begun again.
func (w *Writer) BeginSource(contentHash string) error {
	if contentHash == "" {
		return errors.New("recording: BeginSource needs a content hash")
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.usable(); err != nil {
		return err
	}
	if _, ok := w.sources[contentHash]; ok {
		return fmt.Errorf("recording %s: source %s is already complete", w.dir, contentHash)
	}
	w.endSource()
	w.cur = &srcCursor{contentHash, w.progress[contentHash]}
	return nil
}

func (w *Writer) endSource() {
	if w.cur != nil {
		w.progress[w.cur.hash] = w.cur.next
		w.cur = nil
	}
}

// noteRun, before an event goes to s's WAL, records there which source
// index it has when that does not follow from the previous entry.
func (w *Writer) noteRun(s *openSeg) {
	var want srcCursor
	if w.cur != nil {
		want = *w.cur
	}
	if s.run != want {
		s.batch.Append(walRun, appendRun(nil, want))
		s.run = want
	}
}

// appendRun encodes a walRun body: the index of the next event, then the
// source's content hash ("" for events of no source).
func appendRun(b []byte, c srcCursor) []byte {
	b = binary.AppendUvarint(b, uint64(c.next))
	return append(b, c.hash...)
}

func parseRun(b []byte) (srcCursor, error) {
	v, n := binary.Uvarint(b)
	if n <= 0 || v > 1<<62 {
		return srcCursor{}, errors.New("malformed source run")
	}
	return srcCursor{string(b[n:]), int64(v)}, nil
}

// AddSource records a completed source file; call it after writing the
// file's events. It makes every buffered event durable in the WAL first,
// then appends the source to the sources log (one record, whatever the
// number of sources) and to the metadata of the open segments. It ends the
// source begun with BeginSource.
func (w *Writer) AddSource(si SourceInfo) error {
	if si.ContentHash == "" {
		return errors.New("recording: AddSource needs a content hash")
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.usable(); err != nil {
		return err
	}
	// Events first: a source marked complete must never miss any.
	if err := w.flushLocked(); err != nil {
		return err
	}
	if err := w.logSource(si); err != nil {
		return w.fail(err)
	}
	if w.cur != nil && w.cur.hash == si.ContentHash {
		w.cur = nil
	}
	delete(w.progress, si.ContentHash)
	w.sources[si.ContentHash] = si
	body, _ := json.Marshal(si)
	for _, s := range w.sortedOpen() {
		s.sw.meta.Sources = append(s.sw.meta.Sources, si)
		s.begin()
		s.batch.Append(walSource, body)
	}
	return nil
}

// logSource appends one record to the sources log, creating it first.
func (w *Writer) logSource(si SourceInfo) error {
	path := filepath.Join(w.dir, walDir, sourcesLog)
	if w.srcLog == nil {
		f, err := fsutil.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
		if err != nil {
			return fmt.Errorf("recording %s: %w", w.dir, err)
		}
		if _, err := f.WriteString(sourcesMagic); err != nil {
			f.Close()
			return fmt.Errorf("sources log %s: %w", path, err)
		}
		w.srcLog = f
	}
	if _, err := w.srcLog.Write(appendSourceRecord(nil, si)); err != nil {
		return fmt.Errorf("sources log %s: %w", path, err)
	}
	if w.opts.Fsync {
		if err := w.srcLog.Sync(); err != nil {
			return fmt.Errorf("sources log %s: fsync: %w", path, err)
		}
	}
	return nil
}

// maxSourceRecord bounds one sources-log record (a SourceInfo is a few
// hundred bytes) so that a corrupt length cannot allocate without limit.
const maxSourceRecord = 1 << 20

// readSourcesLog returns the sources of every intact record of a log
// file (none when there is no log).
func readSourcesLog(path string) ([]SourceInfo, error) {
	b, err := fsutil.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	list, err := parseSourcesLog(b)
	if err != nil {
		return nil, fmt.Errorf("sources log %s: %w", path, err)
	}
	return list, nil
}

// parseSourcesLog returns the sources of every intact record. A log cut
// inside its magic or a record (a crash while appending) ends there; bytes
// that are not a log at all are an error.
func parseSourcesLog(b []byte) ([]SourceInfo, error) {
	if len(b) < len(sourcesMagic) && string(b) == sourcesMagic[:len(b)] {
		return nil, nil
	}
	if len(b) < len(sourcesMagic) || string(b[:len(sourcesMagic)]) != sourcesMagic {
		return nil, errors.New("bad magic")
	}
	var out []SourceInfo
	for p := b[len(sourcesMagic):]; len(p) >= 8; {
		n := binary.LittleEndian.Uint32(p)
		if n > maxSourceRecord || uint64(n) > uint64(len(p)-8) {
			break
		}
		body := p[8 : 8+n]
		if crc32.Checksum(body, castagnoli) != binary.LittleEndian.Uint32(p[4:]) {
			break
		}
		var si SourceInfo
		if err := json.Unmarshal(body, &si); err != nil || si.ContentHash == "" {
			break
		}
		out = append(out, si)
		p = p[8+n:]
	}
	return out, nil
}

// appendSourceRecord appends one sources-log record.
func appendSourceRecord(b []byte, si SourceInfo) []byte {
	body, _ := json.Marshal(si)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(body)))
	b = binary.LittleEndian.AppendUint32(b, crc32.Checksum(body, castagnoli))
	return append(b, body...)
}

// loadSources reads sources.json and a sources log left by an earlier
// writer, and folds the log into sources.json.
func (w *Writer) loadSources() error {
	list, err := readSourcesFile(w.dir)
	if err != nil {
		return err
	}
	for _, si := range list {
		w.sources[si.ContentHash] = si
	}
	logPath := filepath.Join(w.dir, walDir, sourcesLog)
	logged, err := readSourcesLog(logPath)
	if errors.Is(err, fsutil.ErrSpecial) {
		// Not renamed or removed (it is not ours): the writer needs the
		// log's name, so it cannot go on.
		return fmt.Errorf("recording %s: sources log %w", w.dir, err)
	}
	if err != nil {
		// Only a file that is not a sources log at all gets here. The
		// sources in it are not lost for exactly-once imports: their
		// events are in the segments, so SourceProgress covers them.
		w.opts.Logger.Error("recording: sources log unreadable, kept as .bad", "log", logPath, "err", err)
		if err := os.Rename(logPath, logPath+".bad"); err != nil {
			return fmt.Errorf("recording %s: %w", w.dir, err)
		}
		return nil
	}
	for _, si := range logged {
		w.sources[si.ContentHash] = si
	}
	if _, err := os.Stat(logPath); err == nil {
		return w.compactSources()
	}
	return nil
}

// compactSources writes every completed source to sources.json, then
// removes the log.
func (w *Writer) compactSources() error {
	if w.srcLog != nil {
		w.srcLog.Close()
		w.srcLog = nil
	}
	if err := writeSourcesFile(w.dir, w.sources, w.opts.Fsync); err != nil {
		return fmt.Errorf("recording %s: %s: %w", w.dir, sourcesFile, err)
	}
	if w.opts.Fsync {
		if err := syncDir(w.dir); err != nil {
			return fmt.Errorf("recording %s: %w", w.dir, err)
		}
	}
	if err := os.Remove(filepath.Join(w.dir, walDir, sourcesLog)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("recording %s: %w", w.dir, err)
	}
	return nil
}

// writeSourcesFile replaces sources.json atomically: every source, sorted
// by hash.
func writeSourcesFile(dir string, m map[string]SourceInfo, fsync bool) error {
	list := make([]SourceInfo, 0, len(m))
	for _, s := range m {
		list = append(list, s)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].ContentHash < list[j].ContentHash })
	b, err := json.MarshalIndent(list, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, walDir, sourcesFile+".tmp")
	if err := writeFileSync(tmp, append(b, '\n'), fsync); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, sourcesFile))
}

func readSourcesFile(dir string) ([]SourceInfo, error) {
	b, err := fsutil.ReadFile(filepath.Join(dir, sourcesFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var list []SourceInfo
	if err := json.Unmarshal(b, &list); err != nil {
		return nil, fmt.Errorf("recording %s: %s: %w", dir, sourcesFile, err)
	}
	return list, nil
}

// readAllSources is every completed source as a reader sees it: the
// sources file and a running (or crashed) writer's log.
func readAllSources(dir string) ([]SourceInfo, error) {
	list, err := readSourcesFile(dir)
	if err != nil {
		return nil, err
	}
	logged, err := readSourcesLog(filepath.Join(dir, walDir, sourcesLog))
	return append(list, logged...), err
}

// spanSet accumulates SourceSpans.
type spanSet map[string]*SourceSpan

func (m spanSet) add(hash string, idx int64) {
	sp := m[hash]
	if sp == nil {
		m[hash] = &SourceSpan{ContentHash: hash, First: idx, End: idx + 1, Events: 1}
		return
	}
	sp.First = min(sp.First, idx)
	sp.End = max(sp.End, idx+1)
	sp.Events++
}

func (m spanSet) list() []SourceSpan {
	if len(m) == 0 {
		return nil
	}
	out := make([]SourceSpan, 0, len(m))
	for _, sp := range m {
		out = append(out, *sp)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ContentHash < out[j].ContentHash })
	return out
}

// idxRange is a run of a source's indexes [from, to) found in a WAL.
type idxRange struct{ from, to int64 }

// durablePrefix is how many of a source's first events survive: all below
// done (the largest span end of the finished segments) and then as far as
// the WALs' runs continue without a gap.
func durablePrefix(done int64, runs []idxRange) int64 {
	sort.Slice(runs, func(i, j int) bool { return runs[i].from < runs[j].from })
	k := done
	for _, r := range runs {
		if r.from > k {
			break
		}
		k = max(k, r.to)
	}
	return k
}
