// Package raw holds the raw ETW record as Windows delivers it: the header
// fields a decoder routes on and a typed property bag. It is portable: the
// Windows session fills it in the ETW callback, the fixture loader fills it
// from JSON, and the decoders read it on any OS. Records are pooled and
// reused, so the hot path allocates nothing once the pool is warm.
package raw

import (
	"encoding/hex"
	"errors"
	"math"
	"strings"
	"sync"
	"time"
)

// Kind is the type of a property value, as wide as the getter that read it.
type Kind uint8

const (
	KindNone Kind = iota
	U8
	U16
	U32
	U64
	I8
	I16
	I32
	I64
	String   // UTF-16 or ANSI string, already decoded to text
	SID      // textual SID (S-1-…)
	GUID     // in Bytes, 16 bytes in text order (see GUIDValue)
	FileTime // Num holds the raw FILETIME
	Pointer  // Num holds the pointer value
	Binary   // Bytes
	IP       // textual IPv4 or IPv6 address in Str
)

var kindNames = [...]string{"none", "u8", "u16", "u32", "u64", "i8", "i16", "i32", "i64",
	"string", "sid", "guid", "filetime", "pointer", "binary", "ip"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind?"
}

// Numeric reports whether the value is in Num.
func (k Kind) Numeric() bool { return k >= U8 && k <= I64 || k == FileTime || k == Pointer }

// Signed reports whether Num holds a two's-complement signed value.
func (k Kind) Signed() bool { return k >= I8 && k <= I64 }

// Prop is one property. Exactly one of Num, Str, Bytes carries the value,
// chosen by Kind. Str and Bytes may alias a buffer owned by the record.
type Prop struct {
	Name  string
	Kind  Kind
	Num   uint64
	Str   string
	Bytes []byte
}

// Int returns a signed value sign-extended from its width.
func (p *Prop) Int() int64 {
	switch p.Kind {
	case I8:
		return int64(int8(p.Num))
	case I16:
		return int64(int16(p.Num))
	case I32:
		return int64(int32(p.Num))
	}
	return int64(p.Num)
}

// ProviderID is a provider GUID in text order: the bytes of
// "22fb2cd6-0e7b-422b-a0c7-2fad1fd0e716" as written, so comparing two IDs is
// comparing arrays.
type ProviderID [16]byte

var errGUID = errors.New("not a GUID")

// ParseGUID parses "8-4-4-4-12" hex, with or without braces, any case.
func ParseGUID(s string) (ProviderID, error) {
	var g ProviderID
	s = strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}")
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return g, errGUID
	}
	var h [32]byte
	n := 0
	for i := 0; i < len(s); i++ {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			continue
		}
		h[n] = s[i]
		n++
	}
	if _, err := hex.Decode(g[:], h[:]); err != nil {
		return ProviderID{}, errGUID
	}
	return g, nil
}

// MustGUID is ParseGUID for constants.
func MustGUID(s string) ProviderID {
	g, err := ParseGUID(s)
	if err != nil {
		panic("raw.MustGUID(" + s + "): " + err.Error())
	}
	return g
}

// String renders the canonical lower-case "8-4-4-4-12" form.
func (g ProviderID) String() string {
	var b [36]byte
	hex.Encode(b[0:8], g[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], g[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], g[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], g[8:10])
	b[23] = '-'
	hex.Encode(b[24:36], g[10:16])
	return string(b[:])
}

// Record is one raw ETW record. The zero value is an empty record.
type Record struct {
	Provider  ProviderID
	EventID   uint16
	Version   uint8
	Opcode    uint8
	Level     uint8
	Keywords  uint64
	PID       uint32 // EVENT_HEADER.ProcessId: the context the event was logged in
	TID       uint32
	Timestamp int64 // EVENT_HEADER.TimeStamp as a FILETIME (100 ns since 1601)
	Props     []Prop
	// HeaderFlags are EVENT_HEADER.Flags (pointer size of the logger).
	HeaderFlags uint16
	// UserData is the event payload as delivered, before ParseUserData
	// turns it into Props (owned by the record; nil for fixture records).
	UserData []byte
	// buf backs Str/Bytes values copied in by AddString/AddBytes so a
	// pooled record reuses one allocation for all of them.
	buf []byte
	// scratch is reused while parsing UserData strings.
	scratch []byte
}

const fileTimeEpoch = 116444736000000000

// FileTimeToUnixNano converts a FILETIME to Unix nanoseconds; ft must be
// in range (FileTimeInRange), or the product overflows.
func FileTimeToUnixNano(ft int64) int64 { return (ft - fileTimeEpoch) * 100 }

