// Package pipeline moves events from a source through the detection engine
// to the alert sink, in explicit stages:
//
//	source (read, decode) ▶ Sigma prematch (every CPU) ▶ engine (event order) ▶ encode ▶ sink
//
// The source and the engine each run on one goroutine, the prematch stage on
// as many as there are CPUs; bounded queues between them keep memory flat
// (a full queue stops the stage before it). The engine takes the events in
// the source's order whatever the parallelism, so the alerts are byte for
// byte those of one goroutine doing everything. Live capture, replay, bench
// and sharded replay all run through Run; Run stops promptly when its
// context is cancelled. An optional Observer counts events and time per
// stage, on whichever goroutine runs it.
package pipeline

import (
	"context"
	"errors"

	"github.com/edr-lab/edr/event"
)

// Source delivers events in (time, host, seq) order, in batches the source
// may reuse after fn returns. Every slot of a batch is filled wholly (Reset
// then set, or CopyFrom), so a consumer may exchange the batch's events
// with its own instead of copying them (the pipeline does). An error from
// fn stops Run and is returned. Run returns ctx.Err() soon after ctx is
// done, also while it waits for input (live sources).
type Source interface {
	Run(ctx context.Context, fn func(batch []event.Event) error) error
}

// Batches is a source that knows no context, such as recording.Reader:
// it reads until fn fails.
type Batches interface {
	Run(fn func(batch []event.Event) error) error
}

// FromBatches makes b a Source. Cancellation is noticed before each batch,
// so b must not block for long between batches (files do not).
func FromBatches(b Batches) Source { return batchSource{b} }

type batchSource struct{ b Batches }

func (s batchSource) Run(ctx context.Context, fn func([]event.Event) error) error {
	return s.b.Run(func(batch []event.Event) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return fn(batch)
	})
}

// errStopped stops a source whose consumer gave up (its own error is
// returned instead).
var errStopped = errors.New("pipeline: stopped")

// firstErr is the consumer's error, else the source's unless the consumer
// stopped it.
func firstErr(consumer, source error) error {
	if consumer != nil {
		return consumer
	}
	if source != nil && !errors.Is(source, errStopped) {
		return source
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
