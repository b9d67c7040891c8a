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
//   - SplitWorker.Pre, on any goroutine, evaluates every rule on the event
//     as recorded, as Match does, and notes which late fields it carried
//     and which candidate entries read a late field ("deferred");
//   - Split.Finish, in event order, reports the matches exactly as Match
//     reports them (same matches, same order, correlations fed in the same
//     order). When the caller added late fields since Pre, it evaluates
//     the deferred entries again on the event as it is now: those the
//     prefilter selected in Pre, and those whose prefilter needles lie on
//     late fields or are keywords (Pre's prefilter could not see them).
//
// Finish(ev, Pre(ev)) therefore returns what Match(ev) returns, provided
// the caller only adds late fields between the two (the engine never
// changes a field the event already has).

// Pre is the result of SplitWorker.Pre for one event.
type Pre struct {
	main, view preBucket
	lateMask   uint64 // late fields present at Pre
}

// preBucket is Pre's result for one bucket.
type preBucket struct {
	matched []int32 // entries that matched, in order
	late    []int32 // deferred entries the prefilter selected, in order
}

func (b *preBucket) reset() { b.matched, b.late = b.matched[:0], b.late[:0] }

// Split holds which entries of each bucket read a late field. Finish uses
// the ruleset's own scratch and correlation state; workers have their own.
type Split struct {
	rs       *Ruleset
	late     []event.FieldID
	deferred map[*bucket]deferredSet
	scratch  []int32
}

type deferredSet struct {
	n    int      // deferred entries
	bits []uint64 // the deferred entries
	// the deferred entries whose prefilter needles include a late field or
	// a keyword, which Pre's prefilter cannot rule out
	always []uint64
}

// Split prepares split matching for a caller that may set the late fields
// on events between Pre and Finish. With Options.Debug, Finish re-evaluates
// each matching rule on the event for its details, as Match does.
func (rs *Ruleset) Split(late []event.FieldID) *Split {
	isLate := make([]bool, event.NumFields())
	for _, id := range late {
		isLate[id] = true
	}
	s := &Split{rs: rs, late: late, deferred: map[*bucket]deferredSet{}}
	rs.router.eachBucket(func(b *bucket) { s.deferred[b] = deferredIn(b, isLate) })
	return s
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
		if b.pf == nil || !needlesEarly(ruleNeedles(e.rule.conds, e.rule.searches), isLate) {
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

// needlesEarly reports whether the prefilter decides on early fields only
// (ns.top: the entry is a candidate on every event).
func needlesEarly(ns needleSet, isLate []bool) bool {
	if ns.top {
		return true
	}
	for _, n := range ns.items {
		if n.field.kind == fkKeyword || n.field.kind == fkSchema && isLate[n.field.id] {
			return false
		}
	}
	return true
}

// lateMask has bit j set when late field j is present on ev; beyond 64
// late fields, the high bit stands for "any of the rest".
func (s *Split) lateMask(ev *event.Event) uint64 {
	var m uint64
	for j, id := range s.late {
		if ev.Has(id) {
			m |= 1 << min(j, 63)
		}
	}
	return m
}

// Deferred is the number of entries (over all buckets) that read a late
// field.
func (s *Split) Deferred() int {
	n := 0
	for _, d := range s.deferred {
		n += d.n
	}
	return n
}

// SplitWorker evaluates Pre on one goroutine.
type SplitWorker struct {
	s  *Split
	rs *Ruleset // a clone: own scratch
}

// NewWorker returns a worker for one goroutine.
func (s *Split) NewWorker() *SplitWorker { return &SplitWorker{s: s, rs: s.rs.Clone()} }

// Pre evaluates the rules on ev as it is, into p.
func (w *SplitWorker) Pre(ev *event.Event, p *Pre) {
	p.main.reset()
	p.view.reset()
	p.lateMask = w.s.lateMask(ev)
	rs := w.rs
	b, vb := rs.buckets(ev)
	if b != nil {
		w.preBucket(rs.ctx, b, ev, &p.main)
	}
	if vb != nil {
		auditView(vb.kind, ev, rs.viewEv)
		w.preBucket(rs.vctx, &vb.bucket, rs.viewEv, &p.view)
	}
}

func (w *SplitWorker) preBucket(c *evalCtx, b *bucket, ev *event.Event, p *preBucket) {
	d := w.s.deferred[b]
	c.reset(ev)
	var cand *candidates
	if b.pf != nil {
		cand = b.pf.scan(c)
	}
	n := len(b.entries)
	for i := cand.next(0, n); i < n; i = cand.next(i+1, n) {
		if d.n > 0 && d.bits[i>>6]&(1<<(i&63)) != 0 {
			p.late = append(p.late, int32(i))
		}
		if w.rs.matchEntry(c, &b.entries[i]) {
			p.matched = append(p.matched, int32(i))
		}
	}
}

// Finish completes the matching of ev that Pre began and appends what
// Match would append now: call it in event order.
func (s *Split) Finish(ev *event.Event, p *Pre, out []Match) []Match {
	rs := s.rs
	changed := s.lateMask(ev) != p.lateMask
	b, vb := rs.buckets(ev)
	if b != nil {
		out = s.finishBucket(rs.ctx, b, ev, &p.main, changed, out)
	}
	if vb != nil {
		auditView(vb.kind, ev, rs.viewEv)
		out = s.finishBucket(rs.vctx, &vb.bucket, rs.viewEv, &p.view, changed, out)
	}
	return out
}

// finishBucket reports the bucket's matches in entry order (the order Match
// reports in). When late fields were added, the deferred entries are
// evaluated again instead of taken from Pre.
func (s *Split) finishBucket(c *evalCtx, b *bucket, ev *event.Event, p *preBucket, changed bool, out []Match) []Match {
	d := s.deferred[b]
	if !changed || d.n == 0 {
		if len(p.matched) == 0 {
			return out
		}
		c.reset(ev)
		for _, i := range p.matched {
			out = s.rs.report(c, &b.entries[i], ev, out)
		}
		return out
	}
	// the deferred entries to evaluate: Pre's candidates and the ones the
	// prefilter cannot judge, in order
	again := s.scratch[:0]
	late := p.late
	for w, word := range d.always {
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
	s.scratch = again
	c.reset(ev)
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
			if !s.rs.matchEntry(c, &b.entries[i]) {
				continue
			}
		}
		out = s.rs.report(c, &b.entries[i], ev, out)
	}
	return out
}

// Flush is Ruleset.Flush of the ruleset Finish runs on.
func (s *Split) Flush(out []Match) []Match { return s.rs.Flush(out) }

// eachBucket calls fn once for every bucket, audit views included, in no
// particular order (callers only fill per-bucket tables).
func (r *router) eachBucket(fn func(*bucket)) {
	seen := map[*bucket]bool{}
	visit := func(b *bucket) {
		if b != nil && !seen[b] {
			seen[b] = true
			fn(b)
		}
	}
	routes := []*chanRoute{r.anyChan}
	for _, cr := range r.channels {
		routes = append(routes, cr)
	}
	for _, cr := range routes {
		if cr == nil {
			continue
		}
		for _, b := range cr.byEID {
			visit(b)
		}
		visit(cr.other)
	}
	for _, vb := range r.views {
		visit(&vb.bucket)
	}
}
