package rawsynth_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edr-lab/edr/capture/eventlog"
	"github.com/edr-lab/edr/capture/raw"
	"github.com/edr-lab/edr/capture/rawsynth"
	"github.com/edr-lab/edr/corpus/synth"
	"github.com/edr-lab/edr/event"
)

// serial is what Source.Run delivers, computed on one goroutine from the
// generator and the encoder: one line per raw record or Event Log event.
func serial(o synth.Options) []string {
	sub := map[string]bool{}
	for _, s := range eventlog.Subscriptions {
		for _, id := range s.IDs {
			sub[fmt.Sprint(s.Channel, id)] = true
		}
	}
	g := synth.New(o)
	var x rawsynth.Encoder
	var e event.Event
	var out []string
	for g.Next(&e) {
		if sub[fmt.Sprint(e.Channel, e.EventID)] {
			out = append(out, fmt.Sprintf("event %s %d %d %s", e.Host, e.EventID, e.Time, e.Value(event.FProcessId)))
			continue
		}
		for _, r := range x.Encode(&e) {
			out = append(out, fmt.Sprintf("raw %s %+v", e.Host, *r))
			raw.Put(r)
		}
	}
	return out
}

// TestSourceDeliversInGenerationOrder: the source delivers every record
// and Event Log event, in the order a plain loop over the generator and
// the encoder gives, and counts them.
func TestSourceDeliversInGenerationOrder(t *testing.T) {
	o := synth.Options{Seed: 9, Hosts: 3, Events: 20_000}
	want := serial(o)
	src := rawsynth.NewSource(o, 0)
	var got []string
	var events uint64
	err := src.Run(context.Background(), func(host string, r *raw.Record) error {
		got = append(got, fmt.Sprintf("raw %s %+v", host, *r))
		raw.Put(r)
		return nil
	}, func(e *event.Event) error {
		events++
		got = append(got, fmt.Sprintf("event %s %d %d %s", e.Host, e.EventID, e.Time, e.Value(event.FProcessId)))
		return nil
	})
	require.NoError(t, err)
	require.Positive(t, events, "the stream has Event Log events")
	assert.Equal(t, want, got)
	assert.Equal(t, uint64(20_000), src.Generated.Load())
	assert.Equal(t, events, src.EventLog.Load())
}

// TestSourceStopsOnSinkError: an error from the sink ends the run with
// that error, and no record is handed on after it.
func TestSourceStopsOnSinkError(t *testing.T) {
	src := rawsynth.NewSource(synth.Options{Seed: 9, Hosts: 2, Events: 200_000}, 0)
	stop := errors.New("sink full")
	n, after := 0, 0
	err := src.Run(context.Background(), func(_ string, r *raw.Record) error {
		raw.Put(r)
		if n == 1000 {
			after++
			return stop
		}
		n++
		return nil
	}, func(*event.Event) error { return nil })
	require.ErrorIs(t, err, stop)
	assert.Equal(t, 1, after, "nothing handed on after the error")
	assert.Less(t, src.Generated.Load(), uint64(200_000), "the generator stopped early")
}
