package detect_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/edr-lab/edr/detect"
	"github.com/edr-lab/edr/detect/detecttest"
	"github.com/edr-lab/edr/detect/ecs"
	"github.com/edr-lab/edr/event"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// funcMatcher is a test rule engine: each rule matches when its predicate
// holds.
type funcMatcher struct {
	name  string
	rules []*detect.Rule
	preds []func(*event.Event) bool
	seen  []map[string]string // fields seen during Match, for enrichment tests
	watch []event.FieldID
	uses  map[event.FieldID]bool
}

func (m *funcMatcher) Name() string { return m.name }

func (m *funcMatcher) Match(ev *event.Event, out []detect.Hit) []detect.Hit {
	if len(m.watch) > 0 {
		s := map[string]string{}
		for _, id := range m.watch {
			if v, ok := ev.Get(id); ok {
				s[id.Name()] = v
			}
		}
		m.seen = append(m.seen, s)
	}
	for i, p := range m.preds {
		if p(ev) {
			out = append(out, detect.Hit{Rule: m.rules[i], Fields: []detect.MatchedField{{Selection: "selection", Field: "Image", Modifier: "endswith", Pattern: `\whoami.exe`, Value: ev.Value(event.FImage)}}})
		}
	}
	return out
}

func (m *funcMatcher) UsesField(id event.FieldID) bool { return m.uses == nil || m.uses[id] }

func sigmaRule(id, title, level string, tags ...string) *detect.Rule {
	sev, _ := detect.ParseSeverity(level)
	r := &detect.Rule{Engine: detect.EngineSigma, ID: id, Name: title, Description: "test rule " + title,
		Authors: []string{"edr tests"}, License: "DRL-1.1", Ruleset: "edr/rules", Version: "2026-01-01",
		Category: "process_creation", Product: "windows", Level: level, Status: "test", Tags: tags, Severity: sev,
		References: []string{"https://example.org/" + id}, Condition: "selection"}
	return r
}

const t0 = int64(1_700_000_000_000_000_000)

func imageIs(suffix string) func(*event.Event) bool {
	return func(ev *event.Event) bool { return strings.HasSuffix(strings.ToLower(ev.Value(event.FImage)), suffix) }
}

func processChain() []*event.Event {
	return []*event.Event{
		detecttest.Sysmon(1, t0, "WS01", "ProcessGuid", "{00000000-0000-0000-0000-000000000001}", "ProcessId", "500",
			"Image", `C:\Windows\explorer.exe`, "CommandLine", `C:\Windows\explorer.exe`, "User", `CORP\alice`,
			"ParentProcessGuid", "{00000000-0000-0000-0000-000000000000}", "ParentProcessId", "400", "ParentImage", `C:\Windows\System32\userinit.exe`),
		detecttest.Sysmon(1, t0+1e9, "WS01", "ProcessGuid", "{00000000-0000-0000-0000-000000000002}", "ProcessId", "600",
			"Image", `C:\Windows\System32\cmd.exe`, "CommandLine", `"C:\Windows\System32\cmd.exe" /c whoami /all`, "User", `CORP\alice`,
			"ParentProcessGuid", "{00000000-0000-0000-0000-000000000001}", "ParentProcessId", "500", "ParentImage", `C:\Windows\explorer.exe`,
			"ParentCommandLine", `C:\Windows\explorer.exe`),
		detecttest.Sysmon(1, t0+2e9, "WS01", "ProcessGuid", "{00000000-0000-0000-0000-000000000003}", "ProcessId", "700",
			"Image", `C:\Windows\System32\whoami.exe`, "CommandLine", `whoami /all`, "User", `CORP\alice`, "IntegrityLevel", "Medium",
			"Hashes", "SHA1=0123456789ABCDEF0123456789ABCDEF01234567,MD5=0123456789ABCDEF0123456789ABCDEF,IMPHASH=00000000000000000000000000000000",
			"OriginalFileName", "whoami.exe", "RuleName", "-",
			"ParentProcessGuid", "{00000000-0000-0000-0000-000000000002}", "ParentProcessId", "600", "ParentImage", `C:\Windows\System32\cmd.exe`,
			"ParentCommandLine", `"C:\Windows\System32\cmd.exe" /c whoami /all`),
	}
}

