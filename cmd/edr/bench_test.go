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
// a million times slower the gate passes, against one a million times
// faster it exits 4.
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

	// The gate's arithmetic is tested on synthetic reports in bench; here
	// only the command's wiring is, against baselines a million times
	// slower (passes) and a million times faster (exit 4) than this run in
	// every row, stages and ceilings alike, so no machine load can flip
	// either verdict.
	base := filepath.Join(dir, "base.json")
	writeBaseline := func(factor float64) {
		b := r
		b.EventsPerSecond /= factor
		b.Stages = scaleStages(r.Stages, factor)
		b.Ceilings = scaleStages(r.Ceilings, factor)
		data, err := json.Marshal(b)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(base, data, 0o644))
	}
	writeBaseline(1e6)
	out, code = edr(t, "bench", "--events", "3000", "--seed", "2", "--sigma", sigma, "--baseline", base)
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "against "+base)
	assert.NotContains(t, out, "REGRESSED")

	writeBaseline(1e-6)
	out, code = edr(t, "bench", "--events", "3000", "--seed", "2", "--sigma", sigma, "--baseline", base)
	assert.Equal(t, 4, code, out)
	assert.Contains(t, out, "REGRESSED")
	assert.Contains(t, out, "slower than")
}

// scaleStages returns stages as if each took factor times as long.
func scaleStages(stages []bench.Stage, factor float64) []bench.Stage {
	out := append([]bench.Stage(nil), stages...)
	for i := range out {
		out[i].NsPerEvent *= factor
		out[i].EventsPerSecond /= factor
	}
	return out
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

// TestGeneratedIOCs: edr generate --ioc-out writes the lists alone (no
// --out needed); edr bench --iocs loads as many generated indicators and
// refuses --ioc beside it.
func TestGeneratedIOCs(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "ioc")
	out, code := edr(t, "generate", "--ioc-out", dir, "--iocs", "500", "--seed", "7")
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "500 IOCs in")
	for _, f := range []string{"hashes.txt", "ips.txt", "domains.txt", "paths_regex.txt"} {
		st, err := os.Stat(filepath.Join(dir, f))
		require.NoError(t, err)
		assert.Positive(t, st.Size(), f)
	}

	sigma := filepath.Join("..", "..", "rules", "sigma")
	out, code = edr(t, "bench", "--events", "2000", "--seed", "7", "--sigma", sigma, "--iocs", "500", "--json")
	require.Equal(t, 0, code, out)
	var r bench.Report
	require.NoError(t, json.NewDecoder(bytes.NewReader([]byte(out[bytes.IndexByte([]byte(out), '{'):]))).Decode(&r))
	assert.Equal(t, 500, r.RuleSets.Indicators)
	assert.True(t, r.RuleSets.GeneratedIOCs)

	out, code = edr(t, "bench", "--events", "2000", "--sigma", sigma, "--iocs", "5", "--ioc", dir)
	assert.Equal(t, 2, code, out)
	assert.Contains(t, out, "do not give --ioc too")
}
