package replay

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/edr-lab/edr/corpus/importer"
	"github.com/edr-lab/edr/corpus/synth"
	"github.com/edr-lab/edr/detect"
	"github.com/edr-lab/edr/detect/ruleset"
	"github.com/edr-lab/edr/detect/sink"
	"github.com/edr-lab/edr/detect/state"
	"github.com/edr-lab/edr/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const splitCorrelations = "testdata/split_correlations.yml"

// singleReplay is `edr replay` of dirs on one machine.
func singleReplay(t *testing.T, rules *ruleset.Set, dirs []string) []byte {
	t.Helper()
	recs, err := Open(dirs, ReadOptions{})
	require.NoError(t, err)
	defer recs.Close()
	var out bytes.Buffer
	w := sink.NewStreamWriter(&out, sink.WriterOptions{})
	_, err = Run(context.Background(), recs.Source(), Options{Rules: rules, Sink: w, MatchDebug: rules.Options().MatchDebug})
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return out.Bytes()
}

// splitReplay is --plan n, every --shard, then --merge.
func splitReplay(t *testing.T, rules *ruleset.Set, dirs []string, n int) ([]byte, *Plan) {
	t.Helper()
	plan, err := MakePlan(dirs, ReadOptions{}, n)
	require.NoError(t, err)
	parts := t.TempDir()
	var partDirs []string
	// Parts run in reverse plan order: their order must not matter.
	for i := len(plan.Shards) - 1; i >= 0; i-- {
		ro, err := ShardRead(plan, i, ReadOptions{})
		require.NoError(t, err)
		recs, err := Open(plan.Recordings, ro)
		require.NoError(t, err)
		start, err := recs.Start()
		require.NoError(t, err)
		require.Empty(t, start.Warnings)
		out := filepath.Join(parts, fmt.Sprint(i))
		_, err = RunShard(context.Background(), recs.Source(), Options{Rules: rules, MatchDebug: rules.Options().MatchDebug, Start: start},
			ShardOptions{Plan: plan, Index: i, Out: out})
		recs.Close()
		require.NoError(t, err)
		partDirs = append(partDirs, out)
	}
	var merged bytes.Buffer
	_, err = Merge(partDirs, rules, rules.Options().MatchDebug, &merged)
	require.NoError(t, err)
	return merged.Bytes(), plan
}

// splitFixture is a generated 8-host recording whose hosts have several
// segments each, so that shards start mid-host from a snapshot.
func splitFixture(t *testing.T, events int64) string {
	dir := filepath.Join(t.TempDir(), "rec")
	generateWithState(t, dir, synth.Options{Seed: 3, Hosts: 8, Events: events, MeanGap: 20 * time.Millisecond, ScenarioEvery: 3000}, time.Minute)
	return dir
}

// assertSplitEqualsSingle checks plan N = 1, 3, 16 → shards → merge
// against the single replay, and that the correlations fired (otherwise
// the merge's half of the test proves nothing).
func assertSplitEqualsSingle(t *testing.T, rules *ruleset.Set, dirs []string, corrFire bool) {
	want := singleReplay(t, rules, dirs)
	require.NotEmpty(t, want)
	for _, title := range []string{"Many processes per user over all hosts", "Few processes per user (window)", "Process then network across hosts"} {
		n := bytes.Count(want, []byte(`"name":"`+title+`"`))
		assert.True(t, n > 0 || !corrFire, "the correlation %q fires in the fixture", title)
		t.Logf("%4d alerts of %s", n, title)
	}
	hosts := map[string]bool{}
	for _, n := range []int{1, 3, 16} {
		got, plan := splitReplay(t, rules, dirs, n)
		t.Logf("plan %d: %d shards", n, len(plan.Shards))
		for _, s := range plan.Shards {
			hosts[s.Host] = true
		}
		if n == 16 && corrFire {
			assert.Greater(t, len(plan.Shards), len(hosts), "some host is split into several shards")
		}
		if !bytes.Equal(want, got) {
			diffFirst(t, want, got)
			t.Fatalf("plan %d (%d shards): merged alerts differ from the single replay", n, len(plan.Shards))
		}
	}
}

func TestSplitReplayEqualsSingleReplay(t *testing.T) {
	if testing.Short() {
		t.Skip("generates a recording")
	}
	rules, err := ruleset.Load(ruleset.Options{SigmaPaths: []string{splitCorrelations, "../rules/sigma"}, MatchDebug: detect.MatchDebugSummary})
	require.NoError(t, err)
	require.Empty(t, rules.Errors)
	defer rules.Close()
	assertSplitEqualsSingle(t, rules, []string{splitFixture(t, 24000)}, true)
}

