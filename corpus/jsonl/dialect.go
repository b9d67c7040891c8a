package jsonl

import (
	"bytes"
	"hash/maphash"
	"strings"
	"time"

	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/winevt"
)

// Dialect is the shape of one JSON document.
type Dialect uint8

const (
	// DialectEvtxDump is {"Event": {"System": …, "EventData": …}}: evtx_dump
	// and the SigmaHQ regression_data files (attributes as "#attributes" or
	// "<Element>_attributes").
	DialectEvtxDump Dialect = iota
	// DialectBeats is Winlogbeat/Elastic: winlog.* (nested or dotted keys)
	// or the 6.x top-level event_data/log_name layout.
	DialectBeats
	// DialectNXLog is NXLog im_msvistalog output as in the OTRF
	// Security-Datasets (Mordor): flat, with NXLog's envelope names.
	DialectNXLog
	// DialectFlat is any other flat object: System names at the top level
	// next to the EventData fields.
	DialectFlat
	numDialects
)

var dialectNames = [...]string{"evtx_dump", "beats", "nxlog", "flat"}

func (d Dialect) String() string {
	if int(d) < len(dialectNames) {
		return dialectNames[d]
	}
	return "unknown"
}

// mapper maps a parsed document onto a winevt.Builder.
type mapper struct {
	d     *doc
	b     *winevt.Builder
	segs  [][]byte
	roles []role
	def   *event.Def // of the event being mapped, once known (defOK)
	defOK bool
	keys  internCache
	vals  internCache
}

// path returns the keys from the top level down to node n. With dots, keys
// are split at '.' (Elastic's flattened "winlog.event_data.X").
func (m *mapper) path(n int32, dots bool) [][]byte {
	m.segs = m.segs[:0]
	for ; n >= 0; n = m.d.nodes[n].parent {
		k := m.d.key(&m.d.nodes[n])
		if dots && bytes.IndexByte(k, '.') >= 0 {
			parts := bytes.Split(k, []byte{'.'})
			for i := len(parts) - 1; i >= 0; i-- {
				m.segs = append(m.segs, parts[i])
			}
			continue
		}
		m.segs = append(m.segs, k)
	}
	for i, j := 0, len(m.segs)-1; i < j; i, j = i+1, j-1 {
		m.segs[i], m.segs[j] = m.segs[j], m.segs[i]
	}
	return m.segs
}

// classify picks the dialect from the top-level keys.
func (m *mapper) classify() Dialect {
	nx := false
	for i := range m.d.nodes {
		n := &m.d.nodes[i]
		if n.parent != -1 {
			continue
		}
		k := m.d.buf[n.key.s:n.key.e]
		switch string(k) {
		case "Event":
			return DialectEvtxDump
		case "winlog", "event_data", "log_name":
			return DialectBeats
		case "SourceModuleType", "SourceModuleName", "EventReceivedTime", "SeverityValue", "EventTypeOrignal":
			nx = true
		default:
			if bytes.HasPrefix(k, []byte("winlog.")) {
				return DialectBeats
			}
		}
	}
	if nx {
		return DialectNXLog
	}
	return DialectFlat
}

// event maps the document into the builder (already Reset).
func (m *mapper) event() Dialect {
	m.defOK = false
	dia := m.classify()
	switch dia {
	case DialectEvtxDump:
		m.evtxDump()
	case DialectBeats:
		m.beats()
	default:
		m.flat(dia == DialectNXLog)
	}
	return dia
}

func isXMLNS(a []byte) bool {
	return string(a) == "xmlns" || bytes.HasPrefix(a, []byte("xmlns:"))
}

// xmlName names a leaf of a JSON rendering of event XML, given the path
// from its section down: element text under the element's name,
// attributes as "<Element>_<Attribute>" ("#attributes" or the
// "<Element>_attributes" spelling). ok is false for namespace attributes.
func xmlName(p [][]byte) (string, bool) {
	n := len(p)
	last := p[n-1]
	if n >= 2 && string(last) == "#text" {
		return string(p[n-2]), true
	}
	if n >= 3 && string(p[n-2]) == "#attributes" {
		if isXMLNS(last) {
			return "", false
		}
		return string(p[n-3]) + "_" + string(last), true
	}
	if n >= 2 && bytes.HasSuffix(p[n-2], []byte("_attributes")) {
		if isXMLNS(last) {
			return "", false
		}
		el := p[n-2][:len(p[n-2])-len("_attributes")]
		return string(el) + "_" + string(last), true
	}
	return string(last), true
}

