// Package detect is edr's detection core: one Engine that takes ordered
// events, runs every rule engine (Sigma, IOC, YARA on process images) and
// emits alerts, with the state alerts need (detect/state: process table,
// DNS answers) driven by event time only. Sinks encode the alerts
// (detect/ecs: ECS NDJSON, console text) through an Encoder. The same Engine serves live capture, replay,
// `edr test` and `edr bench`; nothing in it reads the wall clock, the live
// OS or map iteration order, so a replay reproduces the live verdicts.
package detect

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/edr-lab/edr/detect/sigma"
	"github.com/edr-lab/edr/detect/state"
	"github.com/edr-lab/edr/event"
)

// AlertSink receives every alert the engine emits, synchronously and in
// emission order. It must not retain a or a.Event after returning (the
// event belongs to a reused batch); encode what it needs during the call.
// An error stops the engine's caller: alerts are never dropped silently.
type AlertSink interface {
	Alert(a *Alert) error
}

// FileScanner inspects the executable of a process-start event (YARA, hash
// IOCs) and appends a Hit per matching rule. The engine calls it
// synchronously, so replay (which reads the recording's artifact store)
// gives the same verdicts on every run.
type FileScanner interface {
	ScanProcess(ev *event.Event, out []Hit) []Hit
}

// Options configure an Engine. Zero values select the defaults.
type Options struct {
	Matchers   []Matcher   // rule engines, run in this order on every event
	Files      FileScanner // optional process-image scanner
	Sink       AlertSink   // required
	MatchDebug MatchDebug
	Replayed   bool // alerts are marked edr.replayed

	MaxProcesses  int           // process table bound (default 65536)
	ProcessTTL    time.Duration // how long exited processes are kept, event time (default 10m)
	MaxDNS        int           // DNS cache bound (default 20000)
	DNSTTL        time.Duration // DNS answer lifetime, event time (default 15m)
	AncestorDepth int           // ancestors beyond the parent in alerts (default 4)
	// SharedProcesses, when set, shares the process table's processes with
	// other tables that see the same events (state.Shared: edr live's).
	SharedProcesses *state.Shared
}

// Engine runs rule engines over ordered events and emits alerts. It is not
// safe for concurrent use: events must arrive in (time, host, seq) order
// from one goroutine.
type Engine struct {
	opts Options
	st   *state.State // process table and DNS answers

	enrich []enrichField // enrichment fields some rule reads
	enr    enricher      // fills them from st

	// ahead mirrors st's process table (all enrichment reads) for an
	// Enricher (prematch.go): it sees every event
	// st sees until an event is processed without the Enricher.
	ahead       *state.State
	aheadSynced bool
	aheadTaken  bool

	splits []*sigma.LatePlan // by matcher: split Sigma matching (prematch.go)
	early  []bool            // by matcher: matched wholly by the Prematchers
	hits   []Hit

	lastTime int64 // event time of the last event, for Flush
	lastHost string

	alert Alert            // reused by emit
	anc   []*state.Process // storage of alert.Ancestors

	stats    Stats
	perRule  map[*Rule]uint64
	ruleList []*Rule // first-seen order, for deterministic reporting
}

// Stats are the engine's counters. The engine never reads the clock: stage
// times are measured around it (pipeline.Observer).
type Stats struct {
	Events         uint64
	Alerts         uint64
	AlertsBySev    map[Severity]uint64
	HitsByEngine   []EngineCount
	EnrichedEvents uint64 // events that got enrichment fields for evaluation
	Processes      int    // process table size
	ProcEvicted    uint64
	ProcExpired    uint64
	DNSEntries     int
	DNSEvicted     uint64
	StateEvents    uint64 // events applied to the state only (ObserveState)
	StateRestored  int    // non-empty snapshots restored (RestoreState)
}

// EngineCount counts the hits of one matcher.
type EngineCount struct {
	Name string
	Hits uint64
}

// RuleCount is the number of alerts of one rule.
type RuleCount struct {
	Rule  *Rule
	Count uint64
}

// New builds an engine.
func New(opts Options) (*Engine, error) {
	if opts.Sink == nil {
		return nil, errors.New("detect: no alert sink")
	}
	if opts.AncestorDepth <= 0 {
		opts.AncestorDepth = 4
	}
	e := &Engine{
		opts:    opts,
		st:      state.New(opts.stateOptions()),
		perRule: map[*Rule]uint64{},
	}
	e.stats.AlertsBySev = map[Severity]uint64{}
	for _, m := range opts.Matchers {
		e.stats.HitsByEngine = append(e.stats.HitsByEngine, EngineCount{Name: m.Name()})
	}
	if opts.Files != nil {
		e.stats.HitsByEngine = append(e.stats.HitsByEngine, EngineCount{Name: "files"})
	}
	e.enrich = neededEnrichment(opts.Matchers)
	e.enr = enricher{st: e.st, fields: e.enrich}
	e.splitMatchers()
	if len(e.enrich) > 0 && slices.ContainsFunc(e.splits, func(s *sigma.LatePlan) bool { return s != nil }) {
		e.ahead, e.aheadSynced = state.New(e.stateOptions()), true
	}
	return e, nil
}

