package pipeline

import (
	"context"
	"runtime"
	"sync"
	"time"

	"github.com/edr-lab/edr/detect"
	"github.com/edr-lab/edr/event"
)

// The source runs at most queueDepth (Config.Depth) chunks of chunkSize
// events ahead of the engine: the bound on the pipeline's memory.
const (
	queueDepth = 8
	chunkSize  = 256
)

// Engine is the in-order stage; *detect.Engine is one. The prematch
// methods are the "prematcher factory": NewPrematcher gives each worker
// its own, and ProcessPrematched completes, in event order, what the
// workers began. How a Prematcher matches (Sigma's program and per-goroutine
// state) is the engine's business, not the pipeline's.
type Engine interface {
	ProcessBatch(evs []event.Event) error
	CanPrematch() bool
	NewPrematcher() *detect.Prematcher
	ProcessPrematched(evs []event.Event, pre []detect.Prematched) error
	Flush() error
}

var _ Engine = (*detect.Engine)(nil)

// enricherFactory is an Engine that fills enrichment fields ahead of the
// prematch workers (detect.Engine.NewEnricher); the pipeline uses it when
// it has workers.
type enricherFactory interface {
	NewEnricher() *detect.Enricher
}

var _ enricherFactory = (*detect.Engine)(nil)

// Config is one run of the pipeline.
type Config struct {
	Source Source
	// Engine gets every event in the source's order. Its alert sink is
	// the sink stage; wrap it with Observer.Sink to time it.
	Engine Engine
	// Workers is the number of prematch goroutines; 0: one per CPU, and
	// none on a single CPU (where source and engine also share one
	// goroutine: there is nothing to overlap).
	Workers int
	// NoPrematch evaluates every rule on the engine's goroutine (the same
	// alerts; a baseline for benchmarks and tests).
	NoPrematch bool
	// Observer, when set, counts events and time per stage.
	Observer *Observer
	// Depth is how many chunks (of up to 256 events) may be between the
	// source and the engine at once; 0: 8. Fewer hold fewer events in
	// memory: edr live, whose own queues
	// already absorb bursts, runs with the few that keep every stage busy.
	Depth int
}

// Run moves every event of cfg.Source through the stages and, when the
// source ends without error, flushes the engine (correlation windows still
// open are decided). The first error of any stage stops all of them and is
// returned; cancelling ctx stops them too and Run returns ctx.Err(). Run
// returns only after every goroutine it started has ended.
func Run(ctx context.Context, cfg Config) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	cpus := runtime.GOMAXPROCS(0)
	workers := 0
	if !cfg.NoPrematch && cfg.Engine.CanPrematch() {
		workers = cfg.Workers
		if workers == 0 && cpus > 1 {
			workers = cpus
		}
	}
	var err error
	if workers == 0 && cpus < 2 {
		err = runInline(ctx, cfg)
	} else {
		err = runStaged(ctx, cfg, workers)
	}
	if err == nil {
		e := cfg.Observer.engineStart()
		err = cfg.Engine.Flush()
		cfg.Observer.engineDone(e, 0)
	}
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// runInline runs every stage on the caller's goroutine.
func runInline(ctx context.Context, cfg Config) error {
	o := cfg.Observer
	t := o.Start()
	return cfg.Source.Run(ctx, func(batch []event.Event) error {
		o.Done(StageDecode, len(batch), t)
		if err := ctx.Err(); err != nil {
			return err
		}
		e := o.engineStart()
		err := cfg.Engine.ProcessBatch(batch)
		o.engineDone(e, len(batch))
		t = o.Start()
		return err
	})
}

// engineMark is where an engine call began: the time, and the sink's time
// so far (the sink is called from inside the engine, and its time is not
// the engine's).
type engineMark struct {
	t    time.Time
	sink int64
}

func (o *Observer) engineStart() engineMark {
	if o == nil {
		return engineMark{}
	}
	return engineMark{t: o.clock(), sink: o.stages[StageSink].nanos.Load()}
}

// engineDone counts n events and the time since m, less the sink's, as
// StageEngine.
func (o *Observer) engineDone(m engineMark, n int) {
	if o == nil {
		return
	}
	o.Add(StageEngine, n, o.clock().Sub(m.t)-time.Duration(o.stages[StageSink].nanos.Load()-m.sink))
}

// A slot carries one chunk from the source (through a prematch worker) to
// the engine. At most depth (Config.Depth) slots exist, so channels of that
// capacity never block a send of one.
type slot struct {
	evs   []event.Event
	pre   []detect.Prematched
	ready chan struct{} // the prematch stage is done with the slot
}

