package recording

import (
	"fmt"
	"os"
	"strconv"

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

	q *encQueue // appendEvent encodings on their way to the encoder
}

// rowOverhead is what a row costs the encoder beyond its WAL encoding
// (fixed-width columns, dictionary indexes).
const rowOverhead = 48

func newSegWriter(path string, rowGroupRows int, maxRGBytes int64, level pqfile.Level, meta SegmentMeta) (*segWriter, error) {
	f, err := fsutil.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	meta.Sorted = true
	s := &segWriter{path: path, f: f, enc: newPQEncoder(f, level), meta: meta, counts: counter{}, spans: spanSet{},
		rgRows: rowGroupRows, rgLeft: rowGroupRows, maxRGBytes: maxRGBytes}
	var fv []fieldValue
	var ex [][2]string
	s.q = startQueue(func(b []byte) (err error) {
		fv, ex, err = s.addRaw(b, fv[:0], ex[:0])
		return err
	}, s.enc.flushRowGroup, func(err error) error { return fmt.Errorf("segment %s: %w", s.path, err) })
	return s, nil
}

// add appends e, encoding it for the queue.
func (s *segWriter) add(e *event.Event) error {
	n := s.q.appendEntry(func(b []byte) []byte { return appendEvent(b, e) })
	return s.queued1(e, n)
}

// addEncoded appends e given its appendEvent encoding.
func (s *segWriter) addEncoded(e *event.Event, enc []byte) error {
	s.q.push(enc)
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
	s.rgLeft--
	s.rgBytes += int64(size) + rowOverhead
	if s.rgLeft == 0 || s.rgBytes >= s.maxRGBytes {
		s.cut()
	}
	return s.q.encErr()
}

// cut ends the open row group after the events queued so far.
func (s *segWriter) cut() {
	s.q.cut()
	s.rgLeft, s.rgBytes, s.cutDone = s.rgRows, 0, true
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

// rowGroupDone reports, once after each cut, whether the file has reached
// maxBytes. It waits for the encoder, so the answer depends only on the
// events.
func (s *segWriter) rowGroupDone(maxBytes int64) (bool, error) {
	if !s.cutDone {
		return false, nil
	}
	s.cutDone = false
	if err := s.q.sync(); err != nil {
		return false, err
	}
	return s.enc.pw.Offset() >= maxBytes, nil
}

// finish writes the footer with the metadata, syncs and closes the file.
func (s *segWriter) finish(fsync bool) error {
	if err := s.q.stop(); err != nil {
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
	s.q.stop()
	s.f.Close()
	os.Remove(s.path)
}
