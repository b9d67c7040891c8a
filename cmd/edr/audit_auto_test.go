package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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


// TestSecurityAuditAutoReplay: with the default "auto", a host's 4688 gets
// the process_creation rules only when the host has no Sysmon process
// creations in the replayed segments; "true" and "false" keep their meaning.
func TestSecurityAuditAutoReplay(t *testing.T) {
	dir := t.TempDir()
	rec := mixedAuditRecording(t, dir)
	rules := filepath.Join(dir, "rules")
	require.NoError(t, os.MkdirAll(rules, 0o755))
	whoami, err := os.ReadFile(filepath.Join("..", "..", "rules", "sigma", "example_whoami.yml"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(rules, "whoami.yml"), whoami, 0o644))

	// alerts returns "host.name event.code" of each alert, sorted (ECS
	// lower-cases host names)
	alerts := func(args ...string) []string {
		t.Helper()
		a := filepath.Join(dir, "alerts.json")
		out, code := edr(t, append(append([]string{"replay", "--alerts", a, "--sigma", rules}, args...), rec)...)
		require.Equal(t, 0, code, out)
		data, err := os.ReadFile(a)
		require.NoError(t, err)
		var got []string
		for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
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
