package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/edr-lab/edr/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// exitFixtures are the inputs of the exit-code table.
type exitFixtures struct {
	dir, rec, corrupt, allBad, loop, badData, artifacts string
	goodJSON, emptyJSON, emptyDir, headerEVTX, junk     string
	goodRules, badRules, sigmaRoot, passRule            string
}

// segments lists the segment files of a recording, in path order (Walk's).
func segments(t *testing.T, rec string) []string {
	t.Helper()
	var segs []string
	require.NoError(t, filepath.Walk(rec, func(p string, info os.FileInfo, err error) error {
		if err == nil && filepath.Ext(p) == ".parquet" {
			segs = append(segs, p)
		}
		return err
	}))
	require.NotEmpty(t, segs)
	return segs
}

func newExitFixtures(t *testing.T) *exitFixtures {
	dir := t.TempDir()
	f := &exitFixtures{dir: dir}
	gen := func(name string) string {
		rec := filepath.Join(dir, name)
		out, code := edr(t, "generate", "--out", rec, "--events", "3000", "--seed", "4", "--scenario-every", "300", "--quiet")
		require.Equal(t, 0, code, out)
		return rec
	}
	f.rec = gen("rec")
	f.artifacts = gen("artifacts")
	// one segment with a bad footer, the others fine
	f.corrupt = gen("corrupt")
	require.NoError(t, os.WriteFile(segments(t, f.corrupt)[0], []byte("PAR1 garbage PAR1"), 0o644))
	// every segment with a bad footer: nothing readable
	f.allBad = gen("allbad")
	for _, s := range segments(t, f.allBad) {
		require.NoError(t, os.WriteFile(s, []byte("PAR1 garbage PAR1"), 0o644))
	}
	// a segment that is a symlink loop
	f.loop = gen("loop")
	loop := filepath.Join(f.loop, "host=zz", "date=2026-01-05", "x.parquet")
	require.NoError(t, os.MkdirAll(filepath.Dir(loop), 0o755))
	require.NoError(t, os.Symlink("x.parquet", loop))
	// a byte flipped in a data page: the footer is fine, the data is not
	f.badData = gen("baddata")
	seg := segments(t, f.badData)[0]
	b, err := os.ReadFile(seg)
	require.NoError(t, err)
	b[len(b)/3] ^= 0xff
	require.NoError(t, os.WriteFile(seg, b, 0o644))

	f.goodJSON = filepath.Join(dir, "good.json")
	writeFile(t, f.goodJSON, `{"Channel":"Microsoft-Windows-Sysmon/Operational","EventID":1,"Computer":"h","TimeCreated":"2026-01-05T08:00:00Z"}`+"\n")
	f.emptyJSON = filepath.Join(dir, "empty.json")
	writeFile(t, f.emptyJSON, "")
	f.emptyDir = filepath.Join(dir, "emptydir")
	require.NoError(t, os.Mkdir(f.emptyDir, 0o755))
	f.junk = filepath.Join(dir, "junk.json")
	writeFile(t, f.junk, "{\"broken\": \n{also broken\n")
	if evtx, err := os.ReadFile(testutil.Corpus(t, "evtx-parser-samples/samples/Security_short_selected.evtx")); err == nil {
		f.headerEVTX = filepath.Join(dir, "header.evtx")
		require.NoError(t, os.WriteFile(f.headerEVTX, evtx[:4096], 0o644))
	}

	f.goodRules = filepath.Join(dir, "rules-good")
	writeFile(t, filepath.Join(f.goodRules, "r.yml"), "title: t\nid: 5f9a1c8e-1111-4a4a-9a9a-000000000001\nlogsource: {product: windows, category: process_creation}\n"+
		"detection: {sel: {Image|endswith: '\\whoami.exe'}, condition: sel}\n")
	f.badRules = filepath.Join(dir, "rules-bad")
	writeFile(t, filepath.Join(f.badRules, "r.yml"), "title: t\nlogsource: {product: windows, category: process_creation}\ndetection: {condition: nosuch}\n")

	// one SigmaHQ rule and its regression test (skipped without the corpus)
	f.sigmaRoot = testutil.Corpus(t, "sigma")
	src := filepath.Join(f.sigmaRoot, "rules-emerging-threats", "2025", "Exploits", "CVE-2025-55182",
		"proc_creation_win_exploit_cve_2025_55182_susp_nodejs_server_child_process.yml")
	rule, err := os.ReadFile(src)
	require.NoError(t, err)
	f.passRule = filepath.Join(dir, "sigma-one")
	writeFile(t, filepath.Join(f.passRule, "rules", "r.yml"), string(rule))
	return f
}

// exitCase is one row of the README's "Exit codes" table: the command, the
// code and a situation that produces it.
type exitCase struct {
	cmd  string
	code int
	why  string
	args []string
	msg  string // in the output
}

