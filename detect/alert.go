package detect

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/edr-lab/edr/detect/ecs"
	"github.com/edr-lab/edr/event"
)

// ECSVersion is the ECS release the alert fields were checked against.
const ECSVersion = "9.4.0"

// CustomNamespaces are the top-level alert keys that are not ECS:
//   - winlog: the Winlogbeat envelope (channel, event_id, provider_name,
//     record_id, computer_name, …) and winlog.event_data, the original
//     event's fields verbatim (every schema field present, then the fields
//     the schema does not name) — the original event, as Elastic's Windows
//     integration keeps it;
//   - sigma: Sigma metadata without an ECS home (level, status, logsource,
//     falsepositives, references, match details);
//   - edr: edr's own (engine, replayed, event header, process ancestry,
//     target process, YARA details).
var CustomNamespaces = []string{"winlog", "sigma", "edr"}

// MatchDebug selects how much match detail alerts carry (alerts.match_debug).
type MatchDebug uint8

const (
	MatchDebugOff     MatchDebug = iota // no match details
	MatchDebugSummary                   // condition, matched fields and patterns
	MatchDebugFull                      // plus matched values and YARA string snippets
)

// ParseMatchDebug parses off/summary/full.
func ParseMatchDebug(s string) (MatchDebug, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "off":
		return MatchDebugOff, true
	case "summary":
		return MatchDebugSummary, true
	case "full":
		return MatchDebugFull, true
	}
	return MatchDebugOff, false
}

// Alert is one hit on one event with the context the engine attached.
type Alert struct {
	Event    *event.Event
	Hit      *Hit
	Severity Severity

	Proc      *Process   // the acting process (from the table), may be nil
	Parent    *Process   // its parent, may be nil
	Ancestors []*Process // grandparent first, then further up
	Target    *Process   // target process of EIDs 8/10, may be nil
	TargetPar *Process   // its parent
	DestName  string     // destination.domain from the DNS cache

	Replayed   bool
	MatchDebug MatchDebug
}

