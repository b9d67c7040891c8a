package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/edr-lab/edr/bench"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBenchCommand runs edr bench on a small generated input: --json,
// --html and --profile write their files; against a synthetic baseline
// twice as fast the gate passes at 900 %, against one a thousand times as
// fast it exits 4. No timing is asserted beyond those margins.
func TestBenchCommand(t *testing.T) {
	dir := t.TempDir()
	sigma := filepath.Join("..", "..", "rules", "sigma")
	page, prof := filepath.Join(dir, "b.html"), filepath.Join(dir, "prof")
	out, code := edr(t, "bench", "--events", "3000", "--seed", "2", "--sigma", sigma, "--json", "--html", page, "--profile", prof)
	require.Equal(t, 0, code, out)
	start := bytes.IndexByte([]byte(out), '{')
	require.GreaterOrEqual(t, start, 0, out)
	var r bench.Report
	require.NoError(t, json.NewDecoder(bytes.NewReader([]byte(out[start:]))).Decode(&r))
	assert.Equal(t, uint64(3000), r.Events)
	for _, f := range []string{page, filepath.Join(prof, "cpu.pprof"), filepath.Join(prof, "heap.pprof")} {
		st, err := os.Stat(f)
		require.NoError(t, err)
		assert.Positive(t, st.Size(), f)
	}

	// A baseline where every stage took half the time: about ×2, within a
	// 900 % allowance (wide, so the machine's load cannot fail it).
	fast := r
	fast.EventsPerSecond *= 2
	fast.Stages = append([]bench.Stage(nil), r.Stages...)
	for i := range fast.Stages {
		fast.Stages[i].NsPerEvent /= 2
	}
	base := filepath.Join(dir, "fast.json")
	data, err := json.Marshal(fast)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(base, data, 0o644))
	out, code = edr(t, "bench", "--events", "3000", "--seed", "2", "--sigma", sigma, "--baseline", base, "--max-regression", "900%")
	require.Equal(t, 0, code, "a 10× allowance passes whatever the load: %s", out)
	assert.Contains(t, out, "against "+base)

	// The same baseline with every row a thousand times faster fails.
	for i := range fast.Stages {
		fast.Stages[i].NsPerEvent /= 1000
	}
	fast.EventsPerSecond *= 1000
	data, err = json.Marshal(fast)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(base, data, 0o644))
	out, code = edr(t, "bench", "--events", "3000", "--seed", "2", "--sigma", sigma, "--baseline", base)
	assert.Equal(t, 4, code, out)
	assert.Contains(t, out, "REGRESSED")
	assert.Contains(t, out, "slower than")
}

func TestBenchUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"bench", "--max-regression", "ten"},
		{"bench", "--max-regression", "-5%"},
		{"bench", "--events", "0"},
		{"bench", "--top", "-1"},
		{"bench", "--baseline", filepath.Join(t.TempDir(), "missing.json")},
	} {
		out, code := edr(t, args...)
		assert.Equal(t, 2, code, "%v: %s", args, out)
	}
}

func TestParsePercent(t *testing.T) {
	for in, want := range map[string]float64{"10%": 0.10, "2.5 %": 0.025, "0.1": 0.1, "0": 0} {
		got, err := parsePercent(in)
		require.NoError(t, err, in)
		assert.InDelta(t, want, got, 1e-12, in)
	}
}
