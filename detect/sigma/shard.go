package sigma

import "github.com/edr-lab/edr/event"

// Split replay (edr replay --shard/--merge) evaluates single-event rules on
// many machines, each over a part of the recordings, and the correlations
// once over every part's inputs in global event order. A tapped matcher
// does the first half; Correlate the second.

// CorrelationInputs lists the rules that correlations reference, in a
// stable order (the correlations' load order, then their rule order, each
// rule once): the index of a rule in it names the rule across processes
// that load the same rules.
func (rs *Ruleset) CorrelationInputs() []*Rule {
	var out []*Rule
	seen := map[*Rule]bool{}
	for _, c := range rs.corrs {
		for _, r := range c.refs {
			if !seen[r] {
				seen[r] = true
				out = append(out, r)
			}
		}
	}
	return out
}

// SetCorrelationTap switches the matcher to reporting correlation inputs:
// a matching rule that correlations reference yields a Match with Feed set
// (after its own match when it stands alone) and no correlation is fed, so
// none fires. Correlate, on a matcher of the same rules, feeds them later.
func (m *Matcher) SetCorrelationTap(on bool) { m.tap = on }

// Correlate feeds ev, which matched r (reported by a tapped matcher as a
// Feed, with FeedView), to the correlations that reference r, and appends
// the correlation matches that fire, as Match would have.
func (m *Matcher) Correlate(r *Rule, ev *event.Event, view bool, out []Match) []Match {
	c := m.ctx
	if view {
		vb := m.rs.router.viewFor(ev)
		if vb == nil {
			return out
		}
		auditView(vb.kind, ev, m.viewEv)
		c, ev = m.vctx, m.viewEv
	}
	c.reset(ev)
	for _, corr := range r.corrRefs {
		for j, ref := range corr.refs {
			if ref == r {
				out = m.cstate.feed(corr, j, ev, c, out)
			}
		}
	}
	return out
}
