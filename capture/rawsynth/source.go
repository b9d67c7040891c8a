package rawsynth

import (
	"context"
	"sync/atomic"

	"github.com/edr-lab/edr/capture"
	"github.com/edr-lab/edr/capture/eventlog"
	"github.com/edr-lab/edr/capture/raw"
	"github.com/edr-lab/edr/corpus/synth"
	"github.com/edr-lab/edr/event"
)

// Source delivers the generator's activity as a Windows host running edr
// would capture it: as raw records, host by host in generation order, for
// what edr's ETW providers deliver, and as normalized events for what its
// Event Log subscriptions select (capture/eventlog.Subscriptions: System
// 7045, Security 4688/4697/4698), at most Rate generated events/s (0: as
// fast as they are taken). Events neither delivers (other Security and
// System events, Sysmon-only ones) are counted in Skipped.
type Source struct {
	gen *capture.Synthetic
	enc Encoder
	// Generated counts the generator's events; EventLog those delivered as
	// Event Log events, Skipped those delivered neither way.
	Generated, EventLog, Skipped atomic.Uint64
}

// NewSource returns a source of o's stream (see capture.NewSynthetic for
// the rate).
func NewSource(o synth.Options, rate float64) *Source {
	return &Source{gen: capture.NewSynthetic(o, rate)}
}

type subKey struct {
	channel string
	id      uint16
}

// subscribed is eventlog.Subscriptions as a set.
var subscribed = func() map[subKey]bool {
	m := map[subKey]bool{}
	for _, s := range eventlog.Subscriptions {
		for _, id := range s.IDs {
			m[subKey{s.Channel, id}] = true
		}
	}
	return m
}()

// Run hands every record to record (a rawsource.Sink's Record; it owns the
// record) and every Event Log event to eventLog (the Sink's Event; it
// copies the event) until the stream ends or ctx is done.
func (s *Source) Run(ctx context.Context, record func(host string, r *raw.Record) error, eventLog func(e *event.Event) error) error {
	return s.gen.Run(ctx, func(batch []event.Event) error {
		s.Generated.Add(uint64(len(batch)))
		for i := range batch {
			e := &batch[i]
			if subscribed[subKey{e.Channel, e.EventID}] {
				s.EventLog.Add(1)
				if err := eventLog(e); err != nil {
					return err
				}
				continue
			}
			recs := s.enc.Encode(e)
			if recs == nil {
				s.Skipped.Add(1)
				continue
			}
			for j, r := range recs {
				if err := record(e.Host, r); err != nil {
					for _, r := range recs[j+1:] {
						raw.Put(r)
					}
					return err
				}
			}
		}
		return nil
	})
}
