package recording

import (
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edr-lab/edr/event"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// abandon simulates a crash in-process: the WAL is flushed (as the flush
// timer would), then the writer stops without finishing its segments.
func (w *Writer) abandon(t testing.TB) {
	require.NoError(t, w.Flush())
	w.die(t)
}

// crashNow simulates a crash without abandon's flush: only what reached
// the WALs so far survives.
func (w *Writer) crashNow(t *testing.T) {
	require.NoError(t, w.fl.wait())
	w.die(t)
}

// die stops the writer as the end of its process would: segments not
// finished, files closed, the lock released.
func (w *Writer) die(t testing.TB) {
	w.mu.Lock()
	w.closed = true
	for _, s := range w.open {
		s.wal.Close()
		s.sw.q.stop()
		s.sw.f.Close()
	}
	if w.srcLog != nil {
		w.srcLog.Close()
	}
	w.mu.Unlock()
	require.NoError(t, w.fl.stop())
	w.lock.Close()
}

func TestRecoveryTurnsWALIntoSegment(t *testing.T) {
	dir := t.TempDir()
	in := synthEvents(11, 2, 5000, 0)
	var want []*event.Event
	w, err := OpenWriter(dir, WriterOptions{RowGroupRows: 1000, MaxSegmentAge: 2e9, Snapshot: func(host string, ts int64) []byte { return []byte(host) }})
	require.NoError(t, err)
	for _, e := range in {
		require.NoError(t, w.Write(e))
		want = append(want, e.Clone())
	}
	require.NoError(t, w.AddSource(SourceInfo{ContentHash: "sha256:1", Path: "a"}))
	w.AddLoss("lost", 2)
	w.abandon(t)

	sum, err := Inspect(dir)
	require.NoError(t, err)
	assert.Positive(t, sum.PendingWALs)

	w, err = OpenWriter(dir, WriterOptions{})
	require.NoError(t, err)
	st := w.Stats()
	assert.Equal(t, sum.PendingWALs, st.RecoveredSegments)
	assert.Positive(t, st.RecoveredEvents)
	assert.True(t, w.HasSource("sha256:1"))
	assert.Equal(t, uint64(5001), w.NextSeq())
	require.NoError(t, w.Close())

	sortKey(want)
	got, rs := readAll(t, dir, ReaderOptions{})
	requireSame(t, want, got)
	assert.Empty(t, rs.Errors)
	sum, err = Inspect(dir)
	require.NoError(t, err)
	assert.Zero(t, sum.PendingWALs)
	assert.Equal(t, st.RecoveredSegments, sum.RecoveredSegments)
	assert.Equal(t, uint64(2), sum.Loss["lost"])
	leftovers, _ := filepath.Glob(filepath.Join(dir, walDir, "*", "*", "*"))
	assert.Empty(t, leftovers)
}

func TestRecoveryDropsTornTail(t *testing.T) {
	dir := t.TempDir()
	w, err := OpenWriter(dir, WriterOptions{})
	require.NoError(t, err)
	var want []*event.Event
	for i := 0; i < 10; i++ {
		e := &event.Event{Time: t0 + int64(i), Host: "h", Channel: "c"}
		require.NoError(t, w.Write(e))
		want = append(want, e.Clone())
		require.NoError(t, w.Flush()) // one WAL record per event
	}
	w.abandon(t)
	wals, _ := filepath.Glob(filepath.Join(dir, walDir, "*", "*", "*.wal"))
	require.Len(t, wals, 1)
	st, err := os.Stat(wals[0])
	require.NoError(t, err)
	require.NoError(t, os.Truncate(wals[0], st.Size()-3)) // tear the last record

	w, err = OpenWriter(dir, WriterOptions{})
	require.NoError(t, err)
	assert.Equal(t, int64(9), w.Stats().RecoveredEvents)
	assert.Positive(t, w.Stats().RecoveryDroppedBytes)
	require.NoError(t, w.Close())
	got, _ := readAll(t, dir, ReaderOptions{})
	requireSame(t, want[:9], got)
}

// TestDurableAcknowledgesWhatSurvives: WriterOptions.Durable reports, after
// Flush and after the flush timer's flushes, a Seq up to which every event
// survives a crash.
func TestDurableAcknowledgesWhatSurvives(t *testing.T) {
	dir := t.TempDir()
	var acked atomic.Uint64
	opts := WriterOptions{FlushInterval: 5 * time.Millisecond, RowGroupRows: 1000, MaxSegmentAge: 2e9,
		Durable: func(seq uint64) {
			if seq <= acked.Load() {
				panic("acknowledgements must increase")
			}
			acked.Store(seq)
		}}
	w, err := OpenWriter(dir, opts)
	require.NoError(t, err)
	in := synthEvents(5, 3, 3000, 0)
	for _, e := range in[:1000] {
		require.NoError(t, w.Write(e))
	}
	require.NoError(t, w.Flush())
	assert.Equal(t, uint64(1000), acked.Load(), "Flush returns after the acknowledgement")
	for _, e := range in[1000:] {
		require.NoError(t, w.Write(e))
	}
	// The timer's flush acknowledges the rest (no deadline is asserted:
	// this waits as long as the test may run).
	for acked.Load() < 3000 {
		time.Sleep(time.Millisecond)
	}
	w.abandon(t)
	w, err = OpenWriter(dir, WriterOptions{})
	require.NoError(t, err)
	require.NoError(t, w.Close())
	got, _ := readAll(t, dir, ReaderOptions{})
	assert.Len(t, got, 3000)
}
