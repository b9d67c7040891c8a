package recording

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/edr-lab/edr/capture/raw"
	"github.com/edr-lab/edr/recording/internal/pqfile"
)

// BenchmarkRawFile: the raw layer's Parquet encoding alone (one segment's
// file), on the real fixture records in turn; reports records/s.
func BenchmarkRawFile(b *testing.B) {
	b.Run("fixtures", func(b *testing.B) { benchRawFile(b, fixtureRecords(b)) })
	b.Run("wide", func(b *testing.B) { benchRawFile(b, []*raw.Record{extremeRecord(1), extremeRecord(2)}) })
}

func benchRawFile(b *testing.B, recs []*raw.Record) {
	dir := b.TempDir()
	b.ReportAllocs()
	b.ResetTimer()
	rf, err := newRawFile(filepath.Join(dir, "x.tmp"), pqfile.LevelDefault)
	require.NoError(b, err)
	for i := 0; i < b.N; i++ {
		if err := rf.add("host", uint64(i+1), recs[i%len(recs)]); err != nil {
			b.Fatal(err)
		}
	}
	require.NoError(b, rf.finish(filepath.Join(dir, "x.parquet"), false))
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkWriteRaw: Writer.WriteRaw end to end (WAL and Parquet file).
func BenchmarkWriteRaw(b *testing.B) {
	recs := fixtureRecords(b)
	w, err := OpenWriter(b.TempDir(), WriterOptions{})
	require.NoError(b, err)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := recs[i%len(recs)]
		if err := w.WriteRaw("host", r, uint64(i+1)); err != nil {
			b.Fatal(err)
		}
	}
	require.NoError(b, w.Close())
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}
