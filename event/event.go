package event

import (
	"math/bits"
	"strconv"
)

// Source says where an event entered edr.
type Source uint8

const (
	SourceUnknown Source = iota
	SourceETW
	SourceEVTX
	SourceJSON
	SourceSynthetic
)

var sourceNames = [...]string{"unknown", "etw", "evtx", "json", "synthetic"}

func (s Source) String() string {
	if int(s) < len(sourceNames) {
		return sourceNames[s]
	}
	return "unknown"
}

// ParseSource is the inverse of Source.String.
func ParseSource(s string) (Source, bool) {
	for i, n := range sourceNames {
		if n == s {
			return Source(i), true
		}
	}
	return SourceUnknown, false
}

// Flags mark events that need explaining downstream.
type Flags uint8

const (
	// FlagNoChannel marks an imported event whose source named no channel; it
	// is kept (with an empty Channel) rather than dropped.
	FlagNoChannel Flags = 1 << iota
	// FlagNoTemplate marks an EVTX record stored without a template instance
	// whose values were recovered positionally.
	FlagNoTemplate
)

// KV is one field the schema does not name, kept verbatim.
type KV struct {
	Key   string
	Value string
}

// Event is one normalized event: a header plus schema fields addressed by
// FieldID, plus the generic key/value part. The zero value is an empty event
// ready for use. Events are reused in batches: Reset clears one at the cost
// of a store per present field.
//
// An Event holds slices; copying an Event value aliases them. Use Clone to
// keep an event beyond the batch it came from.
type Event struct {
	Time     int64  // event time, UTC nanoseconds since the Unix epoch
	Host     string // partition host (the event's Computer unless overridden)
	Channel  string // canonical channel name
	Provider string // provider name (Sigma's Provider_Name)
	EventID  uint16
	RecordID uint64 // the source's record number (EventRecordID), 0 when none
	Seq      uint64 // edr's ingest sequence, monotonic per writer
	Source   Source
	Flags    Flags

	// The present schema fields: set has a bit per FieldID, vals their
	// values in FieldID order (len(vals) = bits set), and before's 16-bit
	// lane w (lane w&3 of before[w>>2]) the number of bits set in the words
	// below w, so a field's place in vals is that count plus the bits below
	// it in its word. Packing the counts in lanes makes adding a field two
	// additions (Set, with the table `above`). A dense slot per
	// FieldID was ~6.5 kB per event (all scanned by the garbage collector)
	// where a typical event has a dozen fields.
	//
	// vals[len(vals):cap(vals)] is kept zeroed, so a reused event holds on
	// to no stale string.
	set    [fieldWords]uint64
	before [fieldWords / 4]uint64
	vals   []string
	extra  []KV
}

// Reset empties the event, keeping its storage. It costs one store per
// field that was present.
func (e *Event) Reset() {
	clear(e.vals)
	vals, extra := e.vals[:0], e.extra[:0]
	*e = Event{}
	e.vals, e.extra = vals, extra
}

// rank is the place in vals of field id (present or not: where it is or
// would go), for id < maxFields.
func (e *Event) rank(id FieldID) int {
	w := id >> 6
	return int(e.before[w>>2]>>(w&3*16)&0xffff) + bits.OnesCount64(e.set[w]&(1<<(id&63)-1))
}

// above[w] has a 1 in the before lanes of the words above w: a field added
// to (removed from) word w adds it to (subtracts it from) before. A lane
// never exceeds maxFields, so no carry crosses lanes.
var above = func() (t [fieldWords][fieldWords / 4]uint64) {
	for w := range t {
		for k := w + 1; k < fieldWords; k++ {
			t[w][k>>2] |= 1 << (k & 3 * 16)
		}
	}
	return t
}()

// Has reports whether a field is present (virtual fields always are).
func (e *Event) Has(id FieldID) bool {
	if id < numVirtual {
		return true
	}
	w := int(id >> 6)
	return w < fieldWords && e.set[w]&(1<<(id&63)) != 0 // NoField is never present
}

// Get returns a field's value and whether it is present. A present field may
// be empty; an absent one returns ("", false).
func (e *Event) Get(id FieldID) (string, bool) {
	if id < numVirtual {
		return e.virtual(id), true
	}
	if w := int(id >> 6); w >= fieldWords || e.set[w]&(1<<(id&63)) == 0 { // NoField is never present
		return "", false
	}
	return e.vals[e.rank(id)], true
}

