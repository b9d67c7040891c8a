package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hostileHost is an event whose Computer sets the terminal's title (OSC 0)
// and rings the bell.
const hostileHost = `{"Channel":"Microsoft-Windows-Sysmon/Operational","EventID":1,"Computer":"ws\u001b]0;owned\u0007","TimeCreated":"2026-01-05T08:00:00Z"}` + "\n"

// What edr prints for humans carries no raw control bytes from untrusted
// data (host names, rule files) and no megabyte lines.
func TestHumanOutputIsTerminalSafe(t *testing.T) {
	dir := t.TempDir()
	src, rec, rules := filepath.Join(dir, "evil.json"), filepath.Join(dir, "rec"), filepath.Join(dir, "rules")
	writeFile(t, src, hostileHost)
	out, code := edr(t, "import", "--out", rec, src)
	require.Equal(t, 0, code, out)

	out, code = edr(t, "inspect", rec)
	require.Equal(t, 0, code, out)
	assert.NotContains(t, out, "\x1b")
	assert.NotContains(t, out, "\x07")
	assert.Contains(t, out, `ws\x1b]0;owned\x07`)

	writeFile(t, filepath.Join(rules, "r.yml"), "title: \"evil \\e[2J\\a "+strings.Repeat("T", 1<<20)+"\"\n"+
		"logsource: {product: windows, category: process_creation}\ndetection: {condition: \"nosuch \\e[31m\"}\n")
	out, code = edr(t, "rules", "validate", rules)
	assert.Equal(t, 1, code, out)
	assert.NotContains(t, out, "\x1b")
	assert.Contains(t, out, "bytes)")
	for _, l := range strings.Split(out, "\n") {
		assert.Less(t, len(l), 5000)
	}
	out, code = edr(t, "replay", "--sigma", rules, rec)
	assert.Equal(t, 1, code, out)
	assert.NotContains(t, out, "\x1b")
	for _, l := range strings.Split(out, "\n") {
		assert.Less(t, len(l), 5000)
	}
}
