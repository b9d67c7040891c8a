package sigma

import (
	"math/bits"

	"github.com/edr-lab/edr/event"
)

// Matcher evaluates a Ruleset on one goroutine. The Ruleset is the
// compiled program, immutable and shared; a Matcher holds what one
// evaluation stream needs besides: the per-event scratch (folded values,
// prefilter candidates, the audit view) and the correlation state (so
// correlations only see the events given to that Matcher). It is cheap
// to create; give every goroutine its own.
type Matcher struct {
	rs     *Ruleset
	ctx    *evalCtx
	vctx   *evalCtx     // for audit views (Options.SecurityAudit)
	viewEv *event.Event // the current audit view
	cstate *corrState
	obs    RuleObserver // nil: not observed (the common case)
	tap    bool         // report correlation inputs instead of feeding them (shard.go)

	again []int32 // Finish's scratch (split.go)
}

// NewMatcher returns an evaluator of the ruleset with empty correlation
// state, for use by one goroutine at a time.
func (rs *Ruleset) NewMatcher() *Matcher {
	return &Matcher{
		rs:     rs,
		ctx:    newEvalCtx(len(rs.res.extraNames)),
		vctx:   newEvalCtx(len(rs.res.extraNames)),
		viewEv: &event.Event{},
		cstate: newCorrState(rs),
	}
}

// Ruleset returns the program m evaluates.
func (m *Matcher) Ruleset() *Ruleset { return m.rs }

// SetObserver makes m report every rule evaluation to o (nil: stop). It is
// meant for measuring (edr bench's per-rule cost); matches do not change.
func (m *Matcher) SetObserver(o RuleObserver) { m.obs = o }

// Match appends to out every rule that matches ev, in a stable order: the
// single-event rules in load order, then correlation rules in the order
// they fired. Correlation state advances in event time (ev.Time). Match
// does not retain ev. It allocates nothing unless a rule matches (and,
// for correlations, a group is created) or Options.Debug is set, besides
// filling its bounded scan cache (scanCache) on its first events.
func (m *Matcher) Match(ev *event.Event, out []Match) []Match {
	b, vb := m.rs.buckets(ev)
	if b != nil {
		out = m.matchBucket(m.ctx, b, ev, out)
	}
	if vb != nil {
		auditView(vb.kind, ev, m.viewEv)
		out = m.matchBucket(m.vctx, &vb.bucket, m.viewEv, out)
	}
	return out
}

// buckets returns the rules ev meets: its logsource's bucket (nil when it
// has no rules) and, with Options.SecurityAudit (or SecurityAuditAuto and
// a cover that lets it), its audit view's.
func (rs *Ruleset) buckets(ev *event.Event) (*bucket, *viewBucket) {
	b := rs.router.bucketFor(ev)
	if b != nil && len(b.entries) == 0 {
		b = nil
	}
	vb := rs.router.viewFor(ev)
	if vb != nil && !rs.auditApplies(ev.Host, vb.kind) {
		vb = nil
	}
	return b, vb
}

// scan resets c to ev and returns the bucket's candidate entries (nil:
// every entry).
func (b *bucket) scan(c *evalCtx, ev *event.Event) *candidates {
	c.reset(ev)
	if b.pf == nil {
		return nil
	}
	return b.pf.scan(c)
}

func (m *Matcher) matchBucket(c *evalCtx, b *bucket, ev *event.Event, out []Match) []Match {
	cand := b.scan(c, ev)
	n := len(b.entries)
	if m.obs != nil { // checked once per event, not per rule
		for i := cand.next(0, n); i < n; i = cand.next(i+1, n) {
			if e := &b.entries[i]; m.observeEntry(c, e, true) {
				out = m.report(c, e, ev, out)
			}
		}
		return out
	}
	for i := cand.next(0, n); i < n; i = cand.next(i+1, n) {
		if e := &b.entries[i]; matchEntry(c, e) {
			out = m.report(c, e, ev, out)
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
func (m *Matcher) report(c *evalCtx, e *entry, ev *event.Event, out []Match) []Match {
	r := e.rule
	if m.obs != nil {
		m.obs.Matched(r)
	}
	if r.Standalone {
		mt := Match{Rule: r}
		if m.rs.opts.Debug {
			mt.Fields = explain(c, r)
		}
		out = append(out, mt)
	}
	if m.tap && len(r.corrRefs) > 0 {
		return append(out, Match{Rule: r, Feed: true, FeedView: c == m.vctx})
	}
	for _, corr := range r.corrRefs {
		for j, ref := range corr.refs {
			if ref == r {
				out = m.cstate.feed(corr, j, ev, c, out)
			}
		}
	}
	return out
}

// matchEntry evaluates one entry on the event c holds. It reads only the
// compiled rule and c, so any goroutine with its own c may call it.
func matchEntry(c *evalCtx, e *entry) bool {
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
func (m *Matcher) Flush(out []Match) []Match { return m.cstate.flush(out) }

// SkippedValues returns how many events fed value_sum, value_avg or
// value_percentile correlations without a usable value (field missing, or
// for sum and average not a finite number); they are left out of the
// aggregate rather than read as 0.
func (m *Matcher) SkippedValues() int64 { return m.cstate.skipped }
