package detect

import (
	"slices"

	"github.com/edr-lab/edr/detect/sigma"
	"github.com/edr-lab/edr/detect/state"
	"github.com/edr-lab/edr/event"
)

// Sigma evaluation is most of the engine's work, and all of it but the
// correlations and the rules that read enrichment fields is a pure
// function of the event as recorded. A caller with spare cores (pipeline)
// runs that part ahead of the engine, on other goroutines, with a
// Prematcher per goroutine, and hands the results to ProcessPrematched in
// event order, which completes the matching (sigma.Matcher.Finish) after
// the state stage and enrichment. The alerts are the ones Process gives, in
// the same order.

//
// Matchers whose hits depend on the recorded event only (earlyMatcher: IOC
// lists, which read no enrichment field and no state) match wholly in the
// workers; ProcessPrematched appends their hits where Process would have.

// Prematched is the early matching of one event, one entry per matcher.
type Prematched struct {
	sigma  []sigma.Pre
	hits   [][]Hit // by matcher index: the hits of an early matcher
	ahead  bool    // an Enricher filled the enrichment fields
	filled uint16  // which (bits of Engine.enrich)

	// started is the process the event started in the Enricher's table
	// (valid when hasStart; state.ProcessTable.ObserveShared): the
	// engine's table, whose history is the same, holds it too instead of
	// building its own.
	started  *state.Process
	hasStart bool
}

// Prematcher runs the early part of matching on one goroutine.
type Prematcher struct {
	plans   []*sigma.LatePlan // the engine's, by matcher index
	workers []*sigma.Matcher  // by matcher index; nil: matched in Process
	early   []earlyMatch      // by matcher index; nil: not an early matcher
}

// earlyMatcher is a Matcher whose hits are a function of the recorded
// event alone: it reads no state and none of the fields the engine adds
// while rules run. Such a matcher runs in the prematch workers.
type earlyMatcher interface {
	Matcher
	// early returns a match function for one goroutine (its own scratch).
	early() earlyMatch
}

type earlyMatch func(ev *event.Event, out []Hit) []Hit

// splitMatchers prepares split matching for every Sigma matcher, against
// the enrichment fields this engine fills.
func (e *Engine) splitMatchers() {
	late := make([]event.FieldID, len(e.enrich))
	for i, f := range e.enrich {
		late[i] = f.id
	}
	e.splits = make([]*sigma.LatePlan, len(e.opts.Matchers))
	e.early = make([]bool, len(e.opts.Matchers))
	for i, m := range e.opts.Matchers {
		switch m := m.(type) {
		case *SigmaMatcher:
			e.splits[i] = m.rs.PlanLate(late)
		case earlyMatcher:
			// Only while it reads none of the enrichment fields: those
			// exist only on the engine's goroutine.
			fu, ok := m.(FieldUser)
			e.early[i] = ok && !slices.ContainsFunc(late, fu.UsesField)
		}
	}
}

// CanPrematch reports whether some matcher matches early (otherwise
// ProcessPrematched gains nothing over ProcessBatch).
func (e *Engine) CanPrematch() bool {
	return slices.ContainsFunc(e.splits, func(s *sigma.LatePlan) bool { return s != nil }) || slices.Contains(e.early, true)
}

// NewPrematcher returns a Prematcher for one goroutine, or nil when the
// engine cannot prematch.
func (e *Engine) NewPrematcher() *Prematcher {
	if !e.CanPrematch() {
		return nil
	}
	p := &Prematcher{plans: e.splits, workers: make([]*sigma.Matcher, len(e.splits)), early: make([]earlyMatch, len(e.splits))}
	for i, s := range e.splits {
		if s != nil {
			p.workers[i] = e.opts.Matchers[i].(*SigmaMatcher).rs.NewMatcher()
		}
		if e.early[i] {
			p.early[i] = e.opts.Matchers[i].(earlyMatcher).early()
		}
	}
	return p
}

