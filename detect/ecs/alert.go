package ecs

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/edr-lab/edr/detect"
	"github.com/edr-lab/edr/detect/state"
	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/internal/termsafe"
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

// AlertID is a deterministic identifier of the alert (event.id): the same
// event and rule give the same id in live and replay.
func AlertID(a *detect.Alert) string {
	var buf [160]byte
	return alertID(a, buf[:0])
}

// alertID hashes the alert's identity, building the input in buf.
func alertID(a *detect.Alert, buf []byte) string {
	ev := a.Event
	for _, s := range [...]string{ev.Host, ev.Channel, a.Hit.Rule.Engine, a.Hit.Rule.ID, a.Hit.Rule.Name} {
		buf = append(buf, s...)
		buf = append(buf, 0)
	}
	for _, n := range [...]uint64{uint64(ev.Time), ev.RecordID, ev.Seq, uint64(ev.EventID)} {
		buf = binary.LittleEndian.AppendUint64(buf, n)
	}
	sum := sha256.Sum256(buf)
	var out [32]byte
	hex.Encode(out[:], sum[:16])
	return string(out[:])
}

// topLevel fixes the order of the top-level keys of every alert.
var topLevel = []string{"@timestamp", "ecs", "message", "event", "rule", "threat", "vulnerability", "tags", "host", "process",
	"user", "file", "registry", "source", "destination", "network", "dns", "related", "winlog", "sigma", "edr"}

// AppendAlert appends the alert as one ECS JSON line (with the newline),
// with an encoder from a pool: for callers that encode now and then.
func AppendAlert(dst []byte, a *detect.Alert) []byte {
	enc := encoders.Get().(*NDJSON)
	dst = enc.Append(dst, a)
	encoders.Put(enc)
	return dst
}

var encoders = sync.Pool{New: func() any { return &NDJSON{} }}

// NDJSON encodes alerts as ECS JSON lines (newline-delimited JSON), reusing
// its document (the nested objects and their storage) from one alert to
// the next. The zero value is ready to use; not safe for concurrent use.
type NDJSON struct {
	o  Object
	sc encodeScratch
}

var _ detect.Encoder = (*NDJSON)(nil)

// Append appends a's ECS JSON line (with the newline).
func (e *NDJSON) Append(dst []byte, a *detect.Alert) []byte {
	e.o.Reset()
	build(a, &e.o, &e.sc)
	dst = e.o.AppendJSON(dst)
	e.o.Reset() // drop references to the alert's strings
	e.sc.reset()
	return append(dst, '\n')
}

func (sc *encodeScratch) reset() {
	for _, l := range []*[]string{&sc.users, &sc.ips, &sc.hashes, &sc.hosts, &sc.args} {
		clear(*l)
		*l = (*l)[:0]
	}
}

// AlertObject builds the alert's ECS document.
func AlertObject(a *detect.Alert) *Object {
	o := &Object{}
	build(a, o, nil)
	return o
}

// build fills an empty root object with the alert's ECS document; sc, when
// set, lends storage that stays referenced until o is reset.
func build(a *detect.Alert, o *Object, sc *encodeScratch) {
	ev, r := a.Event, a.Hit.Rule
	o.SetString("@timestamp", formatTimestamp(ev.Time))
	o.SetString("ecs.version", ECSVersion)
	o.SetString("message", r.Name)
	for _, k := range topLevel[3:] {
		o.Obj(k)
	}
	var idBuf []byte
	m := mapper{o: o, ev: ev, roles: event.RolesOf(ev), scratch: sc}
	if sc != nil {
		idBuf = sc.id[:0]
		m.users, m.ips, m.hashes, m.hosts = sc.users, sc.ips, sc.hashes, sc.hosts
	}
	setEvent(a, o, idBuf)
	setRule(a, o, sc)
	m.mapEvent()
	setContext(a, &m)
	m.setWinlog()
	setSigma(a, o, sc)
	setEDR(a, o)
	if sc != nil { // keep the grown storage for the next alert
		sc.users, sc.ips, sc.hashes, sc.hosts = m.users, m.ips, m.hashes, m.hosts
	}
}