func exitCases(f *exitFixtures) []exitCase {
	d := f.dir
	out := func(name string) string { return filepath.Join(d, "out", name) }
	return []exitCase{
		{"generate", 0, "written", []string{"generate", "--out", out("g0"), "--events", "100", "--quiet"}, ""},
		{"generate", 2, "bad flag value", []string{"generate", "--out", out("g2"), "--events", "0"}, "--events must be positive"},
		{"generate", 2, "--out not empty", []string{"generate", "--out", f.rec, "--events", "10"}, "not empty"},
		{"generate", 2, "--out missing", []string{"generate", "--events", "10"}, "--out is required"},
		{"generate", 2, "unknown flag", []string{"generate", "--bogus"}, "bogus"},

		{"import", 0, "imported", []string{"import", "--out", out("i0"), f.goodJSON}, "1 records imported"},
		{"import", 1, "empty JSON file", []string{"import", "--out", out("i1a"), f.emptyJSON}, "nothing readable"},
		{"import", 1, "empty directory", []string{"import", "--out", out("i1b"), f.emptyDir}, "nothing readable"},
		{"import", 1, "EVTX with only a header", []string{"import", "--out", out("i1c"), f.headerEVTX}, "nothing readable"},
		{"import", 1, "every file unreadable", []string{"import", "--out", out("i1d"), f.junk}, "nothing readable"},
		{"import", 2, "no source", []string{"import", "--out", out("i2")}, "no source given"},
		{"import", 2, "bad --format", []string{"import", "--format", "xml", f.goodJSON}, "xml"},
		{"import", 3, "some files failed", []string{"import", "--out", out("i3"), f.goodJSON, f.junk}, "unreadable: "},

		{"inspect", 0, "fine", []string{"inspect", f.rec}, "events"},
		{"inspect", 1, "no such recording", []string{"inspect", filepath.Join(d, "missing")}, "missing"},
		{"inspect", 2, "no argument", []string{"inspect"}, "exactly one"},
		{"inspect", 3, "a corrupt segment", []string{"inspect", f.corrupt}, "corrupt segments"},

		{"bench", 0, "measured", []string{"bench", "--top", "3", f.rec}, "costliest 3 Sigma rules"},
		{"bench", 1, "no such recording", []string{"bench", filepath.Join(d, "missing")}, "missing"},
		{"bench", 2, "bad --max-regression", []string{"bench", "--max-regression", "ten", f.rec}, "--max-regression"},
		// bench 4 (a row slower than --max-regression) is in bench_test.go

		{"replay", 0, "fine", []string{"replay", "--alerts", out("r0.json"), f.rec}, "segments: "},
		{"replay", 0, "one corrupt segment skipped", []string{"replay", "--alerts", out("r0b.json"), f.corrupt}, "1 skipped"},
		{"replay", 1, "no such recording", []string{"replay", filepath.Join(d, "missing")}, "no such file"},
		{"replay", 1, "nothing readable: every segment skipped", []string{"replay", "--alerts", out("r1.json"), f.allBad}, "nothing readable"},
		{"replay", 1, "alerts cannot be written", []string{"replay", "--alerts", "/dev/full", f.rec}, "alert writer: 0 written"},
		{"replay", 2, "no recording", []string{"replay"}, "no recording given"},
		{"replay", 2, "bad --from", []string{"replay", "--from", "yesterday", f.rec}, "--from"},
		{"replay", 3, "--strict, bad footer", []string{"replay", "--strict", "--alerts", out("r3a.json"), f.corrupt}, "corrupt segment"},
		{"replay", 3, "--strict, symlink loop", []string{"replay", "--strict", "--alerts", out("r3b.json"), f.loop}, "x.parquet"},
		{"replay", 3, "--strict, bad data page", []string{"replay", "--strict", "--alerts", out("r3c.json"), f.badData}, "corrupt segment"},
		{"replay", 3, "--strict, a rule does not load", []string{"replay", "--strict", "--sigma", f.goodRules, "--sigma", f.badRules, "--alerts", out("r3d.json"), f.rec}, "did not load"},

		{"rules validate", 0, "all compile", []string{"rules", "validate", f.goodRules}, "0 errors"},
		{"rules validate", 1, "a rule error", []string{"rules", "validate", f.badRules}, "1 errors"},
		{"rules validate", 2, "no such path", []string{"rules", "validate", filepath.Join(d, "missing")}, "missing"},

		{"test", 0, "the regression test passes", []string{"test", "--sigma-regression", f.passRule, "--regression-root", f.sigmaRoot}, "1 passed, 0 failed"},
		{"test", 1, "a regression test fails", []string{"test", "--sigma-regression", f.passRule + "-fail", "--regression-root", f.sigmaRoot}, "0 passed, 1 failed"},
		{"test", 2, "nothing to run", []string{"test"}, "nothing to run"},
		{"test", 2, "no tests in the checkout", []string{"test", "--sigma-regression", f.emptyDir}, "test:"},

		{"recover", 0, "nothing to recover", []string{"recover", f.rec}, "nothing to recover"},
		{"recover", 1, "no such recording", []string{"recover", filepath.Join(d, "missing")}, "missing"},
		{"recover", 2, "no argument", []string{"recover"}, "exactly one"},

		{"scan", 0, "scanned", []string{"scan", "--alerts", out("s0.json"), f.goodRules}, ""},
		{"scan", 2, "no path", []string{"scan"}, "no path given"},
		{"scan", 2, "no such path", []string{"scan", filepath.Join(d, "missing")}, "missing"},

		{"artifacts add", 0, "stored", []string{"artifacts", "add", f.artifacts, f.goodRules}, ""},
		{"artifacts add", 2, "no arguments", []string{"artifacts", "add"}, "artifacts"},

		{"config show", 0, "valid", []string{"config", "show"}, "[scanner]"},
		{"config show", 2, "invalid", []string{"config", "show", "--set", "nosuch.key=1"}, "nosuch.key"},
		{"config example", 0, "always", []string{"config", "example"}, "[scanner]"},
		{"version", 0, "always", []string{"version"}, "schema version"},
		{"(none)", 2, "unknown command", []string{"bogus"}, "bogus"},
	}
}