// sigmaHQ loads the full SigmaHQ rule set and the split correlations.
func sigmaHQ(t *testing.T) *ruleset.Set {
	root := testutil.SharedDir()
	if root == "" || testing.Short() {
		t.Skip("SigmaHQ rules absent (set EDR_SHARED) or -short")
	}
	paths := []string{splitCorrelations}
	for _, d := range []string{"rules", "rules-emerging-threats", "rules-threat-hunting"} {
		paths = append(paths, filepath.Join(root, "corpus", "sigma", d))
	}
	rules, err := ruleset.Load(ruleset.Options{SigmaPaths: paths})
	require.NoError(t, err)
	t.Cleanup(rules.Close)
	return rules
}

func TestSplitReplayEqualsSingleReplaySigmaHQ(t *testing.T) {
	rules := sigmaHQ(t)
	assertSplitEqualsSingle(t, rules, []string{splitFixture(t, 16000)}, true)
}

func TestMergeRefusesIncompleteOrForeignParts(t *testing.T) {
	rules, err := ruleset.Load(ruleset.Options{SigmaPaths: []string{splitCorrelations}})
	require.NoError(t, err)
	defer rules.Close()
	dir := splitFixture(t, 3000)
	plan, err := MakePlan([]string{dir}, ReadOptions{}, 3)
	require.NoError(t, err)
	require.Greater(t, len(plan.Shards), 1)
	parts := t.TempDir()
	var partDirs []string
	for i := range plan.Shards {
		ro, _ := ShardRead(plan, i, ReadOptions{})
		recs, err := Open(plan.Recordings, ro)
		require.NoError(t, err)
		start, err := recs.Start()
		require.NoError(t, err)
		out := filepath.Join(parts, fmt.Sprint(i))
		_, err = RunShard(context.Background(), recs.Source(), Options{Rules: rules, Start: start}, ShardOptions{Plan: plan, Index: i, Out: out})
		recs.Close()
		require.NoError(t, err)
		partDirs = append(partDirs, out)
	}
	var buf bytes.Buffer
	_, err = Merge(partDirs[1:], rules, 0, &buf)
	require.ErrorContains(t, err, "the part of shard 0")
	_, err = Merge(append(partDirs, partDirs[0]), rules, 0, &buf)
	require.ErrorContains(t, err, "given twice")
	other, err := ruleset.Load(ruleset.Options{SigmaPaths: []string{"../rules/sigma"}})
	require.NoError(t, err)
	defer other.Close()
	_, err = Merge(partDirs, other, 0, &buf)
	require.ErrorContains(t, err, "other Sigma rules")
	_, err = ShardRead(plan, len(plan.Shards), ReadOptions{})
	require.ErrorContains(t, err, "shards")
}

func TestPlanIsDeterministicAndBalanced(t *testing.T) {
	dir := splitFixture(t, 6000)
	a, err := MakePlan([]string{dir}, ReadOptions{}, 16)
	require.NoError(t, err)
	b, err := MakePlan([]string{dir}, ReadOptions{}, 16)
	require.NoError(t, err)
	require.Equal(t, a, b)
	var total int64
	last := map[string]int64{}
	for _, s := range a.Shards {
		total += s.Events
		require.NotEmpty(t, s.Segments)
		if to, ok := last[s.Host]; ok {
			require.Equal(t, to, s.From, "a host's shards are consecutive")
		} else {
			require.Zero(t, s.From, "a host's first shard is open to the left")
		}
		last[s.Host] = s.To
	}
	for h, to := range last {
		require.Zero(t, to, "host %s: the last shard is open to the right", h)
	}
	require.EqualValues(t, 6000, total)
	_, err = MakePlan([]string{dir}, ReadOptions{}, 0)
	require.Error(t, err)
}

// TestSplitReplayEqualsSingleReplayEVTX: the same for EVTX attack samples
// imported as edr import does (a state snapshot per segment; files of
// different days give a host several segments).
func TestSplitReplayEqualsSingleReplayEVTX(t *testing.T) {
	rules := sigmaHQ(t)
	src := filepath.Join(testutil.SharedDir(), "corpus", "evtx-attack-samples", "Lateral Movement")
	if _, err := os.Stat(src); err != nil {
		t.Skipf("EVTX corpus absent: %v", err)
	}
	rec := filepath.Join(t.TempDir(), "rec")
	o := importer.Options{Out: rec, Producer: "split test", State: state.NewTracker(state.Options{}, state.SnapshotLimits{})}
	_, err := importer.Run(context.Background(), []string{src}, o)
	require.NoError(t, err)
	assertSplitEqualsSingle(t, rules, []string{rec}, false)
}
