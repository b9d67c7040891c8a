package main

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// What edr prints for humans carries no raw control bytes from untrusted
// data (host names, rule files) and no megabyte lines.
func TestHumanOutputIsTerminalSafe(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "evil.json")
	writeFile(t, src, `{"Channel":"Microsoft-Windows-Sysmon/Operational","EventID":1,"Computer":"ws\u001b]0;owned\u0007","TimeCreated":"2026-01-05T08:00:00Z"}`+"\n")
	rec := filepath.Join(dir, "rec")
	out, code := edr(t, "import", "--out", rec, src)
	require.Equal(t, 0, code, out)

	out, code = edr(t, "inspect", rec)
	require.Equal(t, 0, code, out)
	assert.NotContains(t, out, "\x1b")
	assert.NotContains(t, out, "\x07")
	assert.Contains(t, out, `ws\x1b]0;owned\x07`)

	rules := filepath.Join(dir, "rules")
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

// An error message is printed with its control bytes escaped, line by line.
func TestErrorTextEscapes(t *testing.T) {
	assert.Equal(t, "edr: bad \\x1b[2J\nsecond \\x07", errorText(errors.New("bad \x1b[2J\nsecond \a")))
	assert.Equal(t, "", errorText(&exitError{code: 3, err: errors.New("")}))
}