// SetObserver reports every rule evaluation of p's Sigma evaluators to o
// (nil: stop), for per-rule cost (edr bench); see sigma.RuleObserver. p
// calls o only from the goroutine that runs it.
func (p *Prematcher) SetObserver(o sigma.RuleObserver) {
	for _, w := range p.workers {
		if w != nil {
			w.SetObserver(o)
		}
	}
}

// Run matches evs early into out (resized to len(evs), storage reused).
// It only reads the events.
func (p *Prematcher) Run(evs []event.Event, out []Prematched) []Prematched {
	out = sized(out, len(evs))
	for j := range evs {
		pm := &out[j]
		if len(pm.sigma) != len(p.workers) {
			pm.sigma = make([]sigma.Pre, len(p.workers))
			pm.hits = make([][]Hit, len(p.workers))
		}
		for i, w := range p.workers {
			if w != nil {
				w.Pre(p.plans[i], &evs[j], &pm.sigma[i])
			} else if m := p.early[i]; m != nil {
				pm.hits[i] = m(&evs[j], pm.hits[i][:0])
			}
		}
	}
	return out
}

// ProcessPrematched is ProcessBatch for events a Prematcher of this engine
// has run over (pre[i] belongs to evs[i]).
func (e *Engine) ProcessPrematched(evs []event.Event, pre []Prematched) error {
	for i := range evs {
		if err := e.process(&evs[i], &pre[i]); err != nil {
			return err
		}
	}
	return nil
}

// Rules over enrichment fields (enrich.go) need the process table as it
// stands at their event. Instead of matching them late on the engine's
// goroutine (sigma.LatePlan: every rule that could read such a field
// evaluated again once they are filled), an Enricher keeps a state of its
// own that sees the same events in the same order as the engine's, and
// fills the fields before the prematch workers run: they then match the
// event as Process would, and the engine only removes the fields again
// before it emits alerts. The state is kept twice (the engine's serves
// alert context at emit time, which runs behind), which costs less than
// evaluating rules twice; the processes are built and held once: the
// engine's table holds each one the Enricher's table started
// (Prematched.started, state.ProcessTable.ObserveShared and ObserveStarted)
// instead of reading the event again.

// Enricher fills enrichment fields ahead of the prematch workers, on one
// goroutine, in event order.
type Enricher struct {
	enr enricher
}

// NewEnricher returns the engine's Enricher, or nil when no rule reads an
// enrichment field, when the engine cannot prematch, or when its state
// and the Enricher's could differ: it is given out once, before any event
// is processed without it (ObserveState and RestoreState keep both). A
// caller that gets one must run it over every event it processes, before
// Prematcher.Run, and hand its results to ProcessPrematched.
func (e *Engine) NewEnricher() *Enricher {
	if e.ahead == nil || !e.aheadSynced || e.aheadTaken {
		return nil
	}
	e.aheadTaken = true
	return &Enricher{enr: enricher{st: e.ahead, fields: e.enrich}}
}

// Enrich observes evs in the Enricher's state and fills their enrichment
// fields, recording them in out (resized to len(evs), storage reused;
// Prematcher.Run keeps what Enrich recorded). The fields stay on the
// events until ProcessPrematched removes them.
func (n *Enricher) Enrich(evs []event.Event, out []Prematched) []Prematched {
	out = sized(out, len(evs))
	for j := range evs {
		pm := &out[j]
		// Enrichment reads no DNS answer. The engine's table holds the
		// process started as the mirror does (shared, never changed), not
		// a copy: one Process per running process, not two.
		pm.started = n.enr.st.Procs.ObserveShared(&evs[j])
		pm.hasStart = pm.started != nil
		n.enr.fill(&evs[j])
		pm.ahead, pm.filled = true, n.enr.mask
	}
	return out
}

// sized resizes out to n entries, keeping its storage and entries.
func sized(out []Prematched, n int) []Prematched {
	if cap(out) < n {
		out = append(out[:cap(out)], make([]Prematched, n-cap(out))...)
	}
	return out[:n]
}
