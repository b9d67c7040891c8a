package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/edr-lab/edr/detect/ruleset"
	"github.com/edr-lab/edr/detect/sigma"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const smallEvents = 6000

var (
	smallOnce   sync.Once
	smallReport *Report
	smallErr    error
)

// small runs the bench once per test binary over a small generated input
// with the shipped Sigma rules. No test looks at its timings: only at what
// is counted (events, alerts, evaluations) and at the report's shape.
func small(t *testing.T) *Report {
	t.Helper()
	smallOnce.Do(func() {
		smallReport, smallErr = Run(context.Background(), Options{
			Rules:  ruleset.Options{SigmaPaths: []string{filepath.Join("..", "rules", "sigma")}},
			Events: smallEvents, Seed: 3, Top: 3, Version: "test",
		})
	})
	require.NoError(t, smallErr)
	return smallReport
}

func TestReportCounts(t *testing.T) {
	r := small(t)
	assert.Equal(t, uint64(smallEvents), r.Events)
	assert.True(t, r.Input.Generated)
	assert.Equal(t, int64(3), r.Input.Seed)
	assert.Positive(t, r.RuleSets.Sigma)
	names := []string{}
	for _, s := range r.Stages {
		names = append(names, s.Name)
	}
	assert.Equal(t, []string{"decode", "prematch", "engine", "encode", "sink", "enrich"}, names)
	// Every event passed decode, the enricher (the shipped rules read
	// enrichment fields) and the engine; encode and sink saw every alert.
	assert.Equal(t, uint64(smallEvents), r.Stages[0].Items)
	assert.Equal(t, uint64(smallEvents), r.Stages[2].Items)
	assert.Equal(t, uint64(smallEvents), r.Stages[5].Items)
	assert.Equal(t, r.Alerts, r.Stages[3].Items)
	assert.Equal(t, r.Alerts, r.Stages[4].Items)
	require.Len(t, r.Ceilings, 2)
	assert.Equal(t, "decode only", r.Ceilings[0].Name)
	assert.Equal(t, "decode + state", r.Ceilings[1].Name)
	for _, c := range r.Ceilings {
		assert.Equal(t, uint64(smallEvents), c.Items, c.Name)
		require.NotNil(t, c.AllocsPerEvent, c.Name)
	}
	require.NotNil(t, r.Stages[0].AllocsPerEvent, "decode's allocations come from its ceiling")
	assert.Equal(t, *r.Ceilings[0].AllocsPerEvent, *r.Stages[0].AllocsPerEvent)
	assert.Nil(t, r.Stages[2].AllocsPerEvent, "the engine's allocations are not separable")
	assert.Positive(t, r.Allocs.Total)
	assert.Positive(t, r.PeakRSSBytes)
	// The per-rule pass: the 3 costliest of the shipped rules, costliest
	// first, each evaluated at least as often as it matched. (Four of the
	// shipped rules are ever prefilter candidates on this input since the
	// prefilter requires every clause, so 3 also checks the cut to --top.)
	require.Len(t, r.Rules, 3)
	for i, rc := range r.Rules {
		assert.NotEmpty(t, rc.ID)
		assert.NotEmpty(t, rc.Title)
		assert.Positive(t, rc.Evaluations, rc.Title)
		assert.GreaterOrEqual(t, rc.Evaluations, rc.Matches, rc.Title)
		if i > 0 {
			assert.GreaterOrEqual(t, r.Rules[i-1].Ns, rc.Ns, "sorted by cost")
		}
		assert.LessOrEqual(t, rc.Ns, rc.NsRaw, "the clock's overhead taken off")
	}
	assert.Equal(t, "test", r.Build.Version)
	assert.Positive(t, r.Machine.Cores)
}

