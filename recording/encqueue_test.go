package recording

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestQueueMemoryBound: with its encoder stalled, a queue fills every
// buffer it may hold and then blocks the producer. What it allocated by
// then is its memory bound, paid per open segment and raw segment: 512
// entries or 256 KiB per buffer made that ~1.5 MB (8 open files: ~12 MB
// in edr live).
func TestQueueMemoryBound(t *testing.T) {
	release := make(chan struct{})
	entered := make(chan struct{}, 1)
	q := startQueue(func([]byte) error {
		select {
		case entered <- struct{}{}:
		default:
		}
		<-release
		return nil
	}, func() error { return nil }, func(err error) error { return err })
	entry := make([]byte, 200) // about an event's WAL encoding
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	before := ms.TotalAlloc
	blocked := make(chan uint64)
	pushed := make(chan int, 1)
	var stop atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		n := 0
		for !stop.Load() {
			q.push(entry)
			n++
			select {
			case pushed <- n:
			default:
			}
		}
	}()
	<-entered
	// The producer is blocked once no push completes for a while.
	go func() {
		last := -1
		for {
			time.Sleep(50 * time.Millisecond)
			var n int
			select {
			case n = <-pushed:
			default:
				n = last
			}
			if n == last {
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				blocked <- ms.TotalAlloc
				return
			}
			last = n
		}
	}()
	after := <-blocked
	stop.Store(true)
	close(release)
	<-done
	require.NoError(t, q.stop())
	require.Greater(t, after, before)
	assert.Less(t, after-before, uint64(768<<10), "a stalled queue allocated %d bytes", after-before)
}
