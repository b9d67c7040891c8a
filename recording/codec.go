package recording

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"unsafe"

	"github.com/edr-lab/edr/event"
)

// WAL entry kinds.
const (
	walHeader byte = 1 + iota // JSON walHeaderDoc; first entry of every WAL
	walEvent                  // binary event (appendEvent)
	walSource                 // JSON SourceInfo
	walState                  // opaque segment-start state snapshot
	walLoss                   // JSON map name → count to add
	walRun                    // source run: uvarint index of the next event, content hash (see sources.go)
	walRaw                    // raw ETW record (appendRawEntry), only in a raw segment's WAL
	walSync                   // first entry of every event WAL record but the first: what it needs of the records before it (walSyncDoc)
)

// walHeaderDoc identifies the segment a WAL belongs to and carries the field
// name table: events in the WAL address fields by this build's FieldIDs, and
// recovery maps them back through the names (a newer build may number them
// differently).
type walHeaderDoc struct {
	SchemaVersion int      `json:"schema_version"`
	Host          string   `json:"host"`
	Date          string   `json:"date"`
	FirstTime     int64    `json:"first_time"`
	FirstSeq      uint64   `json:"first_seq"`
	Producer      string   `json:"producer,omitempty"`
	Source        string   `json:"source,omitempty"`
	Fields        []string `json:"fields"`
}

func fieldNames() []string {
	fs := event.Fields()
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.Name
	}
	return out
}

// appendEvent encodes an event compactly: header, present fields by ID,
// then the key/value part.
func appendEvent(b []byte, e *event.Event) []byte {
	b = binary.AppendVarint(b, e.Time)
	b = binary.AppendUvarint(b, e.Seq)
	b = binary.AppendUvarint(b, e.RecordID)
	b = binary.AppendUvarint(b, uint64(e.EventID))
	b = append(b, byte(e.Source), byte(e.Flags))
	b = appendString(b, e.Host)
	b = appendString(b, e.Channel)
	b = appendString(b, e.Provider)
	b = binary.AppendUvarint(b, uint64(e.Len()))
	e.Range(func(id event.FieldID, v string) bool {
		b = binary.AppendUvarint(b, uint64(id))
		b = appendString(b, v)
		return true
	})
	extra := e.Extra()
	b = binary.AppendUvarint(b, uint64(len(extra)))
	for _, kv := range extra {
		b = appendString(b, kv.Key)
		b = appendString(b, kv.Value)
	}
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

var errShortEvent = errors.New("truncated event entry")

// eventDecoder decodes WAL event entries written by a build whose field
// name table was names.
//
// It accepts only what appendEvent can produce: minimal varints, field
// indexes strictly ascending (appendEvent writes them in FieldID order, so
// a repeated index would silently drop a value) and never naming a virtual
// header field (EventID, Channel, … live in the header; a data entry for
// one would turn into a stray key/value pair). With this build's table,
// decode followed by appendEvent therefore gives back the input bytes.
type eventDecoder struct {
	ids  []event.FieldID // WAL field index → this build's FieldID; unknown names go to Extra
	ok   []bool
	virt []bool // the name is a virtual header field in this build
	nm   []string
}

func newEventDecoder(names []string) *eventDecoder {
	d := &eventDecoder{ids: make([]event.FieldID, len(names)), ok: make([]bool, len(names)), virt: make([]bool, len(names)), nm: names}
	for i, n := range names {
		if id, ok := event.FieldByName(n); ok {
			if id.Virtual() {
				d.virt[i] = true
			} else {
				d.ids[i], d.ok[i] = id, true
			}
		}
	}
	return d
}

func (d *eventDecoder) decode(b []byte, e *event.Event) error {
	e.Reset()
	r := rawReader{b: b, ok: true}
	e.Time = r.varint()
	e.Seq = r.uvarint()
	e.RecordID = r.uvarint()
	eid := r.uvarint()
	if eid > 0xffff {
		return fmt.Errorf("event id %d out of range", eid)
	}
	e.EventID = uint16(eid)
	e.Source = event.Source(r.byte())
	e.Flags = event.Flags(r.byte())
	e.Host = strings.Clone(r.str())
	e.Channel = strings.Clone(r.str())
	e.Provider = strings.Clone(r.str())
	next := uint64(0) // smallest index the next field may have
	for n := r.uvarint(); n > 0 && r.ok; n-- {
		idx := r.uvarint()
		v := strings.Clone(r.str())
		switch {
		case !r.ok:
		case idx >= uint64(len(d.nm)):
			return fmt.Errorf("field index %d outside the WAL's table of %d", idx, len(d.nm))
		case idx < next:
			return fmt.Errorf("field %s (index %d) out of order or repeated", d.nm[idx], idx)
		case d.virt[idx]:
			return fmt.Errorf("field %s (index %d) is a header field, not data", d.nm[idx], idx)
		case d.ok[idx]:
			e.Set(d.ids[idx], v)
		default:
			e.AddExtra(d.nm[idx], v)
		}
		next = idx + 1
	}
	for n := r.uvarint(); n > 0 && r.ok; n-- {
		k, v := strings.Clone(r.str()), strings.Clone(r.str())
		if r.ok {
			e.AddExtra(k, v)
		}
	}
	if !r.ok {
		return errShortEvent
	}
	if len(r.b) != 0 {
		return fmt.Errorf("%d trailing bytes after event", len(r.b))
	}
	return nil
}

// rawReader reads appendEvent's encoding. Strings alias the input; ok turns
// false at the first truncated or malformed value, including a varint in a
// longer form than binary.AppendUvarint writes (a last byte of 0 after a
// continuation byte): one value, one encoding.
type rawReader struct {
	b  []byte
	ok bool
}

func (r *rawReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 || n > 1 && r.b[n-1] == 0 {
		r.ok, r.b = false, nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *rawReader) varint() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 || n > 1 && r.b[n-1] == 0 {
		r.ok, r.b = false, nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *rawReader) byte() byte {
	if len(r.b) == 0 {
		r.ok = false
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *rawReader) str() string {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.ok, r.b = false, nil
		return ""
	}
	if n == 0 {
		return ""
	}
	v := unsafe.String(&r.b[0], int(n))
	r.b = r.b[n:]
	return v
}