// TestReportJSONSchema checks the fields issue 12 asks of --json, by name,
// in the JSON itself.
func TestReportJSONSchema(t *testing.T) {
	r := small(t)
	var buf bytes.Buffer
	require.NoError(t, r.WriteJSON(&buf))
	var m map[string]any
	require.NoError(t, json.Unmarshal(buf.Bytes(), &m))
	for _, k := range []string{"events", "seconds", "events_per_second", "stages", "rules", "rule_clock_overhead_ns", "peak_rss_bytes", "build", "machine", "ceilings"} {
		assert.Contains(t, m, k)
	}
	assert.EqualValues(t, smallEvents, m["events"])
	stages := m["stages"].([]any)
	require.Len(t, stages, 6)
	for _, s := range stages {
		for _, k := range []string{"name", "events_per_second", "ns_per_event", "allocs_per_event", "cpu_share"} {
			assert.Contains(t, s, k)
		}
	}
	for _, k := range []string{"version", "go_version", "settings"} {
		assert.Contains(t, m["build"], k)
	}
	for _, k := range []string{"cores", "cpu_model"} {
		assert.Contains(t, m["machine"], k)
	}
	require.IsType(t, []any{}, m["rules"])
	assert.NotEmpty(t, m["rules"])
	for _, rc := range m["rules"].([]any) {
		for _, k := range []string{"id", "title", "ns", "ns_raw", "evaluations", "matches"} {
			assert.Contains(t, rc, k)
		}
	}
}