// evtxDump maps {"Event": {...}} documents.
func (m *mapper) evtxDump() {
	b, d := m.b, m.d
	// System first: the event type decides how data fields resolve.
	for pass := 0; pass < 2; pass++ {
		for i := range d.leaves {
			l := &d.leaves[i]
			p := m.path(l.node, false)
			if len(p) < 2 || string(p[0]) != "Event" {
				if len(p) >= 1 && pass == 1 {
					if name, ok := xmlName(p); ok {
						b.Meta(name, d.text(l))
					}
				}
				continue
			}
			section := string(p[1])
			if (section == "System") != (pass == 0) {
				continue
			}
			if len(p) == 2 {
				if l.kind != kNull && pass == 1 {
					b.Data(section, d.text(l))
				}
				continue
			}
			var name string
			var ok bool
			if strings.HasPrefix(section, "#") {
				name, ok = xmlName(p) // attributes of Event itself
			} else {
				name, ok = xmlName(p[1:])
			}
			if !ok {
				continue
			}
			v := d.text(l)
			switch section {
			case "System":
				b.System(name, v)
			case "EventData":
				if name == "Data" {
					b.Unnamed(v)
				} else {
					b.Data(name, v)
				}
			case "RenderingInfo":
				if string(p[2]) == "#attributes" || string(p[1]) == "RenderingInfo_attributes" {
					b.Data(name, v)
				} else {
					b.Data("RenderingInfo_"+name, v)
				}
			default:
				b.Data(name, v)
			}
		}
	}
}

// beats maps Winlogbeat/Elastic documents.
func (m *mapper) beats() {
	b, d := m.b, m.d
	var stamp string
	// One pass decides what each leaf is (paths are built once), a second
	// sets the System part, a third the data: the event type decides how
	// data fields resolve.
	m.roles = m.roles[:0]
	for i := range d.leaves {
		l := &d.leaves[i]
		r := role{}
		p := m.path(l.node, true)
		switch {
		case len(p) == 0:
			r.skip = true
		case len(p) >= 2 && string(p[0]) == "winlog":
			p = p[1:]
			r.sys, r.isSys = beatsSystem(p)
			r.name = m.beatsName(p, "winlog.")
		case string(p[0]) == "@timestamp":
			stamp, r.skip = d.text(l), true
		case beatsTop(p):
			r.sys, r.isSys = beatsSystem(p)
			r.name = m.beatsName(p, "")
		default:
			r.meta, r.name = true, joinPath(p)
		}
		m.roles = append(m.roles, r)
	}
	for i := range m.roles {
		if r := &m.roles[i]; r.isSys {
			b.System(r.sys, m.value(&d.leaves[i]))
		}
	}
	for i := range m.roles {
		r := &m.roles[i]
		switch {
		case r.skip || r.isSys:
		case r.meta:
			b.Meta(r.name, m.value(&d.leaves[i]))
		default:
			b.Data(r.name, m.value(&d.leaves[i]))
		}
	}
	if !b.HasTime() && stamp != "" {
		b.System(winevt.KeyTimeCreated, stamp)
	}
}

// beatsName names a non-System winlog leaf: event_data/user_data fields by
// their own (leaf) name; anything else is Beats metadata, kept under its
// dotted path (prefix is "winlog." when the leaf was under winlog).
func (m *mapper) beatsName(p [][]byte, prefix string) string {
	if len(p) >= 2 && (string(p[0]) == "event_data" || string(p[0]) == "user_data") && !(len(p) == 2 && string(p[1]) == "xml_name") {
		return m.intern(p[len(p)-1])
	}
	return prefix + joinPath(p)
}

// beatsTop reports whether a top-level path is one of Winlogbeat 6.x's
// winlog fields (before they moved under winlog.).
func beatsTop(p [][]byte) bool {
	switch string(p[0]) {
	case "event_data", "user_data", "log_name", "source_name", "computer_name", "record_number", "event_id",
		"process_id", "thread_id", "provider_guid", "activity_id", "related_activity_id":
		return true
	}
	return false
}

func joinPath(p [][]byte) string { return string(bytes.Join(p, []byte{'.'})) }

