package pipeline

import (
	"container/heap"
	"context"
	"sync"

	"github.com/edr-lab/edr/event"
)

// Less is the replay order: event time, then host, then sequence.
func Less(a, b *event.Event) bool {
	if a.Time != b.Time {
		return a.Time < b.Time
	}
	if a.Host != b.Host {
		return a.Host < b.Host
	}
	return a.Seq < b.Seq
}

// Merge interleaves ordered sources into one ordered source. Ties (same
// time, host and seq in two sources) go to the source listed first, so the
// result does not depend on goroutine scheduling.
func Merge(srcs ...Source) Source {
	if len(srcs) == 1 {
		return srcs[0]
	}
	return &merged{srcs: srcs}
}

type merged struct{ srcs []Source }

// MergeBatch is the number of events per merged batch.
const MergeBatch = 1024

type feed struct {
	idx   int
	ch    chan []event.Event
	cur   []event.Event
	pos   int
	freed chan []event.Event // batches handed back for reuse
}

type feedHeap []*feed

func (h feedHeap) Len() int { return len(h) }
func (h feedHeap) Less(i, j int) bool {
	a, b := &h[i].cur[h[i].pos], &h[j].cur[h[j].pos]
	if Less(a, b) {
		return true
	}
	if Less(b, a) {
		return false
	}
	return h[i].idx < h[j].idx
}
func (h feedHeap) Swap(i, j int)   { h[i], h[j] = h[j], h[i] }
func (h *feedHeap) Push(x any)     { *h = append(*h, x.(*feed)) }
func (h *feedHeap) Pop() any       { old := *h; x := old[len(old)-1]; *h = old[:len(old)-1]; return x }
func (f *feed) head() *event.Event { return &f.cur[f.pos] }

func (m *merged) Run(ctx context.Context, fn func([]event.Event) error) error {
	done := make(chan struct{})
	feeds := make([]*feed, len(m.srcs))
	errs := make([]error, len(m.srcs))
	var wg sync.WaitGroup
	for i, src := range m.srcs {
		f := &feed{idx: i, ch: make(chan []event.Event, 2), freed: make(chan []event.Event, 4)}
		feeds[i] = f
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer close(f.ch)
			errs[i] = src.Run(ctx, func(batch []event.Event) error {
				var own []event.Event
				select {
				case own = <-f.freed:
				default:
				}
				own = swapBatch(own, batch)
				select {
				case f.ch <- own:
					return nil
				case <-done:
					return errStopped
				case <-ctx.Done():
					return ctx.Err()
				}
			})
		}()
	}
	err := m.merge(feeds, fn)
	close(done)
	wg.Wait()
	for _, e := range errs {
		err = firstErr(err, e)
	}
	return err
}

func (m *merged) merge(feeds []*feed, fn func([]event.Event) error) error {
	h := &feedHeap{}
	for _, f := range feeds {
		if f.next() {
			*h = append(*h, f)
		}
	}
	heap.Init(h)
	out := make([]event.Event, 0, MergeBatch)
	for h.Len() > 0 {
		f := (*h)[0]
		if len(out) < cap(out) {
			out = out[:len(out)+1] // keep the slot's storage
		} else {
			out = append(out, event.Event{})
		}
		// Exchange, not copy: the feed's slot gets storage it will
		// overwrite when the batch comes back to it.
		out[len(out)-1], f.cur[f.pos] = f.cur[f.pos], out[len(out)-1]
		f.pos++
		if f.pos == len(f.cur) && !f.next() {
			heap.Pop(h)
		} else {
			heap.Fix(h, 0)
		}
		if len(out) == MergeBatch {
			if err := fn(out); err != nil {
				return err
			}
			out = out[:0]
		}
	}
	if len(out) > 0 {
		return fn(out)
	}
	return nil
}

// next advances to the feed's next non-empty batch.
func (f *feed) next() bool {
	for {
		if f.cur != nil {
			select {
			case f.freed <- f.cur:
			default:
			}
		}
		b, ok := <-f.ch
		if !ok {
			f.cur = nil
			return false
		}
		f.cur, f.pos = b, 0
		if len(b) > 0 {
			return true
		}
	}
}
