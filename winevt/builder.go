// Package winevt assembles an event.Event from the parts of a Windows event
// (System header, EventData/UserData fields) the same way whatever the source
// rendered them: the EVTX decoder, evtx_dump JSON, Winlogbeat/Elastic or
// NXLog (Mordor) lines. Keeping one builder guarantees that an event imported
// from an EVTX file and the same event imported from a JSON export land in the
// same fields with the same renderings.
package winevt

import (
	"strconv"
	"strings"
	"time"

	"github.com/edr-lab/edr/event"
)

// System keys: the names decoders use for the System part of an event,
// "<Element>" for element text and "<Element>_<Attribute>" for attributes,
// exactly as the event XML spells them.
const (
	KeyProviderName     = "Provider_Name"
	KeyProviderGuid     = "Provider_Guid"
	KeyEventID          = "EventID"
	KeyQualifiers       = "EventID_Qualifiers"
	KeyVersion          = "Version"
	KeyLevel            = "Level"
	KeyTask             = "Task"
	KeyOpcode           = "Opcode"
	KeyKeywords         = "Keywords"
	KeyTimeCreated      = "TimeCreated_SystemTime"
	KeyEventRecordID    = "EventRecordID"
	KeyActivityID       = "Correlation_ActivityID"
	KeyRelatedActivity  = "Correlation_RelatedActivityID"
	KeyExecutionProcess = "Execution_ProcessID"
	KeyExecutionThread  = "Execution_ThreadID"
	KeyChannel          = "Channel"
	KeyComputer         = "Computer"
	KeyUserID           = "Security_UserID"
)

// ExtraQualifiers is the key/value name under which EventID qualifiers are
// kept (the schema has no column for them).
const ExtraQualifiers = "Qualifiers"

// DataSep joins the unnamed <Data> values of an event into the single Data
// field SigmaHQ rules match (PowerShell 400/600/800, Application 1000, …).
const DataSep = "\n"

var (
	fEventVersion      = event.MustField("EventVersion")
	fLevel             = event.MustField("Level")
	fTask              = event.MustField("Task")
	fOpcode            = event.MustField("Opcode")
	fKeywords          = event.MustField("Keywords")
	fProviderGuid      = event.MustField("Provider_Guid")
	fActivityID        = event.MustField("ActivityID")
	fRelatedActivityID = event.MustField("RelatedActivityID")
	fExecProcessID     = event.MustField("Execution_ProcessID")
	fExecThreadID      = event.MustField("Execution_ThreadID")
	fData              = event.MustField("Data")

	// envelope fields are filled from the System part only; a data field of
	// the same name goes to the key/value part instead of overwriting them.
	envelope = func() []bool {
		m := make([]bool, event.NumFields())
		for _, id := range []event.FieldID{event.FComputer, event.FSecurityUserID, fProviderGuid, fEventVersion,
			fLevel, fTask, fOpcode, fKeywords, fExecProcessID, fExecThreadID, fActivityID, fRelatedActivityID} {
			m[id] = true
		}
		return m
	}()
)

// Builder collects the parts of one event and writes them into an
// event.Event on Finish. A Builder is reused across events; it is not safe
// for concurrent use.
type Builder struct {
	// Foreign says values come in a foreign rendering (JSON exports): on
	// Finish they are normalized to the Windows XML rendering by the type the
	// schema gives the field in this event.
	Foreign bool
	// Host overrides the partition host (default: the event's Computer).
	Host string

	e *event.Event
	// the last channel spelling seen and its canonical form: most inputs
	// repeat a handful of channels, CanonicalChannel folds case each time.
	lastChannel, lastCanonical string
	// the definition Finish looked up last, by channel and event id:
	// consecutive events are mostly of one type.
	defChannel string
	defID      uint16
	def        *event.Def
	defSet     bool
	data       []event.KV
	unnamed    []string
	timeSet    bool
	fallback   int64
	qualSet    bool
	err        string
}

// Reset starts a new event in e (which is Reset too).
func (b *Builder) Reset(e *event.Event, src event.Source) {
	e.Reset()
	e.Source = src
	b.e = e
	b.data = b.data[:0]
	b.unnamed = b.unnamed[:0]
	b.timeSet = false
	b.qualSet = false
	b.fallback = 0
	b.err = ""
}

// Event returns the event being built.
func (b *Builder) Event() *event.Event { return b.e }

// SetFallbackTime sets the time used when the event names no TimeCreated
// (for EVTX, the record's written time).
func (b *Builder) SetFallbackTime(ns int64) { b.fallback = ns }

// SetTime sets the event time directly (sources whose time is not an ISO
// string, e.g. an EVTX FILETIME).
func (b *Builder) SetTime(ns int64) { b.e.Time, b.timeSet = ns, true }

// HasTime reports whether the event time was set.
func (b *Builder) HasTime() bool { return b.timeSet }

// TimeError returns a description of an unparsable time, or "".
func (b *Builder) TimeError() string { return b.err }

