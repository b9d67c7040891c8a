// Package reorder puts events that arrive roughly in time order (ETW
// delivers per-CPU buffers, so events of different CPUs interleave up to a
// flush interval apart) into the exact (time, host, seq) order the
// detection engine needs.
package reorder

import (
	"container/heap"
	"strings"
	"time"

	"github.com/edr-lab/edr/event"
)

// Config sets up a Stage.
type Config struct {
	// Window is how far an event may arrive behind the latest event time
	// seen and still be put in order (default 2 s).
	Window time.Duration
	// MaxBuffered bounds the events held (default 65,536). When full, the
	// oldest is emitted early (counted in Overflow).
	MaxBuffered int
}

// Stats counts the stage's work.
type Stats struct {
	In, Out  uint64
	Late     uint64 // arrived more than Window behind the watermark: emitted at once, out of order
	Overflow uint64 // emitted before the window passed because the buffer was full
	Buffered int    // held now
}

// Stage holds events until the watermark (the latest event time seen, or a
// later one the caller passes to Advance) is a full window past them, then
// emits them in (Time, Host, Seq) order. It never reads the clock: a quiet
// source's events are released by the caller's Advance (for example with
// the session's current timestamp), or by Flush at the end.
//
// An event that arrives more than Window behind the watermark, or behind an
// event already emitted, cannot be put in order any more: it is emitted at
// once and counted in Late, never dropped. So the output, less the Late
// events, is exactly sorted.
//
// Push takes ownership of the event until it is emitted; emit receives
// events the caller owns again. Not safe for concurrent use.
type Stage struct {
	window   int64
	max      int
	emit     func(*event.Event)
	heap     events
	mark     int64 // watermark
	marked   bool
	lastTime int64
	lastHost string
	lastSeq  uint64
	emitted  bool
	stats    Stats
}

// New makes a stage that hands events to emit.
func New(cfg Config, emit func(*event.Event)) *Stage {
	if cfg.Window <= 0 {
		cfg.Window = 2 * time.Second
	}
	if cfg.MaxBuffered <= 0 {
		cfg.MaxBuffered = 1 << 16
	}
	return &Stage{window: int64(cfg.Window), max: cfg.MaxBuffered, emit: emit, heap: make(events, 0, min(cfg.MaxBuffered, 1<<12))}
}

// Stats returns the counters.
func (s *Stage) Stats() Stats {
	st := s.stats
	st.Buffered = len(s.heap)
	return st
}

// Push adds an event, emitting whatever the watermark releases.
func (s *Stage) Push(ev *event.Event) {
	s.stats.In++
	if (s.marked && ev.Time < s.mark-s.window) || (s.emitted && s.beforeLast(ev)) {
		s.stats.Late++
		s.stats.Out++
		s.emit(ev)
		return
	}
	if len(s.heap) >= s.max {
		s.stats.Overflow++
		s.pop()
	}
	heap.Push(&s.heap, ev)
	s.Advance(ev.Time)
}

// Advance raises the watermark to t (a lower t changes nothing) and emits
// every event more than a window behind it.
func (s *Stage) Advance(t int64) {
	if !s.marked || t > s.mark {
		s.mark, s.marked = t, true
	}
	for len(s.heap) > 0 && s.heap[0].Time < s.mark-s.window {
		s.pop()
	}
}

// Flush emits every buffered event in order (end of input).
func (s *Stage) Flush() {
	for len(s.heap) > 0 {
		s.pop()
	}
}

// Less is the order the stage produces: time, then host, then sequence.
func Less(a, b *event.Event) bool {
	if a.Time != b.Time {
		return a.Time < b.Time
	}
	if c := strings.Compare(a.Host, b.Host); c != 0 {
		return c < 0
	}
	return a.Seq < b.Seq
}

func (s *Stage) beforeLast(ev *event.Event) bool {
	if ev.Time != s.lastTime {
		return ev.Time < s.lastTime
	}
	if c := strings.Compare(ev.Host, s.lastHost); c != 0 {
		return c < 0
	}
	return ev.Seq < s.lastSeq
}

// pop emits the least buffered event.
func (s *Stage) pop() {
	ev := heap.Pop(&s.heap).(*event.Event)
	// The key is copied: the caller may reuse the event once emitted.
	s.lastTime, s.lastHost, s.lastSeq, s.emitted = ev.Time, ev.Host, ev.Seq, true
	s.stats.Out++
	s.emit(ev)
}

// events is a min-heap in Less order.
type events []*event.Event

func (h events) Len() int           { return len(h) }
func (h events) Less(i, j int) bool { return Less(h[i], h[j]) }
func (h events) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *events) Push(x any)        { *h = append(*h, x.(*event.Event)) }
func (h *events) Pop() any {
	old := *h
	n := len(old) - 1
	ev := old[n]
	old[n] = nil // do not keep an emitted event alive
	*h = old[:n]
	return ev
}
