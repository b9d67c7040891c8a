package replay

import (
	"errors"

	"github.com/edr-lab/edr/event"
)

// pipelineDepth is the number of batches read ahead of the engine.
const pipelineDepth = 4

// pipelined runs src on its own goroutine, copying each batch into one of
// pipelineDepth buffers, so that reading (merging segments and recordings,
// materializing rows into events) overlaps the engine instead of taking
// turns with it on one core. The events and their order are src's; only
// the goroutine differs. A full set of buffers stops the reader
// (backpressure), so memory stays bounded.
func pipelined(src Source) Source { return &pipeline{src: src} }

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
			var buf []event.Event
			select {
			case buf = <-free:
			case <-done:
				return errStopped
			}
			buf = copyBatch(buf, batch)
			select {
			case full <- buf:
				return nil
			case <-done:
				return errStopped
			}
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
