package config

import (
	"fmt"
	"strings"
)

// LogFilter is a parsed logging.filter: an optional default level that
// overrides logging.level, and minimum levels per component. A component is
// the value of the "component" attribute of a log record or of the logger
// that made it (logger.With("component", "recording")).
type LogFilter struct {
	Default    string            // "" keeps logging.level
	Components map[string]string // component → level
}

// ParseLogFilter parses "LEVEL,COMPONENT=LEVEL,…" (any order, at most one
// bare LEVEL, each component once; levels as logging.level). Empty is no
// filter.
func ParseLogFilter(s string) (LogFilter, error) {
	var f LogFilter
	levels := keyIndex["logging.level"].Enum
	valid := func(l string) bool {
		for _, e := range levels {
			if l == e {
				return true
			}
		}
		return false
	}
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		comp, level, named := strings.Cut(item, "=")
		comp, level = strings.TrimSpace(comp), strings.ToLower(strings.TrimSpace(level))
		if !named {
			level = strings.ToLower(comp)
		}
		if !valid(level) {
			return LogFilter{}, fmt.Errorf("%q: level %q is not one of %s", item, level, strings.Join(levels, ", "))
		}
		switch {
		case !named && f.Default != "":
			return LogFilter{}, fmt.Errorf("%q: a second default level (first: %q)", item, f.Default)
		case !named:
			f.Default = level
		case comp == "":
			return LogFilter{}, fmt.Errorf("%q: empty component name", item)
		case f.Components[comp] != "":
			return LogFilter{}, fmt.Errorf("%q: component %q given twice", item, comp)
		default:
			if f.Components == nil {
				f.Components = map[string]string{}
			}
			f.Components[comp] = level
		}
	}
	return f, nil
}