func setEvent(a *detect.Alert, o *Object, idBuf []byte) {
	ev := a.Event
	cat := categorize(ev)
	o.SetString("event.kind", "alert")
	if idBuf == nil {
		var buf [160]byte
		idBuf = buf[:0]
	}
	o.SetString("event.id", alertID(a, idBuf))
	o.SetStrings("event.category", cat.category)
	o.SetStrings("event.type", cat.types)
	o.SetString("event.action", cat.action)
	if ev.Channel != "" || ev.EventID != 0 {
		o.SetString("event.code", strconv.Itoa(int(ev.EventID)))
	}
	o.SetString("event.provider", ev.Provider)
	o.SetString("event.module", "edr")
	o.SetString("event.dataset", "edr.alerts")
	if ev.Seq != 0 {
		o.SetInt("event.sequence", int64(ev.Seq))
	}
	o.SetInt("event.severity", int64(a.Severity))
	o.SetFloat("event.risk_score", float64(a.Severity))
	o.SetFloat("event.risk_score_norm", float64(a.Severity))
}

func setRule(a *detect.Alert, o *Object, sc *encodeScratch) {
	r, in := a.Hit.Rule, a.Hit.Indicator
	var t *threatInfo
	if sc == nil {
		th := parseThreat(r.Tags)
		t = &th
		setRuleMeta(r, o, t, in == nil)
	} else {
		f := sc.fragments(r)
		t = f.threatInfo
		setFragment(o, "rule", f.rule)
		if in == nil { // else threat.* is built below, enrichments after it
			setFragment(o, "threat", f.threat)
		}
		setFragment(o, "vulnerability", f.vuln)
		setFragment(o, "tags", f.tags)
	}
	if in != nil {
		setThreat(o, t)
		o.SetObjects("threat.enrichments", []*Object{indicatorObject(o.New(), in)})
	}
}

// setRuleMeta sets what comes from the rule alone: rule.*, threat.* from
// the rule's tags (when withThreat), vulnerability.id and tags.
func setRuleMeta(r *detect.Rule, o *Object, t *threatInfo, withThreat bool) {
	o.SetString("rule.id", r.ID)
	if r.Engine == detect.EngineSigma && looksLikeUUID(r.ID) {
		o.SetString("rule.uuid", r.ID)
	}
	o.SetString("rule.name", r.Name)
	o.SetString("rule.description", r.Description)
	if len(r.References) > 0 {
		o.SetString("rule.reference", r.References[0])
	}
	o.SetStrings("rule.author", r.Authors)
	o.SetString("rule.license", r.License)
	o.SetString("rule.ruleset", r.Ruleset)
	o.SetString("rule.version", r.Version)
	o.SetString("rule.category", r.Category)
	if withThreat {
		setThreat(o, t)
	}
	o.SetStrings("vulnerability.id", t.cves)
	o.SetStrings("tags", r.Tags)
}

// setThreat sets the threat.* fields of the rule's tags.
func setThreat(o *Object, t *threatInfo) {
	if t.any() {
		o.SetString("threat.framework", "MITRE ATT&CK")
	}
	for _, f := range [...]struct {
		path string
		v    []string
	}{
		{"threat.tactic.id", t.tacticIDs}, {"threat.tactic.name", t.tacticNames}, {"threat.tactic.reference", t.tacticRefs},
		{"threat.technique.id", t.techIDs}, {"threat.technique.reference", t.techRefs},
		{"threat.technique.subtechnique.id", t.subIDs}, {"threat.technique.subtechnique.reference", t.subRefs},
		{"threat.group.id", t.groups}, {"threat.software.id", t.software},
	} {
		o.SetStrings(f.path, f.v)
	}
}

