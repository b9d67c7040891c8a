package recording

import (
	"sort"
	"strconv"
	"testing"

	"github.com/edr-lab/edr/event"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// countTracker's snapshot is how many events of the host it has observed.
type countTracker struct {
	seen map[string]int
	seqs []uint64
}

func (c *countTracker) Observe(e *event.Event) {
	c.seen[e.Host]++
	c.seqs = append(c.seqs, e.Seq)
}

func (c *countTracker) Snapshot(host string, _ int64) []byte {
	return []byte(strconv.Itoa(c.seen[host]))
}

// TestIngestWritesThenObserves: every event reaches the tracker once, after
// the writer has taken it (Seq assigned), and each segment's snapshot is
// the state before the event that opened it: exactly its host's events in
// earlier segments.
func TestIngestWritesThenObserves(t *testing.T) {
	dir := t.TempDir()
	tr := &countTracker{seen: map[string]int{}}
	in, err := OpenIngest(dir, WriterOptions{RowGroupRows: 200, MaxSegmentBytes: 1}, tr)
	require.NoError(t, err)
	evs := synthEvents(5, 2, 3000, t0)
	for _, e := range evs {
		require.NoError(t, in.Write(e))
	}
	require.NoError(t, in.Close())

	require.Len(t, tr.seqs, len(evs))
	for i, e := range evs {
		assert.Equal(t, e.Seq, tr.seqs[i], "observed in write order, after Write assigned Seq")
		assert.NotZero(t, tr.seqs[i])
	}
	paths, err := listSegments(dir)
	require.NoError(t, err)
	require.Greater(t, len(paths), 2, "several segments per host")
	before := map[string]int64{} // events of the host in segments opened earlier
	metas := make([]*SegmentMeta, len(paths))
	for i, p := range paths {
		metas[i], err = ReadSegmentMeta(p)
		require.NoError(t, err)
	}
	// Segments of one host open in FirstSeq order.
	sort.Slice(metas, func(i, j int) bool { return metas[i].FirstSeq < metas[j].FirstSeq })
	for _, m := range metas {
		assert.Equal(t, strconv.FormatInt(before[m.Host], 10), string(m.State), "snapshot of %s's segment at seq %d", m.Host, m.FirstSeq)
		before[m.Host] += m.Events
	}
}
