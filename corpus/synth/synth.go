// Package synth is edr's seeded synthetic generator of Windows telemetry.
//
// A Generator simulates a small Windows domain: a domain controller, a
// member server and workstations, each with a boot-time process tree,
// logon sessions and the background activity a real host shows (network
// connections, file writes, registry writes, image loads, DNS queries,
// process starts, logons, PowerShell script blocks, task and service
// installs), in Sysmon's and the Windows event log's exact renderings.
// Attack scenarios (see Scenarios) are embedded at a low deterministic rate.
//
// The same Options always yield the same events: the generator reads no
// clock, iterates no map and uses its own integer-only random source.
package synth

import (
	"fmt"
	"math"
	"time"

	"github.com/edr-lab/edr/event"
)

// Options configure a Generator. The zero value of a field means its default.
type Options struct {
	// Seed selects the world (hashes, addresses, names) and the event stream.
	Seed int64
	// Hosts is the number of simulated machines (default 4: dc01, srv01,
	// ws03, ws04; with fewer than 4 hosts all are workstations).
	Hosts int
	// Start is the time of the first events (default 2026-01-05 08:00:00 UTC).
	Start time.Time
	// Events is how many events Next yields before returning false; 0 means
	// unlimited.
	Events int64
	// MeanGap is the mean time between two events of one host (default 2ms,
	// i.e. 500 events/s per host).
	MeanGap time.Duration
	// ScenarioEvery is the mean number of events between two attack
	// scenarios started at random (default 50,000). In addition, when
	// Events is at least MinEventsForAllScenarios, every scenario is
	// started at least once. A negative value disables all scenarios
	// (a purely benign stream).
	ScenarioEvery int64
}

// DefaultStart is the default time of the first event.
var DefaultStart = time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC)

func (o Options) withDefaults() Options {
	if o.Hosts <= 0 {
		o.Hosts = 4
	}
	if o.Start.IsZero() {
		o.Start = DefaultStart
	}
	if o.MeanGap <= 0 {
		o.MeanGap = 2 * time.Millisecond
	}
	if o.MeanGap < time.Microsecond {
		o.MeanGap = time.Microsecond
	}
	if o.ScenarioEvery == 0 {
		o.ScenarioEvery = 50_000
	}
	return o
}

// Generator produces events; it is not safe for concurrent use.
type Generator struct {
	opt       Options
	r         rng
	cat       *catalog
	start     int64
	gapTicks  int // MeanGap in 100 ns ticks
	hosts     []*host
	heap      []*host
	n         int64
	x         expander
	utc       utcFormatter
	domainSID string
	hashPool  []string

	forced     []forcedRun // scenarios placed so that each runs at least once
	nextRandom int64       // event index of the next randomly placed scenario
	lastScen   string
	runs       []int // scenarios completed (every step emitted), by index into Scenarios()
	// pendingScen counts the scheduled scenario steps not yet emitted: the
	// part of the event budget that started scenarios have claimed.
	pendingScen int64
	// draining is set once the rest of the budget is exactly the pending
	// scenario steps: only those are emitted from then on.
	draining bool
}

type forcedRun struct {
	at   int64
	scen int
}

// New returns a Generator for the options.
func New(opt Options) *Generator {
	opt = opt.withDefaults()
	g := &Generator{opt: opt, r: newRNG(uint64(opt.Seed)), start: opt.Start.UnixNano()}
	g.gapTicks = int(opt.MeanGap / 100)
	g.cat = newCatalog(uint64(opt.Seed))
	g.domainSID = "S-1-5-21-" + event.Itoa(1_000_000_000+uint64(g.r.intn(2_000_000_000))) + "-" +
		event.Itoa(1_000_000_000+uint64(g.r.intn(2_000_000_000))) + "-" + event.Itoa(100_000_000+uint64(g.r.intn(900_000_000)))
	g.runs = make([]int, len(scenarioDefs))
	for i := 0; i < opt.Hosts; i++ {
		h := g.newHost(i)
		h.next = g.start + int64(h.r.intn(g.gapTicks))*100
		h.now = h.next - 100
		g.hosts = append(g.hosts, h)
	}
	g.heap = append(g.heap, g.hosts...)
	for i := len(g.heap)/2 - 1; i >= 0; i-- {
		g.down(i)
	}
	g.nextRandom = -1
	g.planScenarios()
	return g
}

