package replay

import (
	"errors"
	"testing"

	"github.com/edr-lab/edr/detect"
	"github.com/edr-lab/edr/event"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPipelineKeepsEventsAndOrder(t *testing.T) {
	evs := scenario("WS-A", 1, 5000)
	for _, n := range []int{1, 7, 1000, 8192} {
		got := collect(t, (&pipeline{src: &sliceSource{evs: evs, n: n}}))
		require.Len(t, got, len(evs))
		for i := range got {
			require.True(t, event.Equal(evs[i], got[i]), "event %d with batches of %d", i, n)
		}
	}
}

func TestPipelinePropagatesErrors(t *testing.T) {
	boom := errors.New("segment x: corrupt")
	var seen int
	err := (&pipeline{src: &sliceSource{evs: scenario("A", 1, 50), n: 10, err: boom}}).Run(func(b []event.Event) error {
		seen += len(b)
		return nil
	})
	require.ErrorIs(t, err, boom)
	assert.Equal(t, 50, seen, "every event before the error is delivered")

	stop := errors.New("sink full")
	calls := 0
	err = (&pipeline{src: &sliceSource{evs: scenario("A", 1, 50000), n: 10}}).Run(func([]event.Event) error {
		calls++
		return stop
	})
	require.ErrorIs(t, err, stop)
	assert.Equal(t, 1, calls, "nothing is delivered after the consumer's error")
}

// failingSink fails on its nth alert.
type failingSink struct {
	n, seen int
	err     error
}

func (s *failingSink) Alert(*detect.Alert) error {
	if s.seen++; s.seen == s.n {
		return s.err
	}
	return nil
}

// The prematch pipeline stops on the engine's error (a failing alert sink)
// and on the reader's, delivering every event before the reader's error.
func TestPrematchPipelinePropagatesErrors(t *testing.T) {
	rules := shippedRules(t)
	stop := errors.New("sink full")
	fs := &failingSink{n: 3, err: stop}
	_, err := Run(&sliceSource{evs: scenario("A", 1, 20000), n: 100}, Options{Rules: rules, Sink: fs})
	require.ErrorIs(t, err, stop)
	assert.Equal(t, 3, fs.seen, "no alert after the sink's error")

	eng, err := detect.New(detect.Options{Matchers: func() []detect.Matcher { ms, _ := rules.Matchers(nil); return ms }(), Sink: &failingSink{}})
	require.NoError(t, err)
	boom := errors.New("segment x: corrupt")
	err = prematched(&sliceSource{evs: scenario("A", 1, 5000), n: 70, err: boom}, eng, 3)
	require.ErrorIs(t, err, boom)
	assert.Equal(t, uint64(5000), eng.Stats().Events, "every event before the error is processed")
}
