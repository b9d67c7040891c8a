package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/edr-lab/edr/recording"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// edr runs the CLI in-process and returns stdout and the exit code main
// would use.
func edr(t *testing.T, args ...string) (string, int) {
	t.Helper()
	var out bytes.Buffer
	app := newApp()
	app.Writer = &out
	app.ErrWriter = &out
	err := runApp(app, append([]string{"edr"}, args...))
	code := 0
	if err != nil {
		code = exitCode(err)
		if msg := errorText(err); msg != "" {
			out.WriteString(msg + "\n")
		}
	}
	return out.String(), code
}

// files maps every file of a recording (relative path) to its content.
func files(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		out[rel] = b
		return err
	}))
	return out
}

func TestGenerateDeterministicAndInspect(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	out, code := edr(t, "generate", "--out", a, "--events", "30000", "--seed", "3", "--hosts", "2", "--start", "2025-06-01 12:00:00")
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "generated 30000 events on 2 hosts")
	out, code = edr(t, "generate", "--out", b, "--events", "30000", "--seed", "3", "--hosts", "2", "--start", "2025-06-01T12:00:00Z", "--quiet")
	require.Equal(t, 0, code, out)
	assert.Empty(t, out)
	fa, fb := files(t, a), files(t, b)
	require.NotEmpty(t, fa)
	assert.Equal(t, fa, fb, "same options, same recording bytes")

	out, code = edr(t, "inspect", "--json", a)
	require.Equal(t, 0, code, out)
	var s map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &s))
	for _, k := range []string{"events", "segments", "bytes", "hosts", "first", "last", "by_channel", "by_event_id"} {
		assert.Contains(t, s, k)
	}
	assert.EqualValues(t, 30000, s["events"])
	assert.Len(t, s["hosts"], 2)
	assert.True(t, strings.HasPrefix(s["first"].(string), "2025-06-01T12:00:00"), s["first"])
	byChannel := s["by_channel"].(map[string]any)
	assert.Greater(t, byChannel["Microsoft-Windows-Sysmon/Operational"].(float64), 25000.0)

	// The text summary agrees with recording.Inspect.
	sum, err := recording.Inspect(a)
	require.NoError(t, err)
	out, code = edr(t, "inspect", a)
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "30000 in ")
	for _, h := range sum.Hosts {
		assert.Contains(t, out, h)
	}
	assert.Contains(t, out, "Microsoft-Windows-Sysmon/Operational")

	// A different seed writes different bytes.
	c := filepath.Join(dir, "c")
	_, code = edr(t, "generate", "--out", c, "--events", "30000", "--seed", "4", "--hosts", "2", "--quiet")
	require.Equal(t, 0, code)
	assert.NotEqual(t, fa, files(t, c))
}

func TestGenerateUsageErrors(t *testing.T) {
	dir := t.TempDir()
	full := filepath.Join(dir, "full")
	require.NoError(t, os.MkdirAll(full, 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(full, "x"), nil, 0o644))
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"generate", "--out", full, "--events", "10"}, "exists and is not empty"},
		{[]string{"generate", "--out", filepath.Join(dir, "n"), "--events", "0"}, "--events must be positive"},
		{[]string{"generate", "--out", filepath.Join(dir, "n"), "--start", "yesterday"}, "--start"},
		{[]string{"generate", "--out", filepath.Join(dir, "n"), "--set", "recording.flush_interval=fast"}, "recording.flush_interval"},
	} {
		out, code := edr(t, c.args...)
		assert.Equal(t, 2, code, out)
		assert.Contains(t, out, c.want)
	}
	out, code := edr(t, "inspect", filepath.Join(dir, "missing"))
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "missing")
	_, code = edr(t, "inspect")
	assert.Equal(t, 2, code)
}