// Value returns a field's value, "" when absent.
func (e *Event) Value(id FieldID) string {
	v, _ := e.Get(id)
	return v
}

func (e *Event) virtual(id FieldID) string {
	switch id {
	case FieldEventID:
		return Itoa(uint64(e.EventID))
	case FieldChannel:
		return e.Channel
	case FieldProviderName:
		return e.Provider
	default:
		return Itoa(e.RecordID)
	}
}

// Set stores a field value (present, possibly empty). Setting a virtual field
// updates the header; an unparsable EventID/EventRecordID is ignored and
// reported as false.
func (e *Event) Set(id FieldID, v string) bool {
	if id < numVirtual {
		return e.setVirtual(id, v)
	}
	w, bit := id>>6, uint64(1)<<(id&63)
	r := e.rank(id)
	if e.set[w]&bit != 0 {
		e.vals[r] = v
		return true
	}
	e.set[w] |= bit
	e.before[0] += above[w][0]
	e.before[1] += above[w][1]
	if r == len(e.vals) { // above every present field: decoders set fields in FieldID order
		if e.vals == nil {
			e.vals = make([]string, 0, 16)
		}
		e.vals = append(e.vals, v)
		return true
	}
	e.vals = append(e.vals, "")
	copy(e.vals[r+1:], e.vals[r:])
	e.vals[r] = v
	return true
}

func (e *Event) setVirtual(id FieldID, v string) bool {
	switch id {
	case FieldEventID:
		n, err := strconv.ParseUint(v, 10, 16)
		if err != nil {
			return false
		}
		e.EventID = uint16(n)
	case FieldChannel:
		e.Channel = v
	case FieldProviderName:
		e.Provider = v
	default:
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return false
		}
		e.RecordID = n
	}
	return true
}

// Del makes a field absent.
func (e *Event) Del(id FieldID) {
	if id < numVirtual || int(id) >= maxFields {
		return
	}
	w, bit := id>>6, uint64(1)<<(id&63)
	if e.set[w]&bit == 0 {
		return
	}
	r := e.rank(id)
	e.set[w] &^= bit
	e.before[0] -= above[w][0]
	e.before[1] -= above[w][1]
	n := len(e.vals) - 1
	copy(e.vals[r:], e.vals[r+1:])
	e.vals[n] = ""
	e.vals = e.vals[:n]
}

// Len is the number of present (non-virtual) schema fields.
func (e *Event) Len() int { return len(e.vals) }

// Range calls fn for every present schema field in FieldID order (virtual
// header fields are not included) until fn returns false.
func (e *Event) Range(fn func(id FieldID, v string) bool) {
	i := 0
	for wi, w := range e.set {
		for w != 0 {
			b := bits.TrailingZeros64(w)
			w &^= 1 << b
			if !fn(FieldID(wi*64+b), e.vals[i]) {
				return
			}
			i++
		}
	}
}

// FieldMask is a set of fields, for asking how many of them an event has
// in one step (a matcher that reads a dozen optional fields can stop
// looking once it has seen every one the event carries).
type FieldMask struct {
	set     [fieldWords]uint64
	virtual int // virtual fields in the set: always present
}

// MaskOf returns the set of ids.
func MaskOf(ids ...FieldID) FieldMask {
	var m FieldMask
	for _, id := range ids {
		switch {
		case id < numVirtual:
			m.virtual++
		case int(id) < maxFields && m.set[id>>6]&(1<<(id&63)) == 0:
			m.set[id>>6] |= 1 << (id & 63)
		}
	}
	return m
}

// Count is the number of fields of m that e has (virtual fields always).
func (e *Event) Count(m *FieldMask) int {
	n := m.virtual
	for w := range e.set {
		n += bits.OnesCount64(e.set[w] & m.set[w])
	}
	return n
}

// FieldValue is a present field and its value.
type FieldValue struct {
	ID    FieldID
	Value string
}