// runStaged runs the source on its own goroutine, moving its events in
// chunks into Config.Depth slots, so that reading (merging segments and
// recordings, materializing rows into events) overlaps the engine instead
// of taking turns with it on one core. With workers, each chunk also goes
// to a prematch worker, and the engine takes the chunks in the source's
// order, each once its worker is done. Events and alerts are those of
// Engine.ProcessBatch over the source; only the goroutines differ. A full
// set of slots stops the source (backpressure), so memory stays bounded.
func runStaged(ctx context.Context, cfg Config, workers int) error {
	o := cfg.Observer
	depth := cfg.Depth
	if depth <= 0 {
		depth = queueDepth
	}
	free := make(chan *slot, depth)
	for i := 0; i < depth; i++ {
		free <- &slot{ready: make(chan struct{}, 1)}
	}
	work := make(chan *slot, depth)
	ordered := make(chan *slot, depth)
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		pm := cfg.Engine.NewPrematcher()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range work {
				t := o.Start()
				s.pre = pm.Run(s.evs, s.pre)
				o.Done(StagePrematch, len(s.evs), t)
				s.ready <- struct{}{}
			}
		}()
	}
	// With an Enricher, chunks pass it on their way to the workers, in
	// order, on a goroutine of its own.
	toWorkers := work
	var enrich chan *slot
	if workers > 0 {
		if en, ok := cfg.Engine.(enricherFactory); ok {
			if n := en.NewEnricher(); n != nil {
				enrich = make(chan *slot, depth)
				toWorkers = enrich
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer close(work)
					for s := range enrich {
						t := o.Start()
						s.pre = n.Enrich(s.evs, s.pre)
						o.Done(StageEnrich, len(s.evs), t)
						work <- s
					}
				}()
			}
		}
	}
	done := make(chan struct{})
	srcErr := make(chan error, 1)
	go func() {
		defer close(ordered)
		defer close(toWorkers)
		srcErr <- fillSlots(ctx, cfg.Source, o, free, done, func(s *slot) {
			if workers > 0 {
				toWorkers <- s
			} else {
				s.ready <- struct{}{}
			}
			ordered <- s
		})
	}()
	var err error
	for s := range ordered {
		<-s.ready // the worker is done with it, even after an error
		if err == nil {
			if err = ctx.Err(); err == nil {
				e := o.engineStart()
				if workers > 0 {
					err = cfg.Engine.ProcessPrematched(s.evs, s.pre)
				} else {
					err = cfg.Engine.ProcessBatch(s.evs)
				}
				o.engineDone(e, len(s.evs))
			}
			if err != nil {
				close(done) // stop the source; drain what it already sent
			}
		}
		free <- s
	}
	wg.Wait()
	return firstErr(err, <-srcErr)
}

// fillSlots runs src and moves its events, in chunks of at most chunkSize,
// into slots taken from free, handing each to send. Small chunks: the
// engine reads each while it is still in cache, and the source never waits
// for a whole batch. Once done is closed it stops with errStopped.
func fillSlots(ctx context.Context, src Source, o *Observer, free <-chan *slot, done <-chan struct{}, send func(*slot)) error {
	t := o.Start()
	return src.Run(ctx, func(batch []event.Event) error {
		o.Done(StageDecode, len(batch), t)
		err := fillChunks(ctx, batch, free, done, send)
		t = o.Start()
		return err
	})
}

// fillChunks moves one batch of the source into slots.
func fillChunks(ctx context.Context, batch []event.Event, free <-chan *slot, done <-chan struct{}, send func(*slot)) error {
	for len(batch) > 0 {
		n := min(len(batch), chunkSize)
		var s *slot
		select {
		case s = <-free:
		case <-done:
			return errStopped
		case <-ctx.Done():
			return ctx.Err()
		}
		s.evs = swapBatch(s.evs, batch[:n])
		batch = batch[n:]
		send(s)
	}
	return nil
}

// Sink wraps s so that the time spent in it counts as StageSink. On a nil
// observer it returns s itself.
func (o *Observer) Sink(s detect.AlertSink) detect.AlertSink {
	if o == nil {
		return s
	}
	return &timedSink{s: s, o: o}
}

type timedSink struct {
	s detect.AlertSink
	o *Observer
}

func (t *timedSink) Alert(a *detect.Alert) error {
	start := t.o.Start()
	err := t.s.Alert(a)
	t.o.Done(StageSink, 1, start)
	return err
}
