package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/edr-lab/edr/internal/fsutil"
)

// EnvPrefix starts every configuration environment variable:
// EDR__SECTION__KEY (case-insensitive after the prefix).
const EnvPrefix = "EDR__"

// DefaultFile is the file Find looks for in the working directory.
const DefaultFile = "config.toml"

// Find returns the config file to use when none is given: DefaultFile in
// the working directory if it exists, else "" (defaults only).
func Find() string {
	if st, err := os.Stat(DefaultFile); err == nil && st.Mode().IsRegular() {
		return DefaultFile
	}
	return ""
}

// Load builds the configuration from the defaults, the TOML file at path
// (skipped when path is ""), and the EDR__ variables in env (os.Environ()
// form), then validates it. Command-line overrides are applied after with
// Apply.
func Load(path string, env []string) (*Config, error) {
	c := Default()
	if path != "" {
		data, err := fsutil.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		if err := c.mergeFile(path, data); err != nil {
			return nil, err
		}
	}
	if err := c.mergeEnv(env); err != nil {
		return nil, err
	}
	c.resolve()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// Parse is Load for file content already in memory (name labels errors),
// without environment.
func Parse(name string, data []byte) (*Config, error) {
	c := Default()
	if err := c.mergeFile(name, data); err != nil {
		return nil, err
	}
	c.resolve()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// Apply sets command-line overrides: keys "section.key", values in the
// environment's syntax (lists as JSON arrays). Keys are applied in sorted
// order, so errors are deterministic. The result is validated.
func Apply(c *Config, overrides map[string]string) error {
	keys := make([]string, 0, len(overrides))
	for k := range overrides {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if err := c.SetFlag(k, overrides[k], "--set "+k); err != nil {
			return err
		}
	}
	return c.Validate()
}

// SetFlag sets one key from a command-line flag (flag names the flag for
// `config show`) and re-resolves inherited lists. It does not validate
// enumerations; call Validate after the last override (Apply does).
func (c *Config) SetFlag(key, value, flag string) error {
	k, ok := LookupKey(key)
	if !ok {
		return fmt.Errorf("config: %s: unknown key %q%s", flag, key, suggest(key))
	}
	v, err := k.parseString(value)
	if err != nil {
		return fmt.Errorf("config: %s: %s: %w", flag, k.Name, err)
	}
	c.set(k, v, Origin{Source: FromFlag, Where: flag})
	c.resolve()
	return nil
}

// mergeEnv applies EDR__SECTION__KEY variables.
func (c *Config) mergeEnv(env []string) error {
	var errs []error
	for _, kv := range env {
		name, value, ok := strings.Cut(kv, "=")
		if !ok || len(name) < len(EnvPrefix) || !strings.EqualFold(name[:len(EnvPrefix)], EnvPrefix) {
			continue
		}
		sec, key, ok := strings.Cut(name[len(EnvPrefix):], "__")
		if !ok {
			errs = append(errs, fmt.Errorf("environment %s: want %sSECTION__KEY", name, EnvPrefix))
			continue
		}
		dotted := strings.ToLower(sec + "." + key)
		k, ok := LookupKey(dotted)
		if !ok {
			errs = append(errs, fmt.Errorf("environment %s: unknown key %s%s", name, dotted, suggest(dotted)))
			continue
		}
		v, err := k.parseString(value)
		if err != nil {
			errs = append(errs, fmt.Errorf("environment %s: %s: %w", name, k.Name, err))
			continue
		}
		c.set(k, v, Origin{Source: FromEnv, Where: name})
	}
	if len(errs) > 0 {
		return fmt.Errorf("config: %w", errors.Join(errs...))
	}
	return nil
}

// parseString converts an environment or flag value to the key's type.
func (k *Key) parseString(s string) (any, error) {
	switch k.Kind {
	case KindBool:
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("want true or false, got %q", s)
		}
		return b, nil
	case KindInt:
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 0)
		if err != nil {
			return nil, fmt.Errorf("want an integer, got %q", s)
		}
		return int(n), nil
	case KindDuration:
		d, err := time.ParseDuration(strings.TrimSpace(s))
		if err != nil {
			return nil, fmt.Errorf("want %s, got %q", kindNames[KindDuration], s)
		}
		return d, nil
	case KindStrings:
		var list []string
		if err := json.Unmarshal([]byte(s), &list); err != nil || list == nil {
			return nil, fmt.Errorf(`want a JSON array of strings such as ["C:\\Windows\\"], got %q`, s)
		}
		return list, nil
	}
	return k.normalize(s), nil
}

