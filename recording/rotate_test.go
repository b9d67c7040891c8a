package recording

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/edr-lab/edr/event"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRotationBySizeAgeAndDay(t *testing.T) {
	in := synthEvents(21, 1, 30000, int64(1_764_028_770_000_000_000)) // 2025-11-24T23:59:30Z: one minute across midnight
	const maxBytes = 64 << 10
	const age = 20 * time.Second
	dir := t.TempDir()
	want := writeAll(t, dir, WriterOptions{RowGroupRows: 500, MaxSegmentBytes: maxBytes, MaxSegmentAge: age}, in)
	paths, err := listSegments(dir)
	require.NoError(t, err)
	require.Greater(t, len(paths), 3)
	days := map[string]bool{}
	var total int64
	for _, p := range paths {
		m, err := ReadSegmentMeta(p)
		require.NoError(t, err)
		st, err := os.Stat(p)
		require.NoError(t, err)
		total += m.Events
		assert.Equal(t, dateOf(m.FirstTime), dateOf(m.LastTime), "%s spans a day", p)
		assert.Equal(t, "date="+m.Date, filepath.Base(filepath.Dir(p)))
		days[m.Date] = true
		assert.Less(t, m.LastTime-m.FirstTime, int64(age), "%s exceeds the age", p)
		// Size is checked when a row group completes: a segment ends in the
		// row group that reached the limit (plus footer).
		assert.Less(t, st.Size(), int64(maxBytes)+int64(200<<10), "%s", p)
	}
	assert.Len(t, days, 2)
	assert.Equal(t, int64(len(want)), total)
}

func TestReopenNeverRewritesSegments(t *testing.T) {
	dir := t.TempDir()
	writeAll(t, dir, WriterOptions{}, synthEvents(1, 2, 2000, 0))
	before := treeDigest(t, dir)
	writeAll(t, dir, WriterOptions{}, synthEvents(2, 2, 2000, 0))
	after := treeDigest(t, dir)
	for name, content := range before {
		if filepath.Ext(name) == segmentExt {
			assert.Equal(t, content, after[name], "%s was rewritten", name)
		}
	}
	assert.Greater(t, len(after), len(before))
	got, _ := readAll(t, dir, ReaderOptions{})
	assert.Len(t, got, 4000)
	seqs := map[uint64]bool{}
	for _, e := range got {
		assert.False(t, seqs[e.Seq], "duplicate Seq %d", e.Seq)
		seqs[e.Seq] = true
	}
}

// TestRowGroupsCutByBytes: with six hosts open at once and a 1 MiB buffer,
// the writer keeps the events buffered in open row groups under the bound
// after every Write (cutting the largest), the recording reads back whole,
// and the cuts depend only on the events: writing again gives the same
// bytes.
func TestRowGroupsCutByBytes(t *testing.T) {
	in := synthEvents(8, 6, 40000, 0)
	const limit = 1 << 20
	write := func(dir string) []*event.Event {
		w, err := OpenWriter(dir, WriterOptions{MaxBufferBytes: limit, MaxSegmentBytes: 256 << 10})
		require.NoError(t, err)
		var out []*event.Event
		for _, e := range in {
			c := e.Clone()
			require.NoError(t, w.Write(c))
			out = append(out, c)
			w.mu.Lock()
			var sum int64
			for _, s := range w.open {
				sum += s.sw.rgBytes
			}
			buffered := w.buffered
			w.mu.Unlock()
			require.Equal(t, sum, buffered, "accounting")
			require.LessOrEqual(t, buffered, int64(limit))
		}
		require.NoError(t, w.Close())
		return out
	}
	a, b := t.TempDir(), t.TempDir()
	want := write(a)
	write(b)
	assert.Equal(t, treeDigest(t, a), treeDigest(t, b), "same events, same bytes")

	paths, err := listSegments(a)
	require.NoError(t, err)
	groups, events := 0, int64(0)
	for _, p := range paths {
		seg, err := openSegFile(p, footerOnly)
		require.NoError(t, err)
		groups += len(seg.pf.RowGroups())
		events += seg.meta.Events
		seg.close()
	}
	// ~460 bytes an event: a 1 MiB buffer over six hosts makes row groups
	// of a few hundred events, not 131072.
	assert.Greater(t, groups, int(events/2000), "%d row groups for %d events", groups, events)
	sortKey(want)
	got, _ := readAll(t, a, ReaderOptions{})
	requireSame(t, want, got)
}
