package config

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The seed's keys and defaults (../shared/docs/seed.txt and the v0.3 key
// table of reference/rustinel-notes.md), written out independently of
// Default so that a changed default fails here.
var seedDefaults = map[string]any{
	"scanner.sigma_enabled":                    true,
	"scanner.sigma_rules_path":                 "rules/sigma",
	"scanner.yara_enabled":                     true,
	"scanner.yara_rules_path":                  "rules/yara",
	"allowlist.paths":                          []string{`C:\Windows\`, `C:\Program Files\`, `C:\Program Files (x86)\`},
	"logging.level":                            "info",
	"logging.filter":                           "",
	"logging.directory":                        "logs",
	"logging.console_output":                   true,
	"alerts.directory":                         "logs",
	"alerts.filename":                          "alerts.json",
	"alerts.match_debug":                       "off",
	"response.enabled":                         false,
	"response.prevention_enabled":              false,
	"response.min_severity":                    "critical",
	"response.channel_capacity":                128,
	"response.allowlist_images":                []string{},
	"network.aggregation_enabled":              true,
	"network.aggregation_max_entries":          20000,
	"network.aggregation_interval_buffer_size": 50,
	"ioc.enabled":                              true,
	"ioc.hashes_path":                          "rules/ioc/hashes.txt",
	"ioc.ips_path":                             "rules/ioc/ips.txt",
	"ioc.domains_path":                         "rules/ioc/domains.txt",
	"ioc.paths_regex_path":                     "rules/ioc/paths_regex.txt",
	"ioc.default_severity":                     "high",
	"ioc.max_file_size_mb":                     50,
}

func TestSeedDefaults(t *testing.T) {
	c := Default()
	for k, want := range seedDefaults {
		got, ok := c.Value(k)
		require.Truef(t, ok, "missing seed key %s", k)
		assert.Equalf(t, want, got, "default of %s", k)
		assert.Equal(t, FromDefault, c.Origin(k).Source)
	}
	// The shared allowlist is inherited by the three module lists.
	for _, k := range []string{"response.allowlist_paths", "ioc.hash_allowlist_paths", "scanner.yara_allowlist_paths"} {
		v, _ := c.Value(k)
		assert.Equal(t, seedDefaults["allowlist.paths"], v, k)
		assert.Equal(t, Origin{FromInherited, "allowlist.paths"}, c.Origin(k))
	}
	// The log file is edr's, not the seed's rustinel.log.
	assert.Equal(t, "edr.log", c.Logging.Filename)
	require.NoError(t, c.Validate())
	// Every section of the seed exists, plus recording and live.
	var names []string
	for _, s := range Sections() {
		names = append(names, s.Name)
	}
	assert.Equal(t, []string{"scanner", "allowlist", "logging", "alerts", "response", "network", "ioc", "recording", "live"}, names)
	assert.Equal(t, 200*time.Millisecond, c.Recording.FlushInterval)
}

func write(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "edr.toml")
	require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	return p
}

func TestFileEnvFlagPrecedence(t *testing.T) {
	p := write(t, `
[logging]
level = "warn"
directory = "/var/log/edr"

[alerts]
match_debug = "summary"

[recording]
flush_interval = "1s"
max_segment_age = "30m"
`)
	env := []string{"PATH=/usr/bin", "EDR_SHARED=/x", "EDR__LOGGING__LEVEL=debug", "EDR__ALERTS__FILENAME=a.json"}
	c, err := Load(p, env)
	require.NoError(t, err)
	assert.Equal(t, "debug", c.Logging.Level, "env beats file")
	assert.Equal(t, Origin{FromEnv, "EDR__LOGGING__LEVEL"}, c.Origin("logging.level"))
	assert.Equal(t, "/var/log/edr", c.Logging.Directory)
	assert.Equal(t, Origin{FromFile, p + ":4"}, c.Origin("logging.directory"))
	assert.Equal(t, "summary", c.Alerts.MatchDebug)
	assert.Equal(t, p+":7", c.Origin("alerts.match_debug").Where)
	assert.Equal(t, "a.json", c.Alerts.Filename)
	assert.Equal(t, time.Second, c.Recording.FlushInterval)
	assert.Equal(t, 30*time.Minute, c.Recording.MaxSegmentAge)
	assert.Equal(t, FromDefault, c.Origin("logging.filename").Source)

	require.NoError(t, Apply(c, map[string]string{"logging.level": "error", "alerts.match_debug": "full"}))
	assert.Equal(t, "error", c.Logging.Level, "flag beats env")
	assert.Equal(t, Origin{FromFlag, "--set logging.level"}, c.Origin("logging.level"))
	assert.Equal(t, "full", c.Alerts.MatchDebug)
	require.NoError(t, c.SetFlag("logging.level", "TRACE", "--log-level"))
	assert.Equal(t, "trace", c.Logging.Level, "enumerations are case-insensitive")
	assert.Equal(t, "flag --log-level", c.Origin("logging.level").String())
}

func TestAllowlistInheritance(t *testing.T) {
	env := []string{`EDR__ALLOWLIST__PATHS=["D:\\Apps\\","C:\\Windows\\"]`}
	c, err := Load(write(t, "[ioc]\nhash_allowlist_paths = [\"E:\\\\Tools\\\\\"]\n[response]\nallowlist_paths = []\n"), env)
	require.NoError(t, err)
	assert.Equal(t, []string{`D:\Apps\`, `C:\Windows\`}, c.Allowlist.Paths)
	assert.Equal(t, []string{`D:\Apps\`, `C:\Windows\`}, c.Scanner.YaraAllowlistPaths, "inherits the shared list")
	assert.Equal(t, FromInherited, c.Origin("scanner.yara_allowlist_paths").Source)
	assert.Equal(t, []string{`E:\Tools\`}, c.IOC.HashAllowlistPaths, "module list set explicitly")
	assert.Equal(t, []string{}, c.Response.AllowlistPaths, "explicit [] is an (empty) override")
	assert.Equal(t, FromFile, c.Origin("response.allowlist_paths").Source)

	// A later override of the shared list reaches the inheriting lists only.
	require.NoError(t, Apply(c, map[string]string{"allowlist.paths": `["F:\\"]`}))
	assert.Equal(t, []string{`F:\`}, c.Scanner.YaraAllowlistPaths)
	assert.Equal(t, []string{`E:\Tools\`}, c.IOC.HashAllowlistPaths)
	// The inherited list is a copy: changing it does not change the parent.
	c.Scanner.YaraAllowlistPaths[0] = "X"
	assert.Equal(t, []string{`F:\`}, c.Allowlist.Paths)
}

func TestErrorsNameKeyAndPlace(t *testing.T) {
	for _, c := range []struct {
		name, file string
		env        []string
		want       []string
	}{
		{"unknown key", "[logging]\nlevel = \"info\"\nlevl = \"debug\"\n", nil, []string{":3: unknown key logging.levl", "did you mean logging.level?"}},
		{"unknown section", "\n[scaner]\nsigma_enabled = true\n", nil, []string{":2: unknown section [scaner]", "did you mean scanner?"}},
		{"top-level key", "level = 1\n", nil, []string{":1: unknown key \"level\""}},
		{"wrong type", "[scanner]\n\nsigma_enabled = \"yes\"\n", nil, []string{":3: scanner.sigma_enabled: want a boolean, got string \"yes\""}},
		{"wrong list element", "[allowlist]\npaths = [\"a\", 3]\n", nil, []string{":2: allowlist.paths: element 1: want a string, got integer 3"}},
		{"int for string", "[alerts]\nfilename = 7\n", nil, []string{"alerts.filename: want a string, got integer 7"}},
		{"bad duration", "[recording]\nflush_interval = 5\n", nil, []string{"recording.flush_interval: want a duration string"}},
		{"nested table", "[scanner.extra]\nx = 1\n", nil, []string{"unknown key scanner.extra"}},
		{"section not a table", "scanner = 3\n", nil, []string{"[scanner] must be a table"}},
		{"syntax", "[logging]\nlevel = \n", nil, []string{"edr.toml:2:"}},
		{"unclosed table", "[logging]\nlevel = \"info\"\n[scanner\nsigma_enabled = true\n", nil, []string{"edr.toml:3: expected '.' or ']' to end table name"}},
		{"unclosed table at the end", "\n[scanner", nil, []string{"edr.toml:2: expected '.' or ']' to end table name"}},
		{"newline in a string", "[alerts]\nfilename = \"a\nb\"\n", nil, []string{"edr.toml:2: strings cannot contain newlines"}},
		{"bad enum", "[alerts]\nmatch_debug = \"verbose\"\n", nil, []string{"alerts.match_debug", `"verbose" is not one of off, summary, full`, "edr.toml:2"}},
		{"bad page compression", "[recording]\npage_compression = \"fast\"\n", nil, []string{"recording.page_compression", `"fast" is not one of fastest, default, better`}},
		{"bad severity", "[response]\nmin_severity = \"severe\"\n", nil, []string{"response.min_severity", "not one of informational, low, medium, high, critical"}},
		{"bad level env", "", []string{"EDR__LOGGING__LEVEL=loud"}, []string{"logging.level (env EDR__LOGGING__LEVEL)", `"loud" is not one of trace, debug, info, warn, error`}},
		{"below min", "[response]\nchannel_capacity = 0\n", nil, []string{"response.channel_capacity", "below the minimum 1"}},
		{"unknown env key", "", []string{"EDR__SCANER__SIGMA_ENABLED=true"}, []string{"environment EDR__SCANER__SIGMA_ENABLED: unknown key scaner.sigma_enabled", "did you mean scanner.sigma_enabled?"}},
		{"env no key", "", []string{"EDR__LOGGING=1"}, []string{"environment EDR__LOGGING: want EDR__SECTION__KEY"}},
		{"env bad list", "", []string{`EDR__ALLOWLIST__PATHS=C:\Windows\`}, []string{"environment EDR__ALLOWLIST__PATHS: allowlist.paths: want a JSON array of strings"}},
		{"env bad bool", "", []string{"EDR__IOC__ENABLED=maybe"}, []string{"environment EDR__IOC__ENABLED: ioc.enabled: want true or false"}},
		{"env bad int", "", []string{"EDR__IOC__MAX_FILE_SIZE_MB=5x"}, []string{"ioc.max_file_size_mb: want an integer"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := ""
			if c.file != "" {
				p = write(t, c.file)
			}
			_, err := Load(p, c.env)
			require.Error(t, err)
			for _, w := range c.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
	// Flags: unknown key and bad value name the flag.
	c := Default()
	err := c.SetFlag("logging.lvl", "x", "--set logging.lvl")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--set logging.lvl: unknown key")
	err = Apply(c, map[string]string{"ioc.enabled": "nope"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "--set ioc.enabled: ioc.enabled: want true or false")
	err = Apply(c, map[string]string{"alerts.match_debug": "loud"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "alerts.match_debug (flag --set alerts.match_debug)")
	// A missing file is an error naming it.
	_, err = Load(filepath.Join(t.TempDir(), "nope.toml"), nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nope.toml")
}

func TestOtherWaysToWriteKeys(t *testing.T) {
	c, err := Parse("x.toml", []byte("scanner.sigma_enabled = false\nalerts = { match_debug = \"full\" }\n"))
	require.NoError(t, err)
	assert.False(t, c.Scanner.SigmaEnabled)
	assert.Equal(t, Origin{FromFile, "x.toml:1"}, c.Origin("scanner.sigma_enabled"))
	assert.Equal(t, "full", c.Alerts.MatchDebug)
	_, err = Parse("x.toml", []byte("alerts = { match_debg = \"full\" }\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "unknown key alerts.match_debg")
}

// The shipped config.toml is ExampleTOML() and parses to the defaults.
func TestShippedExample(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "config.toml"))
	require.NoError(t, err)
	assert.Equal(t, ExampleTOML(), string(data), "config.toml drifted: regenerate it with `go run ./cmd/edr config example > config.toml`")
	c, err := Parse("config.toml", data)
	require.NoError(t, err)
	d := Default()
	for _, sec := range Sections() {
		for _, k := range sec.Keys {
			got, _ := c.Value(k.Name)
			want, _ := d.Value(k.Name)
			assert.Equal(t, want, got, k.Name)
			if k.Inherit == "" {
				assert.Equalf(t, FromFile, c.Origin(k.Name).Source, "%s is in the example", k.Name)
			} else {
				assert.Equal(t, FromInherited, c.Origin(k.Name).Source, k.Name)
			}
			assert.NotEmpty(t, k.Doc, k.Name)
		}
	}
}

func TestShowRoundTrip(t *testing.T) {
	c, err := Load(write(t, "[logging]\nfilter = \"info,engine=debug\"\n[allowlist]\npaths = [\"C:\\\\A \\\"q\\\"\\\\\", \"tab\\there\"]\n"),
		[]string{"EDR__RECORDING__FLUSH_INTERVAL=1500ms"})
	require.NoError(t, err)
	out := c.Show()
	assert.Contains(t, out, "filter = \"info,engine=debug\"")
	assert.Contains(t, out, "# env EDR__RECORDING__FLUSH_INTERVAL")
	assert.Contains(t, out, "# inherited allowlist.paths")
	assert.Contains(t, out, "# default")
	back, err := Parse("show.toml", []byte(out))
	require.NoError(t, err)
	for _, sec := range Sections() {
		for _, k := range sec.Keys {
			a, _ := c.Value(k.Name)
			b, _ := back.Value(k.Name)
			assert.Equal(t, a, b, k.Name)
			// inheritance survives the round trip
			assert.Equal(t, c.Origin(k.Name).Source == FromInherited, back.Origin(k.Name).Source == FromInherited, k.Name)
		}
	}
	// so a later change of the shared list still reaches the inheriting ones
	require.NoError(t, Apply(back, map[string]string{"allowlist.paths": `["Z:\\"]`}))
	assert.Equal(t, []string{`Z:\`}, back.Scanner.YaraAllowlistPaths)
	js, err := c.ShowJSON()
	require.NoError(t, err)
	var m map[string]map[string]struct {
		Value  any    `json:"value"`
		Source string `json:"source"`
		Where  string `json:"where"`
	}
	require.NoError(t, json.Unmarshal(js, &m))
	assert.Equal(t, "1.5s", m["recording"]["flush_interval"].Value)
	assert.Equal(t, "env", m["recording"]["flush_interval"].Source)
	assert.Equal(t, "inherited", m["ioc"]["hash_allowlist_paths"].Source)
	assert.Equal(t, "allowlist.paths", m["ioc"]["hash_allowlist_paths"].Where)
	assert.Equal(t, true, m["scanner"]["sigma_enabled"].Value)
	assert.EqualValues(t, 128, m["response"]["channel_capacity"].Value)
	assert.Len(t, m, len(Sections()))
}

func TestKeyLines(t *testing.T) {
	lines := keyLines([]byte("# c\n[a]\nx = [\n  \"1\",\n]\ny = 2\n\n[b]\n z=1\nb.w = 3\n"))
	assert.Equal(t, map[string]int{"a": 2, "a.x": 3, "a.y": 6, "b": 8, "b.z": 9, "b.b.w": 10}, lines)
}

func FuzzParse(f *testing.F) {
	// Small seeds: the fuzzer minimizes every new input it keeps, and a
	// seed the size of the example file makes that take the whole run.
	f.Add([]byte("[scanner]\nsigma_enabled = true\nyara_allowlist_paths = [\"C:\\\\x\\\\\"]\n[recording]\nmax_segment_age = \"1h\"\n"))
	f.Add([]byte("[logging]\nlevel = \"debug\"\n"))
	f.Add([]byte("[allowlist]\npaths = [\"a\", 1]\n"))
	f.Add([]byte("scanner = { sigma_enabled = false }\n[recording]\nflush_interval = \"-1s\"\n"))
	f.Add([]byte("[[scanner]]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.toml", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "config: ") {
				t.Fatalf("error without context: %v", err)
			}
			return
		}
		// Whatever parsed must print back to the same configuration.
		back, err := Parse("show.toml", []byte(c.Show()))
		if err != nil {
			t.Fatalf("Show output does not parse: %v\n%s", err, c.Show())
		}
		for _, sec := range Sections() {
			for _, k := range sec.Keys {
				a, _ := c.Value(k.Name)
				b, _ := back.Value(k.Name)
				if !reflect.DeepEqual(a, b) {
					t.Fatalf("%s: %v != %v after Show", k.Name, a, b)
				}
			}
		}
	})
}

func TestLogFilterParseAndValidate(t *testing.T) {
	f, err := ParseLogFilter(" warn , recording=debug,alerts=ERROR ")
	require.NoError(t, err)
	assert.Equal(t, LogFilter{Default: "warn", Components: map[string]string{"recording": "debug", "alerts": "error"}}, f)
	f, err = ParseLogFilter("")
	require.NoError(t, err)
	assert.Equal(t, LogFilter{}, f)
	for _, bad := range []string{"loud", "info,debug", "=debug", "a=debug,a=info", "a=verbose"} {
		_, err := ParseLogFilter(bad)
		assert.Error(t, err, bad)
	}
	_, err = Load("", []string{"EDR__LOGGING__FILTER=info,recording=chatty"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "logging.filter (env EDR__LOGGING__FILTER)")
}

// scanner.sigma_security_audit was a boolean; it is now auto|true|false and
// files written for the boolean still load.
func TestSigmaSecurityAuditModes(t *testing.T) {
	assert.Equal(t, "auto", Default().Scanner.SigmaSecurityAudit)
	for in, want := range map[string]string{"true": "true", "false": "false", `"auto"`: "auto", `"TRUE"`: "true"} {
		c, err := Parse("c.toml", []byte("[scanner]\nsigma_security_audit = "+in+"\n"))
		require.NoError(t, err, in)
		assert.Equal(t, want, c.Scanner.SigmaSecurityAudit, in)
	}
	_, err := Parse("c.toml", []byte("[scanner]\nsigma_security_audit = \"sometimes\"\n"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "sigma_security_audit")
	_, err = Parse("c.toml", []byte("[scanner]\nsigma_security_audit = 1\n"))
	require.Error(t, err, "an integer is not a mode")
	c := Default()
	require.NoError(t, c.SetFlag("scanner.sigma_security_audit", "false", "--set"))
	assert.Equal(t, "false", c.Scanner.SigmaSecurityAudit)
}
