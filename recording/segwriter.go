package recording

import (
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"sync"

	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/internal/fsutil"
	"github.com/edr-lab/edr/recording/internal/pqfile"
	"github.com/parquet-go/parquet-go/format"
)

// segWriter encodes one segment file and accumulates its metadata. The
// Parquet encoding runs on its own goroutine: add only records metadata and
// queues the event's WAL encoding (which the caller produced anyway); the
// encoder goroutine decodes it without copying and adds the row. Row
// groups end (cut) after rgRows events or once the events buffered in the
// row group reach maxRGBytes, counted as their WAL encoding (what the
// encoder holds of them is about that size), or when the Writer cuts it to
// bound the total over all open segments; a cut travels in the queue with
// the events. Segment boundaries stay deterministic because every cut
// depends only on the events, and the size is only checked after a cut,
// once the encoder has caught up (rowGroupDone).
type segWriter struct {
	path       string
	f          *os.File
	enc        *pqEncoder
	spell      spellings // encoder goroutine's scratch
	meta       SegmentMeta
	counts     counter
	spans      spanSet // source spans, into meta.Spans at finish
	last       int64   // largest event time so far
	rgRows     int
	rgLeft     int   // events until the open row group is complete
	rgBytes    int64 // bytes buffered in the open row group
	maxRGBytes int64
	cutDone    bool // a row group ended since rowGroupDone last looked

	buf     []byte // queued events: u32 length | appendEvent bytes
	queued  int
	work    chan []byte
	free    chan []byte
	pending sync.WaitGroup
	done    chan struct{}
	mu      sync.Mutex
	err     error // first encoder error
}

// rowOverhead is what a row costs the encoder beyond its WAL encoding
// (fixed-width columns, dictionary indexes).
const rowOverhead = 48

// cutMarker, in place of an event's length in the queue, ends the row group.
const cutMarker = ^uint32(0)

// Events go to the encoder in buffers of segQueue events or about
// segQueueBytes, whichever comes first; at most 2 buffers wait and 2 are
// kept for reuse, so the queue of a segment holds a few MB at most.
const (
	segQueue      = 512
	segQueueBytes = 256 << 10
)

func newSegWriter(path string, rowGroupRows int, maxRGBytes int64, level pqfile.Level, meta SegmentMeta) (*segWriter, error) {
	f, err := fsutil.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	meta.Sorted = true
	s := &segWriter{path: path, f: f, enc: newPQEncoder(f, level), meta: meta, counts: counter{}, spans: spanSet{},
		rgRows: rowGroupRows, rgLeft: rowGroupRows, maxRGBytes: maxRGBytes, work: make(chan []byte, 2), free: make(chan []byte, 2), done: make(chan struct{})}
	go s.encode()
	return s, nil
}

// add appends e, encoding it for the queue.
func (s *segWriter) add(e *event.Event) error {
	at := len(s.buf)
	s.buf = append(s.buf, 0, 0, 0, 0)
	s.buf = appendEvent(s.buf, e)
	n := len(s.buf) - at - 4
	binary.LittleEndian.PutUint32(s.buf[at:], uint32(n))
	return s.queued1(e, n)
}

// addEncoded appends e given its appendEvent encoding.
func (s *segWriter) addEncoded(e *event.Event, enc []byte) error {
	s.buf = binary.LittleEndian.AppendUint32(s.buf, uint32(len(enc)))
	s.buf = append(s.buf, enc...)
	return s.queued1(e, len(enc))
}

func (s *segWriter) queued1(e *event.Event, size int) error {
	m := &s.meta
	if m.Events == 0 {
		m.FirstTime, m.LastTime, m.FirstSeq = e.Time, e.Time, e.Seq
	} else if e.Time < s.last {
		m.Sorted = false
		m.MaxDisorder = max(m.MaxDisorder, s.last-e.Time)
	}
	s.last = max(s.last, e.Time)
	m.FirstTime = min(m.FirstTime, e.Time)
	m.LastTime = max(m.LastTime, e.Time)
	m.FirstSeq = min(m.FirstSeq, e.Seq)
	m.LastSeq = max(m.LastSeq, e.Seq)
	m.Events++
	s.counts[countKey{e.Channel, e.EventID}]++
	s.queued++
	s.rgLeft--
	s.rgBytes += int64(size) + rowOverhead
	switch {
	case s.rgLeft == 0 || s.rgBytes >= s.maxRGBytes:
		s.cut()
	case s.queued == segQueue || len(s.buf) >= segQueueBytes:
		s.send()
	}
	return s.encErr()
}

// cut ends the open row group after the events queued so far.
func (s *segWriter) cut() {
	s.buf = binary.LittleEndian.AppendUint32(s.buf, cutMarker)
	s.queued++
	s.rgLeft, s.rgBytes, s.cutDone = s.rgRows, 0, true
	s.send()
}

