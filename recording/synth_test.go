package recording

import (
	"time"

	"github.com/edr-lab/edr/corpus/synth"
	"github.com/edr-lab/edr/event"
)

// synthEvents returns n events of the generated mix (corpus/synth): hosts
// machines, starting at start (ns UTC; 0 for synth's default).
func synthEvents(seed int64, hosts, n int, start int64) []*event.Event {
	opt := synth.Options{Seed: seed, Hosts: hosts, Events: int64(n)}
	if start != 0 {
		opt.Start = time.Unix(0, start).UTC()
	}
	g := synth.New(opt)
	out := make([]*event.Event, 0, n)
	var e event.Event
	for g.Next(&e) {
		out = append(out, e.Clone())
	}
	return out
}

func mustF(name string) event.FieldID { return event.MustField(name) }
