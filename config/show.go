package config

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// Show renders the effective configuration as TOML, each key followed by a
// comment saying where its value came from. The output is itself a valid
// config file that loads to the same configuration: a list that inherits
// its value (from allowlist.paths) is shown commented out, because
// writing it as a key would set it explicitly and end the inheritance.
func (c *Config) Show() string {
	var b strings.Builder
	for i, sec := range sections {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString("[" + sec.Name + "]\n")
		width := 0
		lines := make([]string, len(sec.Keys))
		for j, k := range sec.Keys {
			lines[j] = k.Field + " = " + tomlValue(c.field(k).Interface())
			if c.origins[k.Name].Source == FromInherited {
				lines[j] = "# " + lines[j]
			}
			width = max(width, len(lines[j]))
		}
		for j, k := range sec.Keys {
			b.WriteString(lines[j])
			b.WriteString(strings.Repeat(" ", width-len(lines[j])+2))
			b.WriteString("# " + c.origins[k.Name].String() + "\n")
		}
	}
	return b.String()
}

// ShowJSON renders the effective configuration as one JSON object:
// {"section": {"key": {"value": …, "source": "file", "where": "config.toml:3"}}}.
// Durations are strings ("200ms").
func (c *Config) ShowJSON() ([]byte, error) {
	type entry struct {
		Value  any    `json:"value"`
		Source string `json:"source"`
		Where  string `json:"where,omitempty"`
	}
	out := map[string]map[string]entry{}
	for _, sec := range sections {
		m := map[string]entry{}
		for _, k := range sec.Keys {
			v := c.field(k).Interface()
			if d, ok := v.(time.Duration); ok {
				v = formatDuration(d)
			}
			o := c.origins[k.Name]
			m[k.Field] = entry{Value: v, Source: o.Source.String(), Where: o.Where}
		}
		out[sec.Name] = m
	}
	return json.Marshal(out) // encoding/json sorts map keys: stable output
}

// ExampleTOML is the commented config file with every default, as shipped
// at the repository root (config.toml). Inheriting lists are commented
// out: setting one, even to [], overrides the shared allowlist.
func ExampleTOML() string {
	d := Default()
	var b strings.Builder
	b.WriteString(`# edr configuration: every key with its default value.
#
# Precedence: command-line flags > EDR__SECTION__KEY environment variables >
# this file > built-in defaults. Environment lists are JSON arrays, e.g.
#   EDR__ALLOWLIST__PATHS='["C:\\Windows\\","C:\\Program Files\\"]'
# Commands take --config FILE (default: ./config.toml when present) and
# --set section.key=value. "edr config show" prints the effective values and
# where each came from. Unknown keys and wrong types are errors.
`)
	for _, sec := range sections {
		b.WriteString("\n# " + sec.Doc + "\n[" + sec.Name + "]\n")
		for _, k := range sec.Keys {
			b.WriteString("# " + k.Doc + "\n")
			if k.Inherit != "" {
				b.WriteString("# (unset: inherits " + k.Inherit + "; setting it, even to [], overrides that list for this module)\n")
				b.WriteString("# " + k.Field + " = []\n")
				continue
			}
			b.WriteString(k.Field + " = " + tomlValue(d.field(k).Interface()) + "\n")
		}
	}
	return b.String()
}

// tomlValue renders a value in TOML syntax.
func tomlValue(v any) string {
	switch x := v.(type) {
	case bool:
		return strconv.FormatBool(x)
	case int:
		return strconv.Itoa(x)
	case string:
		return tomlString(x)
	case time.Duration:
		return tomlString(formatDuration(x))
	case []string:
		parts := make([]string, len(x))
		for i, s := range x {
			parts[i] = tomlString(s)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	return ""
}

// tomlString quotes s as a TOML basic string.
func tomlString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			b.WriteString(`\u`)
			h := strconv.FormatInt(int64(r), 16)
			b.WriteString(strings.Repeat("0", 4-len(h)) + h)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// formatDuration prints whole hours, minutes or seconds without the zero
// units time.Duration.String adds ("1h", not "1h0m0s").
func formatDuration(d time.Duration) string {
	switch {
	case d != 0 && d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d != 0 && d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	case d != 0 && d%time.Second == 0:
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
	return d.String()
}