func TestInspectNamesCorruptSegments(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rec")
	_, code := edr(t, "generate", "--out", dir, "--events", "5000", "--hosts", "2", "--quiet")
	require.Equal(t, 0, code)
	var segs []string
	for p := range files(t, dir) {
		if strings.HasSuffix(p, ".parquet") {
			segs = append(segs, p)
		}
	}
	sort.Strings(segs)
	require.NotEmpty(t, segs)
	bad := filepath.Join(dir, segs[0])
	require.NoError(t, os.Truncate(bad, 100))
	out, code := edr(t, "inspect", dir)
	assert.Equal(t, 3, code, out)
	assert.Contains(t, out, filepath.Base(bad))
}

func TestConfigShow(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "c.toml")
	require.NoError(t, os.WriteFile(cfgFile, []byte("[logging]\nlevel = \"warn\"\n"), 0o644))
	t.Setenv("EDR__ALERTS__MATCH_DEBUG", "summary")
	out, code := edr(t, "config", "show", "--config", cfgFile, "--set", "ioc.enabled=false")
	require.Equal(t, 0, code, out)
	assert.Regexp(t, `level = "warn"\s+# file `+regexpQuote(cfgFile)+`:2`, out)
	assert.Regexp(t, `match_debug = "summary"\s+# env EDR__ALERTS__MATCH_DEBUG`, out)
	assert.Regexp(t, `enabled = false\s+# flag --set ioc.enabled`, out)
	assert.Regexp(t, `hash_allowlist_paths = \[.*\]\s+# inherited allowlist.paths`, out)

	out, code = edr(t, "config", "show", "--json", "--config", cfgFile)
	require.Equal(t, 0, code, out)
	var m map[string]map[string]map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &m))
	assert.Equal(t, "warn", m["logging"]["level"]["value"])
	assert.Equal(t, "file", m["logging"]["level"]["source"])

	require.NoError(t, os.WriteFile(cfgFile, []byte("[logging]\nlevle = \"warn\"\n"), 0o644))
	out, code = edr(t, "config", "show", "--config", cfgFile)
	assert.Equal(t, 2, code)
	assert.Contains(t, out, cfgFile+":2: unknown key logging.levle")

	out, code = edr(t, "config", "example")
	require.Equal(t, 0, code)
	shipped, err := os.ReadFile(filepath.Join("..", "..", "config.toml"))
	require.NoError(t, err)
	assert.Equal(t, string(shipped), out)
}

func regexpQuote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `.`, `\.`, `+`, `\+`, `(`, `\(`, `)`, `\)`)
	return r.Replace(s)
}

// TestGenerateHostsBounds: the help states the bounds the command enforces
// (it used to say "≥ 4" while accepting 1), out-of-range values are usage
// errors, and one host runs every scenario.
func TestGenerateHostsBounds(t *testing.T) {
	help, code := edr(t, "generate", "--help")
	require.Equal(t, 0, code, help)
	assert.NotContains(t, help, "≥ 4")
	assert.Contains(t, help, "simulated hosts, 1 to 10000;")
	dir := t.TempDir()
	for _, n := range []string{"0", "-1", "10001"} {
		out, code := edr(t, "generate", "--out", filepath.Join(dir, "r"+n), "--events", "10", "--hosts", n)
		assert.Equal(t, 2, code, "--hosts %s: %s", n, out)
		assert.Contains(t, out, "--hosts must be between 1 and 10000, got "+n)
	}
	out, code := edr(t, "generate", "--out", filepath.Join(dir, "one"), "--events", "40000", "--hosts", "1")
	require.Equal(t, 0, code, out)
	for _, sc := range []string{"c2_beacon", "encoded_powershell", "lsass_dump", "runkey_persistence", "scheduled_task", "service_install", "whoami_discovery"} {
		assert.Contains(t, out, sc+"×", "one host runs every scenario")
	}
}

// An error message is printed with its control bytes escaped, line by line.
func TestErrorTextEscapes(t *testing.T) {
	assert.Equal(t, "edr: bad \\x1b[2J\nsecond \\x07", errorText(errors.New("bad \x1b[2J\nsecond \a")))
	assert.Equal(t, "", errorText(&exitError{code: 3, err: errors.New("")}))
}