// Next fills e (after resetting it) with the next event and reports whether
// there was one. Events come in non-decreasing time order; each host's
// events are strictly ordered by time and EventRecordID.
func (g *Generator) Next(e *event.Event) bool {
	if g.opt.Events > 0 && g.n >= g.opt.Events {
		return false
	}
	g.maybeStartScenario()
	if !g.draining && g.pendingScen > 0 && g.opt.Events-g.n == g.pendingScen {
		g.drain()
	}
	h := g.heap[0]
	e.Reset()
	g.lastScen = ""
	h.now = h.due()
	if len(h.pending) > 0 && h.pending[0].at <= h.next {
		s := h.pending[0]
		copy(h.pending, h.pending[1:])
		h.pending[len(h.pending)-1] = nil
		h.pending = h.pending[:len(h.pending)-1]
		g.runStep(h, e, s)
		if g.draining {
			h.dropBackgroundSteps() // a step may have scheduled one
		}
	} else {
		g.background(h, e)
		h.next = h.now + g.gap(h)
	}
	g.down(0)
	g.n++
	return true
}

// Emitted is the number of events Next has produced.
func (g *Generator) Emitted() int64 { return g.n }

// Scenario names the attack scenario the last event belongs to, "" for
// background activity.
func (g *Generator) Scenario() string { return g.lastScen }

// ScenarioRuns counts the scenarios whose every event has been emitted, by
// scenario name. With an event budget (Options.Events), a scenario is
// started only when all its events fit in the budget, so at the end every
// started scenario is complete and counted.
func (g *Generator) ScenarioRuns() map[string]int {
	out := make(map[string]int, len(scenarioDefs))
	for i, n := range g.runs {
		out[scenarioDefs[i].Name] = n
	}
	return out
}

// HostNames lists the simulated hosts (the Computer / partition host of
// their events) in order.
func (g *Generator) HostNames() []string {
	out := make([]string, len(g.hosts))
	for i, h := range g.hosts {
		out[i] = h.fqdn
	}
	return out
}

// gap draws the time to a host's next background event: mostly short gaps
// with occasional idle stretches, mean MeanGap, in 100 ns ticks.
func (g *Generator) gap(h *host) int64 {
	var t int
	if h.r.chance(3, 4) {
		t = h.r.intn(g.gapTicks)
	} else {
		t = h.r.intn(5 * g.gapTicks)
	}
	return int64(t+1) * 100
}

// due is when a host emits next: its next step or background event, but
// always after its previous event (100 ns, the Windows clock tick), so
// that a host's events are strictly ordered in time.
func (h *host) due() int64 {
	t := h.next
	if len(h.pending) > 0 && h.pending[0].at < t {
		t = h.pending[0].at
	}
	if t <= h.now {
		t = h.now + 100
	}
	return t
}

func (g *Generator) less(a, b *host) bool {
	da, db := a.due(), b.due()
	return da < db || da == db && a.idx < b.idx
}

func (g *Generator) down(i int) {
	n := len(g.heap)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && g.less(g.heap[r], g.heap[l]) {
			m = r
		}
		if !g.less(g.heap[m], g.heap[i]) {
			return
		}
		g.heap[i], g.heap[m] = g.heap[m], g.heap[i]
		i = m
	}
}

// emitter renders one background event of a host.
type emitter func(g *Generator, h *host, e *event.Event)