// AppendPresent appends the fields of m that e has, with their values, in
// FieldID order (virtual fields left out): one pass over the bitmap for a
// matcher that reads a few of many optional fields, instead of a Get each.
func (e *Event) AppendPresent(m *FieldMask, out []FieldValue) []FieldValue {
	for w := range e.set {
		bs := e.set[w] & m.set[w]
		if bs == 0 {
			continue
		}
		base := int(e.before[w>>2] >> (w & 3 * 16) & 0xffff)
		for bs != 0 {
			b := bits.TrailingZeros64(bs)
			bs &= bs - 1
			out = append(out, FieldValue{FieldID(w*64 + b), e.vals[base+bits.OnesCount64(e.set[w]&(1<<b-1))]})
		}
	}
	return out
}

// Extra returns the fields the schema does not name, in arrival order. The
// slice is owned by the event.
func (e *Event) Extra() []KV { return e.extra }

// AddExtra appends a field the schema does not name.
func (e *Event) AddExtra(key, value string) { e.extra = append(e.extra, KV{key, value}) }

// SetByName stores a field by name: schema names go to their FieldID,
// others to the key/value part (replacing an earlier value of that key).
// Names of virtual header fields (EventID, Channel, …) always go to the
// key/value part, since data fields must not overwrite the header.
func (e *Event) SetByName(name, value string) {
	if id, ok := sch.fieldByName[name]; ok && id >= numVirtual {
		e.Set(id, value)
		return
	}
	for i := range e.extra {
		if e.extra[i].Key == name {
			e.extra[i].Value = value
			return
		}
	}
	e.AddExtra(name, value)
}

// Lookup returns a field by name: the schema field of that name, else the
// first key/value entry of that name.
func (e *Event) Lookup(name string) (string, bool) {
	if id, ok := sch.fieldByName[name]; ok {
		if v, ok := e.Get(id); ok || id < numVirtual {
			return v, ok
		}
	}
	return e.LookupExtra(name)
}

// LookupExtra searches only the key/value part.
func (e *Event) LookupExtra(name string) (string, bool) {
	for _, kv := range e.extra {
		if kv.Key == name {
			return kv.Value, true
		}
	}
	return "", false
}

// Def returns the schema definition of this event's type, or nil.
func (e *Event) Def() *Def { return Lookup(e.Channel, e.EventID) }

// Clone returns a deep copy that does not alias e's storage.
func (e *Event) Clone() *Event {
	c := *e
	if e.vals != nil {
		c.vals = append([]string(nil), e.vals...)
	}
	c.extra = append([]KV(nil), e.extra...)
	return &c
}

// CopyFrom makes e an exact copy of src, reusing e's storage.
func (e *Event) CopyFrom(src *Event) {
	vals, extra := e.vals, e.extra
	*e = *src
	if n := len(src.vals); n < len(vals) {
		clear(vals[n:]) // keep the unused tail zeroed
	}
	e.vals = append(vals[:0], src.vals...)
	e.extra = append(extra[:0], src.extra...)
}

// Equal reports whether two events carry the same header, fields and
// key/value part.
func Equal(a, b *Event) bool {
	if a.Time != b.Time || a.Host != b.Host || a.Channel != b.Channel || a.Provider != b.Provider ||
		a.EventID != b.EventID || a.RecordID != b.RecordID || a.Seq != b.Seq ||
		a.Source != b.Source || a.Flags != b.Flags || a.set != b.set || len(a.extra) != len(b.extra) {
		return false
	}
	for i := range a.vals { // equal sets: equal lengths, same fields in step
		if a.vals[i] != b.vals[i] {
			return false
		}
	}
	for i := range a.extra {
		if a.extra[i] != b.extra[i] {
			return false
		}
	}
	return true
}

var smallInts = func() []string {
	s := make([]string, 10000)
	for i := range s {
		s[i] = strconv.Itoa(i)
	}
	return s
}()

// Itoa renders a decimal without allocating for values below 10000.
func Itoa(n uint64) string {
	if n < uint64(len(smallInts)) {
		return smallInts[n]
	}
	return strconv.FormatUint(n, 10)
}

// Append is Set for a schema field above every present one: a decoder
// filling a reset event in FieldID order knows it is (it set them all), and
// skips locating the field's place. Anything else is the caller's bug and
// leaves the event inconsistent.
func (e *Event) Append(id FieldID, v string) {
	w := id >> 6
	e.set[w] |= 1 << (id & 63)
	e.before[0] += above[w][0]
	e.before[1] += above[w][1]
	e.vals = append(e.vals, v)
}
