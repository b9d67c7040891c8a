package recording

import (
	"testing"

	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/recording/internal/pqfile"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The writer's string columns are all ones the own page reader reads (so
// the reader does not silently fall back to parquet-go), and reading a
// recording with it gives the same events as with parquet-go's pages,
// projected or not.
func TestOwnPagesReadWhatParquetGoReads(t *testing.T) {
	dir := t.TempDir()
	writeAll(t, dir, WriterOptions{}, synthEvents(7, 1, 40000, 0)) // one host: two pages a column (PageRows rows)
	paths, err := listSegments(dir)
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	raw := 0
	for _, p := range paths {
		s, err := openSegFile(p, fullData)
		require.NoError(t, err)
		for rg, g := range s.pf.Metadata().RowGroups {
			for _, spec := range s.layout.strs {
				if s.allNull(rg, spec.leaf) {
					continue
				}
				assert.True(t, pqfile.RawChunk(&g.Columns[spec.leaf].MetaData, int(spec.maxDef), 0), "%s: column %s", p, spec.name)
				raw++
			}
		}
		s.close()
	}
	require.Positive(t, raw)
	for _, opts := range []ReaderOptions{{}, {Fields: []event.FieldID{mustF("Image"), mustF("CommandLine"), mustF("TargetFilename")}}} {
		own, _ := readAll(t, dir, opts)
		ownPages = false
		theirs, _ := readAll(t, dir, opts)
		ownPages = true
		require.Equal(t, len(theirs), len(own))
		for i := range own {
			require.Equal(t, dump(theirs[i]), dump(own[i]), "event %d", i)
		}
	}
}