func TestEngineEmitsEveryMatchingRuleWithContext(t *testing.T) {
	sink := detecttest.NewSink(t)
	m := &funcMatcher{name: "sigma",
		rules: []*detect.Rule{
			sigmaRule("11111111-1111-4111-8111-111111111111", "Whoami Execution", "low", "attack.discovery", "attack.t1033"),
			sigmaRule("22222222-2222-4222-8222-222222222222", "Whoami All", "medium", "attack.discovery", "attack.t1033", "attack.defense_evasion", "attack.t1027.001", "attack.g0016"),
		},
		preds: []func(*event.Event) bool{imageIs(`\whoami.exe`), imageIs(`\whoami.exe`)},
	}
	eng, err := detect.New(detect.Options{Matchers: []detect.Matcher{m}, Sink: sink, MatchDebug: detect.MatchDebugFull, Replayed: true})
	require.NoError(t, err)
	for _, ev := range processChain() {
		require.NoError(t, eng.Process(ev))
	}
	require.Equal(t, []string{"Whoami Execution", "Whoami All"}, sink.Rules(), "every matching rule is reported, in matcher order")
	assert.True(t, strings.HasPrefix(string(sink.Lines[1]), `{"@timestamp":"2023-11-14T22:13:22.000Z","ecs":{"version":"9.4.0"},"message":"Whoami All","event":{"kind":"alert"`), "%s", sink.Lines[1])
	var doc map[string]any
	require.NoError(t, json.Unmarshal(sink.Lines[1], &doc))
	get := func(path string) any {
		var cur any = doc
		for _, p := range strings.Split(path, ".") {
			cur = cur.(map[string]any)[p]
		}
		return cur
	}
	assert.Equal(t, "alert", get("event.kind"))
	assert.Equal(t, float64(47), get("event.severity"))
	assert.Equal(t, float64(47), get("event.risk_score"))
	assert.Equal(t, "1", get("event.code"))
	assert.Equal(t, []any{"process"}, get("event.category"))
	assert.Equal(t, "22222222-2222-4222-8222-222222222222", get("rule.uuid"))
	assert.Equal(t, []any{"edr tests"}, get("rule.author"))
	assert.Equal(t, []any{"TA0007", "TA0005"}, get("threat.tactic.id"))
	assert.Equal(t, []any{"Discovery", "Defense Evasion"}, get("threat.tactic.name"))
	assert.Equal(t, []any{"T1033", "T1027"}, get("threat.technique.id"))
	assert.Equal(t, []any{"T1027.001"}, get("threat.technique.subtechnique.id"))
	assert.Equal(t, []any{"https://attack.mitre.org/techniques/T1027/001/"}, get("threat.technique.subtechnique.reference"))
	assert.Equal(t, []any{"G0016"}, get("threat.group.id"))
	assert.Equal(t, "whoami.exe", get("process.name"))
	assert.Equal(t, []any{"whoami", "/all"}, get("process.args"))
	assert.Equal(t, float64(2), get("process.args_count"))
	assert.Equal(t, "0123456789abcdef0123456789abcdef", get("process.hash.md5"))
	assert.NotContains(t, get("process.pe").(map[string]any), "imphash", "all-zero IMPHASH is dropped")
	assert.Equal(t, `C:\Windows\System32\cmd.exe`, get("process.parent.executable"))
	assert.Equal(t, []any{`C:\Windows\System32\cmd.exe`, "/c", "whoami", "/all"}, get("process.parent.args"))
	assert.Equal(t, "alice", get("user.name"))
	assert.Equal(t, "CORP", get("user.domain"))
	assert.Equal(t, "ws01", get("host.name"))
	assert.Equal(t, "WS01", get("winlog.computer_name"))
	assert.Equal(t, "-", get("winlog.event_data.RuleName"), "the original event is kept verbatim")
	assert.Equal(t, "medium", get("sigma.level"))
	assert.Equal(t, true, get("edr.replayed"))
	anc := get("edr.process.ancestors").([]any)
	require.Len(t, anc, 2, "grandparent explorer.exe, then userinit.exe (known from explorer's Parent* fields)")
	assert.Equal(t, `C:\Windows\explorer.exe`, anc[0].(map[string]any)["executable"])
	assert.Equal(t, `C:\Windows\System32\userinit.exe`, anc[1].(map[string]any)["executable"])
	fields := get("sigma.match.fields").([]any)
	assert.Equal(t, `C:\Windows\System32\whoami.exe`, fields[0].(map[string]any)["value"], "full match_debug carries values")
	assert.NotEqual(t, get("event.id"), func() any {
		var d0 map[string]any
		require.NoError(t, json.Unmarshal(sink.Lines[0], &d0))
		return d0["event"].(map[string]any)["id"]
	}(), "alert ids differ per rule")

	st := eng.Stats()
	assert.Equal(t, uint64(3), st.Events)
	assert.Equal(t, uint64(2), st.Alerts)
	assert.Equal(t, uint64(1), st.AlertsBySev[detect.SeverityLow])
	assert.Equal(t, []detect.EngineCount{{Name: "sigma", Hits: 2}}, st.HitsByEngine)
	rc := eng.RuleCounts()
	require.Len(t, rc, 2)
	assert.Equal(t, "Whoami All", rc[0].Rule.Name, "ties sorted by name")
}

