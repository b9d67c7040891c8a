package replay

import (
	"errors"
	"runtime"
	"sync"

	"github.com/edr-lab/edr/detect"
	"github.com/edr-lab/edr/event"
)

// The reader runs at most pipelineDepth chunks of pipelineChunk events
// ahead of the engine.
const (
	pipelineDepth = 8
	pipelineChunk = 256
)

// pipelined runs src on its own goroutine, moving its events into
// pipelineDepth slots (fillSlots), so that reading (merging segments and recordings,
// materializing rows into events) overlaps the engine instead of taking
// turns with it on one core. The events and their order are src's; only
// the goroutine differs. A full set of slots stops the reader
// (backpressure), so memory stays bounded.
// With a single CPU there is nothing to overlap: src runs as it is.
func pipelined(src Source) Source {
	if runtime.GOMAXPROCS(0) < 2 {
		return src
	}
	return &pipeline{src: src}
}

type pipeline struct{ src Source }

func (p *pipeline) Run(fn func([]event.Event) error) error {
	free, full := newSlots(), make(chan *slot, pipelineDepth)
	done := make(chan struct{})
	readErr := make(chan error, 1)
	go func() {
		defer close(full)
		readErr <- fillSlots(p.src, free, done, func(s *slot) { full <- s })
	}()
	var err error
	for s := range full {
		if err == nil {
			if err = fn(s.evs); err != nil {
				close(done) // stop the reader; drain what it already sent
			}
		}
		free <- s
	}
	return firstErr(err, <-readErr)
}

// A slot carries one chunk from the reader (through a prematch worker) to
// the engine. At most pipelineDepth slots exist, so channels of that
// capacity never block a send of one.
type slot struct {
	evs   []event.Event
	pre   []detect.Prematched
	ready chan struct{} // a prematch worker is done with the slot
}

func newSlots() chan *slot {
	free := make(chan *slot, pipelineDepth)
	for i := 0; i < pipelineDepth; i++ {
		free <- &slot{ready: make(chan struct{}, 1)}
	}
	return free
}

// fillSlots runs src and moves its events, in chunks of at most pipelineChunk,
// into slots taken from free, handing each to send. Small chunks: the
// engine reads each while it is still in cache, and the reader never waits
// for a whole batch. Once done is closed it stops with errStopped.
func fillSlots(src Source, free <-chan *slot, done <-chan struct{}, send func(*slot)) error {
	return src.Run(func(batch []event.Event) error {
		for len(batch) > 0 {
			n := min(len(batch), pipelineChunk)
			var s *slot
			select {
			case s = <-free:
			case <-done:
				return errStopped
			}
			s.evs = swapBatch(s.evs, batch[:n])
			batch = batch[n:]
			send(s)
		}
		return nil
	})
}

// firstErr is the consumer's error, else the reader's unless the consumer
// stopped it.
func firstErr(consumer, reader error) error {
	if consumer != nil {
		return consumer
	}
	if reader != nil && !errors.Is(reader, errStopped) {
		return reader
	}
	return nil
}

// swapBatch takes batch's events into dst by exchanging them with dst's
// own: no field is copied, and the source gets storage back that it
// overwrites (every source fills a slot wholly: Reset and Set, or
// CopyFrom).
func swapBatch(dst, batch []event.Event) []event.Event {
	if cap(dst) < len(batch) {
		dst = append(dst[:cap(dst)], make([]event.Event, len(batch)-cap(dst))...)
	}
	dst = dst[:len(batch)]
	for i := range batch {
		dst[i], batch[i] = batch[i], dst[i]
	}
	return dst
}

// runEngine feeds src's events to eng. With more than one CPU and rules
// that can match early, it runs prematched; otherwise pipelined.
func runEngine(src Source, eng *detect.Engine, noPrematch bool) error {
	workers := runtime.GOMAXPROCS(0)
	if noPrematch || workers < 2 || !eng.CanPrematch() {
		return pipelined(src).Run(eng.ProcessBatch)
	}
	return prematched(src, eng, workers)
}

// prematched is pipelined with a stage in the middle: workers run the
// engine's early matching (detect.Prematcher) over chunks in parallel, and
// the engine takes the chunks in the reader's order, each once its worker
// is done. Events and alerts are those of eng.ProcessBatch over src; only
// the goroutines differ. pipelineDepth slots bound the memory.
func prematched(src Source, eng *detect.Engine, workers int) error {
	free := newSlots()
	work := make(chan *slot, pipelineDepth)
	ordered := make(chan *slot, pipelineDepth)
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		pm := eng.NewPrematcher()
		wg.Add(1)
		go func() {
			defer wg.Done()
			for s := range work {
				s.pre = pm.Run(s.evs, s.pre)
				s.ready <- struct{}{}
			}
		}()
	}
	done := make(chan struct{})
	readErr := make(chan error, 1)
	go func() {
		defer close(ordered)
		defer close(work)
		readErr <- fillSlots(src, free, done, func(s *slot) {
			work <- s
			ordered <- s
		})
	}()
	var err error
	for s := range ordered {
		<-s.ready // the worker is done with it, even after an error
		if err == nil {
			if err = eng.ProcessPrematched(s.evs, s.pre); err != nil {
				close(done)
			}
		}
		free <- s
	}
	wg.Wait()
	return firstErr(err, <-readErr)
}
