package state

import (
	"sync"
	"testing"

	"github.com/edr-lab/edr/corpus/synth"
	"github.com/edr-lab/edr/event"
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
