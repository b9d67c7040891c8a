package sigma

import (
	"math"
	"slices"
)

// RuleObserver watches a Matcher's evaluation loop, for per-rule cost
// (edr bench). It is off by default: a Matcher without one checks for it
// once per event and bucket and never reads a clock.
//
// The Matcher reads time only through Now, so the detection core itself
// never reads the clock and an observer may count without timing (Now
// returning 0) or use a fake clock in tests.
type RuleObserver interface {
	// Now returns a monotonic time in nanoseconds.
	Now() int64
	// Candidate: the prefilter selected r for an event (without a
	// prefilter, every rule routed to the event is a candidate).
	Candidate(r *Rule)
	// Evaluated: r's detection (guards, conditions, filters) was evaluated
	// once on an event, taking nanos. Split evaluation (Pre, then Finish)
	// evaluates a rule over late fields a second time when they changed.
	Evaluated(r *Rule, nanos int64)
	// Matched: r held on an event and was reported (once per event, also
	// under split evaluation; a rule that only feeds a correlation counts).
	Matched(r *Rule)
}

// observeEntry evaluates e, telling m's observer. candidate says whether
// the prefilter selected e for this event.
func (m *Matcher) observeEntry(c *evalCtx, e *entry, candidate bool) bool {
	o := m.obs
	if candidate {
		o.Candidate(e.rule)
	}
	t0 := o.Now()
	ok := matchEntry(c, e)
	o.Evaluated(e.rule, o.Now()-t0)
	return ok
}

// evalEntry is matchEntry, observed when m has an observer (for the rare
// evaluations outside the candidate loops).
func (m *Matcher) evalEntry(c *evalCtx, e *entry) bool {
	if m.obs != nil {
		return m.observeEntry(c, e, false)
	}
	return matchEntry(c, e)
}

// RuleStats are one rule's counters in RuleCounters.
type RuleStats struct {
	Candidates uint64 // events the prefilter selected the rule for
	Evaluated  uint64 // evaluations of its detection
	Matched    uint64 // events it matched
	Nanos      int64  // time spent evaluating it
}

// CorrectedNanos is Nanos less overhead nanoseconds per evaluation (the
// clock's own cost inside each timed span, see CalibrateOverhead), never
// below 0: what the evaluations themselves took.
func (s RuleStats) CorrectedNanos(overhead float64) int64 {
	return max(0, s.Nanos-int64(math.Round(overhead*float64(s.Evaluated))))
}

// RuleCounters is a RuleObserver that sums RuleStats per rule. It is not
// safe for concurrent use: give each Matcher its own and Add them up.
type RuleCounters struct {
	// Clock returns monotonic nanoseconds; nil counts without timing.
	Clock func() int64
	stats map[*Rule]*RuleStats
}

// NewRuleCounters returns empty counters timed by clock (nil: untimed).
func NewRuleCounters(clock func() int64) *RuleCounters {
	return &RuleCounters{Clock: clock, stats: map[*Rule]*RuleStats{}}
}

func (rc *RuleCounters) of(r *Rule) *RuleStats {
	s := rc.stats[r]
	if s == nil {
		s = &RuleStats{}
		rc.stats[r] = s
	}
	return s
}

// Now implements RuleObserver.
func (rc *RuleCounters) Now() int64 {
	if rc.Clock == nil {
		return 0
	}
	return rc.Clock()
}

// Candidate implements RuleObserver.
func (rc *RuleCounters) Candidate(r *Rule) { rc.of(r).Candidates++ }

// Evaluated implements RuleObserver.
func (rc *RuleCounters) Evaluated(r *Rule, nanos int64) {
	s := rc.of(r)
	s.Evaluated++
	s.Nanos += nanos
}

// Matched implements RuleObserver.
func (rc *RuleCounters) Matched(r *Rule) { rc.of(r).Matched++ }

// Stats returns r's counters (zero when it was never a candidate).
func (rc *RuleCounters) Stats(r *Rule) RuleStats {
	if s := rc.stats[r]; s != nil {
		return *s
	}
	return RuleStats{}
}

// Add adds other's counters to rc (to sum the Matchers of several
// goroutines).
func (rc *RuleCounters) Add(other *RuleCounters) {
	for r, s := range other.stats {
		t := rc.of(r)
		t.Candidates += s.Candidates
		t.Evaluated += s.Evaluated
		t.Matched += s.Matched
		t.Nanos += s.Nanos
	}
}

// CalibrateOverhead returns the nanoseconds one timed evaluation span
// measures when the evaluation itself costs nothing: observeEntry's clock
// reads (and the calls around them) fall inside its span, so a cheap rule
// would otherwise look costly. It times batches of spans empty spans
// through rc's clock and the RuleObserver calls observeEntry makes and
// returns the median over the batches of the mean span, so a batch a
// preemption or GC stretched does not count. rc's counters are left as
// they were. An untimed rc (nil Clock) has no overhead.
func (rc *RuleCounters) CalibrateOverhead(batches, spans int) float64 {
	if rc.Clock == nil || batches <= 0 || spans <= 0 {
		return 0
	}
	probe := &Rule{Title: "clock calibration"}
	defer delete(rc.stats, probe)
	means := make([]float64, batches)
	for i := range means {
		delete(rc.stats, probe)
		emptySpans(rc, probe, spans)
		means[i] = float64(rc.stats[probe].Nanos) / float64(spans)
	}
	slices.Sort(means)
	if batches%2 == 1 {
		return means[batches/2]
	}
	return (means[batches/2-1] + means[batches/2]) / 2
}

// emptySpans is observeEntry's timing with nothing between the reads, called
// through the interface as there (noinline: devirtualizing the calls would
// make them cheaper than in the loop it calibrates).
//
//go:noinline
func emptySpans(o RuleObserver, r *Rule, n int) {
	for range n {
		t0 := o.Now()
		o.Evaluated(r, o.Now()-t0)
	}
}
