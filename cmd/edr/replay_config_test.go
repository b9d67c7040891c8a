package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
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
	rules := whoamiRules(t, dir)
	require.NoError(t, os.WriteFile(filepath.Join(rules, "placeholder.yml"), []byte(placeholderRule), 0o644))
	ph := filepath.Join(dir, "placeholders.yml")
	require.NoError(t, os.WriteFile(ph, []byte("Tools: ['*\\whoami.exe', '*\\net.exe']\n"), 0o644))
	cfg := filepath.Join(dir, "edr.toml")
	require.NoError(t, os.WriteFile(cfg, []byte("[scanner]\nsigma_placeholders_path = \""+filepath.ToSlash(ph)+"\"\n"), 0o644))

	alerts := func(args ...string) (int, string) {
		t.Helper()
		data, out := replayAlerts(t, dir, rules, rec, args...)
		return strings.Count(data, "\n"), out
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

// mixedAuditRecording holds three hosts that run whoami at 10:00:01:
// WS1 is seen by Sysmon (EID 1) and by Security 4688; SRV2 by Security only;
// WS3 by Security only for processes but has Sysmon network events (EID 3).
func mixedAuditRecording(t *testing.T, dir string) string {
	sysmon := func(host, rec, ts string, id int, data string) string {
		return `{"@timestamp":"2024-03-01T` + ts + `Z","event_id":` + itoa(id) + `,"log_name":"Microsoft-Windows-Sysmon/Operational","source_name":"Microsoft-Windows-Sysmon",` +
			`"computer_name":"` + host + `","record_number":"` + rec + `","event_data":{` + data + `}}`
	}
	sec4688 := func(host, rec string) string {
		return `{"@timestamp":"2024-03-01T10:00:01.000Z","event_id":4688,"log_name":"Security","source_name":"Microsoft-Windows-Security-Auditing",` +
			`"computer_name":"` + host + `","record_number":"` + rec + `","event_data":{"NewProcessId":"0x1a2c","NewProcessName":"C:\\Windows\\System32\\whoami.exe",` +
			`"CommandLine":"whoami /all","ProcessId":"0x4","SubjectUserName":"bob","SubjectDomainName":"CORP"}}`
	}
	lines := []string{
		sysmon("WS1", "1", "10:00:00.000", 1, `"ProcessGuid":"{11111111-0000-0000-0000-000000000001}","ProcessId":"100",`+
			`"Image":"C:\\Windows\\System32\\whoami.exe","CommandLine":"whoami /all","User":"CORP\\bob"`),
		sec4688("WS1", "2"),
		sec4688("SRV2", "3"),
		sysmon("WS3", "4", "10:00:00.000", 3, `"ProcessId":"100","Image":"C:\\x.exe","DestinationIp":"10.0.0.1","DestinationPort":"443"`),
		sec4688("WS3", "5"),
	}
	src := filepath.Join(dir, "events.json")
	require.NoError(t, os.WriteFile(src, []byte(strings.Join(lines, "\n")+"\n"), 0o644))
	rec := filepath.Join(dir, "rec")
	out, code := edr(t, "import", "--no-progress", "--out", rec, src)
	require.Equal(t, 0, code, out)
	return rec
}

// whoamiRules makes dir/rules holding the shipped whoami rule (Sysmon
// process_creation) and returns it.
func whoamiRules(t *testing.T, dir string) string {
	rules := filepath.Join(dir, "rules")
	require.NoError(t, os.MkdirAll(rules, 0o755))
	whoami, err := os.ReadFile(filepath.Join("..", "..", "rules", "sigma", "example_whoami.yml"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(rules, "whoami.yml"), whoami, 0o644))
	return rules
}

// replayAlerts replays rec with the Sigma rules in rules (and args) into
// dir/alerts.json and returns the alerts and the command's output.
func replayAlerts(t *testing.T, dir, rules, rec string, args ...string) (alerts, out string) {
	t.Helper()
	a := filepath.Join(dir, "alerts.json")
	out, code := edr(t, append(append([]string{"replay", "--alerts", a, "--sigma", rules}, args...), rec)...)
	require.Equal(t, 0, code, out)
	data, err := os.ReadFile(a)
	require.NoError(t, err)
	return string(data), out
}

// TestSecurityAuditAutoReplay: with the default "auto", a host's 4688 gets
// the process_creation rules only when the host has no Sysmon process
// creations in the replayed segments; "true" and "false" keep their meaning.
func TestSecurityAuditAutoReplay(t *testing.T) {
	dir := t.TempDir()
	rec := mixedAuditRecording(t, dir)
	rules := whoamiRules(t, dir)

	// alerts returns "host.name event.code" of each alert, sorted (ECS
	// lower-cases host names)
	alerts := func(args ...string) []string {
		t.Helper()
		data, _ := replayAlerts(t, dir, rules, rec, args...)
		var got []string
		for _, l := range strings.Split(strings.TrimSpace(data), "\n") {
			if l == "" {
				continue
			}
			var doc struct {
				Host  struct{ Name string } `json:"host"`
				Event struct {
					Code string `json:"code"`
				} `json:"event"`
			}
			require.NoError(t, json.Unmarshal([]byte(l), &doc), l)
			got = append(got, doc.Host.Name+" "+doc.Event.Code)
		}
		sort.Strings(got)
		return got
	}
	assert.Equal(t, []string{"srv2 4688", "ws1 1", "ws3 4688"}, alerts(),
		"auto (default): WS1 once, through Sysmon; SRV2 and WS3 (no Sysmon 1) through 4688")
	assert.Equal(t, []string{"srv2 4688", "ws1 1", "ws1 4688", "ws3 4688"}, alerts("--set", "scanner.sigma_security_audit=true"))
	assert.Equal(t, []string{"ws1 1"}, alerts("--set", "scanner.sigma_security_audit=false"))
	// the cover is decided per segment: WS1's segment overlaps the range, so
	// its Sysmon 1 counts although the event itself is before --from
	assert.Equal(t, []string{"srv2 4688", "ws3 4688"}, alerts("--from", "2024-03-01T10:00:00.500Z"))
}
