package sigma_test

import (
	"testing"
	"time"

	"github.com/edr-lab/edr/detect/sigma"
	"github.com/edr-lab/edr/event"
	"github.com/stretchr/testify/require"
)

// The spec's own example (C "Example: Failed Logins Followed by Successful
// Login"), with the failed-login threshold lowered from 10 to 3.
const bruteForceYAML = `title: Correlation - Multiple Failed Logins Followed by Successful Login
id: b180ead8-d58f-40b2-ae54-c8940995b9b6
status: experimental
correlation:
    type: temporal_ordered
    rules:
        - multiple_failed_login
        - successful_login
    group-by:
        - User
    timespan: 10m
level: high
---
title: Multiple failed logons
id: a8418a5a-5fc4-46b5-b23b-6c73beb19d41
name: multiple_failed_login
correlation:
    type: event_count
    rules:
        - failed_login
    group-by:
        - User
    timespan: 10m
    condition:
        gte: 3
---
title: Single failed login
id: 53ba33fd-3a50-4468-a5ef-c583635cfa92
name: failed_login
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID:
            - 529
            - 4625
    condition: selection
---
title: Successful login
id: 4d0a2c83-c62c-4ed4-b475-c7e23a9269b8
name: successful_login
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID:
            - 528
            - 4624
    condition: selection
`

var t0 = time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC).UnixNano()

func secEvent(id uint16, at time.Duration, fields ...string) *event.Event {
	ev := &event.Event{Channel: event.ChannelSecurity, EventID: id, Time: t0 + int64(at)}
	for i := 0; i+1 < len(fields); i += 2 {
		ev.SetByName(fields[i], fields[i+1])
	}
	return ev
}

type step struct {
	ev   *event.Event
	want []string // ids of the rules reported for this event
}

func runSteps(t *testing.T, rs *sigma.Matcher, steps []step) {
	t.Helper()
	for i, s := range steps {
		got := matchIDs(rs, s.ev)
		require.Equal(t, s.want, got, "step %d", i)
	}
}

const idOrdered = "b180ead8-d58f-40b2-ae54-c8940995b9b6"

func TestCorrelationSpecExample(t *testing.T) {
	rs := mustLoad(t, bruteForceYAML, sigma.Options{}).NewMatcher()
	// C "Generate": referenced rules, including the inner correlation, are
	// not reported on their own (the default); C "Correlation rules": only
	// the outermost correlation is a detection. event_count gte 3 per User
	// within 10m, then temporal_ordered.
	runSteps(t, rs, []step{
		{secEvent(4625, 0, "User", "bob"), nil},
		{secEvent(4625, time.Minute, "User", "bob"), nil},
		{secEvent(4625, 2*time.Minute, "User", "alice"), nil}, // other group
		{secEvent(4624, 3*time.Minute, "User", "bob"), nil},   // success before the 3rd failure: out of order
		{secEvent(4625, 4*time.Minute, "User", "bob"), nil},   // the inner correlation fires (not reported)
		{secEvent(4624, 5*time.Minute, "User", "alice"), nil}, // alice had one failure only
		{secEvent(4624, 6*time.Minute, "User", "bob"), []string{idOrdered}},
	})
}

func TestCorrelationTimespanInEventTime(t *testing.T) {
	rs := mustLoad(t, bruteForceYAML, sigma.Options{}).NewMatcher()
	// C "timespan": three failures spread over more than 10 minutes of event
	// time do not count together, whatever the wall clock does.
	runSteps(t, rs, []step{
		{secEvent(4625, 0, "User", "bob"), nil},
		{secEvent(4625, 6*time.Minute, "User", "bob"), nil},
		{secEvent(4625, 12*time.Minute, "User", "bob"), nil},
		{secEvent(4624, 13*time.Minute, "User", "bob"), nil}, // never 3 failures within 10m
		{secEvent(4625, 14*time.Minute, "User", "bob"), nil}, // 6m, 12m, 14m: 3 within 10m
		{secEvent(4624, 15*time.Minute, "User", "bob"), []string{idOrdered}},
	})
}

func TestCorrelationGenerate(t *testing.T) {
	yml := `title: count
id: c0000000-0000-4000-8000-000000000001
correlation:
    type: event_count
    rules: [base]
    group-by: [User]
    timespan: 1h
    generate: true
    condition:
        gte: 2
---
title: base
id: c0000000-0000-4000-8000-000000000002
name: base
logsource: {product: windows, service: security}
detection:
    selection:
        EventID: 4625
    condition: selection
`
	// C "Generate": generate: true keeps the referenced rule stand-alone;
	// the JSON schema has it at the top level, pySigma inside correlation
	topLevel := replaceOnce(replaceOnce(yml, "    generate: true\n", ""), "correlation:\n", "generate: true\ncorrelation:\n")
	for _, y := range []string{yml, topLevel} {
		rs := mustLoad(t, y, sigma.Options{}).NewMatcher()
		base, count := "c0000000-0000-4000-8000-000000000002", "c0000000-0000-4000-8000-000000000001"
		runSteps(t, rs, []step{
			{secEvent(4625, 0, "User", "x"), []string{base}},
			{secEvent(4625, time.Second, "User", "x"), []string{base, count}},
		})
	}
}

