package ecs_test

import (
	"testing"

	"github.com/edr-lab/edr/detect"
	"github.com/edr-lab/edr/detect/detecttest"
	"github.com/edr-lab/edr/detect/ecs"
	"github.com/edr-lab/edr/event"
	"github.com/stretchr/testify/require"
)

// TestNDJSONRuleFragmentsMatchTheDocument: the NDJSON encoder writes the
// rule's part of an alert (rule, threat, vulnerability, tags, sigma) from
// bytes it encoded on the rule's first alert; every alert, first or
// repeated, with or without an indicator, correlation or match details,
// must still be byte for byte the alert's full document.
func TestNDJSONRuleFragmentsMatchTheDocument(t *testing.T) {
	const t0 = 1_700_000_000_000_000_000
	full := &detect.Rule{Engine: detect.EngineSigma, ID: "11111111-1111-4111-8111-111111111111", Name: "Whoami \"all\"",
		Description: "Finds\twhoami", Authors: []string{"a", "b"}, References: []string{"https://x/1", "https://x/2"}, License: "DRL",
		Ruleset: "sigmahq/rules", Version: "2024-01-02", Category: "process_creation", Level: "medium", Status: "test",
		Product: "windows", FalsePositives: []string{"admins"}, Condition: "sel",
		Tags: []string{"attack.discovery", "attack.t1033", "attack.t1059.001", "attack.g0016", "attack.s0002", "cve.2021-44228", "detection.threat-hunting"}}
	bare := &detect.Rule{Engine: detect.EngineSigma, ID: "not-a-uuid", Name: "Bare"}
	corr := &detect.Rule{Engine: detect.EngineSigma, ID: "22222222-2222-4222-8222-222222222222", Name: "Many", Level: "high",
		Correlation: "value_sum", Tags: []string{"attack.impact"}}
	iocRule := &detect.Rule{Engine: detect.EngineIOC, ID: "edr-ioc-md5", Name: "IOC match: md5", Ruleset: "edr/ioc", Category: "ioc"}
	taggedIOC := &detect.Rule{Engine: detect.EngineIOC, ID: "edr-ioc-ip", Name: "IOC IP", Tags: []string{"attack.command-and-control", "attack.t1071"}}
	yaraRule := &detect.Rule{Engine: detect.EngineYARA, ID: "ns:Evil", Name: "Evil", Tags: []string{"attack.t1027"}}

	ev := detecttest.Sysmon(1, t0, "WS1", "ProcessGuid", "{00000000-0000-0000-0000-000000000001}", "ProcessId", "700",
		"Image", `C:\Windows\System32\whoami.exe`, "CommandLine", `whoami /all`, "User", `CORP\alice`)
	ind := &detect.Indicator{Type: "file", Field: "Hashes", Atomic: "abc", Value: "abc", Comment: "c", Source: "hashes.txt:1"}
	hits := []detect.Hit{
		{Rule: full},
		{Rule: full, Fields: []detect.MatchedField{{Selection: "sel", Field: "Image", Modifier: "endswith", Pattern: `\whoami.exe`, Value: "x"}}},
		{Rule: bare},
		{Rule: corr, Correlation: true, Group: "WS1\x1fbob", Count: 3, Value: 7.5},
		{Rule: iocRule, Indicator: ind},
		{Rule: taggedIOC, Indicator: ind},
		{Rule: full, Indicator: ind},
		{Rule: yaraRule, YARA: &detect.YARAMatch{Namespace: "ns", File: `C:\x.exe`, Strings: []detect.YARAString{{Identifier: "$a", Data: []byte("evil")}}}},
	}
	var enc ecs.NDJSON
	for round := 0; round < 2; round++ { // the second round finds every rule's fragments made
		for _, dbg := range []detect.MatchDebug{detect.MatchDebugOff, detect.MatchDebugSummary, detect.MatchDebugFull} {
			for i := range hits {
				a := &detect.Alert{Event: ev, Hit: &hits[i], Severity: hits[i].AlertSeverity(), Replayed: true, MatchDebug: dbg}
				want := ecs.AlertObject(a).String() + "\n"
				require.Equal(t, want, string(enc.Append(nil, a)), "round %d, match_debug %d, hit %d", round, dbg, i)
			}
		}
	}
}

// TestNDJSONEventDataMatchesTheDocument: the NDJSON encoder writes
// winlog.event_data straight from the event's fields when it has no fields
// outside the schema, and keeps the hashes and host names it lower-cased;
// with or without fields outside the schema (dotted, repeated, empty),
// first time or again, the bytes are the alert's full document.
func TestNDJSONEventDataMatchesTheDocument(t *testing.T) {
	const t0 = 1_700_000_000_000_000_000
	r := &detect.Rule{Engine: detect.EngineSigma, ID: "11111111-1111-4111-8111-111111111111", Name: "Any", Level: "low"}
	plain := detecttest.Sysmon(1, t0, "WS1", "ProcessGuid", "{00000000-0000-0000-0000-000000000001}", "ProcessId", "700",
		"Image", `C:\Windows\System32\whoami.exe`, "CommandLine", "whoami \"/all\"\t\x01\xff €", "RuleName", "",
		"Computer", "ws1.corp", "Level", "4", "Execution_ProcessID", "12", "Hashes", "MD5=0123456789ABCDEF0123456789ABCDEF,IMPHASH=ÄBC0")
	onlyEnvelope := detecttest.Sysmon(1, t0, "WS1", "Computer", "ws1.corp")
	extra := detecttest.Sysmon(1, t0, "WS1", "Image", `C:\x.exe`)
	extra.AddExtra("Custom", "1")
	extra.AddExtra("a.b", "nested")
	extra.AddExtra("Custom", "again")
	extra.AddExtra("Empty", "")
	var enc ecs.NDJSON
	for round := 0; round < 2; round++ {
		for i, ev := range []*event.Event{plain, onlyEnvelope, extra, plain} {
			a := &detect.Alert{Event: ev, Hit: &detect.Hit{Rule: r}, Severity: detect.SeverityLow}
			want := ecs.AlertObject(a).String() + "\n"
			require.Equal(t, want, string(enc.Append(nil, a)), "round %d, event %d", round, i)
		}
	}
	require.Contains(t, string(enc.Append(nil, &detect.Alert{Event: plain, Hit: &detect.Hit{Rule: r}})),
		`"event_data":{"RuleName":"",`, "present-but-empty fields stay")
}