// The FILETIMEs whose Unix nanoseconds fit an int64 (the years 1677 to
// 2262): the only times an event, a raw row or a WAL entry can hold.
const (
	MinFileTime = fileTimeEpoch + math.MinInt64/100
	MaxFileTime = fileTimeEpoch + math.MaxInt64/100
)

// FileTimeInRange reports whether ft converts to Unix nanoseconds exactly.
func FileTimeInRange(ft int64) bool { return ft >= MinFileTime && ft <= MaxFileTime }

// UnixNano is the record time in Unix nanoseconds.
func (r *Record) UnixNano() int64 { return FileTimeToUnixNano(r.Timestamp) }

// Time is the record time in UTC.
func (r *Record) Time() time.Time { return time.Unix(0, r.UnixNano()).UTC() }

// Reset empties the record, keeping its storage.
func (r *Record) Reset() {
	props, buf, ud, sc := r.Props[:0], r.buf[:0], r.UserData[:0], r.scratch
	*r = Record{Props: props, buf: buf, UserData: ud, scratch: sc}
}

// ClearProps drops the property bag, keeping the header and UserData (a
// payload parsed again, by a newer template).
func (r *Record) ClearProps() { r.Props, r.buf = r.Props[:0], r.buf[:0] }

// SetUserData copies the payload into the record's own storage (the ETW
// buffer it points into is reused once the callback returns).
func (r *Record) SetUserData(b []byte) { r.UserData = append(r.UserData[:0], b...) }

// Prop returns the named property. Bags hold a handful of properties, so a
// linear scan beats a map and allocates nothing.
func (r *Record) Prop(name string) *Prop {
	if name == "" {
		for i := range r.Props {
			if r.Props[i].Name == "" {
				return &r.Props[i]
			}
		}
		return nil
	}
	// Names of one bag mostly differ in length or first letter: test those
	// inline before comparing the whole name.
	for i := range r.Props {
		if n := r.Props[i].Name; len(n) == len(name) && n[0] == name[0] && n == name {
			return &r.Props[i]
		}
	}
	return nil
}

// Uint returns a numeric property's raw value.
func (r *Record) Uint(name string) (uint64, bool) {
	if p := r.Prop(name); p != nil && p.Kind.Numeric() {
		return p.Num, true
	}
	return 0, false
}

// Str returns a textual property (string, SID or IP).
func (r *Record) Str(name string) (string, bool) {
	if p := r.Prop(name); p != nil && (p.Kind == String || p.Kind == SID || p.Kind == IP) {
		return p.Str, true
	}
	return "", false
}

// Bytes returns a binary or GUID property.
func (r *Record) Bytes(name string) ([]byte, bool) {
	if p := r.Prop(name); p != nil && (p.Kind == Binary || p.Kind == GUID) {
		return p.Bytes, true
	}
	return nil, false
}

// AddNum appends a numeric property (any integer kind, FileTime, Pointer).
func (r *Record) AddNum(name string, k Kind, v uint64) {
	r.Props = append(r.Props, Prop{Name: name, Kind: k, Num: v})
}

// AddString appends a textual property (String, SID, IP). The string is
// kept as given: callers on the hot path pass interned or owned strings.
func (r *Record) AddString(name string, k Kind, v string) {
	r.Props = append(r.Props, Prop{Name: name, Kind: k, Str: v})
}

// AddBytes appends a Binary or GUID property, copying v into the record's
// own buffer (the ETW buffer v came from is gone after the callback).
func (r *Record) AddBytes(name string, k Kind, v []byte) {
	off := len(r.buf)
	r.buf = append(r.buf, v...)
	r.Props = append(r.Props, Prop{Name: name, Kind: k, Bytes: r.buf[off:len(r.buf):len(r.buf)]})
	// A grown buf leaves earlier props pointing at the old array, which
	// stays valid (it is only garbage once the record is reset).
}

// CopyFrom makes r a deep copy of src.
func (r *Record) CopyFrom(src *Record) {
	r.Reset()
	props, buf, ud, sc := r.Props, r.buf, r.UserData, r.scratch
	*r = *src
	r.Props, r.buf, r.scratch = props, buf, sc
	r.UserData = append(ud, src.UserData...)
	for _, p := range src.Props {
		if p.Bytes != nil {
			r.AddBytes(p.Name, p.Kind, p.Bytes)
			continue
		}
		r.Props = append(r.Props, p)
	}
}

var pool = sync.Pool{New: func() any { return &Record{Props: make([]Prop, 0, 16)} }}

// Get returns an empty record from the pool.
func Get() *Record { return pool.Get().(*Record) }

// Put returns a record to the pool; the caller must not use it afterwards.
func Put(r *Record) {
	r.Reset()
	pool.Put(r)
}
