package pipeline_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edr-lab/edr/detect"
	"github.com/edr-lab/edr/detect/sigma"
	"github.com/edr-lab/edr/detect/sink"
	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/pipeline"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// atLeastCPUs raises GOMAXPROCS for the test, so the staged path runs even
// on a one-core machine.
func atLeastCPUs(t *testing.T, n int) {
	if old := runtime.GOMAXPROCS(0); old < n {
		runtime.GOMAXPROCS(n)
		t.Cleanup(func() { runtime.GOMAXPROCS(old) })
	}
}

// collector is an engine that keeps copies of the events it gets and
// returns err after failAfter batches (0: never).
type collector struct {
	got       []*event.Event
	batches   int
	failAfter int
	err       error
}

func (c *collector) ProcessBatch(evs []event.Event) error {
	for i := range evs {
		c.got = append(c.got, evs[i].Clone())
	}
	if c.batches++; c.batches == c.failAfter {
		return c.err
	}
	return nil
}
func (c *collector) CanPrematch() bool                 { return false }
func (c *collector) NewPrematcher() *detect.Prematcher { return nil }
func (c *collector) ProcessPrematched([]event.Event, []detect.Prematched) error {
	panic("not prematching")
}
func (c *collector) Flush() error { return nil }

func TestPipelineKeepsEventsAndOrder(t *testing.T) {
	atLeastCPUs(t, 2)
	evs := scenario("WS-A", 1, 5000)
	for _, n := range []int{1, 7, 1000, 8192} {
		c := &collector{}
		require.NoError(t, pipeline.Run(context.Background(), pipeline.Config{Source: &sliceSource{Evs: evs, N: n}, Engine: c}))
		require.Len(t, c.got, len(evs))
		for i := range c.got {
			require.True(t, event.Equal(evs[i], c.got[i]), "event %d with batches of %d", i, n)
		}
	}
}

func TestPipelinePropagatesErrors(t *testing.T) {
	atLeastCPUs(t, 2)
	ctx := context.Background()
	boom := errors.New("segment x: corrupt")
	c := &collector{}
	err := pipeline.Run(ctx, pipeline.Config{Source: &sliceSource{Evs: scenario("A", 1, 50), N: 10, Err: boom}, Engine: c})
	require.ErrorIs(t, err, boom)
	assert.Len(t, c.got, 50, "every event before the error is delivered")

	stop := errors.New("sink full")
	c = &collector{failAfter: 1, err: stop}
	err = pipeline.Run(ctx, pipeline.Config{Source: &sliceSource{Evs: scenario("A", 1, 50000), N: 10}, Engine: c})
	require.ErrorIs(t, err, stop)
	assert.Equal(t, 1, c.batches, "nothing is delivered after the consumer's error")
}