// beatsSystem maps Winlogbeat names (under winlog., or 6.x top level) to
// System keys.
func beatsSystem(p [][]byte) (string, bool) {
	switch len(p) {
	case 1:
		switch string(p[0]) {
		case "channel", "log_name":
			return winevt.KeyChannel, true
		case "event_id":
			return winevt.KeyEventID, true
		case "provider_name", "source_name":
			return winevt.KeyProviderName, true
		case "provider_guid":
			return winevt.KeyProviderGuid, true
		case "computer_name":
			return winevt.KeyComputer, true
		case "record_id", "record_number":
			return winevt.KeyEventRecordID, true
		case "version":
			return winevt.KeyVersion, true
		case "activity_id":
			return winevt.KeyActivityID, true
		case "related_activity_id":
			return winevt.KeyRelatedActivity, true
		case "process_id":
			return winevt.KeyExecutionProcess, true
		case "thread_id":
			return winevt.KeyExecutionThread, true
		}
	case 2:
		switch {
		case string(p[0]) == "process" && string(p[1]) == "pid":
			return winevt.KeyExecutionProcess, true
		case string(p[0]) == "user" && string(p[1]) == "identifier":
			return winevt.KeyUserID, true
		}
	case 3:
		if string(p[0]) == "process" && string(p[1]) == "thread" && string(p[2]) == "id" {
			return winevt.KeyExecutionThread, true
		}
	}
	return "", false
}

// flatSystem maps the System names flat exports use (NXLog's and the
// Windows names themselves) to System keys. Names that are also EventData
// names in some events are decided by value in flat().
func flatSystem(k []byte) (string, bool) {
	switch string(k) {
	case "Hostname", "Computer", "ComputerName":
		return winevt.KeyComputer, true
	case "SourceName", "Provider_Name":
		return winevt.KeyProviderName, true
	case "ProviderGuid", "Provider_Guid":
		return winevt.KeyProviderGuid, true
	case "EventID":
		return winevt.KeyEventID, true
	case "Channel":
		return winevt.KeyChannel, true
	case "RecordNumber", "EventRecordID":
		return winevt.KeyEventRecordID, true
	case "Task":
		return winevt.KeyTask, true
	case "Level":
		return winevt.KeyLevel, true
	case "Keywords":
		return winevt.KeyKeywords, true
	case "OpcodeValue":
		return winevt.KeyOpcode, true
	case "ExecutionProcessID", "Execution_ProcessID":
		return winevt.KeyExecutionProcess, true
	case "ExecutionThreadID", "Execution_ThreadID", "ThreadID":
		return winevt.KeyExecutionThread, true
	case "UserID", "Security_UserID":
		return winevt.KeyUserID, true
	case "ActivityID":
		return winevt.KeyActivityID, true
	case "RelatedActivityID":
		return winevt.KeyRelatedActivity, true
	case "EventVersion":
		return winevt.KeyVersion, true
	}
	return "", false
}

// nxlogMeta are NXLog's own fields (and Mordor's pipeline's). Some share a
// name with EventData fields of some events (EventType of Sysmon 12–14,
// AccountName of 7045): those stay data when the event declares them.
func nxlogMeta(k string) bool {
	switch k {
	case "EventType", "EventTypeOrignal", "Severity", "SeverityValue", "AccountName", "AccountType", "Domain",
		"Category", "Opcode", "SourceModuleName", "SourceModuleType", "EventReceivedTime", "EventTime",
		"Message", "host", "port", "@version", "tags", "type", "@timestamp":
		return true
	}
	return false
}

