package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edr-lab/edr/detect/state"
	"github.com/edr-lab/edr/recording"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// auditRecording imports a whoami run seen twice: by Sysmon (EID 1) and by
// Security auditing (4688).
func auditRecording(t *testing.T, dir string) string {
	src := filepath.Join(dir, "events.json")
	lines := []string{
		`{"@timestamp":"2024-03-01T10:00:00.000Z","event_id":1,"log_name":"Microsoft-Windows-Sysmon/Operational","source_name":"Microsoft-Windows-Sysmon",` +
			`"computer_name":"WS1","record_number":"1","event_data":{"ProcessGuid":"{11111111-0000-0000-0000-000000000001}","ProcessId":"100",` +
			`"Image":"C:\\Windows\\System32\\whoami.exe","CommandLine":"whoami /all","User":"CORP\\bob"}}`,
		`{"@timestamp":"2024-03-01T10:00:01.000Z","event_id":4688,"log_name":"Security","source_name":"Microsoft-Windows-Security-Auditing",` +
			`"computer_name":"WS1","record_number":"2","event_data":{"NewProcessId":"0x1a2c","NewProcessName":"C:\\Windows\\System32\\whoami.exe",` +
			`"CommandLine":"whoami /all","ProcessId":"0x4","SubjectUserName":"bob","SubjectDomainName":"CORP"}}`,
	}
	require.NoError(t, os.WriteFile(src, []byte(strings.Join(lines, "\n")+"\n"), 0o644))
	rec := filepath.Join(dir, "rec")
	out, code := edr(t, "import", "--no-progress", "--out", rec, src)
	require.Equal(t, 0, code, out)
	return rec
}

const placeholderRule = `title: Placeholder Tool
id: 0b7c3f0e-1d2a-4c55-9e8f-000000000001
status: test
description: a tool listed in the Tools placeholder
author: test
logsource:
    category: process_creation
    product: windows
detection:
    sel:
        Image|expand: '%Tools%'
    condition: sel
level: high
`

// TestSigmaConfigKeysReachReplay: scanner.sigma_placeholders_path and
// scanner.sigma_security_audit change what replay detects, from the file,
// the environment and --set, in that rising precedence.
func TestSigmaConfigKeysReachReplay(t *testing.T) {
	dir := t.TempDir()
	rec := auditRecording(t, dir)
	rules := filepath.Join(dir, "rules")
	require.NoError(t, os.MkdirAll(rules, 0o755))
	whoami, err := os.ReadFile(filepath.Join("..", "..", "rules", "sigma", "example_whoami.yml"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(rules, "whoami.yml"), whoami, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(rules, "placeholder.yml"), []byte(placeholderRule), 0o644))
	ph := filepath.Join(dir, "placeholders.yml")
	require.NoError(t, os.WriteFile(ph, []byte("Tools: ['*\\whoami.exe', '*\\net.exe']\n"), 0o644))
	cfg := filepath.Join(dir, "edr.toml")
	require.NoError(t, os.WriteFile(cfg, []byte("[scanner]\nsigma_placeholders_path = \""+filepath.ToSlash(ph)+"\"\n"), 0o644))

	alerts := func(args ...string) (int, string) {
		t.Helper()
		a := filepath.Join(dir, "alerts.json")
		out, code := edr(t, append(append([]string{"replay", "--alerts", a, "--sigma", rules}, args...), rec)...)
		require.Equal(t, 0, code, out)
		data, err := os.ReadFile(a)
		require.NoError(t, err)
		return strings.Count(string(data), "\n"), out
	}
	n, out := alerts()
	assert.Equal(t, 1, n, "defaults: whoami on Sysmon only; the placeholder rule does not load")
	assert.Contains(t, out, "rules: 1 did not load")
	assert.Contains(t, out, "placeholder %Tools% is not defined")

	n, out = alerts("--config", cfg)
	assert.Equal(t, 2, n, "file: placeholders loaded, both rules on Sysmon 1")
	assert.NotContains(t, out, "did not load")

	t.Setenv("EDR__SCANNER__SIGMA_SECURITY_AUDIT", "true")
	n, _ = alerts("--config", cfg)
	assert.Equal(t, 4, n, "env: both rules also on Security 4688")

	n, _ = alerts("--config", cfg, "--set", "scanner.sigma_security_audit=false")
	assert.Equal(t, 2, n, "--set beats the environment")

	out, code := edr(t, "replay", "--set", "scanner.sigma_placeholders_path="+filepath.Join(dir, "none.yml"), rec)
	assert.Equal(t, 2, code, out)
	assert.Contains(t, out, "scanner.sigma_placeholders_path (flag --set scanner.sigma_placeholders_path)")

	// edr test and edr rules validate read the same keys.
	out, code = edr(t, "test", "--set", "scanner.sigma_placeholders_path="+filepath.Join(dir, "none.yml"), "--sigma-regression", dir)
	assert.Equal(t, 2, code, out)
	assert.Contains(t, out, "scanner.sigma_placeholders_path")
	out, code = edr(t, "rules", "validate", "--json", rules)
	assert.Contains(t, out, "placeholder %Tools% is not defined")
	assert.NotEqual(t, 0, code)
	out, code = edr(t, "rules", "validate", "--json", "--config", cfg, rules)
	assert.Equal(t, 0, code, out)
	assert.NotContains(t, out, "not defined")
	out, code = edr(t, "rules", "validate", "--json", "--placeholders", ph, rules)
	assert.Equal(t, 0, code, out)
}