func TestMatchDebugLevels(t *testing.T) {
	for _, md := range []detect.MatchDebug{detect.MatchDebugOff, detect.MatchDebugSummary, detect.MatchDebugFull} {
		sink := detecttest.NewSink(t)
		m := &funcMatcher{name: "sigma", rules: []*detect.Rule{sigmaRule("33333333-3333-4333-8333-333333333333", "W", "high")}, preds: []func(*event.Event) bool{imageIs("whoami.exe")}}
		eng, err := detect.New(detect.Options{Matchers: []detect.Matcher{m}, Sink: sink, MatchDebug: md})
		require.NoError(t, err)
		for _, ev := range processChain() {
			require.NoError(t, eng.Process(ev))
		}
		require.Len(t, sink.Lines, 1)
		line := string(sink.Lines[0])
		switch md {
		case detect.MatchDebugOff:
			assert.NotContains(t, line, `"match"`)
		case detect.MatchDebugSummary:
			assert.Contains(t, line, `"match":{"condition":"selection","fields":[{"selection":"selection","field":"Image","modifier":"endswith","pattern":"\\whoami.exe"}]}`)
		case detect.MatchDebugFull:
			assert.Contains(t, line, `"value":"C:\\Windows\\System32\\whoami.exe"`)
		}
	}
}

