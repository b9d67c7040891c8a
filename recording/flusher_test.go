package recording

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/edr-lab/edr/recording/wal"
	"github.com/stretchr/testify/require"
)

// batchCap is the capacity of a batch's buffer (unexported in wal).
func batchCap(b *wal.Batch) int { return reflect.ValueOf(b).Elem().FieldByName("buf").Cap() }

// recycle keeps at most freeMax emptied batches, and never one that held
// more than freeBytes.
func TestFlusherRecycleBounds(t *testing.T) {
	f := &flusher{}
	for range 3 * freeMax {
		f.recycle(new(wal.Batch), 1000)
	}
	require.Len(t, f.free, freeMax)
	f.free = f.free[:0]
	f.recycle(new(wal.Batch), freeBytes+1)
	require.Empty(t, f.free, "a batch that held more than freeBytes is not kept")
	f.recycle(new(wal.Batch), freeBytes)
	require.Len(t, f.free, 1)
}

// Through the flusher: every record reaches the log, and after a batch far
// larger than freeBytes went through, no kept batch holds its buffer.
func TestFlusherDropsLargeBatches(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.wal")
	wl, err := wal.Create(path, false)
	require.NoError(t, err)
	defer wl.Close()
	f := newFlusher(0, nil)
	small := bytes.Repeat([]byte("e"), 1000)
	var b wal.Batch
	for range 3 * freeMax {
		b.Append(walEvent, small)
		require.NoError(t, f.write(wl, &b))
		require.Zero(t, b.Len(), "write takes the batch's contents")
	}
	b.Append(walEvent, bytes.Repeat([]byte("b"), 4*freeBytes))
	require.NoError(t, f.write(wl, &b))
	require.NoError(t, f.wait())
	f.mu.Lock()
	require.LessOrEqual(t, len(f.free), freeMax)
	for _, fb := range f.free {
		require.Less(t, batchCap(fb), 4*freeBytes, "the large batch's buffer is not kept")
	}
	f.mu.Unlock()
	require.NoError(t, f.stop())

	fr, err := os.Open(path)
	require.NoError(t, err)
	defer fr.Close()
	n := 0
	_, err = wal.Read(fr, func(byte, []byte) error { n++; return nil })
	require.NoError(t, err)
	require.Equal(t, 3*freeMax+1, n)
}
