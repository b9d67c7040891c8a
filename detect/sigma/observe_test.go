package sigma_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/edr-lab/edr/detect/sigma"
	"github.com/edr-lab/edr/event"
	"github.com/stretchr/testify/require"
)

// observeYAML holds four process_creation rules, one selection each.
var observeYAML = func() string {
	var b strings.Builder
	for i, r := range [][2]string{
		{"cmd", `Image|endswith: '\cmd.exe'`},
		{"whoami", "CommandLine|contains: 'whoami'"},
		{"elevated", "IntegrityLevel|exists: true"},
		{"grandparent", `GrandParentImage|endswith: '\evil.exe'`},
	} {
		fmt.Fprintf(&b, "---\ntitle: %s\nid: 00000000-0000-4000-8000-0000000000a%d\n", r[0], i+1)
		b.WriteString("logsource: {product: windows, category: process_creation}\n")
		fmt.Fprintf(&b, "detection:\n    sel:\n        %s\n    condition: sel\n", r[1])
	}
	return b.String()
}()

// tick is a fake clock: every reading is one nanosecond after the last.
func tick() func() int64 {
	var t int64
	return func() int64 { t++; return t }
}

func statsByTitle(rs *sigma.Ruleset, rc *sigma.RuleCounters) map[string]sigma.RuleStats {
	out := map[string]sigma.RuleStats{}
	for _, r := range rs.Rules() {
		out[r.Title] = rc.Stats(r)
	}
	return out
}

// The observer counts, per rule, what the prefilter selected, what was
// evaluated (and for how long) and what matched; it changes no match.
func TestRuleObserverCounts(t *testing.T) {
	rs := mustLoad(t, observeYAML, sigma.Options{})
	evs := []*event.Event{
		// cmd's needle and elevated (no needle: a candidate on every event)
		procEvent(map[string]string{"Image": `C:\Windows\System32\cmd.exe`, "CommandLine": "cmd /c dir"}),
		// whoami and elevated, both match
		procEvent(map[string]string{"Image": `C:\Windows\System32\whoami.exe`, "CommandLine": "whoami /all", "IntegrityLevel": "High"}),
		// not routed to process_creation rules at all
		{Channel: event.ChannelSecurity, EventID: 4624},
	}
	plain, observed := rs.NewMatcher(), rs.NewMatcher()
	rc := sigma.NewRuleCounters(tick())
	observed.SetObserver(rc)
	for _, ev := range evs {
		require.Equal(t, ids(plain.Match(ev, nil)), ids(observed.Match(ev, nil)))
	}
	// each evaluation reads the fake clock twice: one nanosecond apiece
	require.Equal(t, map[string]sigma.RuleStats{
		"cmd":         {Candidates: 1, Evaluated: 1, Matched: 1, Nanos: 1},
		"whoami":      {Candidates: 1, Evaluated: 1, Matched: 1, Nanos: 1},
		"elevated":    {Candidates: 2, Evaluated: 2, Matched: 1, Nanos: 2},
		"grandparent": {},
	}, statsByTitle(rs, rc))

	// detached, it sees nothing more
	observed.SetObserver(nil)
	observed.Match(evs[1], nil)
	require.Equal(t, sigma.RuleStats{Candidates: 2, Evaluated: 2, Matched: 1, Nanos: 2}, rc.Stats(rs.Rules()[2]))

	// Split evaluation: Pre's Matcher sees the candidates and their
	// evaluations, Finish's the matches and the re-evaluation of the rule
	// over the late GrandParentImage (set after Pre, so never a prefilter
	// candidate); Add sums the two.
	plan := rs.PlanLate([]event.FieldID{event.FGrandParentImage})
	pre, fin := rs.NewMatcher(), rs.NewMatcher()
	preRC, finRC := sigma.NewRuleCounters(nil), sigma.NewRuleCounters(nil)
	pre.SetObserver(preRC)
	fin.SetObserver(finRC)
	ev := procEvent(map[string]string{"Image": `C:\Windows\System32\cmd.exe`, "CommandLine": "cmd /c whoami"})
	var p sigma.Pre
	pre.Pre(plan, ev, &p)
	ev.Set(event.FGrandParentImage, `C:\x\evil.exe`)
	require.Equal(t, "cmd;whoami;grandparent;", titles(fin.Finish(ev, &p, nil)))
	require.Equal(t, map[string]sigma.RuleStats{
		"cmd": {Candidates: 1, Evaluated: 1}, "whoami": {Candidates: 1, Evaluated: 1},
		"elevated": {Candidates: 1, Evaluated: 1}, "grandparent": {},
	}, statsByTitle(rs, preRC), "untimed: no clock")
	require.Equal(t, map[string]sigma.RuleStats{
		"cmd": {Matched: 1}, "whoami": {Matched: 1}, "elevated": {}, "grandparent": {Evaluated: 1, Matched: 1},
	}, statsByTitle(rs, finRC))
	preRC.Add(finRC)
	require.Equal(t, sigma.RuleStats{Evaluated: 1, Matched: 1}, preRC.Stats(rs.Rules()[3]))
	require.Equal(t, sigma.RuleStats{Candidates: 1, Evaluated: 1, Matched: 1}, preRC.Stats(rs.Rules()[0]))
}