// TestExitCodes runs every command in a situation for each exit code the
// README's "Exit codes" table lists.
func TestExitCodes(t *testing.T) {
	f := newExitFixtures(t)
	// a copy of the one rule whose detection its sample cannot meet
	rule, err := os.ReadFile(filepath.Join(f.passRule, "rules", "r.yml"))
	require.NoError(t, err)
	fail := neverFires(string(rule))
	require.NotEqual(t, string(rule), fail)
	writeFile(t, filepath.Join(f.passRule+"-fail", "rules", "r.yml"), fail)

	seen := map[string]map[int]bool{}
	for _, c := range exitCases(f) {
		out, code := edr(t, c.args...)
		assert.Equal(t, c.code, code, "%s (%s): %v\n%s", c.cmd, c.why, c.args, out)
		assert.Contains(t, out, c.msg, "%s (%s)", c.cmd, c.why)
		if seen[c.cmd] == nil {
			seen[c.cmd] = map[int]bool{}
		}
		seen[c.cmd][c.code] = true
	}
	// every code of the README table is exercised
	want := map[string][]int{"generate": {0, 2}, "import": {0, 1, 2, 3}, "inspect": {0, 1, 2, 3}, "replay": {0, 1, 2, 3},
		"rules validate": {0, 1, 2}, "test": {0, 1, 2}, "config show": {0, 2}, "config example": {0}, "version": {0},
		"recover": {0, 1, 2}, "scan": {0, 2}, "artifacts add": {0, 2}, "bench": {0, 1, 2}}
	for cmd, codes := range want {
		for _, c := range codes {
			assert.True(t, seen[cmd][c], "%s exit %d not exercised", cmd, c)
		}
	}
}

// generate exits 1 when the recording cannot be written (a full disk).
func TestGenerateFullDiskExits1(t *testing.T) {
	disk := testutil.TinyDisk(t, "256k")
	out, code := edr(t, "generate", "--out", filepath.Join(disk, "rec"), "--events", "200000", "--quiet")
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, "no space left")
}

// One unreadable host directory is skipped, counted and named; --strict
// fails with 3; an unreadable segment file under --strict is 3 as well.
func TestReplayUnreadableHostDirectory(t *testing.T) {
	if !testutil.Unprivileged(t) {
		return
	}
	dir := t.TempDir()
	rec := filepath.Join(dir, "rec")
	out, code := edr(t, "generate", "--out", rec, "--events", "3000", "--seed", "4", "--quiet")
	require.Equal(t, 0, code, out)
	segs := segments(t, rec)
	hostDir := filepath.Dir(filepath.Dir(segs[0]))
	require.NoError(t, os.Chmod(hostDir, 0))
	t.Cleanup(func() { _ = os.Chmod(hostDir, 0o755) })
	out, code = edr(t, "replay", "--alerts", filepath.Join(dir, "a.json"), rec)
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "directories: 1 unreadable")
	assert.Contains(t, out, hostDir)
	out, code = edr(t, "replay", "--strict", "--alerts", filepath.Join(dir, "b.json"), rec)
	assert.Equal(t, 3, code, out)
	assert.Contains(t, out, hostDir)
	assert.NotContains(t, out, "recording "+rec+": recording "+rec)

	require.NoError(t, os.Chmod(hostDir, 0o755))
	require.NoError(t, os.Chmod(segs[len(segs)-1], 0))
	out, code = edr(t, "replay", "--strict", "--alerts", filepath.Join(dir, "c.json"), rec)
	assert.Equal(t, 3, code, out)
	assert.Contains(t, out, "permission denied")
}