func (o *Options) stateOptions() state.Options {
	return state.Options{MaxProcesses: o.MaxProcesses, ProcessTTL: o.ProcessTTL, MaxDNS: o.MaxDNS, DNSTTL: o.DNSTTL, Shared: o.SharedProcesses}
}

func (e *Engine) stateOptions() state.Options { return e.opts.stateOptions() }

// Processes exposes the process table (read-only use: tests, bench).
func (e *Engine) Processes() *state.ProcessTable { return e.st.Procs }

// ProcessBatch runs Process over a batch in order.
func (e *Engine) ProcessBatch(evs []event.Event) error {
	for i := range evs {
		if err := e.Process(&evs[i]); err != nil {
			return err
		}
	}
	return nil
}

// ObserveState updates the state alerts read — process table, DNS
// answers — from one event, without running any rule or emitting anything.
// Replay uses it to bring a restored snapshot forward to the replay's start
// time; events must come in the order Process would get them.
func (e *Engine) ObserveState(ev *event.Event) {
	e.stats.StateEvents++
	if e.ahead != nil {
		// The mirror builds a started process once, the engine's table
		// holds it too (as with an Enricher: process).
		e.st.ObserveStarted(ev, e.ahead.Procs.ObserveShared(ev))
		return
	}
	e.st.Observe(ev)
}

// ObserveStateBatch runs ObserveState over a batch in order.
func (e *Engine) ObserveStateBatch(evs []event.Event) error {
	for i := range evs {
		e.ObserveState(&evs[i])
	}
	return nil
}

// Process runs every rule engine on one event and emits an alert for every
// hit. The event is read, temporarily extended with enrichment fields while
// the rules run, and restored before Process returns.
func (e *Engine) Process(ev *event.Event) error { return e.process(ev, nil) }

// process is Process, with the early Sigma matching already done when pre
// is set.
func (e *Engine) process(ev *event.Event, pre *Prematched) error {
	e.stats.Events++
	e.lastTime, e.lastHost = ev.Time, ev.Host
	if pre != nil && pre.ahead && pre.hasStart {
		e.st.ObserveStarted(ev, pre.started) // built once, by the Enricher
	} else {
		e.st.Observe(ev)
	}
	if pre != nil && pre.ahead {
		e.enr.filledBy(pre.filled) // the Enricher set them already
	} else {
		e.aheadSynced = false
		e.enr.fill(ev)
	}
	if e.enr.mask != 0 {
		e.stats.EnrichedEvents++
	}

	e.hits = e.hits[:0]
	for i, m := range e.opts.Matchers {
		n := len(e.hits)
		if s := e.splits[i]; pre != nil && s != nil {
			e.hits = m.(*SigmaMatcher).finish(ev, &pre.sigma[i], e.hits)
		} else if pre != nil && e.early[i] {
			e.hits = append(e.hits, pre.hits[i]...)
		} else {
			e.hits = m.Match(ev, e.hits)
		}
		e.ownHits(i, n)
	}
	if e.opts.Files != nil && event.RolesOf(ev).Lifecycle == event.ProcessStart {
		n := len(e.hits)
		e.hits = e.opts.Files.ScanProcess(ev, e.hits)
		e.ownHits(len(e.opts.Matchers), n)
	}
	e.enr.restore(ev)

	var err error
	for i := range e.hits {
		if err = e.emit(ev, &e.hits[i]); err != nil {
			break
		}
	}
	return err
}

// Emit reports hits found outside Process for ev — live, the results of
// the background file checks (FileMatcher.Hits on a filescan.Worker
// result), which arrive after their process-start event. The alerts get
// the same context as Process gives. Call it from the goroutine that calls
// Process; the engine does not retain ev.
func (e *Engine) Emit(ev *event.Event, hits []Hit) error {
	for i := range hits {
		if err := e.emit(ev, &hits[i]); err != nil {
			return err
		}
	}
	return nil
}

// Flush ends the stream: matchers that hold windows open (Sigma
// correlations with an upper bound) decide them. Their alerts carry the
// time and host of the last event processed, and no event data.
func (e *Engine) Flush() error {
	for i, m := range e.opts.Matchers {
		f, ok := m.(Flusher)
		if !ok {
			continue
		}
		e.hits = f.Flush(e.hits[:0])
		e.ownHits(i, 0)
		end := &event.Event{Time: e.lastTime, Host: e.lastHost}
		for j := range e.hits {
			if err := e.emit(end, &e.hits[j]); err != nil {
				return err
			}
		}
	}
	return nil
}