func TestEnrichmentFieldsFilledForEvaluationOnly(t *testing.T) {
	sink := detecttest.NewSink(t)
	gp := event.FGrandParentImage
	m := &funcMatcher{name: "sigma",
		rules: []*detect.Rule{sigmaRule("44444444-4444-4444-8444-444444444444", "Whoami from explorer grandparent", "high")},
		preds: []func(*event.Event) bool{func(ev *event.Event) bool {
			return strings.HasSuffix(ev.Value(gp), `\explorer.exe`) && strings.HasSuffix(ev.Value(event.FImage), `\whoami.exe`)
		}},
		watch: []event.FieldID{gp},
		uses:  map[event.FieldID]bool{gp: true},
	}
	eng, err := detect.New(detect.Options{Matchers: []detect.Matcher{m}, Sink: sink})
	require.NoError(t, err)
	evs := processChain()
	for _, ev := range evs {
		require.NoError(t, eng.Process(ev))
		assert.False(t, ev.Has(gp), "enrichment removed after evaluation")
	}
	assert.Equal(t, []map[string]string{{}, {"GrandParentImage": `C:\Windows\System32\userinit.exe`}, {"GrandParentImage": `C:\Windows\explorer.exe`}}, m.seen)
	assert.Equal(t, []string{"Whoami from explorer grandparent"}, sink.Rules())
	assert.NotContains(t, string(sink.Lines[0]), "GrandParentImage", "winlog.event_data is the original event")
	assert.Equal(t, uint64(2), eng.Stats().EnrichedEvents)

	// A matcher that does not read enrichment fields gets none.
	m2 := &funcMatcher{name: "sigma", watch: []event.FieldID{gp}, uses: map[event.FieldID]bool{}}
	eng2, err := detect.New(detect.Options{Matchers: []detect.Matcher{m2}, Sink: detecttest.NewSink(t)})
	require.NoError(t, err)
	for _, ev := range processChain() {
		require.NoError(t, eng2.Process(ev))
	}
	assert.Equal(t, []map[string]string{{}, {}, {}}, m2.seen)
}

func TestNonProcessAlertGetsProcessContextAndDNSName(t *testing.T) {
	sink := detecttest.NewSink(t)
	m := &funcMatcher{name: "sigma",
		rules: []*detect.Rule{sigmaRule("55555555-5555-4555-8555-555555555555", "Suspicious connection", "high", "attack.command-and-control", "attack.t1071")},
		preds: []func(*event.Event) bool{func(ev *event.Event) bool { return ev.EventID == 3 }},
	}
	eng, err := detect.New(detect.Options{Matchers: []detect.Matcher{m}, Sink: sink})
	require.NoError(t, err)
	evs := processChain()
	evs = append(evs,
		detecttest.Sysmon(22, t0+3e9, "WS01", "ProcessGuid", "{00000000-0000-0000-0000-000000000003}", "ProcessId", "700",
			"QueryName", "evil.example.com", "QueryStatus", "0", "QueryResults", "type:  5 cdn.example.net;::ffff:203.0.113.7;2001:db8::7;",
			"Image", `C:\Windows\System32\whoami.exe`),
		detecttest.Sysmon(3, t0+4e9, "WS01", "ProcessGuid", "{00000000-0000-0000-0000-000000000003}", "ProcessId", "700",
			"Image", `C:\Windows\System32\whoami.exe`, "Protocol", "tcp", "Initiated", "true", "SourceIsIpv6", "false",
			"SourceIp", "10.0.0.5", "SourcePort", "50123", "DestinationIsIpv6", "false", "DestinationIp", "203.0.113.7",
			"DestinationHostname", "-", "DestinationPort", "443", "DestinationPortName", "https"),
		// Same IP on another host: no DNS answer there.
		detecttest.Sysmon(3, t0+5e9, "WS02", "Image", `C:\x.exe`, "DestinationIp", "203.0.113.7", "DestinationPort", "443"),
		// Same host after the DNS TTL.
		detecttest.Sysmon(3, t0+4e9+int64(16*time.Minute), "WS01", "Image", `C:\x.exe`, "DestinationIp", "203.0.113.7", "DestinationPort", "443"),
	)
	for _, ev := range evs {
		require.NoError(t, eng.Process(ev))
	}
	require.Len(t, sink.Lines, 3)
	line := string(sink.Lines[0])
	assert.Contains(t, line, `"destination":{"ip":"203.0.113.7","port":443,"domain":"evil.example.com"}`)
	assert.Contains(t, line, `"command_line":"whoami /all"`, "process context from the table")
	assert.Contains(t, line, `"parent":{"entity_id":"{00000000-0000-0000-0000-000000000002}","pid":600,"executable":"C:\\Windows\\System32\\cmd.exe"`)
	assert.Contains(t, line, `"network":{"transport":"tcp","direction":"egress","type":"ipv4","protocol":"https"}`)
	assert.NotContains(t, string(sink.Lines[1]), "evil.example.com")
	assert.NotContains(t, string(sink.Lines[2]), "evil.example.com")
}