// ID is a deterministic identifier of the alert (event.id): the same event
// and rule give the same id in live and replay.
func (a *Alert) ID() string {
	h := sha256.New()
	ev := a.Event
	var buf [8]byte
	for _, s := range []string{ev.Host, ev.Channel, a.Hit.Rule.Engine, a.Hit.Rule.ID, a.Hit.Rule.Name} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	for _, n := range []uint64{uint64(ev.Time), ev.RecordID, ev.Seq, uint64(ev.EventID)} {
		for i := range buf {
			buf[i] = byte(n >> (8 * i))
		}
		h.Write(buf[:])
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// topLevel fixes the order of the top-level keys of every alert.
var topLevel = []string{"@timestamp", "ecs", "message", "event", "rule", "threat", "vulnerability", "tags", "host", "process",
	"user", "file", "registry", "source", "destination", "network", "dns", "related", "winlog", "sigma", "edr"}

// AppendJSON appends the alert as one ECS JSON line (with the newline).
func (a *Alert) AppendJSON(dst []byte) []byte {
	o := a.Object()
	dst = o.AppendJSON(dst)
	return append(dst, '\n')
}

// Object builds the alert's ECS document.
func (a *Alert) Object() *ecs.Object {
	o := &ecs.Object{}
	ev, r := a.Event, a.Hit.Rule
	o.Set("@timestamp", formatTimestamp(ev.Time))
	o.Set("ecs.version", ECSVersion)
	o.Set("message", r.Name)
	for _, k := range topLevel[3:] {
		o.Obj(k)
	}
	a.setEvent(o)
	a.setRule(o)
	m := mapper{o: o, ev: ev}
	m.mapEvent()
	a.setContext(&m)
	m.setWinlog()
	a.setSigma(o)
	a.setEDR(o)
	return o
}

// formatTimestamp renders event time for @timestamp (millisecond precision,
// as Sysmon's UtcTime; the exact time is in winlog.time_created).
func formatTimestamp(ns int64) string {
	return time.Unix(0, ns).UTC().Format("2006-01-02T15:04:05.000Z")
}

func (a *Alert) setEvent(o *ecs.Object) {
	ev := a.Event
	cat := categorize(ev)
	o.Set("event.kind", "alert")
	o.Set("event.id", a.ID())
	o.Set("event.category", cat.category)
	o.Set("event.type", cat.types)
	o.Set("event.action", cat.action)
	if ev.Channel != "" || ev.EventID != 0 {
		o.Set("event.code", strconv.Itoa(int(ev.EventID)))
	}
	o.Set("event.provider", ev.Provider)
	o.Set("event.module", "edr")
	o.Set("event.dataset", "edr.alerts")
	if ev.Seq != 0 {
		o.Set("event.sequence", int64(ev.Seq))
	}
	o.Set("event.severity", int64(a.Severity))
	o.Set("event.risk_score", float64(a.Severity))
	o.Set("event.risk_score_norm", float64(a.Severity))
}

func (a *Alert) setRule(o *ecs.Object) {
	r := a.Hit.Rule
	o.Set("rule.id", r.ID)
	if r.Engine == EngineSigma && looksLikeUUID(r.ID) {
		o.Set("rule.uuid", r.ID)
	}
	o.Set("rule.name", r.Name)
	o.Set("rule.description", r.Description)
	if len(r.References) > 0 {
		o.Set("rule.reference", r.References[0])
	}
	o.Set("rule.author", r.Authors)
	o.Set("rule.license", r.License)
	o.Set("rule.ruleset", r.Ruleset)
	o.Set("rule.version", r.Version)
	o.Set("rule.category", r.Category)
	t := &r.threat
	if t.any() {
		o.Set("threat.framework", "MITRE ATT&CK")
	}
	o.Set("threat.tactic.id", t.tacticIDs)
	o.Set("threat.tactic.name", t.tacticNames)
	o.Set("threat.tactic.reference", t.tacticRefs)
	o.Set("threat.technique.id", t.techIDs)
	o.Set("threat.technique.reference", t.techRefs)
	o.Set("threat.technique.subtechnique.id", t.subIDs)
	o.Set("threat.technique.subtechnique.reference", t.subRefs)
	o.Set("threat.group.id", t.groups)
	o.Set("threat.software.id", t.software)
	o.Set("vulnerability.id", t.cves)
	if in := a.Hit.Indicator; in != nil {
		o.Set("threat.enrichments", []*ecs.Object{indicatorObject(in)})
	}
	o.Set("tags", r.Tags)
}

func indicatorObject(in *Indicator) *ecs.Object {
	e := &ecs.Object{}
	e.Set("indicator.type", in.Type)
	e.Set("indicator.description", in.Comment)
	e.Set("indicator.provider", "edr")
	e.Set("indicator.reference", in.Source)
	e.Set("matched.atomic", in.Atomic)
	e.Set("matched.field", in.Field)
	e.Set("matched.type", "indicator_match_rule")
	e.Set("matched.id", in.Value)
	return e
}

func looksLikeUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return false
			}
		} else if !isHexDigit(c) {
			return false
		}
	}
	return true
}

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func (a *Alert) setSigma(o *ecs.Object) {
	r := a.Hit.Rule
	if r.Engine != EngineSigma {
		return
	}
	o.Set("sigma.level", r.Level)
	o.Set("sigma.status", r.Status)
	o.Set("sigma.logsource.product", r.Product)
	o.Set("sigma.logsource.category", r.Category)
	o.Set("sigma.logsource.service", r.Service)
	o.Set("sigma.falsepositives", r.FalsePositives)
	o.Set("sigma.references", r.References)
	if a.Hit.Correlation {
		o.Set("sigma.correlation.type", r.Correlation)
		if a.Hit.Group != "" {
			o.Set("sigma.correlation.group", strings.Split(a.Hit.Group, "\x1f"))
		}
		o.Set("sigma.correlation.count", a.Hit.Count)
	}
	if a.MatchDebug == MatchDebugOff {
		return
	}
	o.Set("sigma.match.condition", r.Condition)
	var items []*ecs.Object
	for i, f := range a.Hit.Fields {
		if i == maxMatchFields {
			o.Set("sigma.match.truncated", true)
			break
		}
		m := &ecs.Object{}
		m.Set("selection", f.Selection)
		m.Set("field", f.Field)
		m.Set("modifier", f.Modifier)
		m.Set("pattern", truncate(f.Pattern, maxMatchValue))
		if f.Absent {
			m.Set("absent", true)
		}
		if f.Negative {
			m.Set("negative", true)
		}
		if a.MatchDebug == MatchDebugFull {
			m.Set("value", truncate(f.Value, maxMatchValue))
		}
		items = append(items, m)
	}
	o.Set("sigma.match.fields", items)
}