// System sets one part of the System header by its key (see the Key
// constants). Keys the schema has no place for go to the key/value part
// under the key itself. Empty values are ignored: Windows omits them.
func (b *Builder) System(key, v string) {
	if v == "" {
		return
	}
	e := b.e
	if f, ok := envKeys[key]; ok {
		b.setEnv(f.id, f.t, v)
		return
	}
	switch key {
	case KeyProviderName:
		e.Provider = v
	case KeyEventID:
		b.setEventID(v)
	case KeyQualifiers:
		b.qualSet = true
		b.setExtra(ExtraQualifiers, b.number(v))
	case KeyTimeCreated:
		b.setTimeString(v)
	case KeyEventRecordID:
		if n, err := strconv.ParseUint(b.number(v), 10, 64); err == nil {
			e.RecordID = n
		} else {
			b.setExtra(key, v)
		}
	case KeyChannel:
		if v != b.lastChannel {
			b.lastChannel, b.lastCanonical = v, event.CanonicalChannel(v)
		}
		e.Channel = b.lastCanonical
	case KeyComputer:
		e.Set(event.FComputer, v)
	case KeyUserID:
		e.Set(event.FSecurityUserID, v)
	default:
		b.setExtra(key, v)
	}
}

// envKeys are the System keys stored in envelope fields, with the type
// their foreign renderings are normalized by.
var envKeys = map[string]struct {
	id event.FieldID
	t  event.Type
}{
	KeyProviderGuid: {fProviderGuid, event.GUID}, KeyVersion: {fEventVersion, event.UInt},
	KeyLevel: {fLevel, event.UInt}, KeyTask: {fTask, event.UInt}, KeyOpcode: {fOpcode, event.UInt},
	KeyKeywords: {fKeywords, event.Hex}, KeyActivityID: {fActivityID, event.GUID},
	KeyRelatedActivity: {fRelatedActivityID, event.GUID}, KeyExecutionProcess: {fExecProcessID, event.UInt},
	KeyExecutionThread: {fExecThreadID, event.UInt},
}

func (b *Builder) setEnv(id event.FieldID, t event.Type, v string) {
	if b.Foreign {
		v = normalize(t, b.number(v))
	}
	b.e.Set(id, v)
}

// number strips the ".0" JSON encoders add to integral floats.
func (b *Builder) number(v string) string {
	if b.Foreign && strings.HasSuffix(v, ".0") {
		if _, err := strconv.ParseInt(v[:len(v)-2], 10, 64); err == nil {
			return v[:len(v)-2]
		}
	}
	return v
}

// setEventID accepts the 16-bit EventID or the 32-bit value some exports
// give, whose high word is the Qualifiers.
func (b *Builder) setEventID(v string) {
	n, err := strconv.ParseUint(b.number(v), 10, 32)
	if err != nil {
		b.setExtra(KeyEventID, v)
		return
	}
	b.e.EventID = uint16(n)
	if q := n >> 16; q != 0 && !b.qualSet {
		b.qualSet = true
		b.setExtra(ExtraQualifiers, event.Itoa(q))
	}
}

// setTimeString parses an ISO-8601 time (any fraction, "Z" or offset).
func (b *Builder) setTimeString(v string) {
	t, err := ParseTime(v)
	if err != nil {
		b.err = "TimeCreated " + strconv.Quote(v) + ": not an ISO-8601 time"
		b.setExtra(KeyTimeCreated, v)
		return
	}
	b.SetTime(t)
}

// ParseTime parses the time renderings of the sources: ISO-8601 with any
// fraction and "Z" or an offset, or a zone-less "2006-01-02 15:04:05.000"
// (taken as UTC).
func ParseTime(v string) (int64, error) {
	v = strings.TrimSpace(v)
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UnixNano(), nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05.999999999", "2006-01-02 15:04:05.999999999Z07:00"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UnixNano(), nil
		}
	}
	_, err := time.Parse(time.RFC3339Nano, v)
	return 0, err
}

// Data adds a named EventData/UserData field. Names are resolved on Finish,
// once the event type is known.
func (b *Builder) Data(name, v string) {
	b.data = append(b.data, event.KV{Key: name, Value: v})
}

// Meta keeps a field of the source's own envelope (shipper metadata, a
// rendered message) in the key/value part under its own name, never in a
// schema field of the same name.
func (b *Builder) Meta(name, v string) { b.setExtra(name, v) }

// Unnamed adds the value of an unnamed <Data> element.
func (b *Builder) Unnamed(v string) { b.unnamed = append(b.unnamed, v) }