// newEngine builds an engine over the shipped Sigma rules (its own
// ruleset: correlation state is per engine).
func newEngine(t testing.TB, s detect.AlertSink) *detect.Engine {
	rs, errs := sigma.Load([]string{"../rules/sigma"}, sigma.Options{Ruleset: "edr/rules", Debug: true})
	require.Empty(t, errs)
	eng, err := detect.New(detect.Options{Matchers: []detect.Matcher{detect.NewSigmaMatcher(rs)}, Sink: s,
		MatchDebug: detect.MatchDebugSummary, Replayed: true})
	require.NoError(t, err)
	require.True(t, eng.CanPrematch())
	return eng
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
// and on the source's, processing every event before the source's error.
func TestPrematchPipelinePropagatesErrors(t *testing.T) {
	ctx := context.Background()
	stop := errors.New("sink full")
	fs := &failingSink{n: 3, err: stop}
	err := pipeline.Run(ctx, pipeline.Config{Source: &sliceSource{Evs: scenario("A", 1, 20000), N: 100}, Engine: newEngine(t, fs), Workers: 3})
	require.ErrorIs(t, err, stop)
	assert.Equal(t, 3, fs.seen, "no alert after the sink's error")

	eng := newEngine(t, &failingSink{})
	boom := errors.New("segment x: corrupt")
	err = pipeline.Run(ctx, pipeline.Config{Source: &sliceSource{Evs: scenario("A", 1, 5000), N: 70, Err: boom}, Engine: eng, Workers: 3})
	require.ErrorIs(t, err, boom)
	assert.Equal(t, uint64(5000), eng.Stats().Events, "every event before the error is processed")
}

// runBytes runs evs through a fresh engine and returns the alert stream as
// the real alert writer writes it.
func runBytes(t *testing.T, evs []*event.Event, cfg pipeline.Config) []byte {
	var out bytes.Buffer
	w := sink.NewStreamWriter(&out, sink.WriterOptions{Queue: 3})
	cfg.Source = pipeline.Merge(&sliceSource{Evs: evs[:len(evs)/2], N: 333}, &sliceSource{Evs: evs[len(evs)/2:], N: 1000})
	cfg.Engine = newEngine(t, cfg.Observer.Sink(w))
	require.NoError(t, pipeline.Run(context.Background(), cfg))
	require.NoError(t, w.Close())
	return out.Bytes()
}

// The alerts are the same bytes with one prematch worker or many, without
// prematching, on one CPU or several, observed or not.
func TestOutputIdenticalWhateverParallelism(t *testing.T) {
	evs := append(scenario("WS-A", 1, 3000), scenario("WS-B", 2, 3000)...)
	ref := runBytes(t, evs, pipeline.Config{NoPrematch: true})
	require.NotEmpty(t, ref)
	for _, procs := range []int{1, 4} {
		old := runtime.GOMAXPROCS(procs)
		for _, cfg := range []pipeline.Config{{Workers: 1}, {Workers: 4}, {}, {NoPrematch: true}, {Workers: 3, Observer: pipeline.NewObserver(nil)}} {
			got := runBytes(t, evs, cfg)
			assert.True(t, bytes.Equal(ref, got), "GOMAXPROCS %d, workers %d, no prematch %v, observer %v: alerts differ",
				procs, cfg.Workers, cfg.NoPrematch, cfg.Observer != nil)
		}
		runtime.GOMAXPROCS(old)
	}
}

// endless yields batches of the scenario forever (times advancing), or,
// with block, one batch and then waits for input that never comes, as a
// live source does. Both stop when ctx is done.
type endless struct {
	block bool
	sent  atomic.Int64
}

func (s *endless) Run(ctx context.Context, fn func([]event.Event) error) error {
	tmpl := scenario("WS-A", 1, 512)
	batch := make([]event.Event, len(tmpl))
	for round := int64(0); ; round++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		for i := range batch {
			batch[i].CopyFrom(tmpl[i])
			batch[i].Time += round * int64(time.Hour)
		}
		if err := fn(batch); err != nil {
			return err
		}
		s.sent.Add(int64(len(batch)))
		if s.block {
			<-ctx.Done()
			return ctx.Err()
		}
	}
}

// Cancelling the context stops every stage promptly, Run returns
// ctx.Err(), and no goroutine is left behind: with a source that never
// ends, and with one that waits for input.
func TestCancelStopsEveryStage(t *testing.T) {
	atLeastCPUs(t, 2)
	for _, cfg := range []pipeline.Config{{Workers: 3}, {NoPrematch: true}, {Workers: 2, Observer: pipeline.NewObserver(nil)}} {
		for _, block := range []bool{false, true} {
			before := runtime.NumGoroutine()
			src := &endless{block: block}
			ctx, cancel := context.WithCancel(context.Background())
			eng := newEngine(t, &failingSink{})
			cfg.Source, cfg.Engine = src, eng
			var err error
			var wg sync.WaitGroup
			wg.Add(1)
			go func() { defer wg.Done(); err = pipeline.Run(ctx, cfg) }()
			require.Eventually(t, func() bool { return src.sent.Load() >= 512 }, 10*time.Second, time.Millisecond)
			cancel()
			atCancel := uint64(src.sent.Load())
			wg.Wait()
			// Promptly, counted in events rather than time: at most the
			// batch the source was delivering when ctx was cancelled.
			assert.LessOrEqual(t, eng.Stats().Events, atCancel+512, "events processed after the cancel")
			require.ErrorIs(t, err, context.Canceled)
			assert.Equal(t, context.Canceled, err, "Run returns ctx.Err() itself")
			// Not require.Eventually: it runs the condition on a goroutine.
			for deadline := time.Now().Add(5 * time.Second); runtime.NumGoroutine() > before && time.Now().Before(deadline); {
				time.Sleep(time.Millisecond)
			}
			require.LessOrEqual(t, runtime.NumGoroutine(), before, "goroutines left behind (workers %d, block %v)", cfg.Workers, block)
		}
	}
	// Already cancelled: nothing runs.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c := &collector{}
	require.ErrorIs(t, pipeline.Run(ctx, pipeline.Config{Source: &sliceSource{Evs: scenario("A", 1, 10), N: 1}, Engine: c}), context.Canceled)
	assert.Empty(t, c.got)
}