func titles(ms []sigma.Match) string {
	var out string
	for _, m := range ms {
		out += m.Rule.Title + ";"
	}
	return out
}

// Without an observer, a Match that matches allocates nothing (the
// observer hook adds no allocation to the hot path).
func TestNoObserverNoAllocs(t *testing.T) {
	rs := mustLoad(t, observeYAML, sigma.Options{})
	m := rs.NewMatcher()
	ev := procEvent(map[string]string{"Image": `C:\Windows\System32\whoami.exe`, "CommandLine": "whoami"})
	out := m.Match(ev, nil)
	require.Zero(t, testing.AllocsPerRun(100, func() { out = m.Match(ev, out[:0]) }))
}

// Finish re-evaluates a rule whose needles lie on late fields (or are
// keywords) only when one of them occurs in a late field now: a late
// GrandParentImage without "mimikatz" or "\evil.exe" evaluates neither the
// keyword rule nor the grandparent rule again, one with them evaluates and
// matches both.
func TestFinishScansLateFields(t *testing.T) {
	yml := observeYAML + "---\ntitle: keyword\nid: 00000000-0000-4000-8000-0000000000b1\n" +
		"logsource: {product: windows}\ndetection:\n    keywords:\n        - 'mimikatz'\n    condition: keywords\n"
	rs := mustLoad(t, yml, sigma.Options{})
	plan := rs.PlanLate([]event.FieldID{event.FGrandParentImage})
	for _, c := range []struct {
		grandparent string
		want        string
		evaluated   uint64
	}{
		{`C:\Windows\explorer.exe`, "cmd;", 0},
		{`C:\x\mimikatz\evil.exe`, "cmd;grandparent;keyword;", 1},
	} {
		pre, fin := rs.NewMatcher(), rs.NewMatcher()
		rc := sigma.NewRuleCounters(nil)
		fin.SetObserver(rc)
		ev := procEvent(map[string]string{"Image": `C:\Windows\System32\cmd.exe`, "CommandLine": "cmd /c dir"})
		var p sigma.Pre
		pre.Pre(plan, ev, &p)
		ev.Set(event.FGrandParentImage, c.grandparent)
		require.Equal(t, c.want, titles(fin.Finish(ev, &p, nil)))
		require.Equal(t, titles(rs.NewMatcher().Match(ev, nil)), c.want, "Finish reports what Match reports")
		st := statsByTitle(rs, rc)
		require.Equal(t, c.evaluated, st["keyword"].Evaluated, c.grandparent)
		require.Equal(t, c.evaluated, st["grandparent"].Evaluated, c.grandparent)
	}
}

