package recording

import (
	"fmt"
	"os"
	"strconv"

	"github.com/edr-lab/edr/event"
	"github.com/parquet-go/parquet-go/format"
)

// segWriter encodes one segment file and accumulates its metadata.
type segWriter struct {
	path   string
	f      *os.File
	enc    *pqEncoder
	meta   SegmentMeta
	counts counter
	last   int64
	fv     []fieldValue
	ex     [][2]string
}

func newSegWriter(path string, rowGroupRows int, meta SegmentMeta) (*segWriter, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	meta.Sorted = true
	return &segWriter{path: path, f: f, enc: newPQEncoder(f, rowGroupRows), meta: meta, counts: counter{}}, nil
}

// add appends e (copying what it keeps).
func (s *segWriter) add(e *event.Event) error {
	s.fv = s.fv[:0]
	e.Range(func(id event.FieldID, v string) bool {
		s.fv = append(s.fv, fieldValue{fieldColumn[id], v})
		return true
	})
	return s.addCollected(e)
}

// addCollected appends e whose fields are already in s.fv.
func (s *segWriter) addCollected(e *event.Event) error {
	m := &s.meta
	if m.Events == 0 {
		m.FirstTime, m.LastTime, m.FirstSeq = e.Time, e.Time, e.Seq
	} else if e.Time < s.last {
		m.Sorted = false
	}
	s.last = e.Time
	m.FirstTime = min(m.FirstTime, e.Time)
	m.LastTime = max(m.LastTime, e.Time)
	m.FirstSeq = min(m.FirstSeq, e.Seq)
	m.LastSeq = max(m.LastSeq, e.Seq)
	m.Events++
	s.counts[countKey{e.Channel, e.EventID}]++

	s.ex = s.ex[:0]
	for _, kv := range e.Extra() {
		s.ex = append(s.ex, [2]string{kv.Key, kv.Value})
	}
	if err := s.enc.addRow(e.Time, e.Host, e.Channel, e.Provider, e.EventID, e.RecordID, e.Seq, e.Source.String(), uint8(e.Flags), s.fv, s.ex); err != nil {
		return fmt.Errorf("segment %s: %w", s.path, err)
	}
	return nil
}

// size estimates the file size so far. It depends only on the events
// written, never on time.
func (s *segWriter) size() int64 { return s.enc.size() }

// finish writes the footer with the metadata, syncs and closes the file.
func (s *segWriter) finish(fsync bool) error {
	s.meta.Counts = s.counts.list()
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
	s.f.Close()
	os.Remove(s.path)
}
