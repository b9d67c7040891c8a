package pipeline

import (
	"sync/atomic"
	"time"
)

// Stage names one stage of the pipeline.
type Stage uint8

// The stages, in the order events pass them.
const (
	// StageDecode is the source's own work: reading and decoding events
	// (Parquet rows, NDJSON, ETW records) on the source's goroutine, not
	// counting the time it waits for the pipeline to take a batch.
	StageDecode Stage = iota
	// StagePrematch is Sigma's early matching, summed over the workers.
	StagePrematch
	// StageEngine is the detection engine in event order (state,
	// enrichment, the rest of matching, alert context), without the sink.
	StageEngine
	// StageEncode is turning alerts into bytes, on the goroutine of an alert
	// writer that encodes beside the engine and reports through
	// Observer.Timer(StageEncode); zero when none reports.
	StageEncode
	// StageSink is handing alerts to the sink, on the engine's goroutine
	// (it includes encoding when the sink encodes synchronously).
	StageSink
	// StageEnrich is filling enrichment fields from a state of its own
	// ahead of the prematch workers (detect.Enricher), in event order on a
	// goroutine of its own; zero when the rules read no enrichment field.
	// (Listed last so the indexes of the others stay.)
	StageEnrich
	// NumStages is the number of stages.
	NumStages
)

var stageNames = [NumStages]string{"decode", "prematch", "engine", "encode", "sink", "enrich"}

func (s Stage) String() string {
	if s < NumStages {
		return stageNames[s]
	}
	return "stage?"
}

// StageStats are one stage's counters: the events (alerts, for encode and
// sink) it handled and the wall time it spent on them.
type StageStats struct {
	Events uint64
	Nanos  int64
}

// Observer counts events and time per stage. It is safe for concurrent use:
// every stage adds to it from its own goroutine. A nil *Observer is valid
// and costs nothing: its methods return at once and never read the clock.
type Observer struct {
	clock  func() time.Time
	stages [NumStages]struct {
		events atomic.Uint64
		nanos  atomic.Int64
	}
}

// NewObserver returns an observer timing by clock (nil: the wall clock).
// Only the observer reads it; what the pipeline computes never depends on it.
func NewObserver(clock func() time.Time) *Observer {
	if clock == nil {
		clock = time.Now
	}
	return &Observer{clock: clock}
}

// Start returns the time a stage's work begins (zero on a nil observer).
func (o *Observer) Start() time.Time {
	if o == nil {
		return time.Time{}
	}
	return o.clock()
}

// Done adds n events and the time since start to stage s and returns the
// time now, so consecutive stages on one goroutine share clock reads.
func (o *Observer) Done(s Stage, n int, start time.Time) time.Time {
	if o == nil {
		return start
	}
	now := o.clock()
	o.Add(s, n, now.Sub(start))
	return now
}

// Add adds n events and d to stage s (for work timed elsewhere).
func (o *Observer) Add(s Stage, n int, d time.Duration) {
	if o == nil {
		return
	}
	o.stages[s].events.Add(uint64(n))
	o.stages[s].nanos.Add(int64(d))
}

// Stats returns the counters of every stage, indexed by Stage.
func (o *Observer) Stats() [NumStages]StageStats {
	var out [NumStages]StageStats
	if o == nil {
		return out
	}
	for i := range out {
		out[i] = StageStats{Events: o.stages[i].events.Load(), Nanos: o.stages[i].nanos.Load()}
	}
	return out
}

// Timer times one stage of work that runs outside the pipeline's own
// goroutines, such as an alert writer's encoder. A nil *Timer does nothing
// and reads no clock.
type Timer struct {
	o *Observer
	s Stage
}

// Timer returns a timer adding to stage s (nil on a nil observer).
func (o *Observer) Timer(s Stage) *Timer {
	if o == nil {
		return nil
	}
	return &Timer{o: o, s: s}
}

// Start returns the time the work begins.
func (t *Timer) Start() time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.o.clock()
}

// Done adds n items and the time since start to the timer's stage.
func (t *Timer) Done(n int, start time.Time) {
	if t == nil {
		return
	}
	t.o.Done(t.s, n, start)
}
