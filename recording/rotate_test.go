package recording

import (
	"os"
	"path/filepath"
	"testing"
	"time"

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
