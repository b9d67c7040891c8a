package synth

import (
	"errors"
	"testing"

	"github.com/edr-lab/edr/event"
	"github.com/stretchr/testify/require"
)

// recorded keeps copies of the events written to it and fails at the
// failAt-th (1-based; 0: never).
type recorded struct {
	evs    []*event.Event
	failAt int
}

func (c *recorded) Write(e *event.Event) error {
	if c.failAt > 0 && len(c.evs)+1 == c.failAt {
		return errors.New("disk full")
	}
	c.evs = append(c.evs, e.Clone())
	return nil
}

// TestWriteTo: WriteTo writes what Next gives and names the event a write
// failed on.
func TestWriteTo(t *testing.T) {
	opts := Options{Seed: 9, Events: 500}
	var want []*event.Event
	g := New(opts)
	var e event.Event
	for g.Next(&e) {
		want = append(want, e.Clone())
	}

	var c recorded
	require.NoError(t, New(opts).WriteTo(&c))
	require.Equal(t, len(want), len(c.evs))
	for i := range want {
		require.Equal(t, want[i], c.evs[i], "event %d", i)
	}

	err := New(opts).WriteTo(&recorded{failAt: 7})
	require.ErrorContains(t, err, "event 7: disk full")
}
