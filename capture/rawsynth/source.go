package rawsynth

import (
	"context"
	"sync/atomic"

	"github.com/edr-lab/edr/capture"
	"github.com/edr-lab/edr/capture/raw"
	"github.com/edr-lab/edr/corpus/synth"
	"github.com/edr-lab/edr/event"
)

// Source delivers the generator's activity as raw records, host by host in
// generation order, at most Rate generated events/s (0: as fast as they
// are taken). Events no enabled ETW provider delivers are counted in
// Skipped and not delivered: on Windows they would come from the Event Log,
// not from ETW.
type Source struct {
	gen *capture.Synthetic
	enc Encoder
	// Generated counts the generator's events; Skipped those with no raw
	// record.
	Generated, Skipped atomic.Uint64
}

// NewSource returns a source of o's stream (see capture.NewSynthetic for
// the rate).
func NewSource(o synth.Options, rate float64) *Source {
	return &Source{gen: capture.NewSynthetic(o, rate)}
}

// Run hands every record to fn (a rawsource.Sink's Record) until the
// stream ends or ctx is done; fn owns the record.
func (s *Source) Run(ctx context.Context, fn func(host string, r *raw.Record) error) error {
	return s.gen.Run(ctx, func(batch []event.Event) error {
		s.Generated.Add(uint64(len(batch)))
		for i := range batch {
			recs := s.enc.Encode(&batch[i])
			if recs == nil {
				s.Skipped.Add(1)
				continue
			}
			for j, r := range recs {
				if err := fn(batch[i].Host, r); err != nil {
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
