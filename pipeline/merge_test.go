package pipeline_test

import (
	"context"
	"errors"
	"testing"

	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/pipeline"
	"github.com/edr-lab/edr/pipeline/pipelinetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var scenario = pipelinetest.Scenario

type sliceSource = pipelinetest.Slice

func TestMergeOrdersAcrossSources(t *testing.T) {
	a, b := scenario("WS-A", 1, 3000), scenario("WS-B", 2, 2500)
	got := pipelinetest.Collect(t, pipeline.Merge(&sliceSource{Evs: a, N: 7}, &sliceSource{Evs: b, N: 1000}))
	require.Len(t, got, len(a)+len(b))
	for i := 1; i < len(got); i++ {
		require.False(t, pipeline.Less(got[i], got[i-1]), "out of order at %d", i)
	}
	// Equal keys in two sources: the first source's event comes first.
	x := scenario("WS-A", 1, 5)
	y := scenario("WS-A", 1, 5)
	for _, ev := range y {
		ev.AddExtra("from", "second")
	}
	got = pipelinetest.Collect(t, pipeline.Merge(&sliceSource{Evs: y, N: 2}, &sliceSource{Evs: x, N: 3}))
	require.Len(t, got, 10)
	for i := 0; i < 10; i += 2 {
		v, _ := got[i].LookupExtra("from")
		assert.Equal(t, "second", v, "tie at %d goes to the source listed first", i)
	}
}

func TestMergePropagatesErrors(t *testing.T) {
	ctx := context.Background()
	boom := errors.New("segment x: corrupt")
	err := pipeline.Merge(&sliceSource{Evs: scenario("A", 1, 50), N: 10, Err: boom}, &sliceSource{Evs: scenario("B", 2, 5000), N: 10}).Run(ctx, func([]event.Event) error { return nil })
	require.ErrorIs(t, err, boom)
	stop := errors.New("sink full")
	err = pipeline.Merge(&sliceSource{Evs: scenario("A", 1, 5000), N: 10}, &sliceSource{Evs: scenario("B", 2, 5000), N: 10}).Run(ctx, func([]event.Event) error { return stop })
	require.ErrorIs(t, err, stop)
}
