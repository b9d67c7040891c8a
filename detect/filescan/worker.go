package filescan

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/edr-lab/edr/event"
)

// Worker runs Live checks in the background: a bounded queue and a fixed
// number of goroutines. A full queue drops the job and counts it (never
// blocks the event path, never drops silently).
type Worker struct {
	s     *Scanner
	ctx   context.Context
	emit  func(ev *event.Event, r Result)
	jobs  chan *event.Event
	wg    sync.WaitGroup
	mu    sync.RWMutex
	done  bool
	stats struct{ submitted, dropped, checked atomic.Uint64 }
}

// WorkerStats count the worker's jobs.
type WorkerStats struct {
	Submitted, Dropped, Checked uint64
}

// Start runs workers goroutines over a queue of queue jobs. emit receives
// each checked event (a clone the worker owns, with Hashes filled where
// they were missing) and its Result; it is called from the worker
// goroutines, in completion order.
func (s *Scanner) Start(ctx context.Context, workers, queue int, emit func(ev *event.Event, r Result)) *Worker {
	if workers <= 0 {
		workers = 1
	}
	if queue <= 0 {
		queue = 1000
	}
	w := &Worker{s: s, ctx: ctx, emit: emit, jobs: make(chan *event.Event, queue)}
	for i := 0; i < workers; i++ {
		w.wg.Add(1)
		go w.run()
	}
	return w
}

func (w *Worker) run() {
	defer w.wg.Done()
	for ev := range w.jobs {
		r := w.s.Live(w.ctx, ev)
		w.stats.checked.Add(1)
		if w.emit != nil {
			w.emit(ev, r)
		}
	}
}

// Submit queues a check of ev's file if ev is a target; ev is cloned, so
// the caller keeps it. It returns false when the job was dropped (queue
// full or worker closed).
func (w *Worker) Submit(ev *event.Event) bool {
	if _, _, ok := w.s.Target(ev); !ok {
		return true
	}
	w.mu.RLock()
	defer w.mu.RUnlock()
	w.stats.submitted.Add(1)
	if w.done {
		w.stats.dropped.Add(1)
		return false
	}
	select {
	case w.jobs <- ev.Clone():
		return true
	default:
		w.stats.dropped.Add(1)
		return false
	}
}

// Close stops accepting jobs, finishes the queued ones and waits.
func (w *Worker) Close() {
	w.mu.Lock()
	if !w.done {
		w.done = true
		close(w.jobs)
	}
	w.mu.Unlock()
	w.wg.Wait()
}

// Stats reports the counters.
func (w *Worker) Stats() WorkerStats {
	return WorkerStats{Submitted: w.stats.submitted.Load(), Dropped: w.stats.dropped.Load(), Checked: w.stats.checked.Load()}
}