func corrRule(typ, cond, rules, extra string) string {
	yml := `title: corr
id: d0000000-0000-4000-8000-000000000001
correlation:
    type: ` + typ + `
    rules: [` + rules + `]
    group-by: [Computer]
    timespan: 5m
` + extra + cond
	for _, r := range [][2]string{{"a", "whoami"}, {"b", "ipconfig"}, {"c", "net view"}} {
		yml += "---\ntitle: " + r[0] + "\nname: rule_" + r[0] + "\nid: d0000000-0000-4000-8000-00000000000" + r[0] +
			"\nlogsource: {product: windows, service: security}\ndetection:\n    selection: {EventID: 4688, CommandLine|contains: '" + r[1] +
			"'}\n    condition: selection\n"
	}
	return yml
}

const corrID = "d0000000-0000-4000-8000-000000000001"

func proc(at time.Duration, host, cmd string, more ...string) *event.Event {
	return secEvent(4688, at, append([]string{"Computer", host, "CommandLine", cmd}, more...)...)
}

func TestCorrelationTemporal(t *testing.T) {
	// C "temporal": all referenced rules within timespan, any order, per group
	rs := mustLoad(t, corrRule("temporal", "", "rule_a, rule_b, rule_c", ""), sigma.Options{}).NewMatcher()
	runSteps(t, rs, []step{
		{proc(0, "h1", "net view"), nil},
		{proc(time.Minute, "h2", "whoami"), nil}, // other host
		{proc(2*time.Minute, "h1", "ipconfig /all"), nil},
		{proc(3*time.Minute, "h1", "whoami"), []string{corrID}},
	})
	rs = mustLoad(t, corrRule("temporal", "", "rule_a, rule_b, rule_c", ""), sigma.Options{}).NewMatcher()
	runSteps(t, rs, []step{
		{proc(0, "h1", "net view"), nil},
		{proc(2*time.Minute, "h1", "ipconfig /all"), nil},
		{proc(6*time.Minute, "h1", "whoami"), nil}, // net view is older than 5m
		{proc(7*time.Minute, "h1", "net view"), []string{corrID}},
	})
}

func TestCorrelationTemporalOrdered(t *testing.T) {
	// C "temporal_ordered": like temporal, in the order of `rules`
	rs := mustLoad(t, corrRule("temporal_ordered", "", "rule_a, rule_b, rule_c", ""), sigma.Options{}).NewMatcher()
	runSteps(t, rs, []step{
		{proc(0, "h1", "net view"), nil},
		{proc(time.Minute, "h1", "ipconfig"), nil},
		{proc(2*time.Minute, "h1", "whoami"), nil}, // a after b and c: order broken so far
		{proc(3*time.Minute, "h1", "net view"), nil},
		{proc(4*time.Minute, "h1", "ipconfig"), nil},
		{proc(5*time.Minute, "h1", "net view"), []string{corrID}}, // a(2m) b(4m) c(5m)
	})
}

func TestCorrelationValueCount(t *testing.T) {
	// C "value_count": distinct values of field per group
	rs := mustLoad(t, corrRule("value_count", "    condition:\n        field: User\n        gte: 3\n", "rule_a", ""), sigma.Options{}).NewMatcher()
	runSteps(t, rs, []step{
		{proc(0, "h1", "whoami", "User", "u1"), nil},
		{proc(time.Second, "h1", "whoami", "User", "u1"), nil},
		{proc(2*time.Second, "h1", "whoami", "User", "u2"), nil},
		{proc(3*time.Second, "h2", "whoami", "User", "u3"), nil},
		{proc(4*time.Second, "h1", "whoami", "User", "u3"), []string{corrID}},
	})
}

func TestCorrelationUpperBound(t *testing.T) {
	// C "Condition": eq / lt need the window to end: decided when a later
	// event passes start+timespan, or at Flush.
	rs := mustLoad(t, corrRule("event_count", "    condition:\n        eq: 2\n", "rule_a", ""), sigma.Options{}).NewMatcher()
	runSteps(t, rs, []step{
		{proc(0, "h1", "whoami"), nil},
		{proc(time.Minute, "h1", "whoami"), nil},
		{proc(0, "h2", "whoami"), nil},
		{proc(10*time.Minute, "h3", "whoami"), []string{corrID}}, // h1's window (2 events) ends; h2 had 1
	})
	var ids []string
	for _, m := range rs.Flush(nil) {
		ids = append(ids, m.Rule.ID)
	}
	require.Empty(t, ids, "h3 has one event")
	rs = mustLoad(t, corrRule("event_count", "    condition:\n        lt: 2\n", "rule_a", ""), sigma.Options{}).NewMatcher()
	runSteps(t, rs, []step{{proc(0, "h1", "whoami"), nil}})
	ms := rs.Flush(nil)
	require.Len(t, ms, 1)
	require.Equal(t, corrID, ms[0].Rule.ID)
	require.Equal(t, 1, ms[0].Count)
}