// Caps on match details (as the seed's match_debug): field matches, value
// length, YARA strings and snippet length.
const (
	maxMatchFields  = 16
	maxMatchValue   = 160
	maxYARAStrings  = 8
	maxYARASnippet  = 80
	truncatedMarker = "(truncated)"
)

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && (s[cut]&0xc0) == 0x80 { // do not split a UTF-8 sequence
		cut--
	}
	return s[:cut] + truncatedMarker
}

func (a *Alert) setEDR(o *ecs.Object) {
	ev := a.Event
	o.Set("edr.engine", a.Hit.Rule.Engine)
	o.Set("edr.replayed", a.Replayed)
	o.Set("edr.event.time", time.Unix(0, ev.Time).UTC().Format(time.RFC3339Nano))
	o.Set("edr.event.host", ev.Host)
	o.Set("edr.event.source", ev.Source.String())
	if ev.Seq != 0 {
		o.Set("edr.event.seq", int64(ev.Seq))
	}
	var anc []*ecs.Object
	for _, p := range a.Ancestors {
		anc = append(anc, processObject(p))
	}
	o.Set("edr.process.ancestors", anc)
	if a.Target != nil {
		t := processObject(a.Target)
		if a.TargetPar != nil {
			t.Set("parent", processObject(a.TargetPar))
		}
		o.Set("edr.target.process", t)
	}
	if y := a.Hit.YARA; y != nil {
		o.Set("edr.yara.rule", a.Hit.Rule.Name)
		o.Set("edr.yara.namespace", y.Namespace)
		o.Set("edr.yara.tags", y.Tags)
		o.Set("edr.yara.file", y.File)
		o.Set("edr.yara.sha256", y.SHA256)
		if a.MatchDebug == MatchDebugFull {
			var strs []*ecs.Object
			for i, s := range y.Strings {
				if i == maxYARAStrings {
					o.Set("edr.yara.strings_truncated", true)
					break
				}
				so := &ecs.Object{}
				so.Set("identifier", s.Identifier)
				so.Set("offset", s.Offset)
				so.Set("data", truncate(string(s.Data), maxYARASnippet))
				strs = append(strs, so)
			}
			o.Set("edr.yara.strings", strs)
		}
	}
}

// processObject is the edr.* rendering of a table process.
func processObject(p *Process) *ecs.Object {
	o := &ecs.Object{}
	o.Set("entity_id", p.GUID)
	if n, ok := parsePID(p.PID); ok {
		o.Set("pid", n)
	}
	o.Set("executable", p.Image)
	o.Set("command_line", p.CommandLine)
	o.Set("user", p.User)
	return o
}

// parsePID parses a decimal or 0x-hex PID.
func parsePID(s string) (int64, bool) {
	if s == "" || s == "-" {
		return 0, false
	}
	base := 10
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		s, base = s[2:], 16
	}
	n, err := strconv.ParseInt(s, base, 64)
	return n, err == nil && n >= 0
}

// AppendText appends a one-line human summary of the alert (console
// output): time, host, severity, engine, rule, event and acting process.
func (a *Alert) AppendText(dst []byte) []byte {
	ev := a.Event
	dst = append(dst, formatTimestamp(ev.Time)...)
	dst = append(dst, ' ')
	dst = append(dst, ev.Host...)
	dst = append(dst, ' ')
	dst = append(dst, a.Severity.String()...)
	dst = append(dst, ' ')
	dst = append(dst, a.Hit.Rule.Engine...)
	dst = append(dst, ' ')
	dst = appendQuoted(dst, a.Hit.Rule.Name)
	if ev.Channel != "" {
		dst = append(dst, " event="...)
		dst = append(dst, ev.Channel...)
		dst = append(dst, '/')
		dst = strconv.AppendUint(dst, uint64(ev.EventID), 10)
	}
	_, pid := actorIDs(ev)
	image := ev.Value(event.FImage)
	if image == "" {
		image = ev.Value(event.FSourceImage)
	}
	if p := a.Proc; p != nil {
		if image == "" {
			image = p.Image
		}
		if pid == "" {
			pid = p.PID
		}
	}
	if image != "" {
		dst = append(dst, " process="...)
		dst = appendQuoted(dst, image)
	}
	if pid != "" {
		dst = append(dst, " pid="...)
		dst = append(dst, pid...)
	}
	if a.Replayed {
		dst = append(dst, " (replayed)"...)
	}
	return append(dst, '\n')
}

// appendQuoted quotes s for a console line without escaping backslashes
// (Windows paths stay readable); control characters become spaces.
func appendQuoted(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == 0x7f {
			c = ' '
		}
		dst = append(dst, c)
	}
	return append(dst, '"')
}