// Finish resolves the data fields against the schema, joins unnamed data,
// canonicalizes the channel and sets the partition host.
func (b *Builder) Finish() {
	e := b.e
	if !b.timeSet {
		e.Time = b.fallback
	}
	if e.Channel == "" {
		e.Flags |= event.FlagNoChannel
	}
	if !b.defSet || e.EventID != b.defID || e.Channel != b.defChannel {
		b.defChannel, b.defID, b.def, b.defSet = e.Channel, e.EventID, event.Lookup(e.Channel, e.EventID), true
	}
	def := b.def
	for _, kv := range b.data {
		b.setData(def, kv.Key, kv.Value)
	}
	if len(b.unnamed) > 0 {
		joined := strings.Join(b.unnamed, DataSep)
		b.set(fData, "Data", joined)
		if e.Channel == event.ChannelPowerShellClassic && def != nil {
			splitClassic(e, def, b.unnamed)
		}
	}
	if b.Host != "" {
		e.Host = b.Host
	} else {
		e.Host = e.Value(event.FComputer)
	}
}

// setData stores one data field: by its schema name (exact, else — for
// foreign sources — the spelling the event's definition uses, ignoring case
// and spaces), normalized to the Windows rendering for foreign sources;
// names the schema lacks, and names of header fields, go to the key/value
// part. A repeated name gets a "_1", "_2", … suffix, so nothing is lost.
func (b *Builder) setData(def *event.Def, name, v string) {
	name = event.NormalizeName(name)
	id, ok := event.FieldByName(name)
	if b.Foreign && def != nil && !(ok && def.Has(id)) {
		// Exports re-spell names ("ProcessId" for 5156's ProcessID):
		// prefer the spelling the event's definition uses.
		for _, f := range def.Fields {
			if strings.EqualFold(f.ID.Name(), name) {
				id, ok = f.ID, true
				break
			}
		}
	}
	if ok && !id.Virtual() && !envelope[id] {
		if b.Foreign && def != nil && def.Has(id) {
			v = normalize(def.TypeOf(id), b.number(v))
		} else if b.Foreign {
			v = b.number(v)
		}
		b.set(id, id.Name(), v)
		return
	}
	if b.Foreign {
		v = b.number(v)
	}
	if ok && envelope[id] {
		// A data field named like a header field keeps its name in the
		// key/value part (the header column keeps the System value).
		n := name
		for i := 1; ; i++ {
			if _, taken := b.e.LookupExtra(n); !taken {
				break
			}
			n = name + "_" + strconv.Itoa(i)
		}
		b.e.AddExtra(n, v)
		return
	}
	b.setExtra(name, v)
}

// set stores a schema field, or the next free suffixed name when the field
// is already present.
func (b *Builder) set(id event.FieldID, name, v string) {
	if !b.e.Has(id) {
		b.e.Set(id, v)
		return
	}
	b.setExtra(name, v)
}

// setExtra appends to the key/value part under the first free name of
// name, name_1, name_2, ….
func (b *Builder) setExtra(name, v string) {
	if b.free(name) {
		b.e.AddExtra(name, v)
		return
	}
	for i := 1; ; i++ {
		n := name + "_" + strconv.Itoa(i)
		if b.free(n) {
			b.e.AddExtra(n, v)
			return
		}
	}
}

func (b *Builder) free(name string) bool {
	if id, ok := event.FieldByName(name); ok && !id.Virtual() && b.e.Has(id) {
		return false
	}
	_, taken := b.e.LookupExtra(name)
	return !taken
}

// splitClassic fills the fields of classic "Windows PowerShell" events from
// the "\tKey=Value" block of their unnamed data, for the keys the event's
// definition names (the first occurrence wins; Data keeps everything).
func splitClassic(e *event.Event, def *event.Def, parts []string) {
	for _, p := range parts {
		for len(p) > 0 {
			line, rest, _ := strings.Cut(p, "\n")
			p = rest
			k, v, ok := strings.Cut(strings.TrimLeft(strings.TrimRight(line, "\r"), " \t"), "=")
			if !ok || k == "" {
				continue
			}
			id, known := event.FieldByName(k)
			if !known || id == fData || !def.Has(id) || e.Has(id) {
				continue
			}
			e.Set(id, v)
		}
	}
	// The first two values of 400/403/600 are the states (or provider name
	// and state) the block repeats; set them when the block lacked them.
	if len(parts) >= 2 {
		for i, f := range def.Fields {
			if i == 0 || i > 2 || f.ID == fData || e.Has(f.ID) {
				continue
			}
			if def.EventID != 800 {
				e.Set(f.ID, parts[i-1])
			}
		}
	}
}

// normalize is event.Normalize without the allocation for values already
// in the Windows rendering (GUIDs of Sysmon exports mostly are).
func normalize(t event.Type, v string) string {
	if t == event.GUID && canonicalGUID(v) {
		return v
	}
	return event.Normalize(t, v)
}

// canonicalGUID: "{8-4-4-4-12}" in lower-case hex.
func canonicalGUID(s string) bool {
	if len(s) != 38 || s[0] != '{' || s[37] != '}' {
		return false
	}
	for i := 1; i < 37; i++ {
		c := s[i]
		switch i {
		case 9, 14, 19, 24:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
				return false
			}
		}
	}
	return true
}
