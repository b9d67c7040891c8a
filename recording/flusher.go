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

// flushQueue is how many records wait for the flusher goroutine before
// write blocks; freeMax bounds the emptied batches kept for reuse, and
// batches grown past freeBytes (a segment-start state snapshot, a burst)
// are not kept: the flusher's memory stays bounded whatever it once
// buffered.
const (
	flushQueue = 8
	freeMax    = flushQueue
	freeBytes  = 2 * walBatchMax
)

func newFlusher(interval time.Duration, tick func()) *flusher {
	f := &flusher{jobs: make(chan walJob, flushQueue), stopT: make(chan struct{})}
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
		size := j.b.Size()
		err := j.w.Write(j.b)
		j.b.Reset()
		f.mu.Lock()
		if err != nil && f.err == nil {
			f.err = err
		}
		f.recycle(j.b, size)
		f.mu.Unlock()
		f.pending.Done()
	}
}

// recycle keeps an emptied batch that held size bytes for reuse, within
// freeMax batches and freeBytes (a batch's buffer grows to at most about
// twice what it held) (f.mu held).
func (f *flusher) recycle(b *wal.Batch, size int) {
	if len(f.free) < freeMax && size <= freeBytes {
		f.free = append(f.free, b)
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
