package detect

import (
	"net/netip"
	"path/filepath"
	"strconv"

	"github.com/edr-lab/edr/detect/ioc"
	"github.com/edr-lab/edr/event"
)

// IOCMatcher adapts a loaded indicator set to the engine: every indicator
// hit becomes an alert of the rule of its kind ("IOC match: domain", …) at
// the configured severity (ioc.default_severity).
type IOCMatcher struct {
	set    *ioc.Set
	sev    Severity
	rules  map[ioc.Kind]*Rule
	fields map[event.FieldID]bool
	buf    []ioc.Hit
}

// NewIOCMatcher wraps set; sev is the severity of IOC alerts.
func NewIOCMatcher(set *ioc.Set, sev Severity) *IOCMatcher {
	m := &IOCMatcher{set: set, sev: sev, rules: map[ioc.Kind]*Rule{}, fields: map[event.FieldID]bool{}}
	for k := ioc.KindMD5; k <= ioc.KindPath; k++ {
		r := &Rule{
			Engine:      EngineIOC,
			ID:          "edr-ioc-" + k.String(),
			Name:        "IOC match: " + k.String(),
			Description: "An event value matched an atomic indicator of compromise (" + k.String() + ")",
			Ruleset:     "edr/ioc",
			Category:    "ioc",
			Severity:    sev,
		}
		m.rules[k] = r
	}
	for _, list := range [][]event.FieldID{ioc.HashFields(), ioc.IPFields(), ioc.DomainFields(), ioc.PathFields()} {
		for _, id := range list {
			m.fields[id] = true
		}
	}
	return m
}

// Name implements Matcher.
func (m *IOCMatcher) Name() string { return EngineIOC }

// UsesField implements FieldUser.
func (m *IOCMatcher) UsesField(id event.FieldID) bool { return m.fields[id] }

// Match implements Matcher.
func (m *IOCMatcher) Match(ev *event.Event, out []Hit) []Hit {
	return m.match(ev, &m.buf, out)
}

// match appends the hits of ev, with buf as scratch.
func (m *IOCMatcher) match(ev *event.Event, buf *[]ioc.Hit, out []Hit) []Hit {
	*buf = m.set.Match(ev, (*buf)[:0])
	return m.hits(*buf, out)
}

func (m *IOCMatcher) hits(hs []ioc.Hit, out []Hit) []Hit {
	for i := range hs {
		out = m.hit(&hs[i], out)
	}
	return out
}

// early implements earlyMatcher: the indicator set is safe for concurrent
// use, and each goroutine gets its own scratch and path cache (the set's
// shared one would pass its lines between the workers' cores).
func (m *IOCMatcher) early() earlyMatch {
	var buf []ioc.Hit
	c := m.set.NewCache()
	return func(ev *event.Event, out []Hit) []Hit {
		buf = m.set.MatchWith(c, ev, buf[:0])
		return m.hits(buf, out)
	}
}

func (m *IOCMatcher) hit(h *ioc.Hit, out []Hit) []Hit {
	r := m.rules[h.Kind]
	if r == nil {
		return out
	}
	return append(out, Hit{Rule: r, Severity: m.sev, Indicator: &Indicator{
		Type:    indicatorType(h.Kind, h.Value),
		Field:   h.Field,
		Atomic:  h.Value,
		Value:   h.Indicator,
		Comment: h.Comment,
		// The file's base name, not its path: alerts must not depend on
		// where the rules were unpacked (replay output is byte-identical
		// across machines).
		Source: filepath.Base(h.Source.File) + ":" + strconv.Itoa(h.Source.Line),
	}})
}

// indicatorType names the ECS threat.indicator.type of a hit.
func indicatorType(k ioc.Kind, value string) string {
	switch k {
	case ioc.KindIP:
		if a, err := netip.ParseAddr(value); err == nil && a.Unmap().Is6() {
			return "ipv6-addr"
		}
		return "ipv4-addr"
	case ioc.KindDomain:
		return "domain-name"
	default:
		return "file"
	}
}
