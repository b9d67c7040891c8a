package detect

import (
	"strings"

	"github.com/edr-lab/edr/detect/sigma"
	"github.com/edr-lab/edr/event"
)

// SigmaMatcher adapts a compiled Sigma ruleset to the engine. Every
// matching rule is reported, in the ruleset's stable order; correlation
// rules report the event that completed them.
type SigmaMatcher struct {
	rs    *sigma.Ruleset
	m     *sigma.Matcher // this engine's evaluator: scratch and correlation state
	rules map[*sigma.Rule]*Rule
	buf   []sigma.Match
}

// NewSigmaMatcher wraps a ruleset, which any number of engines may share:
// each SigmaMatcher evaluates it with its own sigma.Matcher (so its own
// correlation state). A SigmaMatcher is not safe for concurrent use.
func NewSigmaMatcher(rs *sigma.Ruleset) *SigmaMatcher {
	// a rule's alert metadata is converted at its first hit (hits): most
	// rules never match, and converting all 3,000 SigmaHQ rules up front
	// held ~1 MiB per engine for the whole run
	return &SigmaMatcher{rs: rs, m: rs.NewMatcher(), rules: map[*sigma.Rule]*Rule{}}
}

// SigmaRule converts a Sigma rule's metadata into alert metadata.
func SigmaRule(r *sigma.Rule) *Rule {
	sev, err := ParseSeverity(r.Level)
	if err != nil {
		sev = SeverityNone // the engine alerts such rules at medium
	}
	version := r.Modified
	if version == "" {
		version = r.Date
	}
	category := r.Logsource.Category
	if category == "" {
		category = r.Logsource.Service
	}
	out := &Rule{
		Engine: EngineSigma, ID: r.ID, Name: r.Title, Description: r.Description,
		Authors: SplitAuthors(r.Author), References: r.References, License: r.License,
		Ruleset: r.Ruleset, Version: version, Category: category, Tags: r.Tags, Severity: sev,
		Level: r.Level, Status: r.Status, Product: r.Logsource.Product, Service: r.Logsource.Service,
		FalsePositives: r.FalsePositives, Condition: strings.Join(r.Conditions, " | "), Path: r.Path,
		Correlation: r.Correlation,
	}
	if out.Name == "" {
		out.Name = r.Name
	}
	if out.ID == "" {
		out.ID = r.Name
	}
	return out
}

// Name implements Matcher.
func (m *SigmaMatcher) Name() string { return EngineSigma }

// Ruleset returns the wrapped ruleset.
func (m *SigmaMatcher) Ruleset() *sigma.Ruleset { return m.rs }

// UsesField implements FieldUser.
func (m *SigmaMatcher) UsesField(id event.FieldID) bool { return m.rs.References(id) }

// Match implements Matcher.
func (m *SigmaMatcher) Match(ev *event.Event, out []Hit) []Hit {
	m.buf = m.m.Match(ev, m.buf[:0])
	return m.hits(out)
}

// SetObserver reports every rule evaluation of this matcher to o (nil:
// stop), for per-rule cost; see sigma.RuleObserver.
func (m *SigmaMatcher) SetObserver(o sigma.RuleObserver) { m.m.SetObserver(o) }

// finish completes split matching (prematch.go) that a Prematcher of the
// same ruleset began.
func (m *SigmaMatcher) finish(ev *event.Event, p *sigma.Pre, out []Hit) []Hit {
	m.buf = m.m.Finish(ev, p, m.buf[:0])
	return m.hits(out)
}

// Flush implements Flusher: correlation windows still open at the end of a
// replay are decided.
func (m *SigmaMatcher) Flush(out []Hit) []Hit {
	m.buf = m.m.Flush(m.buf[:0])
	return m.hits(out)
}

func (m *SigmaMatcher) hits(out []Hit) []Hit {
	for i := range m.buf {
		sm := &m.buf[i]
		r := m.rules[sm.Rule]
		if r == nil { // first hit of the rule: convert once
			r = SigmaRule(sm.Rule)
			m.rules[sm.Rule] = r
		}
		h := Hit{Rule: r, Correlation: sm.Correlation, Group: sm.Group, Count: sm.Count, Value: sm.Value}
		if sm.Feed {
			h.Feed, h.FeedView = sm.Rule, sm.FeedView
		}
		for _, f := range sm.Fields {
			field, mods, _ := strings.Cut(f.Field, "|")
			h.Fields = append(h.Fields, MatchedField{Selection: f.Search, Field: field, Modifier: mods,
				Pattern: f.Pattern, Value: f.Value, Absent: f.Absent, Negative: f.Negative})
		}
		out = append(out, h)
	}
	return out
}

// TapCorrelations makes the matcher report correlation inputs as hits with
// Feed set instead of correlating them (edr replay --shard); see
// sigma.Matcher.SetCorrelationTap.
func (m *SigmaMatcher) TapCorrelations() { m.m.SetCorrelationTap(true) }

// Correlate feeds a correlation input (a Feed hit of a tapped matcher of
// the same rules) to the correlations and appends the hits that fire.
func (m *SigmaMatcher) Correlate(r *sigma.Rule, ev *event.Event, view bool, out []Hit) []Hit {
	m.buf = m.m.Correlate(r, ev, view, m.buf[:0])
	return m.hits(out)
}
