package recording

import (
	"sync"
	"time"

	"github.com/edr-lab/edr/recording/wal"
)

// flusher compresses and writes WAL records on its own goroutine, so that
// the writer's caller only pays for encoding events (the second core does
// the compression), and calls tick every interval so that idle buffered
// events still reach the log within the flush interval.
type flusher struct {
	jobs    chan walJob
	pending sync.WaitGroup
	mu      sync.Mutex
	err     error
	free    []*wal.Batch
	stopT   chan struct{}
	tickWG  sync.WaitGroup
	workWG  sync.WaitGroup
}

type walJob struct {
	w   *wal.Writer
	b   *wal.Batch
	ack func() // instead of a record: called once every earlier record is written
}

func newFlusher(interval time.Duration, tick func()) *flusher {
	f := &flusher{jobs: make(chan walJob, 8), stopT: make(chan struct{})}
	f.workWG.Add(1)
	go f.work()
	if interval > 0 {
		f.tickWG.Add(1)
		go func() {
			defer f.tickWG.Done()
			t := time.NewTicker(interval)
			defer t.Stop()
			for {
				select {
				case <-t.C:
					tick()
				case <-f.stopT:
					return
				}
			}
		}()
	}
	return f
}

func (f *flusher) work() {
	defer f.workWG.Done()
	for j := range f.jobs {
		if j.ack != nil {
			f.mu.Lock()
			ok := f.err == nil
			f.mu.Unlock()
			if ok {
				j.ack()
			}
			f.pending.Done()
			continue
		}
		err := j.w.Write(j.b)
		j.b.Reset()
		f.mu.Lock()
		if err != nil && f.err == nil {
			f.err = err
		}
		f.free = append(f.free, j.b)
		f.mu.Unlock()
		f.pending.Done()
	}
}

// write takes the batch's contents (leaving b empty) and queues them.
func (f *flusher) write(w *wal.Writer, b *wal.Batch) error {
	f.mu.Lock()
	err := f.err
	var nb *wal.Batch
	if n := len(f.free); n > 0 {
		nb, f.free = f.free[n-1], f.free[:n-1]
	} else {
		nb = new(wal.Batch)
	}
	f.mu.Unlock()
	if err != nil {
		return err
	}
	*nb, *b = *b, *nb
	f.pending.Add(1)
	f.jobs <- walJob{w: w, b: nb}
	return nil
}

// acknowledge queues fn, called on the flusher goroutine once every record
// queued before it is written (and not at all after a write error).
func (f *flusher) acknowledge(fn func()) {
	f.pending.Add(1)
	f.jobs <- walJob{ack: fn}
}

// wait returns once every queued record is written.
func (f *flusher) wait() error {
	f.pending.Wait()
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err
}

func (f *flusher) stop() error {
	close(f.stopT)
	f.tickWG.Wait()
	err := f.wait()
	close(f.jobs)
	f.workWG.Wait()
	return err
}
