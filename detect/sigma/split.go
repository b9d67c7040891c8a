package sigma

import (
	"math/bits"

	"github.com/edr-lab/edr/event"
)

// Split matching lets a caller with more than one core evaluate rules ahead
// of the stateful part of its pipeline. Rule evaluation is a pure function
// of the event, except for two things: correlations keep state across
// events, and a caller may set "late" fields on the event just before its
// turn (the detection engine fills process context such as
// GrandParentImage from its process table, which needs every earlier
// event). So matching splits in two:
//
//   - Matcher.Pre, on any goroutine (each with its own Matcher), evaluates
//     every rule on the event as recorded, as Match does, and notes which
//     late fields it carried and which candidate entries read a late field
//     ("deferred");
//   - Matcher.Finish, in event order on one Matcher, reports the matches
//     exactly as Match reports them (same matches, same order, correlations
//     fed in the same order). When the caller added late fields since Pre,
//     it evaluates the deferred entries again on the event as it is now:
//     those the prefilter selected in Pre, and those whose prefilter
//     needles lie on late fields or are keywords (Pre's prefilter could not
//     see them) when one of those needles occurs in a late field now.
//
// Finish(ev, Pre(ev)) therefore returns what Match(ev) returns, provided
// the caller only adds late fields between the two (the engine never
// changes a field the event already has).

// Pre is the result of Matcher.Pre for one event.
type Pre struct {
	plan       *LatePlan // nil: Pre never ran (Finish then matches in full)
	main, view preBucket
	lateMask   uint64 // late fields present at Pre
	// the routing of the event, for Finish on a Matcher of the same
	// Ruleset (the event's channel, EventID and host do not change)
	rs *Ruleset
	b  *bucket
	vb *viewBucket
}

// preBucket is Pre's result for one bucket.
type preBucket struct {
	matched []int32 // entries that matched, in order
	late    []int32 // deferred entries the prefilter selected, in order
}

func (b *preBucket) reset() { b.matched, b.late = b.matched[:0], b.late[:0] }

// LatePlan says which entries of each bucket read one of a set of late
// fields. Like the Ruleset it is immutable and shared by every goroutine.
type LatePlan struct {
	late     []event.FieldID
	deferred []deferredSet // by bucket.id
}

type deferredSet struct {
	n    int      // deferred entries
	bits []uint64 // the deferred entries
	// the deferred entries whose prefilter needles include a late field or
	// a keyword, which Pre's prefilter cannot rule out
	always []uint64
}

// PlanLate prepares split matching for a caller that may set the late
// fields on events between Pre and Finish. With Options.Debug, Finish
// re-evaluates each matching rule on the event for its details, as Match
// does.
func (rs *Ruleset) PlanLate(late []event.FieldID) *LatePlan {
	isLate := make([]bool, event.NumFields())
	for _, id := range late {
		isLate[id] = true
	}
	p := &LatePlan{late: late, deferred: make([]deferredSet, rs.router.nBuckets)}
	rs.router.eachBucket(func(b *bucket) { p.deferred[b.id] = deferredIn(b, isLate) })
	return p
}

func deferredIn(b *bucket, isLate []bool) deferredSet {
	var d deferredSet
	words := (len(b.entries) + 63) / 64
	for i := range b.entries {
		e := &b.entries[i]
		if !e.readsLate(isLate) {
			continue
		}
		if d.n == 0 {
			d.bits, d.always = make([]uint64, words), make([]uint64, words)
		}
		d.n++
		d.bits[i>>6] |= 1 << (i & 63)
		if b.pf == nil || !clausesEarly(ruleClauses(e.rule.conds, e.rule.searches), isLate) {
			d.always[i>>6] |= 1 << (i & 63)
		}
	}
	return d
}

// readsLate reports whether evaluating the entry may read a late field.
func (e *entry) readsLate(isLate []bool) bool {
	late := false
	check := func(f fieldRef) {
		switch f.kind {
		case fkKeyword:
			late = true
		case fkSchema:
			late = late || isLate[f.id]
		}
	}
	e.rule.visitFields(check)
	for _, g := range e.guard {
		g.visitFields(check)
	}
	return late
}

// clausesEarly reports whether the prefilter decides on early fields only
// (no clause: the entry is a candidate on every event).
func clausesEarly(cl []needleSet, isLate []bool) bool {
	for _, ns := range cl {
		for _, n := range ns.items {
			if n.field.kind == fkKeyword || n.field.kind == fkSchema && isLate[n.field.id] {
				return false
			}
		}
	}
	return true
}

// lateMask has bit j set when late field j is present on ev; beyond 64
// late fields, the high bit stands for "any of the rest".
func (p *LatePlan) lateMask(ev *event.Event) uint64 {
	var m uint64
	for j, id := range p.late {
		if ev.Has(id) {
			m |= 1 << min(j, 63)
		}
	}
	return m
}

// Deferred is the number of entries (over all buckets) that read a late
// field.
func (p *LatePlan) Deferred() int {
	n := 0
	for _, d := range p.deferred {
		n += d.n
	}
	return n
}

