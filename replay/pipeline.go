package replay

import (
	"errors"
	"runtime"

	"github.com/edr-lab/edr/event"
)

// The reader runs at most pipelineDepth chunks of pipelineChunk events
// ahead of the engine.
const (
	pipelineDepth = 8
	pipelineChunk = 256
)

// pipelined runs src on its own goroutine, copying each batch into one of
// pipelineDepth buffers, so that reading (merging segments and recordings,
// materializing rows into events) overlaps the engine instead of taking
// turns with it on one core. The events and their order are src's; only
// the goroutine differs. A full set of buffers stops the reader
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
	full := make(chan []event.Event, pipelineDepth)
	free := make(chan []event.Event, pipelineDepth)
	for i := 0; i < pipelineDepth; i++ {
		free <- nil
	}
	done := make(chan struct{})
	readErr := make(chan error, 1)
	go func() {
		defer close(full)
		readErr <- p.src.Run(func(batch []event.Event) error {
			// Hand over small chunks: the engine reads each while it is
			// still in cache, and the reader never waits for a whole batch.
			for len(batch) > 0 {
				n := min(len(batch), pipelineChunk)
				var buf []event.Event
				select {
				case buf = <-free:
				case <-done:
					return errStopped
				}
				buf = swapBatch(buf, batch[:n])
				batch = batch[n:]
				select {
				case full <- buf:
				case <-done:
					return errStopped
				}
			}
			return nil
		})
	}()
	var err error
	for b := range full {
		if err == nil {
			err = fn(b)
			if err != nil {
				close(done) // stop the reader; drain what it already sent
			}
		}
		select {
		case free <- b:
		default:
		}
	}
	rerr := <-readErr
	if err != nil {
		return err
	}
	if rerr != nil && !errors.Is(rerr, errStopped) {
		return rerr
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
