package recording

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/format"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edr-lab/edr/internal/cputime"
	"github.com/edr-lab/edr/recording/internal/pqfile"
)

// writeLevel writes the same events and raw records at page compression
// level and returns the recording and its Parquet bytes (events, raw).
func writeLevel(t *testing.T, level string) (dir string, events, raws int64) {
	dir = t.TempDir()
	w, err := OpenWriter(dir, WriterOptions{PageCompression: level, RowGroupRows: 8000})
	require.NoError(t, err)
	for _, e := range synthEvents(5, 2, 20000, t0) {
		require.NoError(t, w.Write(e))
	}
	for i := 0; i < 3000; i++ {
		require.NoError(t, w.WriteRaw("raw host", extremeRecord(i), 0))
	}
	require.NoError(t, w.Close())
	require.NoError(t, filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || !strings.HasSuffix(p, ".parquet") {
			return err
		}
		if strings.Contains(p, string(filepath.Separator)+"raw"+string(filepath.Separator)) {
			raws += fi.Size()
		} else {
			events += fi.Size()
		}
		data, err := os.ReadFile(p)
		require.NoError(t, err)
		f, err := parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
		require.NoError(t, err, p)
		for _, rg := range f.Metadata().RowGroups {
			for _, c := range rg.Columns {
				assert.Equal(t, format.Zstd, c.MetaData.Codec, "%s %v: every level writes zstd chunks", p, c.MetaData.PathInSchema)
			}
		}
		return nil
	}))
	return dir, events, raws
}

// TestPageCompressionLevels: every level writes zstd files that read back
// to the same events and raw records (the default level's); the level is
// applied to both layers (the sizes differ from the default's); an
// unknown level is refused, naming it.
func TestPageCompressionLevels(t *testing.T) {
	ref, refEv, refRaw := writeLevel(t, "default")
	want, _ := readAll(t, ref, ReaderOptions{})
	wantRaw := readRawViews(t, ref, RawFilter{})
	require.NotEmpty(t, want)
	require.Len(t, wantRaw, 3000)
	sizes := map[string][2]int64{"default": {refEv, refRaw}}
	for _, level := range []string{"", "fastest", "better"} {
		dir, ev, rw := writeLevel(t, level)
		got, _ := readAll(t, dir, ReaderOptions{})
		requireSame(t, want, got)
		assert.Equal(t, wantRaw, readRawViews(t, dir, RawFilter{}), "level %q: raw records", level)
		sizes[level] = [2]int64{ev, rw}
		if level != "" {
			assert.NotEqual(t, refEv, ev, "level %q applies to event segments", level)
			assert.NotEqual(t, refRaw, rw, "level %q applies to the raw layer", level)
			t.Logf("level %s: events %d bytes (default %d), raw %d (default %d)", level, ev, refEv, rw, refRaw)
		}
	}
	assert.Equal(t, sizes[DefaultPageCompression], sizes[""], "empty is DefaultPageCompression")
	_, err := OpenWriter(t.TempDir(), WriterOptions{PageCompression: "fast"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `page compression "fast"`)
}

// TestDuckDBReadsFastestPages: DuckDB reads a recording whose pages were
// compressed at the fastest level.
func TestDuckDBReadsFastestPages(t *testing.T) {
	duckdbScript(t)
	dir, _, _ := writeLevel(t, "fastest")
	sum, err := Inspect(dir)
	require.NoError(t, err)
	res := duckQuery(t, dir, "SELECT count(*) AS n, count(DISTINCT CommandLine) AS c FROM REC")
	assert.Equal(t, sum.Events, num(t, res[0][0]["n"]))
	assert.Positive(t, num(t, res[0][0]["c"]))
}

// BenchmarkPageLevels recompresses every page of the benchmark recording
// (BENCH_REC, or a synthetic one) at each page level, one goroutine, and
// reports the page MB per CPU-second and the compressed/plain ratio: what
// [recording] page_compression trades.
func BenchmarkPageLevels(b *testing.B) {
	dir, _ := benchRecording(b)
	comp := segmentPages(b, dir)
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1))
	require.NoError(b, err)
	var pages [][]byte
	var plain int64
	for _, c := range comp {
		p, err := dec.DecodeAll(c, nil)
		require.NoError(b, err)
		pages = append(pages, p)
		plain += int64(len(p))
	}
	for _, level := range []string{"fastest", "default", "better"} {
		b.Run(level, func(b *testing.B) {
			l, err := pageLevel(level)
			require.NoError(b, err)
			pw := pqfile.NewWriterLevel(io.Discard, l)
			var out int64
			b.SetBytes(plain)
			b.ResetTimer()
			cpu0 := cputime.Now()
			for i := 0; i < b.N; i++ {
				out = 0
				for _, p := range pages {
					_, c := pw.WritePage(pqfile.DataPageHeader(1, format.Plain, 0), append(pw.Buf(), p...))
					out += c
				}
			}
			if cpu := cputime.Now() - cpu0; cpu > 0 {
				b.ReportMetric(float64(plain)*float64(b.N)/1e6/cpu.Seconds(), "MB/cpu-s")
			}
			b.ReportMetric(float64(out)/float64(plain), "ratio")
		})
	}
}