func TestAlertsForEveryEventKindAreValidECS(t *testing.T) {
	sink := detecttest.NewSink(t)
	always := &funcMatcher{name: "sigma",
		rules: []*detect.Rule{sigmaRule("66666666-6666-4666-8666-666666666666", "Any", "informational", "attack.stealth", "attack.defense-impairment", "cve.2021-44228")},
		preds: []func(*event.Event) bool{func(*event.Event) bool { return true }},
	}
	ioc := &detect.Rule{Engine: detect.EngineIOC, ID: "edr-ioc-ip", Name: "IOC IP match", Ruleset: "edr/ioc"}
	iocM := &iocMatcher{rule: ioc}
	eng, err := detect.New(detect.Options{Matchers: []detect.Matcher{always, iocM}, Sink: sink, MatchDebug: detect.MatchDebugFull})
	require.NoError(t, err)
	n := 0
	for _, d := range event.Defs() {
		ev := &event.Event{Time: t0 + int64(n)*1e6, Host: "HOST-A", Channel: d.Channel, Provider: d.Provider, EventID: d.EventID, RecordID: uint64(n + 1), Seq: uint64(n + 1)}
		for _, f := range d.Fields {
			ev.Set(f.ID, sampleValue(f.Type, f.ID.Name()))
		}
		ev.AddExtra("UnknownField", "")
		require.NoError(t, eng.Process(ev))
		n++
	}
	assert.GreaterOrEqual(t, len(sink.Lines), n, "one alert per event type at least")
}

type iocMatcher struct{ rule *detect.Rule }

func (m *iocMatcher) Name() string { return "ioc" }
func (m *iocMatcher) Match(ev *event.Event, out []detect.Hit) []detect.Hit {
	if ip, ok := ev.Get(event.FDestinationIp); ok {
		out = append(out, detect.Hit{Rule: m.rule, Severity: detect.SeverityHigh, Indicator: &detect.Indicator{
			Type: "ipv4-addr", Field: "DestinationIp", Atomic: ip, Value: "203.0.113.0/24", Comment: "test range", Source: "ips.txt:3"}})
	}
	return out
}