func indicatorObject(e *Object, in *detect.Indicator) *Object {
	e.SetString("indicator.type", in.Type)
	e.SetString("indicator.description", in.Comment)
	e.SetString("indicator.provider", "edr")
	e.SetString("indicator.reference", in.Source)
	e.SetString("matched.atomic", in.Atomic)
	e.SetString("matched.field", in.Field)
	e.SetString("matched.type", "indicator_match_rule")
	e.SetString("matched.id", in.Value)
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

func setSigma(a *detect.Alert, o *Object, sc *encodeScratch) {
	r := a.Hit.Rule
	if r.Engine != detect.EngineSigma {
		return
	}
	if sc != nil && !a.Hit.Correlation && a.MatchDebug == detect.MatchDebugOff {
		f := sc.fragments(r)
		setFragment(o, "sigma", f.sigma)
		return
	}
	setSigmaMeta(r, o)
	if a.Hit.Correlation {
		o.SetString("sigma.correlation.type", r.Correlation)
		if a.Hit.Group != "" {
			o.SetStrings("sigma.correlation.group", strings.Split(a.Hit.Group, "\x1f"))
		}
		o.SetInt("sigma.correlation.count", int64(a.Hit.Count))
		switch r.Correlation {
		case "value_sum", "value_avg", "value_percentile": // the aggregate the condition tested
			o.SetFloat("sigma.correlation.value", a.Hit.Value)
		}
	}
	if a.MatchDebug == detect.MatchDebugOff {
		return
	}
	o.SetString("sigma.match.condition", r.Condition)
	var items []*Object
	for i, f := range a.Hit.Fields {
		if i == maxMatchFields {
			o.SetBool("sigma.match.truncated", true)
			break
		}
		m := o.New()
		m.SetString("selection", f.Selection)
		m.SetString("field", f.Field)
		m.SetString("modifier", f.Modifier)
		m.SetString("pattern", truncate(f.Pattern, maxMatchValue))
		if f.Absent {
			m.SetBool("absent", true)
		}
		if f.Negative {
			m.SetBool("negative", true)
		}
		if a.MatchDebug == detect.MatchDebugFull {
			m.SetString("value", truncate(f.Value, maxMatchValue))
		}
		items = append(items, m)
	}
	o.SetObjects("sigma.match.fields", items)
}

// setSigmaMeta sets the sigma.* fields that come from the rule alone.
func setSigmaMeta(r *detect.Rule, o *Object) {
	o.SetString("sigma.level", r.Level)
	o.SetString("sigma.status", r.Status)
	o.SetString("sigma.logsource.product", r.Product)
	o.SetString("sigma.logsource.category", r.Category)
	o.SetString("sigma.logsource.service", r.Service)
	o.SetStrings("sigma.falsepositives", r.FalsePositives)
	o.SetStrings("sigma.references", r.References)
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

// yaraSnippet renders matched bytes (at most maxYARASnippet of them):
// text as it is, anything else (invalid UTF-8, control bytes) with those
// bytes as \xNN and backslashes doubled, so binary matches stay readable
// and unambiguous instead of turning into U+FFFD.
func yaraSnippet(b []byte) string {
	cut := len(b) > maxYARASnippet
	if cut {
		b = b[:maxYARASnippet]
		for k := 1; k <= 3 && k < len(b) && !utf8.Valid(b); k++ { // text cut inside a character
			if utf8.Valid(b[:len(b)-k]) {
				b = b[:len(b)-k]
			}
		}
	}
	text := utf8.Valid(b)
	for _, c := range b {
		if c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0x7f {
			text = false
			break
		}
	}
	var s string
	if text {
		s = string(b)
	} else {
		var sb strings.Builder
		for _, c := range b {
			switch {
			case c == '\\':
				sb.WriteString(`\\`)
			case c >= 0x20 && c < 0x7f:
				sb.WriteByte(c)
			default:
				const digits = "0123456789abcdef"
				sb.WriteString(`\x`)
				sb.WriteByte(digits[c>>4])
				sb.WriteByte(digits[c&15])
			}
		}
		s = sb.String()
	}
	if cut && !strings.HasSuffix(s, truncatedMarker) {
		s += truncatedMarker
	}
	return s
}

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

func setEDR(a *detect.Alert, o *Object) {
	ev := a.Event
	o.SetString("edr.engine", a.Hit.Rule.Engine)
	o.SetBool("edr.replayed", a.Replayed)
	o.SetString("edr.event.time", formatRFC3339Nano(ev.Time))
	o.SetString("edr.event.host", ev.Host)
	o.SetString("edr.event.source", ev.Source.String())
	if ev.Seq != 0 {
		o.SetInt("edr.event.seq", int64(ev.Seq))
	}
	var anc []*Object
	for _, p := range a.Ancestors {
		anc = append(anc, processObject(o.New(), p))
	}
	o.SetObjects("edr.process.ancestors", anc)
	if a.Target != nil {
		t := processObject(o.New(), a.Target)
		if a.TargetPar != nil {
			t.SetObject("parent", processObject(o.New(), a.TargetPar))
		}
		o.SetObject("edr.target.process", t)
	}
	if y := a.Hit.YARA; y != nil {
		o.SetString("edr.yara.rule", a.Hit.Rule.Name)
		o.SetString("edr.yara.namespace", y.Namespace)
		o.SetStrings("edr.yara.tags", y.Tags)
		o.SetString("edr.yara.file", y.File)
		o.SetString("edr.yara.sha256", y.SHA256)
		if a.MatchDebug == detect.MatchDebugFull {
			var strs []*Object
			for i, s := range y.Strings {
				if i == maxYARAStrings {
					o.SetBool("edr.yara.strings_truncated", true)
					break
				}
				so := o.New()
				so.SetString("identifier", s.Identifier)
				so.Set("offset", s.Offset)
				so.SetString("data", yaraSnippet(s.Data))
				strs = append(strs, so)
			}
			o.SetObjects("edr.yara.strings", strs)
		}
	}
}

// processObject is the edr.* rendering of a table process.
func processObject(o *Object, p *state.Process) *Object {
	o.SetString("entity_id", p.GUID)
	if n, ok := parsePID(p.PID); ok {
		o.SetInt("pid", n)
	}
	o.SetString("executable", p.Image)
	o.SetString("command_line", p.CommandLine)
	o.SetString("user", p.User)
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

// Text encodes alerts as one human line each (console output): time, host,
// severity, engine, rule, event and acting process. The zero value is ready
// to use and safe for concurrent use.
type Text struct{}

var _ detect.Encoder = Text{}

// Append appends a's line (with the newline).
func (Text) Append(dst []byte, a *detect.Alert) []byte {
	ev := a.Event
	dst = append(dst, formatTimestamp(ev.Time)...)
	dst = append(dst, ' ')
	dst = termsafe.AppendString(dst, ev.Host) // event data: printed on a terminal
	dst = append(dst, ' ')
	dst = append(dst, a.Severity.String()...)
	dst = append(dst, ' ')
	dst = append(dst, a.Hit.Rule.Engine...)
	dst = append(dst, ' ')
	dst = appendQuoted(dst, a.Hit.Rule.Name)
	if ev.Channel != "" {
		dst = append(dst, " event="...)
		dst = termsafe.AppendString(dst, ev.Channel)
		dst = append(dst, '/')
		dst = strconv.AppendUint(dst, uint64(ev.EventID), 10)
	}
	image, pid := actingProcess(a)
	if image != "" {
		dst = append(dst, " process="...)
		dst = appendQuoted(dst, image)
	}
	if pid != "" {
		dst = append(dst, " pid="...)
		dst = termsafe.AppendString(dst, pid)
	}
	if a.Replayed {
		dst = append(dst, " (replayed)"...)
	}
	return append(dst, '\n')
}

// actingProcess is the image and PID of the process that acted: as the
// event names them, else from the process table.
func actingProcess(a *detect.Alert) (image, pid string) {
	ev := a.Event
	_, pid = event.RolesOf(ev).Actor.IDs(ev)
	image = ev.Value(event.FImage)
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
	return image, pid
}

// appendQuoted quotes s for a console line without escaping backslashes
// (Windows paths stay readable); control characters become spaces.
func appendQuoted(dst []byte, s string) []byte {
	dst = append(dst, '"')
	if strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		s = strings.Map(func(r rune) rune {
			if r < 0x20 || r == 0x7f {
				return ' '
			}
			return r
		}, s)
	}
	dst = termsafe.AppendString(dst, s) // C1 and bidi controls, invalid UTF-8, length
	return append(dst, '"')
}