func (s *segWriter) send() {
	if s.queued == 0 {
		return
	}
	s.pending.Add(1)
	s.work <- s.buf
	s.queued = 0
	select {
	case b := <-s.free:
		s.buf = b[:0]
	default:
		s.buf = make([]byte, 0, segQueueBytes+segQueueBytes/4)
	}
}

func (s *segWriter) encErr() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// encode is the encoder goroutine.
func (s *segWriter) encode() {
	defer close(s.done)
	var fv []fieldValue
	var ex [][2]string
	for b := range s.work {
		for p := b; len(p) >= 4 && s.encErr() == nil; {
			n := binary.LittleEndian.Uint32(p)
			if n == cutMarker {
				if err := s.enc.flushRowGroup(); err != nil {
					s.mu.Lock()
					s.err = fmt.Errorf("segment %s: %w", s.path, err)
					s.mu.Unlock()
				}
				p = p[4:]
				continue
			}
			var err error
			fv, ex, err = s.addRaw(p[4:4+n], fv[:0], ex[:0])
			if err != nil {
				s.mu.Lock()
				s.err = fmt.Errorf("segment %s: %w", s.path, err)
				s.mu.Unlock()
			}
			p = p[4+n:]
		}
		select {
		case s.free <- b:
		default:
		}
		s.pending.Done()
	}
}

// addRaw adds one row from its appendEvent encoding. Strings alias b; the
// encoder copies the ones it keeps.
func (s *segWriter) addRaw(b []byte, fv []fieldValue, ex [][2]string) ([]fieldValue, [][2]string, error) {
	r := rawReader{b: b, ok: true}
	tm := r.varint()
	seq := r.uvarint()
	rec := r.uvarint()
	eid := r.uvarint()
	src := event.Source(r.byte())
	flags := r.byte()
	host, channel, provider := r.str(), r.str(), r.str()
	sp := s.spell.start(channel, uint16(eid))
	for n := r.uvarint(); n > 0 && r.ok; n-- {
		id := r.uvarint()
		v := r.str()
		if id >= uint64(len(fieldColumn)) || fieldColumn[id] < 0 {
			return fv, ex, fmt.Errorf("field %d has no column", id)
		}
		if fid := event.FieldID(id); fid.Folded() && !sp.add(fid, v) {
			continue // a second spelling in this event: kept in Extra
		}
		fv = append(fv, fieldValue{fieldColumn[id], v})
	}
	for n := r.uvarint(); n > 0 && r.ok; n-- {
		k := r.str()
		ex = append(ex, [2]string{k, r.str()})
	}
	if !r.ok {
		return fv, ex, errShortEvent
	}
	if sp.any() {
		ex = append(ex, sp.moved...)
		fv = append(fv, fieldValue{spellingsCol, sp.tokens()})
	}
	return fv, ex, s.enc.addRow(tm, host, channel, provider, uint16(eid), rec, seq, src.String(), flags, fv, ex)
}

// sync waits until the encoder has added every queued event.
func (s *segWriter) sync() error {
	s.send()
	s.pending.Wait()
	return s.encErr()
}

// rowGroupDone reports, once after each cut, whether the file has reached
// maxBytes. It waits for the encoder, so the answer depends only on the
// events.
func (s *segWriter) rowGroupDone(maxBytes int64) (bool, error) {
	if !s.cutDone {
		return false, nil
	}
	s.cutDone = false
	if err := s.sync(); err != nil {
		return false, err
	}
	return s.enc.pw.Offset() >= maxBytes, nil
}

// stop ends the encoder goroutine.
func (s *segWriter) stop() error {
	err := s.sync()
	close(s.work)
	<-s.done
	return err
}

// finish writes the footer with the metadata, syncs and closes the file.
func (s *segWriter) finish(fsync bool) error {
	if err := s.stop(); err != nil {
		s.f.Close()
		return err
	}
	s.meta.Counts = s.counts.list()
	s.meta.Spans = s.spans.list()
	doc, err := s.meta.marshal()
	if err != nil {
		s.f.Close()
		return err
	}
	kv := []format.KeyValue{{Key: MetaSchemaVersion, Value: strconv.Itoa(s.meta.SchemaVersion)}, {Key: MetaSegment, Value: doc}}
	if err := s.enc.close(kv); err != nil {
		s.f.Close()
		return fmt.Errorf("segment %s: %w", s.path, err)
	}
	if fsync {
		if err := s.f.Sync(); err != nil {
			s.f.Close()
			return fmt.Errorf("segment %s: fsync: %w", s.path, err)
		}
	}
	return s.f.Close()
}

// abort closes and removes an unfinished file.
func (s *segWriter) abort() {
	s.stop()
	s.f.Close()
	os.Remove(s.path)
}