// sampleValue renders a plausible value of a type (every field of every
// schema event, to walk the whole ECS mapping).
func sampleValue(t event.Type, name string) string {
	switch t {
	case event.UInt:
		return "4242"
	case event.Int:
		return "-1"
	case event.Hex:
		return "0x1a2c"
	case event.GUID:
		return "{aabbccdd-1122-3344-5566-77889900aabb}"
	case event.Bool:
		return "true"
	case event.UtcTime:
		return "2024-05-20 15:31:00.456"
	case event.SID:
		return "S-1-5-21-1-2-3-1001"
	case event.Hashes:
		return "SHA1=0123456789ABCDEF0123456789ABCDEF01234567,MD5=0123456789ABCDEF0123456789ABCDEF,SHA256=0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF,IMPHASH=0123456789ABCDEF0123456789ABCDEF"
	case event.IP:
		return "203.0.113.7"
	case event.FileTime:
		return "2024-05-20T15:31:00.4560000Z"
	}
	switch name {
	case "User", "SourceUser", "TargetUser", "ParentUser":
		return `CORP\bob`
	case "TargetObject":
		return `HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Run\evil`
	case "Details":
		return "DWORD (0x00000001)"
	case "QueryResults":
		return "type:  5 a.example;::ffff:203.0.113.7;"
	case "IpAddress":
		return "198.51.100.2"
	}
	return `C:\Users\bob\AppData\Local\Temp\` + name + ".exe"
}

func TestSeverityNames(t *testing.T) {
	for _, c := range []struct {
		name string
		sev  detect.Severity
	}{{"informational", 1}, {"info", 1}, {"low", 21}, {"Medium", 47}, {"high", 73}, {"critical", 99}} {
		s, err := detect.ParseSeverity(c.name)
		require.NoError(t, err)
		assert.Equal(t, c.sev, s)
	}
	_, err := detect.ParseSeverity("urgent")
	assert.Error(t, err)
	assert.Equal(t, "critical", detect.SeverityCritical.String())
}

func TestNewNeedsSink(t *testing.T) {
	_, err := detect.New(detect.Options{})
	assert.Error(t, err)
}

func TestAlertTextLine(t *testing.T) {
	evs := processChain()
	a := &detect.Alert{Event: evs[2], Hit: &detect.Hit{Rule: sigmaRule("11111111-1111-4111-8111-111111111111", "Whoami\nAll", "medium")},
		Severity: detect.SeverityMedium, Replayed: true}
	assert.Equal(t, `2023-11-14T22:13:22.000Z WS01 medium sigma "Whoami All" event=Microsoft-Windows-Sysmon/Operational/1 process="C:\Windows\System32\whoami.exe" pid=700 (replayed)`+"\n",
		string(ecs.Text{}.Append(nil, a)))
}

// reuseSink encodes every alert twice: with one NDJSON encoder reused from
// alert to alert (as the alert writer does) and from a fresh document.
type reuseSink struct {
	enc         ecs.NDJSON
	reused, new [][]byte
}

func (s *reuseSink) Alert(a *detect.Alert) error {
	s.reused = append(s.reused, s.enc.Append(nil, a))
	s.new = append(s.new, append([]byte(ecs.AlertObject(a).String()), '\n'))
	return nil
}

// TestAlertEncoderReuseChangesNothing: the reused encoder's storage (nested
// objects, argument and related.* lists, id buffer) never leaks from one
// alert into the next, over every event type of the schema.
func TestAlertEncoderReuseChangesNothing(t *testing.T) {
	s := &reuseSink{}
	always := &funcMatcher{name: "sigma",
		rules: []*detect.Rule{sigmaRule("66666666-6666-4666-8666-666666666666", "Any", "high", "attack.t1059")},
		preds: []func(*event.Event) bool{func(*event.Event) bool { return true }},
	}
	iocM := &iocMatcher{rule: &detect.Rule{Engine: detect.EngineIOC, ID: "edr-ioc-ip", Name: "IOC IP match", Ruleset: "edr/ioc"}}
	eng, err := detect.New(detect.Options{Matchers: []detect.Matcher{always, iocM}, Sink: s, MatchDebug: detect.MatchDebugFull})
	require.NoError(t, err)
	for _, ev := range processChain() {
		require.NoError(t, eng.Process(ev))
	}
	defs := event.Defs()
	for i := range defs { // every type, then again in reverse: big documents follow small ones and back
		for _, d := range []event.Def{defs[i], defs[len(defs)-1-i]} {
			ev := &event.Event{Time: t0 + int64(i)*1e6, Host: "HOST-A", Channel: d.Channel, Provider: d.Provider, EventID: d.EventID, RecordID: uint64(i + 1)}
			for j, f := range d.Fields {
				if (i+j)%3 != 0 { // vary which fields are present
					ev.Set(f.ID, sampleValue(f.Type, f.ID.Name()))
				}
			}
			require.NoError(t, eng.Process(ev))
		}
	}
	require.Greater(t, len(s.new), 2*len(defs))
	for i := range s.new {
		require.Equal(t, string(s.new[i]), string(s.reused[i]), "alert %d", i)
	}
}
