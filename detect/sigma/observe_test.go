package sigma_test

import (
	"testing"

	"github.com/edr-lab/edr/detect/sigma"
	"github.com/edr-lab/edr/event"
	"github.com/stretchr/testify/require"
)

const observeYAML = `title: cmd
id: 00000000-0000-4000-8000-0000000000a1
logsource: {product: windows, category: process_creation}
detection:
    sel:
        Image|endswith: '\cmd.exe'
    condition: sel
---
title: whoami
id: 00000000-0000-4000-8000-0000000000a2
logsource: {product: windows, category: process_creation}
detection:
    sel:
        CommandLine|contains: 'whoami'
    condition: sel
---
title: elevated
id: 00000000-0000-4000-8000-0000000000a3
logsource: {product: windows, category: process_creation}
detection:
    sel:
        IntegrityLevel|exists: true
    condition: sel
---
title: grandparent
id: 00000000-0000-4000-8000-0000000000a4
logsource: {product: windows, category: process_creation}
detection:
    sel:
        GrandParentImage|endswith: '\evil.exe'
    condition: sel
`

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