// The background mix, in 1/10,000 of events, as on real Sysmon hosts:
// network ~40 %, file 20 %, registry 15 %, image load 10 %, DNS 8 %,
// process creation 5 % (plus a Security 4688 for one in five), other 1 %.
var mix = []struct {
	weight int
	emit   emitter
}{
	{4000, (*Generator).network},
	{1750, (*Generator).fileCreate},
	{60, func(g *Generator, h *host, e *event.Event) { g.fileDelete(h, e, 23) }},
	{90, func(g *Generator, h *host, e *event.Event) { g.fileDelete(h, e, 26) }},
	{60, (*Generator).fileTime},
	{40, (*Generator).fileStream},
	{1300, (*Generator).regSet},
	{190, (*Generator).regKey},
	{10, (*Generator).regRename},
	{1000, (*Generator).imageLoad},
	{800, (*Generator).dns},
	{500, (*Generator).processCreate},
	{35, (*Generator).processTerminate},
	{15, (*Generator).processAccess},
	{8, func(g *Generator, h *host, e *event.Event) { g.pipe(h, e, 17) }},
	{7, func(g *Generator, h *host, e *event.Event) { g.pipe(h, e, 18) }},
	{12, (*Generator).logon},
	{9, (*Generator).logoff},
	{4, (*Generator).specialPrivileges},
	{2, (*Generator).logonFailure},
	{6, (*Generator).powershell},
	{1, (*Generator).benignTask},
	{1, (*Generator).benignService},
}

var mixPick = func() alias {
	w := make([]int, len(mix))
	for i, m := range mix {
		w[i] = m.weight
	}
	return newAlias(w)
}()

func (g *Generator) background(h *host, e *event.Event) {
	mix[h.r.pick(&mixPick)].emit(g, h, e)
}

// step is an event scheduled for a host at a given time: the Security
// 4688 that follows a process start, or one event of a scenario.
type step struct {
	at   int64
	kind uint8
	p    *proc
	fn   func(g *Generator, h *host, e *event.Event)
	scen int          // 1 + index into scenarioDefs, 0 for none
	run  *scenarioRun // the run a scenario step belongs to
}

const (
	stepFunc uint8 = iota
	stepSecurity4688
)

// schedule inserts s into the host's pending steps, keeping them ordered by
// time (and by insertion among equal times). A step never lies in the
// host's past.
func (h *host) schedule(s *step) {
	if s.at < h.now {
		s.at = h.now
	}
	i := len(h.pending)
	for i > 0 && h.pending[i-1].at > s.at {
		i--
	}
	h.pending = append(h.pending, nil)
	copy(h.pending[i+1:], h.pending[i:])
	h.pending[i] = s
}

func (g *Generator) runStep(h *host, e *event.Event, s *step) {
	if s.scen > 0 {
		g.lastScen = scenarioDefs[s.scen-1].Name
		g.pendingScen--
		if s.run.left--; s.run.left == 0 {
			g.runs[s.scen-1]++
		}
	}
	switch s.kind {
	case stepSecurity4688:
		g.processAudit(h, e, s.p)
	default:
		s.fn(g, h, e)
	}
}

// drain makes the remaining events the pending scenario steps, in their
// time order: background activity and the steps it scheduled (Security
// 4688s, console hosts …) end here, so that scenarios started within the
// budget complete within it.
func (g *Generator) drain() {
	g.draining = true
	for _, h := range g.hosts {
		h.dropBackgroundSteps()
		h.next = math.MaxInt64
	}
	for j := len(g.heap)/2 - 1; j >= 0; j-- {
		g.down(j)
	}
}

// dropBackgroundSteps removes the host's pending steps that belong to no
// scenario.
func (h *host) dropBackgroundSteps() {
	kept := h.pending[:0]
	for _, s := range h.pending {
		if s.scen > 0 {
			kept = append(kept, s)
		}
	}
	clear(h.pending[len(kept):])
	h.pending = kept
}

// EventWriter takes generated events; *recording.Ingest is one.
type EventWriter interface {
	Write(e *event.Event) error
}

// WriteTo writes every remaining event to w (edr generate and edr bench
// write through a recording.Ingest, which keeps the segment snapshots'
// state). An error of w stops it and names the event.
func (g *Generator) WriteTo(w EventWriter) error {
	var e event.Event
	for g.Next(&e) {
		if err := w.Write(&e); err != nil {
			return fmt.Errorf("event %d: %w", g.Emitted(), err)
		}
	}
	return nil
}
