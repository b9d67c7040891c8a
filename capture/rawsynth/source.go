package rawsynth

import (
	"context"
	"sync/atomic"

	"github.com/edr-lab/edr/capture"
	"github.com/edr-lab/edr/capture/eventlog"
	"github.com/edr-lab/edr/capture/raw"
	"github.com/edr-lab/edr/corpus/synth"
	"github.com/edr-lab/edr/event"
)

// Source delivers the generator's activity as a Windows host running edr
// would capture it: as raw records, host by host in generation order, for
// what edr's ETW providers deliver, and as normalized events for what its
// Event Log subscriptions select (capture/eventlog.Subscriptions: System
// 7045, Security 4688/4697/4698), at most Rate generated events/s (0: as
// fast as they are taken). Events neither delivers (other Security and
// System events, Sysmon-only ones) are counted in Skipped.
type Source struct {
	gen *capture.Synthetic
	enc Encoder
	// Generated counts the generator's events; EventLog those delivered as
	// Event Log events, Skipped those delivered neither way.
	Generated, EventLog, Skipped atomic.Uint64
}

// NewSource returns a source of o's stream (see capture.NewSynthetic for
// the rate).
func NewSource(o synth.Options, rate float64) *Source {
	return &Source{gen: capture.NewSynthetic(o, rate)}
}

type subKey struct {
	channel string
	id      uint16
}

// subscribed is eventlog.Subscriptions as a set.
var subscribed = func() map[subKey]bool {
	m := map[subKey]bool{}
	for _, s := range eventlog.Subscriptions {
		for _, id := range s.IDs {
			m[subKey{s.Channel, id}] = true
		}
	}
	return m
}()

// Run hands every record to record (a rawsource.Sink's Record; it owns the
// record) and every Event Log event to eventLog (the Sink's Event; it
// copies the event) until the stream ends or ctx is done.
//
// The generator and the encoder run on a goroutine of their own, as the
// ETW session's callback thread does on Windows (capture/etw hands its
// records over a channel): record and eventLog are called on Run's
// goroutine, in generation order, so decoding runs beside generation. At
// most queueChunks batches wait between the two (backpressure stops the
// generator); when ctx is done, what was already generated is still
// handed on before Run returns.
func (s *Source) Run(ctx context.Context, record func(host string, r *raw.Record) error, eventLog func(e *event.Event) error) error {
	gctx, stop := context.WithCancel(ctx)
	defer stop()
	free, q := make(chan *chunk, queueChunks), make(chan *chunk, queueChunks)
	for range queueChunks {
		free <- &chunk{}
	}
	genErr := make(chan error, 1)
	go func() {
		defer close(q)
		genErr <- s.gen.Run(gctx, func(batch []event.Event) error {
			var c *chunk
			select {
			case c = <-free:
			case <-gctx.Done():
				return gctx.Err()
			}
			s.fill(c, batch)
			q <- c // never blocks: a chunk taken from free has room in q
			return nil
		})
	}()
	var err error
	for c := range q {
		if err == nil {
			err = c.deliver(record, eventLog)
			if err != nil {
				stop() // the generator stops; what it still queues is released below
			}
		} else {
			c.release()
		}
		free <- c
	}
	if gerr := <-genErr; err == nil {
		err = gerr
	}
	return err
}

// queueChunks is the generator batches that may wait for decoding.
const queueChunks = 4

// item is one generated event as delivered: its raw records, or an Event
// Log event (ev, an index in chunk.evs).
type item struct {
	host     string
	from, to int // its records: chunk.recs[from:to]
	ev       int
}

// chunk is one generator batch, encoded, on its way to Run's goroutine.
type chunk struct {
	items []item
	recs  []*raw.Record // storage of the items' recs
	evs   []event.Event // copies of the Event Log events (storage reused)
}

// fill encodes batch into c (on the generator's goroutine).
func (s *Source) fill(c *chunk, batch []event.Event) {
	s.Generated.Add(uint64(len(batch)))
	c.items, c.recs = c.items[:0], c.recs[:0]
	nev := 0
	for i := range batch {
		e := &batch[i]
		if subscribed[subKey{e.Channel, e.EventID}] {
			s.EventLog.Add(1)
			if nev == len(c.evs) {
				c.evs = append(c.evs, event.Event{})
			}
			c.evs[nev].CopyFrom(e)
			c.items = append(c.items, item{ev: nev})
			nev++
			continue
		}
		recs := s.enc.Encode(e)
		if recs == nil {
			s.Skipped.Add(1)
			continue
		}
		k := len(c.recs)
		c.recs = append(c.recs, recs...)
		c.items = append(c.items, item{host: e.Host, from: k, to: len(c.recs), ev: -1})
	}
}

// deliver hands c's records and events on (on Run's goroutine). After an
// error the records not handed on are released.
func (c *chunk) deliver(record func(host string, r *raw.Record) error, eventLog func(e *event.Event) error) error {
	for _, it := range c.items {
		var err error
		if it.ev >= 0 {
			err = eventLog(&c.evs[it.ev])
		} else {
			for j := it.from; j < it.to && err == nil; j++ {
				r := c.recs[j]
				c.recs[j] = nil // record owns it now
				err = record(it.host, r)
			}
		}
		if err != nil {
			c.release()
			return err
		}
	}
	return nil
}

// release returns the records c still holds to the pool.
func (c *chunk) release() {
	for _, r := range c.recs {
		if r != nil {
			raw.Put(r)
		}
	}
	clear(c.recs)
}
