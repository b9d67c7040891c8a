package sigma

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
