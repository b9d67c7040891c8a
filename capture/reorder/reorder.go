// Package reorder puts events that arrive roughly in time order (ETW
// delivers per-CPU buffers, so events of different CPUs interleave up to a
// flush interval apart) into the exact (time, host, seq) order the
// detection engine needs.
package reorder

import (
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
	emit     func(*event.Event, uint64)
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
	return NewTagged(cfg, func(ev *event.Event, _ uint64) { emit(ev) })
}

// NewTagged makes a stage whose events carry a tag (PushTagged), handed
// back with each event: what the caller needs with an event when it leaves
// the stage, without a map from event to it.
func NewTagged(cfg Config, emit func(ev *event.Event, tag uint64)) *Stage {
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
func (s *Stage) Push(ev *event.Event) { s.PushTagged(ev, 0) }

// PushTagged adds an event with a tag emit gets back with it.
func (s *Stage) PushTagged(ev *event.Event, tag uint64) {
	s.stats.In++
	if (s.marked && ev.Time < s.mark-s.window) || (s.emitted && s.beforeLast(ev)) {
		s.stats.Late++
		s.stats.Out++
		s.emit(ev, tag)
		return
	}
	if len(s.heap) >= s.max {
		s.stats.Overflow++
		s.pop()
	}
	s.heap.push(ev, tag)
	s.Advance(ev.Time)
}

// Advance raises the watermark to t (a lower t changes nothing) and emits
// every event more than a window behind it.
func (s *Stage) Advance(t int64) {
	if !s.marked || t > s.mark {
		s.mark, s.marked = t, true
	}
	for len(s.heap) > 0 && s.heap[0].time < s.mark-s.window {
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
	return keyLess(a.Time, a.Host, a.Seq, b.Time, b.Host, b.Seq)
}

func keyLess(t1 int64, h1 string, s1 uint64, t2 int64, h2 string, s2 uint64) bool {
	if t1 != t2 {
		return t1 < t2
	}
	if c := strings.Compare(h1, h2); c != 0 {
		return c < 0
	}
	return s1 < s2
}

func (s *Stage) beforeLast(ev *event.Event) bool {
	return keyLess(ev.Time, ev.Host, ev.Seq, s.lastTime, s.lastHost, s.lastSeq)
}

// pop emits the least buffered event.
func (s *Stage) pop() {
	ev, tag := s.heap.pop()
	// The key is copied: the caller may reuse the event once emitted.
	s.lastTime, s.lastHost, s.lastSeq, s.emitted = ev.Time, ev.Host, ev.Seq, true
	s.stats.Out++
	s.emit(ev, tag)
}

// entry is a buffered event with its sort key beside it: the heap compares
// keys in its own contiguous array instead of following each event pointer
// (a cache miss per comparison with thousands of events buffered).
type entry struct {
	time int64
	host string
	seq  uint64
	ev   *event.Event
	tag  uint64
}

func (a *entry) less(b *entry) bool { return keyLess(a.time, a.host, a.seq, b.time, b.host, b.seq) }

// events is a binary min-heap in Less order, sifted as container/heap does
// (so events of equal keys leave in the same order as they did with it).
type events []entry

func (h *events) push(ev *event.Event, tag uint64) {
	*h = append(*h, entry{time: ev.Time, host: ev.Host, seq: ev.Seq, ev: ev, tag: tag})
	q := *h
	for j := len(q) - 1; j > 0; {
		i := (j - 1) / 2
		if !q[j].less(&q[i]) {
			break
		}
		q[i], q[j] = q[j], q[i]
		j = i
	}
}

func (h *events) pop() (*event.Event, uint64) {
	q := *h
	n := len(q) - 1
	q[0], q[n] = q[n], q[0]
	for i := 0; ; {
		j := 2*i + 1
		if j >= n {
			break
		}
		if j2 := j + 1; j2 < n && q[j2].less(&q[j]) {
			j = j2
		}
		if !q[j].less(&q[i]) {
			break
		}
		q[i], q[j] = q[j], q[i]
		i = j
	}
	ev, tag := q[n].ev, q[n].tag
	q[n] = entry{} // do not keep an emitted event alive
	*h = q[:n]
	return ev, tag
}