// Pre evaluates the rules on ev as it is, into p, for Finish under plan
// (a plan of m's Ruleset). It uses m's scratch only (not its correlation
// state), so the Matcher of any goroutine may run it.
func (m *Matcher) Pre(plan *LatePlan, ev *event.Event, p *Pre) {
	p.plan = plan
	p.main.reset()
	p.view.reset()
	p.lateMask = plan.lateMask(ev)
	b, vb := m.rs.buckets(ev)
	p.rs, p.b, p.vb = m.rs, b, vb
	if b != nil {
		m.preBucket(plan, m.ctx, b, ev, &p.main)
	}
	if vb != nil {
		auditView(vb.kind, ev, m.viewEv)
		m.preBucket(plan, m.vctx, &vb.bucket, m.viewEv, &p.view)
	}
}

func (m *Matcher) preBucket(plan *LatePlan, c *evalCtx, b *bucket, ev *event.Event, p *preBucket) {
	d := &plan.deferred[b.id]
	cand := b.scan(c, ev)
	n := len(b.entries)
	observed := m.obs != nil // checked once per event, not per rule
	for i := cand.next(0, n); i < n; i = cand.next(i+1, n) {
		if d.n > 0 && d.bits[i>>6]&(1<<(i&63)) != 0 {
			p.late = append(p.late, int32(i))
		}
		e := &b.entries[i]
		if observed && m.observeEntry(c, e, true) || !observed && matchEntry(c, e) {
			p.matched = append(p.matched, int32(i))
		}
	}
}

// Finish completes the matching of ev that Pre began (on any Matcher of
// the same Ruleset) and appends what Match would append now: call it in
// event order. A Pre that never ran matches ev in full.
func (m *Matcher) Finish(ev *event.Event, p *Pre, out []Match) []Match {
	plan := p.plan
	if plan == nil {
		return m.Match(ev, out)
	}
	changed := plan.lateMask(ev) != p.lateMask
	b, vb := p.b, p.vb
	if p.rs != m.rs {
		b, vb = m.rs.buckets(ev)
	}
	if b != nil {
		out = m.finishBucket(plan, m.ctx, b, ev, &p.main, changed, out)
	}
	if vb != nil {
		auditView(vb.kind, ev, m.viewEv)
		out = m.finishBucket(plan, m.vctx, &vb.bucket, m.viewEv, &p.view, changed, out)
	}
	return out
}

// finishBucket reports the bucket's matches in entry order (the order Match
// reports in). When late fields were added, the deferred entries are
// evaluated again instead of taken from Pre.
func (m *Matcher) finishBucket(plan *LatePlan, c *evalCtx, b *bucket, ev *event.Event, p *preBucket, changed bool, out []Match) []Match {
	d := &plan.deferred[b.id]
	if !changed || d.n == 0 {
		if len(p.matched) == 0 {
			return out
		}
		c.reset(ev)
		for _, i := range p.matched {
			out = m.report(c, &b.entries[i], ev, out)
		}
		return out
	}
	// the deferred entries to evaluate: Pre's candidates and those whose
	// needles on late fields (or keyword needles) occur in the late fields
	// now, in order. Early fields did not change since Pre, so an entry
	// with an early needle hit is among Pre's candidates; without a
	// prefilter every deferred entry is evaluated.
	c.reset(ev)
	var hits []uint64
	if b.pf != nil {
		hits = b.pf.scanLate(c, plan.late)
	}
	again := m.again[:0]
	late := p.late
	for w, word := range d.always {
		if hits != nil {
			word &= hits[w]
		}
		for word != 0 {
			i := int32(w*64 + bits.TrailingZeros64(word))
			word &= word - 1
			for len(late) > 0 && late[0] < i {
				again, late = append(again, late[0]), late[1:]
			}
			if len(late) > 0 && late[0] == i {
				late = late[1:]
			}
			again = append(again, i)
		}
	}
	again = append(again, late...)
	m.again = again
	matched := p.matched
	for len(matched) > 0 || len(again) > 0 {
		var i int32
		if len(again) == 0 || len(matched) > 0 && matched[0] < again[0] {
			i, matched = matched[0], matched[1:]
			if d.bits[i>>6]&(1<<(i&63)) != 0 {
				continue // deferred: decided below, on the event as it is now
			}
		} else {
			i, again = again[0], again[1:]
			if !m.evalEntry(c, &b.entries[i]) {
				continue
			}
		}
		out = m.report(c, &b.entries[i], ev, out)
	}
	return out
}

// eachBucket calls fn once for every bucket, audit views included, in a
// fixed order (flatten numbers the buckets in it).
func (r *router) eachBucket(fn func(*bucket)) {
	seen := map[*bucket]bool{}
	visit := func(b *bucket) {
		if b != nil && !seen[b] {
			seen[b] = true
			fn(b)
		}
	}
	for _, cr := range r.routes() {
		for _, b := range mapValues(cr.byEID) {
			visit(b)
		}
		visit(cr.other)
	}
	for _, v := range r.secViews {
		visit(&v.vb.bucket)
	}
}