func TestReadReportRoundTrip(t *testing.T) {
	r := small(t)
	p := filepath.Join(t.TempDir(), "r.json")
	var buf bytes.Buffer
	require.NoError(t, r.WriteJSON(&buf))
	require.NoError(t, os.WriteFile(p, buf.Bytes(), 0o644))
	back, err := ReadReport(p)
	require.NoError(t, err)
	assert.Equal(t, r, back)

	bad := filepath.Join(t.TempDir(), "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte(`{"alerts": 3}`), 0o644))
	_, err = ReadReport(bad)
	require.ErrorContains(t, err, bad)
	require.NoError(t, os.WriteFile(bad, []byte(`{"events": `), 0o644))
	_, err = ReadReport(bad)
	require.ErrorContains(t, err, bad)
}

// scaled is r with every time multiplied by k (a run k times slower).
func scaled(r *Report, k float64) *Report {
	s := *r
	s.EventsPerSecond /= k
	s.Stages = append([]Stage(nil), r.Stages...)
	for i := range s.Stages {
		s.Stages[i].NsPerEvent *= k
	}
	s.Ceilings = append([]Stage(nil), r.Ceilings...)
	for i := range s.Ceilings {
		s.Ceilings[i].NsPerEvent *= k
	}
	return &s
}

func TestCompareRatios(t *testing.T) {
	base := &Report{EventsPerSecond: 1e6, Stages: []Stage{{Name: "decode", NsPerEvent: 200}, {Name: "engine", NsPerEvent: 400},
		{Name: "encode", NsPerEvent: 0}}, Ceilings: []Stage{{Name: "decode only", NsPerEvent: 250}}}
	cur := &Report{EventsPerSecond: 8e5, Stages: []Stage{{Name: "decode", NsPerEvent: 100}, {Name: "engine", NsPerEvent: 460},
		{Name: "encode", NsPerEvent: 3}, {Name: "new", NsPerEvent: 5}}, Ceilings: []Stage{{Name: "decode only", NsPerEvent: 250}}}
	c := Compare(base, cur, "base.json", 0.10)
	got := map[string]Ratio{}
	for _, row := range c.Rows {
		got[row.Name] = row
	}
	assert.InDelta(t, 1.25, got["total"].Ratio, 1e-9) // 1000 ns → 1250 ns per event
	assert.True(t, got["total"].Regressed)
	assert.InDelta(t, 0.5, got["decode"].Ratio, 1e-9)
	assert.False(t, got["decode"].Regressed)
	assert.InDelta(t, 1.15, got["engine"].Ratio, 1e-9)
	assert.True(t, got["engine"].Regressed)
	assert.Zero(t, got["encode"].Ratio, "no ratio against a zero baseline")
	assert.False(t, got["encode"].Regressed)
	assert.Zero(t, got["new"].Ratio, "a stage the baseline lacks has no ratio")
	assert.InDelta(t, 1.0, got["ceiling decode only"].Ratio, 1e-9)
	assert.Equal(t, []string{"total", "engine"}, c.Regressed)

	// The same rows at a looser gate: 15 % is not more than 20 %.
	c = Compare(base, cur, "base.json", 0.20)
	assert.Equal(t, []string{"total"}, c.Regressed)
}

// TestRegressionGate runs the gate on a real report against synthetic
// copies of it: itself and a faster run pass, a 50 % slower run fails on
// every timed row.
func TestRegressionGate(t *testing.T) {
	r := small(t)
	assert.Empty(t, Compare(r, r, "self", 0.10).Regressed)
	assert.Empty(t, Compare(r, scaled(r, 0.8), "slower baseline", 0.10).Regressed)
	c := Compare(r, scaled(r, 1.5), "faster baseline", 0.10)
	require.NotEmpty(t, c.Regressed)
	assert.Equal(t, "total", c.Regressed[0])
	for _, row := range c.Rows {
		if row.BaseNs > 0 {
			assert.InDelta(t, 1.5, row.Ratio, 1e-9, row.Name)
			assert.True(t, row.Regressed, row.Name)
		}
	}
	var buf bytes.Buffer
	c.Write(&buf)
	assert.Contains(t, buf.String(), "REGRESSED")
}

func TestWriteText(t *testing.T) {
	r := small(t)
	var buf bytes.Buffer
	r.WriteText(&buf)
	overhead := fmt.Sprintf("less the clock's own %.1f ns per evaluation", r.RuleClockOverheadNs)
	for _, want := range []string{"6000 events", "decode only", "decode + state", "prematch", "engine", "peak RSS", "seed 3", overhead, "ns raw"} {
		assert.Contains(t, buf.String(), want)
	}
}

// TestTopZeroSkipsRulePass: --top 0 lists no rules and runs no per-rule
// pass (it used to fall back to 10 and spend a second run on it).
func TestTopZeroSkipsRulePass(t *testing.T) {
	r, err := Run(context.Background(), Options{
		Rules:  ruleset.Options{SigmaPaths: []string{filepath.Join("..", "rules", "sigma")}},
		Events: 1000, Seed: 3, Top: 0, Version: "test",
	})
	require.NoError(t, err)
	assert.Empty(t, r.Rules)
	assert.Zero(t, r.RulesPassSec)
	assert.Equal(t, uint64(1000), r.Events)
}

// The per-rule pass's clock is calibrated through the same path it times:
// a fake clock advancing 23 ns per reading costs exactly 23 ns a span.
func TestClockOverheadFakeClock(t *testing.T) {
	var now int64
	assert.Equal(t, 23.0, clockOverhead(func() int64 { now += 23; return now }))
}

// ruleCosts take the calibrated overhead off every evaluation (never below
// 0), keep the raw sum, and rank by what is left: a rule evaluated often
// and cheaply no longer outranks one evaluated rarely and dearly.
func TestRuleCostsCorrectOverhead(t *testing.T) {
	often := &sigma.Rule{ID: "often", Title: "often and cheap"}
	rare := &sigma.Rule{ID: "rare", Title: "rare and dear"}
	tiny := &sigma.Rule{Name: "tiny", Title: "below the overhead"}
	idle := &sigma.Rule{ID: "idle", Title: "never a candidate"}
	c := sigma.NewRuleCounters(nil)
	for range 1000 { // 19 ns each, 4 of them the rule's own
		c.Candidate(often)
		c.Evaluated(often, 19)
	}
	for range 10 { // 485 ns each
		c.Candidate(rare)
		c.Evaluated(rare, 485)
		c.Matched(rare)
	}
	for range 100 { // 10 ns each: less than the overhead
		c.Evaluated(tiny, 10)
	}
	got := ruleCosts([]*sigma.Rule{often, rare, tiny, idle}, c, 15, 10, 1000)
	assert.Equal(t, []RuleCost{
		{ID: "rare", Title: "rare and dear", Ns: 4700, NsRaw: 4850, NsPerEvent: 4.7, Evaluations: 10, Candidates: 10, Matches: 10},
		{ID: "often", Title: "often and cheap", Ns: 4000, NsRaw: 19000, NsPerEvent: 4, Evaluations: 1000, Candidates: 1000},
		{ID: "tiny", Title: "below the overhead", Ns: 0, NsRaw: 1000, Evaluations: 100},
	}, got)
	// Without the overhead, the raw figures rank as they were measured.
	raw := ruleCosts([]*sigma.Rule{often, rare, tiny, idle}, c, 0, 2, 1000)
	require.Len(t, raw, 2)
	assert.Equal(t, "often", raw[0].ID)
	assert.Equal(t, int64(19000), raw[0].Ns)
}
