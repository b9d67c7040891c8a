package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// splitRules are the rules of the split replay tests: correlations that
// group across hosts and the shipped rules.
var splitRules = []string{"--sigma", "../../replay/testdata/split_correlations.yml", "--sigma", "../../rules/sigma"}

// splitReplay runs rec as a split replay (--plan n, every shard, --merge)
// with the rule flags rules, in dir, and returns the merged alerts and the
// plan file.
func splitReplay(t *testing.T, dir, rec string, n int, rules []string) ([]byte, string) {
	t.Helper()
	planOut, code := edr(t, "replay", "--plan", fmt.Sprint(n), rec)
	require.Equal(t, 0, code, planOut)
	plan := filepath.Join(dir, "plan.json")
	require.NoError(t, os.WriteFile(plan, []byte(planOut), 0o644))
	var p struct{ Shards []json.RawMessage }
	require.NoError(t, json.Unmarshal([]byte(planOut), &p))
	merged := filepath.Join(dir, "merged.ndjson")
	merge := append([]string{"replay", "--merge", "--alerts", merged}, rules...)
	for i := range p.Shards {
		part := filepath.Join(dir, "parts", fmt.Sprint(i))
		o, code := edr(t, append([]string{"replay", "--shard", fmt.Sprintf("%s:%d", plan, i), "--out", part}, rules...)...)
		require.Equal(t, 0, code, o)
		assert.Contains(t, o, fmt.Sprintf("shard %d of %d", i, len(p.Shards)))
		merge = append(merge, part)
	}
	o, code := edr(t, merge...)
	require.Equal(t, 0, code, o)
	assert.Contains(t, o, "merge: ")
	got, err := os.ReadFile(merged)
	require.NoError(t, err)
	return got, plan
}

// TestSplitReplayKeepsAuditCover: scanner.sigma_security_audit = "auto"
// routes a host's 4688 by the Sysmon events of the whole replayed range,
// so a shard holding only the host's later segment (no Sysmon 1 in it)
// must not run process_creation rules on its 4688 when a single replay
// does not.
func TestSplitReplayKeepsAuditCover(t *testing.T) {
	dir := t.TempDir()
	ev := func(host, rec, ts, channel, source string, id int, data string) string {
		return `{"@timestamp":"` + ts + `","event_id":` + fmt.Sprint(id) + `,"log_name":"` + channel + `","source_name":"` + source + `",` +
			`"computer_name":"` + host + `","record_number":"` + rec + `","event_data":{` + data + `}}`
	}
	sysmon1 := `"ProcessGuid":"{11111111-0000-0000-0000-000000000001}","ProcessId":"100","Image":"C:\\Windows\\System32\\whoami.exe","CommandLine":"whoami /all","User":"CORP\\bob"`
	sec4688 := `"NewProcessId":"0x1a2c","NewProcessName":"C:\\Windows\\System32\\whoami.exe","CommandLine":"whoami /all","ProcessId":"0x4","SubjectUserName":"bob","SubjectDomainName":"CORP"`
	lines := []string{
		// WS4: Sysmon 1 on the first day, a 4688 on the next (another segment)
		ev("WS4", "1", "2024-03-01T10:00:00Z", "Microsoft-Windows-Sysmon/Operational", "Microsoft-Windows-Sysmon", 1, sysmon1),
		ev("WS4", "2", "2024-03-02T10:00:00Z", "Security", "Microsoft-Windows-Security-Auditing", 4688, sec4688),
		// SRV2: Security only, its 4688 gets the rules
		ev("SRV2", "3", "2024-03-02T11:00:00Z", "Security", "Microsoft-Windows-Security-Auditing", 4688, sec4688),
	}
	src := filepath.Join(dir, "events.json")
	require.NoError(t, os.WriteFile(src, []byte(strings.Join(lines, "\n")+"\n"), 0o644))
	rec := filepath.Join(dir, "rec")
	out, code := edr(t, "import", "--no-progress", "--out", rec, src)
	require.Equal(t, 0, code, out)
	rules := []string{"--sigma", whoamiRules(t, dir)}

	single := filepath.Join(dir, "single.ndjson")
	out, code = edr(t, append(append([]string{"replay", "--quiet", "--alerts", single}, rules...), rec)...)
	require.Equal(t, 0, code, out)
	want, err := os.ReadFile(single)
	require.NoError(t, err)
	require.Equal(t, 2, bytes.Count(want, []byte("\n")), "WS4's Sysmon 1 and SRV2's 4688: %s", want)

	got, plan := splitReplay(t, dir, rec, 16, rules)
	p, err := os.ReadFile(plan)
	require.NoError(t, err)
	require.GreaterOrEqual(t, bytes.Count(p, []byte(`"host": "WS4"`))+bytes.Count(p, []byte(`"host":"WS4"`)), 2,
		"WS4's two segments are two shards: %s", p)
	assert.Equal(t, string(want), string(got))
}

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

	got, plan := splitReplay(t, dir, rec, 12, splitRules)
	require.True(t, bytes.Equal(want, got), "merged alerts differ from edr replay")
	data, err := os.ReadFile(plan)
	require.NoError(t, err)
	var p struct{ Shards []json.RawMessage }
	require.NoError(t, json.Unmarshal(data, &p))
	require.GreaterOrEqual(t, len(p.Shards), 8)

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
		{[]string{"replay", "--merge", "--format", "csv", dir}, 2, "not supported"},
		{[]string{"replay", "--merge", "--min-level", "high", dir}, 2, "not supported"},
		{[]string{"replay", "--merge", dir}, 1, "unfinished or not a part directory"},
		{[]string{"replay", "--plan", "0", rec}, 1, "at least one shard"},
	} {
		o, code := edr(t, c.args...)
		assert.Equal(t, c.code, code, "%v: %s", c.args, o)
		assert.Contains(t, o, c.msg, "%v", c.args)
	}
}
