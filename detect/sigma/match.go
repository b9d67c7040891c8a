package sigma

import (
	"math/bits"

	"github.com/edr-lab/edr/event"
)

// Match appends to out every rule that matches ev, in a stable order: the
// single-event rules in load order, then correlation rules in the order
// they fired. Correlation state advances in event time (ev.Time). Match
// does not retain ev. It allocates nothing unless a rule matches (and,
// for correlations, a group is created) or Options.Debug is set.
func (rs *Ruleset) Match(ev *event.Event, out []Match) []Match {
	b, vb := rs.buckets(ev)
	if b != nil {
		out = rs.matchBucket(rs.ctx, b, ev, out)
	}
	if vb != nil {
		auditView(vb.kind, ev, rs.viewEv)
		out = rs.matchBucket(rs.vctx, &vb.bucket, rs.viewEv, out)
	}
	return out
}

// buckets returns the rules ev meets: its logsource's bucket (nil when it
// has no rules) and, with Options.SecurityAudit, its audit view's.
func (rs *Ruleset) buckets(ev *event.Event) (*bucket, *viewBucket) {
	b := rs.router.bucketFor(ev)
	if b != nil && len(b.entries) == 0 {
		b = nil
	}
	var vb *viewBucket
	if rs.router.views != nil {
		vb = rs.router.views[viewKey{ev.Channel, ev.EventID}]
	}
	return b, vb
}

func (rs *Ruleset) matchBucket(c *evalCtx, b *bucket, ev *event.Event, out []Match) []Match {
	c.reset(ev)
	var cand *candidates
	if b.pf != nil {
		cand = b.pf.scan(c)
	}
	for i := cand.next(0, len(b.entries)); i < len(b.entries); i = cand.next(i+1, len(b.entries)) {
		e := &b.entries[i]
		if rs.matchEntry(c, e) {
			out = rs.report(c, e, ev, out)
		}
	}
	return out
}

// next returns the first candidate entry at or after i, n when there is
// none. A nil set holds every entry.
func (c *candidates) next(i, n int) int {
	if c == nil || i >= n {
		return i
	}
	for {
		w := c.bits[i>>6] >> (uint(i) & 63)
		if w != 0 {
			return min(i+bits.TrailingZeros64(w), n)
		}
		i = (i | 63) + 1
		if i >= n {
			return n
		}
	}
}

// report appends what a matching entry yields: the rule itself when it
// stands alone, and whatever the correlations it feeds decide.
func (rs *Ruleset) report(c *evalCtx, e *entry, ev *event.Event, out []Match) []Match {
	r := e.rule
	if r.Standalone {
		m := Match{Rule: r}
		if rs.opts.Debug {
			m.Fields = explain(c, r)
		}
		out = append(out, m)
	}
	for _, corr := range r.corrRefs {
		for j, ref := range corr.refs {
			if ref == r {
				out = rs.cstate.feed(corr, j, ev, c, out)
			}
		}
	}
	return out
}

func (rs *Ruleset) matchEntry(c *evalCtx, e *entry) bool {
	for _, g := range e.guard {
		if !c.evalMatcher(g) {
			return false
		}
	}
	r := e.rule
	if !c.evalConds(r.conds, r.searches) {
		return false
	}
	for _, f := range r.filters {
		if c.evalConds(f.conds, f.searches) {
			return false
		}
	}
	return true
}

// Flush decides correlation windows still open (conditions with an upper
// bound, such as lt or eq, can only be decided when their window ends) and
// appends the matches; call it at the end of a replay.
func (rs *Ruleset) Flush(out []Match) []Match { return rs.cstate.flush(out) }

// Clone returns a Ruleset sharing the compiled rules, with its own scratch
// and empty correlation state, for use from another goroutine.
func (rs *Ruleset) Clone() *Ruleset {
	c := *rs
	c.ctx = newEvalCtx(len(rs.res.extraNames))
	c.vctx = newEvalCtx(len(rs.res.extraNames))
	c.viewEv = &event.Event{}
	c.cstate = newCorrState(&c)
	return &c
}
