package recording

import (
	"io"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/recording/internal/pqfile"
)

// columnStorage is the bytes a column's slices hold (their capacity) and
// whether it keeps a map.
func columnStorage(c *dictColumn) (int, bool) {
	return cap(c.idx)*4 + cap(c.rows)*4 + cap(c.vals)*16 + cap(c.dict)*16, c.m != nil
}

// TestEncoderStorageFollowsLastRowGroup: after a row group, each column
// keeps storage for about what it held in that row group, not for its
// largest row group so far: a column that had 20,000 values once and
// none since keeps neither slices nor map, and one whose values shrank
// keeps about its new size.
func TestEncoderStorageFollowsLastRowGroup(t *testing.T) {
	e := newPQEncoder(io.Discard, pqfile.LevelFastest)
	img, cmd := fieldColumn[event.FImage], fieldColumn[event.FCommandLine]
	rowGroup := func(n, withCmd int) {
		for i := 0; i < n; i++ {
			fv := []fieldValue{{img, "img" + strconv.Itoa(i%1000)}}
			if i < withCmd {
				fv = append(fv, fieldValue{cmd, "cmd " + strconv.Itoa(i%3000)})
			}
			if img > cmd {
				fv[0], fv[len(fv)-1] = fv[len(fv)-1], fv[0]
			}
			require.NoError(t, e.addRow(int64(i), "h", "c", "p", 1, uint64(i), uint64(i), "etw", 0, fv, nil))
		}
		require.NoError(t, e.flushRowGroup())
	}
	rowGroup(20_000, 20_000)
	big, _ := columnStorage(&e.rg.fields[cmd])
	require.Greater(t, big, 20_000*8, "a row group of 20,000 values in storage")

	rowGroup(20_000, 0)
	size, hasMap := columnStorage(&e.rg.fields[cmd])
	assert.Zero(t, size, "storage of a column unused in the last row group")
	assert.False(t, hasMap, "map of a column unused in the last row group")

	rowGroup(20_000, 2_000)
	size, hasMap = columnStorage(&e.rg.fields[cmd])
	assert.LessOrEqual(t, size, 2*2_000*8+2*2_000*16, "storage of a column with 2,000 values")
	assert.True(t, hasMap, "a map of 2,000 entries is kept for the next row group")
	imgSize, _ := columnStorage(&e.rg.fields[img])
	assert.Greater(t, imgSize, 20_000*4, "a column as large as before keeps its storage")
}
