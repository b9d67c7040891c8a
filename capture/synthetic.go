package capture

import (
	"context"
	"math"
	"time"

	"github.com/edr-lab/edr/corpus/synth"
	"github.com/edr-lab/edr/event"
)

// Synthetic feeds the generator's normalized events (corpus/synth), as fast
// as the pipeline takes them or at Rate events/s.
type Synthetic struct {
	Options synth.Options
	// Rate limits the events per second (0: no limit).
	Rate float64
	// Sleep waits (default time.Sleep; tests replace it).
	Sleep func(time.Duration)
	// Now reads the clock for the rate limit (default time.Now).
	Now func() time.Time

	gen *synth.Generator
}

// NewSynthetic returns a synthetic source. With a rate and no MeanGap, the
// events' times advance about as fast as the wall clock.
func NewSynthetic(o synth.Options, rate float64) *Synthetic {
	if rate > 0 && o.MeanGap == 0 {
		hosts := o.Hosts
		if hosts <= 0 {
			hosts = 4
		}
		o.MeanGap = max(time.Duration(float64(hosts)*float64(time.Second)/rate), time.Microsecond)
	}
	return &Synthetic{Options: o, Rate: rate, Sleep: time.Sleep, Now: time.Now}
}

// Generator is the generator once Run started (its scenario counts).
func (s *Synthetic) Generator() *synth.Generator { return s.gen }

// Run generates until Options.Events are out (0: until ctx is done).
func (s *Synthetic) Run(ctx context.Context, fn func([]event.Event) error) error {
	s.gen = synth.New(s.Options)
	batch := make([]event.Event, BatchSize)
	n := BatchSize
	var start time.Time
	var sent float64
	if s.Rate > 0 {
		start = s.Now()
		// Small batches at low rates, so events flow evenly.
		n = min(BatchSize, max(1, int(s.Rate/100)))
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		k := 0
		for k < n && s.gen.Next(&batch[k]) {
			k++
		}
		if k == 0 {
			return nil
		}
		if s.Rate > 0 {
			// Wait until the batch is due: the rate holds over the whole
			// run, so a slow batch is caught up by the next ones.
			if d := start.Add(time.Duration(math.Ceil(sent * float64(time.Second) / s.Rate))).Sub(s.Now()); d > 0 {
				s.Sleep(d)
			}
			sent += float64(k)
		}
		if err := fn(batch[:k]); err != nil {
			return err
		}
		if k < n {
			return nil
		}
	}
}
