package state

import (
	"runtime"
	"slices"
	"sync"
	"testing"

	"github.com/edr-lab/edr/corpus/synth"
	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/internal/cputime"
)

var generated = sync.OnceValue(func() []event.Event {
	const n = 50_000
	evs := make([]event.Event, n)
	g := synth.New(synth.Options{Seed: 7, Events: n})
	var ev event.Event
	for i := 0; g.Next(&ev); i++ {
		evs[i].CopyFrom(&ev)
	}
	return evs
})

// BenchmarkObserveGenerated is the state stage over the generated mix
// (corpus/synth, the events edr bench replays): one op is one event, a
// fresh State per pass so event time only moves forward.
//
//	go test -run '^$' -bench ObserveGenerated -benchmem -count 5 ./detect/state
func BenchmarkObserveGenerated(b *testing.B) {
	evs := generated()
	b.ReportAllocs()
	b.ResetTimer()
	var s *State
	for i := 0; i < b.N; i++ {
		if i%len(evs) == 0 {
			s = New(Options{})
		}
		s.Observe(&evs[i%len(evs)])
	}
}

// stateEvents are the events of a larger generated mix that change the
// state (process starts and ends, DNS answers), in order: enough processes
// that the table grows to tens of thousands of entries, as on a replay,
// where cache misses and map growth cost more than on generated().
var stateEvents = sync.OnceValue(func() []event.Event {
	const n = 1_000_000
	var evs []event.Event
	g := synth.New(synth.Options{Seed: 7, Events: n})
	var ev event.Event
	for g.Next(&ev) {
		dns := ev.Channel == event.ChannelSysmon && ev.EventID == 22
		if event.RolesOf(&ev).Lifecycle != event.NoLifecycle || dns {
			evs = append(evs, event.Event{})
			evs[len(evs)-1].CopyFrom(&ev)
		}
	}
	return evs
})

// BenchmarkObserveStateEvents is the state stage over the state-changing
// events of a 1M-event generated mix: one op is one event (a fresh State
// per pass). cpu-ns/event is the process's CPU time (GC included), which
// other work on a shared machine inflates less than ns/op.
//
//	go test -run '^$' -bench StateEvents -benchtime 3000000x ./detect/state
func BenchmarkObserveStateEvents(b *testing.B) {
	benchStateEvents(b, func(s *State, ev *event.Event, _ int) { s.Observe(ev) })
}

// BenchmarkObserveStartedStateEvents is BenchmarkObserveStateEvents for
// the engine's state when an Enricher runs ahead: starts hold the process
// the Enricher's table built (ObserveShared, then ObserveStarted).
func BenchmarkObserveStartedStateEvents(b *testing.B) {
	evs := stateEvents()
	started := make([]*Process, len(evs))
	ahead := New(Options{})
	for i := range evs {
		started[i] = ahead.Procs.ObserveShared(&evs[i])
	}
	benchStateEvents(b, func(s *State, ev *event.Event, i int) { s.ObserveStarted(ev, started[i]) })
}

// BenchmarkObserveStateEventsFull is BenchmarkObserveStateEvents with a
// process bound of 8,192, which the ~61,000 starts of the mix fill early:
// most starts then evict, as on a long replay (edr bench over 5M
// generated events fills the default 65,536 after ~1M and then evicts at
// nearly every start).
func BenchmarkObserveStateEventsFull(b *testing.B) {
	benchStateEventsOpts(b, Options{MaxProcesses: 8192}, func(s *State, ev *event.Event, _ int) { s.Observe(ev) })
}

func benchStateEvents(b *testing.B, observe func(s *State, ev *event.Event, i int)) {
	benchStateEventsOpts(b, Options{}, observe)
}

func benchStateEventsOpts(b *testing.B, opts Options, observe func(s *State, ev *event.Event, i int)) {
	evs := stateEvents()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cputime.Now()
	var s *State
	for i := 0; i < b.N; i++ {
		j := i % len(evs)
		if j == 0 {
			s = New(opts)
		}
		observe(s, &evs[j], j)
	}
	if cpu := cputime.Now() - cpu0; cpu > 0 {
		b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/event")
	}
}

// BenchmarkObserveSharedPairFull is the state work of a replay with an
// Enricher, per event: the Enricher's table builds a started process
// (ObserveShared) and the engine's state takes it (ObserveStarted, DNS
// included), both with a process bound of 8,192 that the mix fills early,
// so most starts evict in both tables, as on a long replay.
//
//	go test -run '^$' -bench SharedPairFull -benchtime 3000000x ./detect/state
func BenchmarkObserveSharedPairFull(b *testing.B) {
	opts := Options{MaxProcesses: 8192}
	var ahead *State
	benchStateEventsOpts(b, opts, func(s *State, ev *event.Event, i int) {
		if i == 0 {
			ahead = New(opts)
		}
		s.ObserveStarted(ev, ahead.Procs.ObserveShared(ev))
	})
}

// BenchmarkCarriedHashesAB runs BenchmarkObserveSharedPairFull's work in
// one process, alternating block by block between tables that use the
// hashes processes carry (Process.hk, hp, hpar) and tables that hash the
// keys' strings again: one op is one block of each over the state events
// of the 1M-event mix. It reports each set-up's median CPU ns per event
// and the median of the paired ratios (with / without).
//
//	go test -run '^$' -bench CarriedHashesAB -benchtime 20x ./detect/state
func BenchmarkCarriedHashesAB(b *testing.B) {
	evs := stateEvents()
	opts := Options{MaxProcesses: 8192}
	run := func(cached bool) float64 {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		prod, cons := New(opts), New(opts)
		for _, t := range []*ProcessTable{prod.Procs, cons.Procs} {
			t.cached, t.byPID.cached = cached, cached
		}
		t0 := cputime.Thread()
		for i := range evs {
			cons.ObserveStarted(&evs[i], prod.Procs.ObserveShared(&evs[i]))
		}
		return float64(cputime.Thread()-t0) / float64(len(evs))
	}
	var with, without, ratio []float64
	for i := 0; i < b.N; i++ {
		var w, wo float64
		if i%2 == 0 {
			w, wo = run(true), run(false)
		} else {
			wo, w = run(false), run(true)
		}
		with, without, ratio = append(with, w), append(without, wo), append(ratio, w/wo)
	}
	median := func(v []float64) float64 { slices.Sort(v); return v[len(v)/2] }
	b.ReportMetric(median(with), "with-cpu-ns/event")
	b.ReportMetric(median(without), "without-cpu-ns/event")
	b.ReportMetric(median(ratio), "ratio")
}
