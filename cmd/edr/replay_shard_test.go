package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// splitRules are the rules of the split replay tests: correlations that
// group across hosts and the shipped rules.
var splitRules = []string{"--sigma", "../../replay/testdata/split_correlations.yml", "--sigma", "../../rules/sigma"}

// splitFixture generates an 8-host recording in dir whose hosts have
// several segments and returns it with the alerts of `edr replay` of it.
func splitFixture(t *testing.T, dir, events string) (string, []byte) {
	t.Helper()
	rec := filepath.Join(dir, "rec")
	o, code := edr(t, "generate", "--out", rec, "--events", events, "--hosts", "8", "--mean-gap", "20ms",
		"--scenario-every", "2000", "--set", "recording.max_segment_age=1m", "--quiet")
	require.Equal(t, 0, code, o)
	single := filepath.Join(dir, "single.ndjson")
	o, code = edr(t, append(append([]string{"replay", "--quiet", "--alerts", single}, splitRules...), rec)...)
	require.Equal(t, 0, code, o)
	want, err := os.ReadFile(single)
	require.NoError(t, err)
	require.NotEmpty(t, want)
	return rec, want
}

// TestReplayPlanShardMergeCommands drives the shard contract through the
// CLI: plan → every shard → merge equals `edr replay`, byte for byte.
func TestReplayPlanShardMergeCommands(t *testing.T) {
	dir := t.TempDir()
	rec, want := splitFixture(t, dir, "6000")

	planOut, code := edr(t, "replay", "--plan", "12", rec)
	require.Equal(t, 0, code, planOut)
	plan := filepath.Join(dir, "plan.json")
	require.NoError(t, os.WriteFile(plan, []byte(planOut), 0o644))
	var p struct{ Shards []json.RawMessage }
	require.NoError(t, json.Unmarshal([]byte(planOut), &p))
	require.GreaterOrEqual(t, len(p.Shards), 8)
	merge := []string{"replay", "--merge", "--alerts", filepath.Join(dir, "merged.ndjson")}
	merge = append(merge, splitRules...)
	for i := range p.Shards {
		part := filepath.Join(dir, "parts", fmt.Sprint(i))
		o, code := edr(t, append([]string{"replay", "--shard", fmt.Sprintf("%s:%d", plan, i), "--out", part}, splitRules...)...)
		require.Equal(t, 0, code, o)
		assert.Contains(t, o, fmt.Sprintf("shard %d of %d", i, len(p.Shards)))
		merge = append(merge, part)
	}
	o, code := edr(t, merge...)
	require.Equal(t, 0, code, o)
	assert.Contains(t, o, "merge: ")
	got, err := os.ReadFile(filepath.Join(dir, "merged.ndjson"))
	require.NoError(t, err)
	require.True(t, bytes.Equal(want, got), "merged alerts differ from edr replay")

	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"replay", "--shard", plan + ":0"}, 2, "--out PART_DIR is required"},
		{[]string{"replay", "--shard", plan, "--out", dir}, 2, "want PLAN.json:INDEX"},
		{[]string{"replay", "--shard", plan + ":999", "--out", dir}, 2, "the plan has"},
		{[]string{"replay", "--shard", plan + ":0", "--out", dir, rec}, 2, "the plan names the recordings"},
		{[]string{"replay", "--merge"}, 2, "no part directory given"},
		{[]string{"replay", "--merge", dir}, 1, "unfinished or not a part directory"},
		{[]string{"replay", "--plan", "0", rec}, 1, "at least one shard"},
	} {
		o, code := edr(t, c.args...)
		assert.Equal(t, c.code, code, "%v: %s", c.args, o)
		assert.Contains(t, o, c.msg, "%v", c.args)
	}
}