// flat maps flat documents (NXLog/Mordor and others).
func (m *mapper) flat(nxlog bool) {
	b, d := m.b, m.d
	var created, evTime, received, stamp, utc string
	execPID := false
	m.roles = m.roles[:0]
	for i := range d.leaves {
		l := &d.leaves[i]
		r := role{}
		if l.node < 0 || d.nodes[l.node].parent != -1 {
			r.nested = true
			m.roles = append(m.roles, r)
			continue
		}
		kb := d.key(&d.nodes[l.node])
		r.sys, r.isSys = flatSystem(kb)
		switch string(kb) {
		case "ExecutionProcessID", "Execution_ProcessID":
			execPID = true
		case "TimeCreated", "SystemTime", "TimeCreated_SystemTime":
			created, r.isSys = d.text(l), true
		case "EventTime":
			evTime = d.text(l)
		case "EventReceivedTime":
			received = d.text(l)
		case "@timestamp":
			stamp = d.text(l)
		case "UtcTime":
			utc = d.text(l)
		case "ProcessID":
			// NXLog's ProcessID is the Execution envelope (a JSON number)
			// unless it also gives ExecutionProcessID; decided below.
			r.procID = l.kind == kNumber
		case "Version", "Opcode":
			if isSmallUint(d.buf[l.val.s:l.val.e]) {
				r.sys, r.isSys = winevt.KeyVersion, true
				if string(kb) == "Opcode" {
					r.sys = winevt.KeyOpcode
				}
			}
		}
		m.roles = append(m.roles, r)
	}
	for i := range d.leaves {
		r := &m.roles[i]
		if r.procID && !execPID {
			r.sys, r.isSys = winevt.KeyExecutionProcess, true
		}
		if r.isSys && r.sys != "" {
			b.System(r.sys, m.value(&d.leaves[i]))
		}
	}
	// Data after the System part: the event type decides how data resolves.
	for i := range d.leaves {
		l, r := &d.leaves[i], &m.roles[i]
		switch {
		case r.nested:
			b.Meta(joinPath(m.path(l.node, false)), m.value(l))
		case r.isSys:
		default:
			k := m.name(&d.nodes[l.node])
			switch {
			case nxlog && nxlogMeta(k) && !m.declares(k):
				b.Meta(k, m.value(l))
			case !nxlog && (k == "@timestamp" || k == "Message"):
				b.Meta(k, m.value(l))
			default:
				b.Data(k, m.value(l))
			}
		}
	}
	if created != "" {
		b.System(winevt.KeyTimeCreated, created)
	}
	if !b.HasTime() && evTime != "" {
		if ns, ok := localToUTC(evTime, received, stamp); ok {
			b.SetTime(ns)
		}
	}
	if !b.HasTime() && stamp != "" {
		b.System(winevt.KeyTimeCreated, stamp)
	}
	if !b.HasTime() && utc != "" {
		b.System(winevt.KeyTimeCreated, utc)
	}
}

// role is what flat() decided about a leaf.
type role struct {
	sys    string
	isSys  bool
	nested bool
	procID bool
	skip   bool
	meta   bool   // beats: metadata, not event data
	name   string // beats: the data or metadata name
}

func isSmallUint(b []byte) bool {
	if len(b) == 0 || len(b) > 3 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// maxInternLen bounds the values worth interning: short values (users,
// hosts, "-", integrity levels, states) repeat on almost every line.
const maxInternLen = 64

// name returns a node's key as an interned string.
func (m *mapper) name(n *node) string { return m.keys.get(m.d.key(n)) }

// intern returns b as a string, shared with earlier equal keys.
func (m *mapper) intern(kb []byte) string { return m.keys.get(kb) }

// value returns a leaf's value as a string, interning short ones.
func (m *mapper) value(l *leaf) string {
	if l.kind != kString || l.esc || l.val.e-l.val.s > maxInternLen {
		return m.d.text(l)
	}
	return m.vals.get(m.d.buf[l.val.s:l.val.e])
}

// internCache is a direct-mapped cache of strings by content: a hit
// returns the string made earlier, a miss makes one and takes the slot.
// Cheaper than a map (no probing, no growth) and bounded.
type internCache struct {
	seed  maphash.Seed
	slots []string
}

const internSlots = 1 << 12

func (c *internCache) get(b []byte) string {
	if c.slots == nil {
		c.seed = maphash.MakeSeed()
		c.slots = make([]string, internSlots)
	}
	i := maphash.Bytes(c.seed, b) & (internSlots - 1)
	if s := c.slots[i]; s == string(b) {
		return s
	}
	s := string(b)
	c.slots[i] = s
	return s
}

// declares reports whether the event being built declares a data field of
// this name.
func (m *mapper) declares(name string) bool {
	e := m.b.Event()
	if !m.defOK {
		m.def, m.defOK = event.Lookup(e.Channel, e.EventID), true
	}
	def := m.def
	if def == nil {
		return false
	}
	id, ok := event.FieldByName(name)
	return ok && def.Has(id)
}

const localLayout = "2006-01-02 15:04:05"

// localToUTC converts NXLog's EventTime (the collector's local time, no
// zone) to UTC. The zone offset is what separates the collector's local
// EventReceivedTime from the shipper's UTC @timestamp of the same moment,
// rounded to a quarter hour (time zones are multiples of 15 minutes and the
// shipping delay is seconds).
func localToUTC(evTime, received, stamp string) (int64, bool) {
	local, err := time.Parse(localLayout, strings.TrimSpace(evTime))
	if err != nil {
		return 0, false
	}
	if received == "" || stamp == "" {
		return 0, false
	}
	recv, err1 := time.Parse(localLayout, strings.TrimSpace(received))
	at, err2 := winevt.ParseTime(stamp)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	offset := time.Unix(0, at).Sub(recv).Round(15 * time.Minute)
	return local.Add(offset).UnixNano(), true
}