// normalize lower-cases values of enumerated keys ("DEBUG" → "debug").
func (k *Key) normalize(s string) string {
	if k.Enum != nil {
		return strings.ToLower(strings.TrimSpace(s))
	}
	return s
}

// mergeFile applies a TOML document.
func (c *Config) mergeFile(name string, data []byte) error {
	var raw map[string]any
	_, err := toml.Decode(string(data), &raw)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return fmt.Errorf("config: %s:%d: %s", name, errorLine(data, pe.Position), pe.Message)
		}
		return fmt.Errorf("config: %s: %w", name, err)
	}
	lines := keyLines(data)
	where := func(key string) string {
		if l, ok := lines[key]; ok {
			return name + ":" + strconv.Itoa(l)
		}
		return name
	}
	// Walk the decoded document rather than the metadata, so that every
	// way of writing a key (table, dotted key, inline table) is checked.
	// Order: by line, then name, so errors come out as the file reads.
	order := func(names []string, prefix string) {
		sort.Slice(names, func(a, b int) bool {
			la, lb := lines[prefix+names[a]], lines[prefix+names[b]]
			if la != lb {
				return la < lb
			}
			return names[a] < names[b]
		})
	}
	var errs []string
	top := make([]string, 0, len(raw))
	for k := range raw {
		top = append(top, k)
	}
	order(top, "")
	for _, secName := range top {
		table, isTable := raw[secName].(map[string]any)
		switch {
		case !isTable && sectionKnown(secName):
			errs = append(errs, fmt.Sprintf("%s: [%s] must be a table, got %s", where(secName), secName, describe(raw[secName])))
			continue
		case !isTable:
			errs = append(errs, fmt.Sprintf("%s: unknown key %q (keys belong in a [section])%s", where(secName), secName, suggest(secName)))
			continue
		case !sectionKnown(secName):
			errs = append(errs, fmt.Sprintf("%s: unknown section [%s]%s", where(secName), secName, suggest(secName)))
			continue
		}
		names := make([]string, 0, len(table))
		for k := range table {
			names = append(names, k)
		}
		order(names, secName+".")
		for _, keyName := range names {
			dotted := secName + "." + keyName
			k, ok := keyIndex[dotted]
			if !ok {
				errs = append(errs, fmt.Sprintf("%s: unknown key %s%s", where(dotted), dotted, suggest(dotted)))
				continue
			}
			v, err := k.fromTOML(table[keyName])
			if err != nil {
				errs = append(errs, fmt.Sprintf("%s: %s: %v", where(dotted), dotted, err))
				continue
			}
			c.set(k, v, Origin{Source: FromFile, Where: where(dotted)})
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("config: %s", strings.Join(errs, "; "))
	}
	return nil
}

// errorLine is the line of a TOML parse error: the line of the byte it
// points at. The decoder's own line count has already moved past a
// newline it choked on ("[scanner" without "]" came out one line late).
func errorLine(data []byte, p toml.Position) int {
	if p.Start < 0 || p.Start >= len(data) || p.Len == 0 {
		return p.Line
	}
	return 1 + bytes.Count(data[:p.Start], []byte{'\n'})
}

func sectionKnown(name string) bool {
	for _, s := range sections {
		if s.Name == name {
			return true
		}
	}
	return false
}