func TestCorrelationAliases(t *testing.T) {
	// C "Field Name Aliases": group-by an alias resolved per rule
	extra := "    aliases:\n        host:\n            rule_a: Computer\n            rule_b: TargetServerName\n"
	yml := corrRule("temporal", "", "rule_a, rule_b", extra)
	yml = replaceOnce(yml, "group-by: [Computer]", "group-by: [host]")
	rs := mustLoad(t, yml, sigma.Options{}).NewMatcher()
	runSteps(t, rs, []step{
		{proc(0, "h1", "whoami"), nil},
		{proc(time.Second, "other", "ipconfig", "TargetServerName", "h2"), nil},
		{proc(2*time.Second, "other", "ipconfig", "TargetServerName", "h1"), []string{corrID}},
	})
}

func TestCorrelationBoundedState(t *testing.T) {
	rs := mustLoad(t, corrRule("event_count", "    condition:\n        gte: 2\n", "rule_a", ""), sigma.Options{MaxCorrelationGroups: 10}).NewMatcher()
	for i := 0; i < 1000; i++ {
		require.Empty(t, matchIDs(rs, proc(time.Duration(i)*time.Millisecond, "h"+event.Itoa(uint64(i)), "whoami")))
	}
	// the oldest groups were dropped: h0 starts over
	require.Empty(t, matchIDs(rs, proc(time.Second, "h0", "whoami")))
	require.Equal(t, []string{corrID}, matchIDs(rs, proc(time.Second, "h999", "whoami")))
}

func TestCorrelationErrors(t *testing.T) {
	for _, c := range []struct{ yml, want string }{
		{corrRule("value_sum", "    condition:\n        gt: 1\n", "rule_a", ""), "value_sum needs condition.field"},
		{corrRule("value_avg", "    condition:\n        field: [x, y]\n        gt: 1\n", "rule_a", ""), "takes one field"},
		{corrRule("value_percentile", "    condition:\n        field: x\n        lte: one\n", "rule_a", ""), `"one" is not a number`},
		{corrRule("value_sum", "    condition:\n        field: x\n        gt: .nan\n", "rule_a", ""), "is not a number"},
		{corrRule("event_count", "", "rule_a", ""), "needs a condition"},
		{corrRule("event_count", "    condition:\n        gte: 2\n", "nosuchrule", ""), `"nosuchrule"`},
		{replaceOnce(corrRule("event_count", "    condition:\n        gte: 2\n", "rule_a", ""), "5m", "5x"), "timespan"},
		{replaceOnce(corrRule("event_count", "    condition:\n        gte: 2\n", "rule_a", ""), "group-by", "groupby"), `unknown key "groupby"`},
	} {
		_, errs := sigma.LoadBytes("c.yml", []byte(c.yml), sigma.Options{})
		require.NotEmpty(t, errs)
		require.Contains(t, errs[0].Error(), c.want)
	}
}

func TestFilterSpecExample(t *testing.T) {
	// F "Examples": the filter excludes adm_ users from the named rules only
	yml := `title: Filter Administrator account
description: The valid administrator account start with adm_
logsource:
    category: process_creation
    product: windows
filter:
    rules:
        - 6f3e2987-db24-4c78-a860-b4f4095a7095
    selection:
        User|startswith: 'adm_'
    condition: selection
---
title: Data Compressed - rar.exe
id: 6f3e2987-db24-4c78-a860-b4f4095a7095
logsource: {category: process_creation, product: windows}
detection:
    selection:
        Image|endswith: '\rar.exe'
    condition: selection
---
title: other
id: 6f3e2987-db24-4c78-a860-b4f4095a7096
logsource: {category: process_creation, product: windows}
detection:
    selection:
        Image|endswith: '\rar.exe'
    condition: selection
`
	rs := mustLoad(t, yml, sigma.Options{}).NewMatcher()
	require.Equal(t, []string{"6f3e2987-db24-4c78-a860-b4f4095a7096"},
		matchIDs(rs, procEvent(map[string]string{"Image": `C:\rar.exe`, "User": "adm_bob"})))
	require.Equal(t, []string{"6f3e2987-db24-4c78-a860-b4f4095a7095", "6f3e2987-db24-4c78-a860-b4f4095a7096"},
		matchIDs(rs, procEvent(map[string]string{"Image": `C:\rar.exe`, "User": "bob"})))
	_, errs := sigma.LoadBytes("f.yml", []byte(replaceOnce(yml, "- 6f3e2987-db24-4c78-a860-b4f4095a7095", "- nosuch")), sigma.Options{})
	require.Len(t, errs, 1)
	require.Contains(t, errs[0].Error(), `"nosuch"`)
}

func replaceOnce(s, old, new string) string {
	i := indexOf(s, old)
	if i < 0 {
		panic("replaceOnce: " + old)
	}
	return s[:i] + new + s[i+len(old):]
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}
