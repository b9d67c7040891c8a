package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/urfave/cli/v2"
)

// The README's own --set examples: values with commas stay whole.
var commaSets = []string{
	"--set", `allowlist.paths=["C:\\A\\","D:\\B\\"]`,
	"--set", "logging.filter=warn,recording=debug",
}

func TestSetKeepsValuesWithCommasWhole(t *testing.T) {
	out, code := edr(t, append([]string{"config", "show"}, commaSets...)...)
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, `paths = ["C:\\A\\", "D:\\B\\"]  # flag --set allowlist.paths`)
	assert.Contains(t, out, `filter = "warn,recording=debug"  # flag --set logging.filter`)
}

// Every command that takes --set parses it the same way: the comma values
// load, and the next (unknown) key is the first error, named as given.
func TestEveryCommandWithSetKeepsCommas(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src.json")
	writeFile(t, src, `{"Channel":"Microsoft-Windows-Sysmon/Operational","EventID":1,"Computer":"h","TimeCreated":"2026-01-05T08:00:00Z"}`+"\n")
	// command words, then flags, then arguments (flags after an argument are arguments)
	type run struct{ cmd, flags, args []string }
	runs := map[string]run{
		"config show":    {cmd: []string{"config", "show"}},
		"generate":       {cmd: []string{"generate"}, flags: []string{"--out", filepath.Join(dir, "gen"), "--events", "10"}},
		"import":         {cmd: []string{"import"}, flags: []string{"--out", filepath.Join(dir, "imp")}, args: []string{src}},
		"replay":         {cmd: []string{"replay"}, args: []string{filepath.Join(dir, "gen")}},
		"rules validate": {cmd: []string{"rules", "validate"}, args: []string{dir}},
		"test":           {cmd: []string{"test"}, flags: []string{"--sigma-regression", dir}},
		"recover":        {cmd: []string{"recover"}, args: []string{dir}},
		"scan":           {cmd: []string{"scan"}, args: []string{dir}},
		"renormalize":    {cmd: []string{"renormalize"}, flags: []string{"--out", filepath.Join(dir, "ren")}, args: []string{dir}},
		"bench":          {cmd: []string{"bench"}, flags: []string{"--events", "100"}},
		"live":           {cmd: []string{"live"}, flags: []string{"--source", "synthetic", "--for", "1s", "--record", filepath.Join(dir, "live")}},
	}
	seen := map[string]bool{}
	for _, cmd := range newApp().Commands {
		for _, c := range append([]*cli.Command{cmd}, cmd.Subcommands...) {
			for _, f := range c.Flags {
				if f.Names()[0] == "set" {
					name := c.Name
					if c != cmd {
						name = cmd.Name + " " + c.Name
					}
					seen[name] = true
				}
			}
		}
	}
	for name := range seen {
		require.Contains(t, runs, name, "a command with --set that this test does not run")
	}
	for name, r := range runs {
		require.True(t, seen[name], name)
		args := append(append(append(append(r.cmd, r.flags...), commaSets...), "--set", "nosuch.key=1"), r.args...)
		out, code := edr(t, args...)
		assert.Equal(t, 2, code, "%s: %s", name, out)
		assert.Contains(t, out, "nosuch.key", name)
		assert.NotContains(t, out, "recording=debug", name)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
}