// fromTOML converts a decoded TOML value to the key's type.
func (k *Key) fromTOML(v any) (any, error) {
	bad := func() error { return fmt.Errorf("want %s, got %s", kindNames[k.Kind], describe(v)) }
	switch k.Kind {
	case KindBool:
		if b, ok := v.(bool); ok {
			return b, nil
		}
	case KindInt:
		if n, ok := v.(int64); ok {
			if n > math.MaxInt32 || n < math.MinInt32 {
				return nil, fmt.Errorf("%d is out of range", n)
			}
			return int(n), nil
		}
	case KindString:
		if s, ok := v.(string); ok {
			return k.normalize(s), nil
		}
		// An enumeration that has true and false (sigma_security_audit,
		// once a boolean) takes TOML booleans too, so old files still load.
		if b, ok := v.(bool); ok && slices.Contains(k.Enum, "true") && slices.Contains(k.Enum, "false") {
			return strconv.FormatBool(b), nil
		}
	case KindDuration:
		if s, ok := v.(string); ok {
			d, err := time.ParseDuration(s)
			if err != nil {
				return nil, bad()
			}
			return d, nil
		}
	case KindStrings:
		list, ok := v.([]any)
		if !ok {
			return nil, bad()
		}
		out := make([]string, 0, len(list))
		for i, e := range list {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("element %d: want a string, got %s", i, describe(e))
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, bad()
}

func describe(v any) string {
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("string %q", x)
	case int64:
		return fmt.Sprintf("integer %d", x)
	case float64:
		return fmt.Sprintf("float %v", x)
	case bool:
		return fmt.Sprintf("boolean %v", x)
	case []any:
		return "an array"
	case map[string]any:
		return "a table"
	case time.Time:
		return "a date-time"
	}
	return fmt.Sprintf("%T", v)
}

// suggest proposes the known key closest to a misspelt one.
func suggest(name string) string {
	name = strings.ToLower(name)
	best, bestD := "", 4
	for k := range keyIndex {
		if d := editDistance(name, k); d < bestD || d == bestD && k < best {
			best, bestD = k, d
		}
	}
	for _, s := range sections {
		if d := editDistance(name, s.Name); d < bestD || d == bestD && s.Name < best {
			best, bestD = s.Name, d
		}
	}
	if best == "" {
		return ""
	}
	return " (did you mean " + best + "?)"
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 1 << 20
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// keyLines maps "section" and "section.key" to the line that defines them,
// for error messages and `config show`. It understands [section] headers,
// bare and dotted keys; anything fancier simply gets no line.
func keyLines(data []byte) map[string]int {
	out := map[string]int{}
	section := ""
	depth := 0 // inside a multi-line array
	for i, line := range strings.Split(string(data), "\n") {
		t := strings.TrimSpace(line)
		if depth > 0 {
			depth += strings.Count(t, "[") - strings.Count(t, "]")
			continue
		}
		if t == "" || t[0] == '#' {
			continue
		}
		if t[0] == '[' && !strings.HasPrefix(t, "[[") {
			end := strings.IndexByte(t, ']')
			if end > 0 {
				section = strings.TrimSpace(t[1:end])
				if _, ok := out[section]; !ok {
					out[section] = i + 1
				}
			}
			continue
		}
		key, rest, ok := strings.Cut(t, "=")
		if !ok {
			continue
		}
		key = strings.Trim(strings.TrimSpace(key), `"'`)
		full := key
		if section != "" {
			full = section + "." + key
		}
		if _, seen := out[full]; !seen {
			out[full] = i + 1
		}
		if s, _, ok := strings.Cut(full, "."); ok {
			if _, seen := out[s]; !seen {
				out[s] = i + 1
			}
		}
		depth = strings.Count(rest, "[") - strings.Count(rest, "]")
		if depth < 0 {
			depth = 0
		}
	}
	return out
}