// ownHits counts the hits a matcher (or the file scanner) appended.
func (e *Engine) ownHits(owner, from int) {
	e.stats.HitsByEngine[owner].Hits += uint64(len(e.hits) - from)
}

// emit attaches context to a hit and hands the alert to the sink.
func (e *Engine) emit(ev *event.Event, h *Hit) error {
	if h.Rule == nil {
		return fmt.Errorf("detect: hit without rule on event %s/%d seq %d", ev.Channel, ev.EventID, ev.Seq)
	}
	sev := h.severity()
	if sev == SeverityNone {
		sev = SeverityMedium
	}
	// One Alert value reused: sinks do not retain it.
	e.alert = Alert{Event: ev, Hit: h, Severity: sev, Replayed: e.opts.Replayed, MatchDebug: e.opts.MatchDebug, Ancestors: e.anc[:0]}
	a := &e.alert
	e.attachContext(a)
	e.anc = a.Ancestors[:0] // keep the grown storage
	e.stats.Alerts++
	e.stats.AlertsBySev[sev]++
	if _, seen := e.perRule[h.Rule]; !seen {
		e.ruleList = append(e.ruleList, h.Rule)
	}
	e.perRule[h.Rule]++
	if err := e.opts.Sink.Alert(a); err != nil {
		return fmt.Errorf("alert %q on %s event %d seq %d: %w", h.Rule.Name, ev.Host, ev.EventID, ev.Seq, err)
	}
	return nil
}

// attachContext looks the acting (and target) process up in the table.
func (e *Engine) attachContext(a *Alert) {
	ev := a.Event
	roles := event.RolesOf(ev)
	guid, pid := roles.Actor.IDs(ev)
	a.Proc = e.st.Procs.Find(ev.Host, guid, pid, ev.Time)
	if a.Proc != nil {
		a.Parent = e.st.Procs.Parent(a.Proc)
		// The chain is short (AncestorDepth): a linear check finds cycles.
		seen := func(p *state.Process) bool {
			return p == a.Proc || p == a.Parent || slices.Contains(a.Ancestors, p)
		}
		for p := a.Parent; p != nil && len(a.Ancestors) < e.opts.AncestorDepth; {
			p = e.st.Procs.Parent(p)
			if p == nil || seen(p) {
				break
			}
			a.Ancestors = append(a.Ancestors, p)
		}
	}
	if tg, tp := roles.Target.IDs(ev); tg != "" || tp != "" {
		a.Target = e.st.Procs.Find(ev.Host, tg, tp, ev.Time)
		a.TargetPar = e.st.Procs.Parent(a.Target)
	}
	if ip := ev.Value(event.FDestinationIp); ip != "" {
		if h := ev.Value(event.FDestinationHost); h == "" || h == "-" {
			a.DestName = e.st.DNS.Lookup(ev.Host, ip, ev.Time)
		}
	}
}

// Stats returns a snapshot of the counters.
func (e *Engine) Stats() Stats {
	s := e.stats
	s.AlertsBySev = make(map[Severity]uint64, len(e.stats.AlertsBySev))
	for k, v := range e.stats.AlertsBySev {
		s.AlertsBySev[k] = v
	}
	s.HitsByEngine = append([]EngineCount(nil), e.stats.HitsByEngine...)
	s.Processes, s.ProcEvicted, s.ProcExpired = e.st.Procs.Len(), e.st.Procs.Evicted, e.st.Procs.Expired
	s.DNSEntries, s.DNSEvicted = e.st.DNS.Len(), e.st.DNS.Evicted
	return s
}

// SnapshotState encodes host's state as it stands for an event at time at
// (before that event is observed).
func (e *Engine) SnapshotState(host string, at int64, lim state.SnapshotLimits) []byte {
	return e.st.Snapshot(host, at, lim)
}

// RestoreState adds a snapshot's processes and DNS answers to the engine's
// state. A snapshot that does not decode changes nothing and returns an
// error wrapping state.ErrSnapshotVersion or state.ErrSnapshotCorrupt.
func (e *Engine) RestoreState(data []byte) error {
	nonEmpty, err := e.st.Restore(data)
	if e.ahead != nil && err == nil {
		e.ahead.Restore(data)
	}
	if nonEmpty {
		e.stats.StateRestored++
	}
	return err
}

// RuleCounts returns the alerts per rule, most frequent first, ties by
// engine, name and id, so reports are deterministic.
func (e *Engine) RuleCounts() []RuleCount {
	out := make([]RuleCount, 0, len(e.ruleList))
	for _, r := range e.ruleList {
		out = append(out, RuleCount{r, e.perRule[r]})
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Count != b.Count {
			return a.Count > b.Count
		}
		if a.Rule.Engine != b.Rule.Engine {
			return a.Rule.Engine < b.Rule.Engine
		}
		if a.Rule.Name != b.Rule.Name {
			return a.Rule.Name < b.Rule.Name
		}
		return a.Rule.ID < b.Rule.ID
	})
	return out
}
