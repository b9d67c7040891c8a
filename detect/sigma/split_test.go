package sigma_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/edr-lab/edr/detect/sigma"
	"github.com/edr-lab/edr/event"
	"github.com/stretchr/testify/require"
)

// Rules over a late field (set between Pre and Finish) and keyword rules
// (which read every field) are deferred to Finish; the others are decided
// by Pre; Finish reports them all in Match's order, correlations included.
const splitYAML = `title: late
id: 00000000-0000-4000-8000-00000000000a
logsource: {product: windows, category: process_creation}
detection:
    sel:
        GrandParentImage|endswith: '\evil.exe'
    condition: sel
---
title: early
id: 00000000-0000-4000-8000-00000000000b
name: early
logsource: {product: windows, category: process_creation}
detection:
    sel:
        Image|endswith: '\cmd.exe'
    condition: sel
---
title: keyword
id: 00000000-0000-4000-8000-00000000000c
logsource: {product: windows, category: process_creation}
detection:
    keywords:
        - 'evil.exe'
    condition: keywords
---
title: twice
id: 00000000-0000-4000-8000-00000000000d
correlation:
    type: event_count
    rules: [early]
    group-by: [ParentImage]
    timespan: 1m
    condition: {gte: 2}
`

// splitMatch runs ev through Pre, then sets the late fields, then Finish,
// and removes them again.
func splitMatch(s *sigma.LatePlan, fin, w *sigma.Matcher, ev *event.Event, late map[event.FieldID]string) []sigma.Match {
	var p sigma.Pre
	w.Pre(s, ev, &p)
	for id, v := range late {
		ev.Set(id, v)
	}
	out := fin.Finish(ev, &p, nil)
	for id := range late {
		ev.Del(id)
	}
	return out
}

func matchDesc(ms []sigma.Match) string {
	var b strings.Builder
	for _, m := range ms {
		fmt.Fprintf(&b, "%s corr=%v group=%q count=%d;", m.Rule.Title, m.Correlation, m.Group, m.Count)
		for _, f := range m.Fields {
			fmt.Fprintf(&b, " %+v", f)
		}
	}
	return b.String()
}

func TestSplitDefersLateFields(t *testing.T) {
	rs := mustLoad(t, splitYAML, sigma.Options{})
	late := map[event.FieldID]string{event.FGrandParentImage: `C:\x\evil.exe`}
	s, fin := rs.PlanLate([]event.FieldID{event.FGrandParentImage}), rs.NewMatcher()
	require.Equal(t, 2, s.Deferred(), "the late rule and the keyword rule")
	w := rs.NewMatcher()
	ref := rs.NewMatcher()
	for i := 0; i < 2; i++ {
		ev := procEvent(map[string]string{"Image": `C:\Windows\System32\cmd.exe`, "ParentImage": `C:\p.exe`})
		ev.Time = int64(i) * 1e9
		got := splitMatch(s, fin, w, ev, late)
		for id, v := range late {
			ev.Set(id, v)
		}
		want := ref.Match(ev, nil)
		require.Equal(t, matchDesc(want), matchDesc(got))
		// early is referenced by a correlation, so not reported alone; the
		// correlation fires where early matched, before keyword
		titles := "late corr=false group=\"\" count=0;keyword corr=false group=\"\" count=0;"
		if i == 1 {
			titles = "late corr=false group=\"\" count=0;twice corr=true group=\"C:\\\\p.exe\" count=2;keyword corr=false group=\"\" count=0;"
		}
		require.Equal(t, titles, matchDesc(got))
	}

	// Without GrandParentImage declared late, Pre's verdicts stand, taken
	// on the event as recorded: the late and keyword rules are missed.
	s = rs.PlanLate(nil)
	require.Equal(t, 1, s.Deferred(), "only the keyword rule")
	ev := procEvent(map[string]string{"Image": `C:\Windows\System32\cmd.exe`})
	require.Empty(t, matchDesc(splitMatch(s, rs.NewMatcher(), rs.NewMatcher(), ev, late)))
}

// Over SigmaHQ's rules, the regression events and the generated mix, with
// the enrichment fields the engine fills set between Pre and Finish, split
// matching reports exactly what Match reports (correlation state and match
// details included), also with the audit views of Security events on.
func TestSplitEqualsMatchOnSigmaHQ(t *testing.T) {
	t.Run("sysmon", func(t *testing.T) { splitEqualsMatch(t, sigma.Options{Debug: true}) })
	t.Run("audit views", func(t *testing.T) { splitEqualsMatch(t, sigma.Options{Debug: true, SecurityAudit: true}) })
}

func splitEqualsMatch(t *testing.T, opts sigma.Options) {
	rs := loadFullSigmaHQ(t, opts)
	late := []event.FieldID{event.FGrandParentImage, event.MustField("SourceCommandLine"), event.MustField("TargetParentImage")}
	s, fin := rs.PlanLate(late), rs.NewMatcher()
	require.Positive(t, s.Deferred())
	w := rs.NewMatcher()
	ref := rs.NewMatcher()
	evs := append(regressionEvents(t), synthEvents(20_000)...)
	// Two process starts that SigmaHQ rules detect only through the late
	// GrandParentImage (Pikabot discovery, RedSun conhost chain).
	pikabot := procEvent(map[string]string{"Image": `C:\Windows\System32\whoami.exe`, "CommandLine": "whoami.exe /all",
		"ParentImage": `C:\Windows\System32\cmd.exe`, "User": `CORP\bob`})
	redsun := procEvent(map[string]string{"Image": `C:\Windows\System32\cmd.exe`, "CommandLine": "cmd.exe",
		"ParentImage": `C:\Windows\System32\conhost.exe`, "User": `NT AUTHORITY\SYSTEM`})
	crafted := map[*event.Event]string{pikabot: `C:\Windows\System32\rundll32.exe`, redsun: `C:\Program Files\x\TieringEngineService.exe`}
	evs = append(evs, pikabot, redsun)
	matched, viaLate := 0, 0
	for i, ev := range evs {
		// late values that SigmaHQ rules look for, from the event itself
		vals := map[event.FieldID]string{}
		switch {
		case crafted[ev] != "":
			vals[late[0]] = crafted[ev]
		case ev.Channel == event.ChannelSysmon && ev.EventID == 1:
			vals[late[0]] = ev.Value(event.FParentImage)
		case ev.Channel == event.ChannelSysmon && ev.EventID == 10:
			vals[late[1]] = ev.Value(event.FCommandLine) + ` C:\Windows\Temp\x.exe -enc`
			vals[late[2]] = `C:\Windows\System32\services.exe`
		}
		got := splitMatch(s, fin, w, ev, vals)
		for id, v := range vals {
			ev.Set(id, v)
		}
		want := ref.Match(ev, nil)
		for id := range vals {
			ev.Del(id)
		}
		require.Equal(t, matchDesc(want), matchDesc(got), "event %d (%s/%d)", i, ev.Channel, ev.EventID)
		if len(want) > 0 {
			matched++
		}
		if ev == pikabot && strings.Contains(matchDesc(want), "Potential Pikabot Discovery Activity") ||
			ev == redsun && strings.Contains(matchDesc(want), "RedSun - Conhost.exe Spawned by TieringEngineService.exe") {
			viaLate++
		}
	}
	require.Equal(t, 2, viaLate, "both crafted events match through GrandParentImage")
	require.Equal(t, matchDesc(ref.Flush(nil)), matchDesc(fin.Flush(nil)))
	t.Logf("%d events, %d with matches, %d deferred entries", len(evs), matched, s.Deferred())
	require.Positive(t, matched)
}