func TestReplayMatchDebugPrecedence(t *testing.T) {
	dir := t.TempDir()
	rec := auditRecording(t, dir)
	a := filepath.Join(dir, "a.json")
	run := func(args ...string) string {
		t.Helper()
		out, code := edr(t, append(append([]string{"replay", "--alerts", a}, args...), rec)...)
		require.Equal(t, 0, code, out)
		data, err := os.ReadFile(a)
		require.NoError(t, err)
		return string(data)
	}
	assert.NotContains(t, run(), `"match":`, "default off")
	t.Setenv("EDR__ALERTS__MATCH_DEBUG", "summary")
	assert.Contains(t, run(), `"match":`, "env")
	assert.NotContains(t, run("--set", "alerts.match_debug=off"), `"match":`, "--set beats env")
	assert.Contains(t, run("--set", "alerts.match_debug=off", "--match-debug", "full"), `"value":`, "the command's flag beats --set")
}

// TestImportTakesRecordingConfig: import writes with the [recording] keys.
func TestImportTakesRecordingConfig(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "events.json")
	var lines []string
	for i, ts := range []string{"2024-03-01T10:00:00Z", "2024-03-01T10:20:00Z", "2024-03-01T10:40:00Z"} {
		lines = append(lines, `{"@timestamp":"`+ts+`","event_id":1,"log_name":"Microsoft-Windows-Sysmon/Operational","computer_name":"WS1","record_number":"`+
			string(rune('1'+i))+`","event_data":{"Image":"C:\\x.exe","ProcessGuid":"{0000000`+string(rune('1'+i))+`-0000-0000-0000-000000000000}","ProcessId":"4`+string(rune('1'+i))+`"}}`)
	}
	require.NoError(t, os.WriteFile(src, []byte(strings.Join(lines, "\n")+"\n"), 0o644))
	segments := func(rec string) int {
		var n int
		require.NoError(t, filepath.Walk(rec, func(p string, info os.FileInfo, err error) error {
			if err == nil && filepath.Ext(p) == ".parquet" {
				n++
			}
			return err
		}))
		return n
	}
	out, code := edr(t, "import", "--no-progress", "--out", filepath.Join(dir, "a"), src)
	require.Equal(t, 0, code, out)
	assert.Equal(t, 1, segments(filepath.Join(dir, "a")), "import's own default: day-long segments")
	t.Setenv("EDR__RECORDING__MAX_SEGMENT_AGE", "30m")
	out, code = edr(t, "import", "--no-progress", "--out", filepath.Join(dir, "b"), src)
	require.Equal(t, 0, code, out)
	assert.Equal(t, 2, segments(filepath.Join(dir, "b")), "env")
	out, code = edr(t, "import", "--no-progress", "--out", filepath.Join(dir, "c"), "--set", "recording.max_segment_age=15m", src)
	require.Equal(t, 0, code, out)
	assert.Equal(t, 3, segments(filepath.Join(dir, "c")), "--set beats env")
	// Each segment starts with the processes the import has seen.
	var procs []int
	require.NoError(t, filepath.Walk(filepath.Join(dir, "c"), func(p string, info os.FileInfo, err error) error {
		if err != nil || filepath.Ext(p) != ".parquet" {
			return err
		}
		m, err := recording.ReadSegmentMeta(p)
		require.NoError(t, err)
		s, err := state.DecodeSnapshot(m.State)
		require.NoError(t, err)
		procs = append(procs, len(s.Processes))
		return nil
	}))
	assert.Equal(t, []int{0, 1, 2}, procs)
	_, code = edr(t, "import", "--out", filepath.Join(dir, "d"), "--set", "recording.nosuch=1", src)
	assert.Equal(t, 2, code)
}
