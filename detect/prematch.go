package detect

import (
	"slices"

	"github.com/edr-lab/edr/detect/sigma"
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

// Prematched is the early matching of one event, one entry per matcher.
type Prematched struct {
	sigma []sigma.Pre
}

// Prematcher runs the early part of matching on one goroutine.
type Prematcher struct {
	plans   []*sigma.LatePlan // the engine's, by matcher index
	workers []*sigma.Matcher  // by matcher index; nil: matched in Process
}

// splitMatchers prepares split matching for every Sigma matcher, against
// the enrichment fields this engine fills.
func (e *Engine) splitMatchers() {
	late := make([]event.FieldID, len(e.enrich))
	for i, f := range e.enrich {
		late[i] = f.id
	}
	e.splits = make([]*sigma.LatePlan, len(e.opts.Matchers))
	for i, m := range e.opts.Matchers {
		if sm, ok := m.(*SigmaMatcher); ok {
			e.splits[i] = sm.rs.PlanLate(late)
		}
	}
}

// CanPrematch reports whether some matcher matches early (otherwise
// ProcessPrematched gains nothing over ProcessBatch).
func (e *Engine) CanPrematch() bool {
	return slices.ContainsFunc(e.splits, func(s *sigma.LatePlan) bool { return s != nil })
}

// NewPrematcher returns a Prematcher for one goroutine, or nil when the
// engine cannot prematch.
func (e *Engine) NewPrematcher() *Prematcher {
	if !e.CanPrematch() {
		return nil
	}
	p := &Prematcher{plans: e.splits, workers: make([]*sigma.Matcher, len(e.splits))}
	for i, s := range e.splits {
		if s != nil {
			p.workers[i] = e.opts.Matchers[i].(*SigmaMatcher).rs.NewMatcher()
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
	if cap(out) < len(evs) {
		out = append(out[:cap(out)], make([]Prematched, len(evs)-cap(out))...)
	}
	out = out[:len(evs)]
	for j := range evs {
		pm := &out[j]
		if len(pm.sigma) != len(p.workers) {
			pm.sigma = make([]sigma.Pre, len(p.workers))
		}
		for i, w := range p.workers {
			if w != nil {
				w.Pre(p.plans[i], &evs[j], &pm.sigma[i])
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
