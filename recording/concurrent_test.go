package recording

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/edr-lab/edr/event"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The Writer is safe for concurrent use: events written from several
// goroutines, with Flush, AddLoss and AddSource interleaved and the flush
// timer running, all arrive once, with distinct Seqs.
func TestWriterConcurrentUse(t *testing.T) {
	dir := t.TempDir()
	w, err := OpenWriter(dir, WriterOptions{FlushInterval: time.Millisecond, Fsync: true, RowGroupRows: 700, MaxSegmentBytes: 32 << 10})
	require.NoError(t, err)
	const workers, per = 4, 1500
	var wg sync.WaitGroup
	for g := 0; g < workers; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i++ {
				e := &event.Event{Time: t0 + int64(i)*1e6, Host: fmt.Sprint("h", g), Channel: "c", EventID: uint16(g)}
				e.Set(event.FImage, fmt.Sprint(i))
				if !assert.NoError(t, w.Write(e)) {
					return
				}
				switch i % 500 {
				case 100:
					assert.NoError(t, w.Flush())
				case 200:
					w.AddLoss("lost", 1)
				case 300:
					assert.NoError(t, w.AddSource(SourceInfo{ContentHash: fmt.Sprint("sha256:", g, i)}))
				}
			}
		}()
	}
	wg.Wait()
	require.NoError(t, w.Close())
	got, st := readAll(t, dir, ReaderOptions{Strict: true})
	require.Len(t, got, workers*per)
	assert.Empty(t, st.Errors)
	seqs := map[uint64]bool{}
	for _, e := range got {
		require.False(t, seqs[e.Seq])
		seqs[e.Seq] = true
	}
	sum, err := Inspect(dir)
	require.NoError(t, err)
	assert.Equal(t, uint64(workers*per/500), sum.Loss["lost"])
	assert.Len(t, sum.Sources, workers*per/500)
}
