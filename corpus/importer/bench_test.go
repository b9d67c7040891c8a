package importer

import (
	"context"
	"testing"

	"github.com/edr-lab/edr/internal/cputime"
	"github.com/edr-lab/edr/internal/testutil"
)

// BenchmarkImport is the whole of edr import (hashing, decoding, the
// recording writer) over the two EVTX attack collections, into a fresh
// recording each time.
func BenchmarkImport(b *testing.B) {
	srcs := []string{testutil.Corpus(b, "evtx-attack-samples"), testutil.Corpus(b, "evtx-to-mitre-attack")}
	var records int64
	cpu0 := cputime.Now()
	for i := 0; i < b.N; i++ {
		sum, err := Run(context.Background(), srcs, Options{Out: b.TempDir()})
		if err != nil || sum.ExitCode() != 0 {
			b.Fatal(err, sum.ExitCode())
		}
		records += sum.Records
	}
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
	if cpu := cputime.Now() - cpu0; cpu > 0 {
		b.ReportMetric(float64(records)/cpu.Seconds(), "records/cpu-s")
	}
}