// tickClock advances by one microsecond on every read, from any goroutine.
type tickClock struct{ n atomic.Int64 }

func (c *tickClock) now() time.Time { return time.Unix(0, c.n.Add(1000)) }

// Every stage is counted, on the goroutine that runs it: decode on the
// source's, prematch on the workers', engine and sink on the engine's,
// encode on the alert writer's.
func TestObserverCountsEveryStage(t *testing.T) {
	evs := scenario("WS-A", 1, 5000)
	for _, procs := range []int{1, 3} {
		old := runtime.GOMAXPROCS(procs)
		for _, cfg := range []pipeline.Config{{Workers: 2}, {NoPrematch: true}} {
			clock := &tickClock{}
			o := pipeline.NewObserver(clock.now)
			var alerts atomic.Int64
			// A sink that takes a (fake) second per alert.
			counting := sinkFunc(func(*detect.Alert) error { alerts.Add(1); clock.n.Add(int64(time.Second)); return nil })
			w := sink.NewStreamWriter(io.Discard, sink.WriterOptions{EncodeTimer: o.Timer(pipeline.StageEncode)})
			cfg.Source, cfg.Engine, cfg.Observer = &sliceSource{Evs: evs, N: 700}, newEngine(t, o.Sink(sink.Multi{counting, w})), o
			require.NoError(t, pipeline.Run(context.Background(), cfg))
			require.NoError(t, w.Close())
			st := o.Stats()
			name := func(s pipeline.Stage) string { return s.String() }
			require.Positive(t, alerts.Load())
			assert.Equal(t, uint64(len(evs)), st[pipeline.StageDecode].Events, name(pipeline.StageDecode))
			assert.Equal(t, uint64(len(evs)), st[pipeline.StageEngine].Events, name(pipeline.StageEngine))
			assert.Equal(t, uint64(alerts.Load()), st[pipeline.StageSink].Events, name(pipeline.StageSink))
			assert.Equal(t, uint64(alerts.Load()), st[pipeline.StageEncode].Events, name(pipeline.StageEncode))
			for _, s := range []pipeline.Stage{pipeline.StageDecode, pipeline.StageEngine, pipeline.StageEncode, pipeline.StageSink} {
				assert.Positive(t, st[s].Nanos, "%s timed", s)
			}
			if cfg.NoPrematch {
				assert.Zero(t, st[pipeline.StagePrematch])
			} else {
				assert.Equal(t, uint64(len(evs)), st[pipeline.StagePrematch].Events)
				assert.Positive(t, st[pipeline.StagePrematch].Nanos)
			}
			// The sink's seconds are the sink's, not the engine's, though
			// the engine calls the sink.
			assert.GreaterOrEqual(t, st[pipeline.StageSink].Nanos, alerts.Load()*int64(time.Second))
			assert.Less(t, st[pipeline.StageEngine].Nanos, int64(time.Second))
		}
		runtime.GOMAXPROCS(old)
	}
	// A nil observer counts nothing and passes the sink through.
	var none *pipeline.Observer
	assert.Equal(t, [pipeline.NumStages]pipeline.StageStats{}, none.Stats())
	fs := &failingSink{}
	assert.Same(t, fs, none.Sink(fs))
	assert.Nil(t, none.Timer(pipeline.StageEncode))
	assert.True(t, none.Timer(pipeline.StageEncode).Start().IsZero(), "a nil timer reads no clock")
}

type sinkFunc func(*detect.Alert) error

func (f sinkFunc) Alert(a *detect.Alert) error { return f(a) }