// A rule is a prefilter candidate only when each of its required needle
// clauses has a hit: both selections of an and, each matcher of a map
// (clauses beyond the best one need needles of 4 bytes or more); a not
// part requires nothing. Under split matching, a clause on a late field
// that gets its hit only after Pre still makes Finish evaluate the rule.
func TestPrefilterClauses(t *testing.T) {
	yml := ""
	for i, r := range [][2]string{
		{"and", "    img:\n        Image|endswith: '\\foo.exe'\n    cli:\n        CommandLine|contains: 'bars'\n    condition: img and cli"},
		{"map", "    sel:\n        Image|endswith: '\\foo.exe'\n        CommandLine|contains: 'bars'\n    condition: sel"},
		{"not", "    img:\n        Image|endswith: '\\foo.exe'\n    f:\n        CommandLine|contains: 'quxx'\n    condition: img and not f"},
		{"late", "    img:\n        Image|endswith: '\\foo.exe'\n    gp:\n        GrandParentImage|endswith: '\\evil.exe'\n    condition: img and gp"},
	} {
		yml += fmt.Sprintf("---\ntitle: %s\nid: 00000000-0000-4000-8000-0000000000c%d\n", r[0], i+1) +
			"logsource: {product: windows, category: process_creation}\ndetection:\n" + r[1] + "\n"
	}
	rs := mustLoad(t, yml, sigma.Options{})
	for _, c := range []struct {
		cli        string
		candidates map[string]uint64
		want       string
	}{
		{"foo bazz", map[string]uint64{"and": 0, "map": 0, "not": 1, "late": 0}, "not;"},
		{"foo bars", map[string]uint64{"and": 1, "map": 1, "not": 1, "late": 0}, "and;map;not;"},
		{"foo quxx", map[string]uint64{"and": 0, "map": 0, "not": 1, "late": 0}, ""},
	} {
		m := rs.NewMatcher()
		rc := sigma.NewRuleCounters(nil)
		m.SetObserver(rc)
		ev := procEvent(map[string]string{"Image": `C:\x\foo.exe`, "CommandLine": c.cli})
		require.Equal(t, c.want, titles(m.Match(ev, nil)), c.cli)
		st := statsByTitle(rs, rc)
		for title, n := range c.candidates {
			require.Equal(t, n, st[title].Candidates, "%s on %q", title, c.cli)
		}
	}
	plan := rs.PlanLate([]event.FieldID{event.FGrandParentImage})
	pre, fin := rs.NewMatcher(), rs.NewMatcher()
	ev := procEvent(map[string]string{"Image": `C:\x\foo.exe`, "CommandLine": "foo"})
	var p sigma.Pre
	pre.Pre(plan, ev, &p)
	ev.Set(event.FGrandParentImage, `C:\evil.exe`)
	require.Equal(t, "not;late;", titles(fin.Finish(ev, &p, nil)))
	require.Equal(t, "not;late;", titles(rs.NewMatcher().Match(ev, nil)))
}

// stepClock is a fake clock advancing d nanoseconds per reading, and jump more
// on reading number at (1-based; 0: never).
func stepClock(d, at, jump int64) func() int64 {
	var t, n int64
	return func() int64 {
		n++
		t += d
		if n == at {
			t += jump
		}
		return t
	}
}

// Calibration measures what a timed span costs with nothing in it: a clock
// advancing 7 ns per reading yields exactly 7, also when one batch was
// stretched (a preemption: the median of the batches ignores it), and it
// leaves the counters as they were.
func TestRuleCountersCalibrateOverhead(t *testing.T) {
	rs := mustLoad(t, observeYAML, sigma.Options{})
	r := rs.Rules()[0]
	rc := sigma.NewRuleCounters(stepClock(7, 0, 0))
	rc.Evaluated(r, 40)
	require.Equal(t, 7.0, rc.CalibrateOverhead(5, 100))
	require.Equal(t, sigma.RuleStats{Evaluated: 1, Nanos: 40}, rc.Stats(r), "calibration leaves the counters")
	total := sigma.NewRuleCounters(nil)
	total.Add(rc)
	require.Equal(t, sigma.RuleStats{Evaluated: 1, Nanos: 40}, total.Stats(r))

	// Reading 150 (in the second batch of 50 spans, 100 readings each)
	// jumps 1e6 ns ahead.
	require.Equal(t, 7.0, sigma.NewRuleCounters(stepClock(7, 150, 1e6)).CalibrateOverhead(3, 50))
	// Even batch counts take the mean of the middle two.
	require.Equal(t, 7.0, sigma.NewRuleCounters(stepClock(7, 150, 1e6)).CalibrateOverhead(4, 50))
	require.Equal(t, 0.0, sigma.NewRuleCounters(nil).CalibrateOverhead(5, 100), "untimed: no overhead")
}

// The correction takes the calibrated overhead off every evaluation and
// never goes below 0.
func TestRuleStatsCorrectedNanos(t *testing.T) {
	s := sigma.RuleStats{Evaluated: 100, Nanos: 1000}
	require.Equal(t, int64(1000), s.CorrectedNanos(0))
	require.Equal(t, int64(300), s.CorrectedNanos(7))
	require.Equal(t, int64(750), s.CorrectedNanos(2.5))
	require.Equal(t, int64(0), s.CorrectedNanos(10))
	require.Equal(t, int64(0), s.CorrectedNanos(12), "clamped at 0")
	require.Equal(t, int64(0), sigma.RuleStats{}.CorrectedNanos(7))
}
