package evtx

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	vx "www.velocidex.com/golang/evtx"

	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/internal/cputime"
	"github.com/edr-lab/edr/internal/testutil"
)

// benchFiles loads the EVTX files of the attack-sample collection into
// memory so that the benchmarks measure decoding, not the disk.
func benchFiles(b *testing.B) []memFile {
	dir := testutil.Corpus(b, "evtx-attack-samples")
	var paths []string
	filepathWalk(dir, &paths)
	var out []memFile
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			b.Fatal(err)
		}
		out = append(out, memFile{name: filepath.Base(p), data: data})
	}
	return out
}

type memFile struct {
	name string
	data []byte
}

// report adds records per wall-clock second and per CPU-second (the
// machine may be shared: the CPU figure is what this process used).
func report(b *testing.B, records int64, cpu0 time.Duration) {
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
	if cpu := cputime.Now() - cpu0; cpu > 0 {
		b.ReportMetric(float64(records)/cpu.Seconds(), "records/cpu-s")
	}
}

// BenchmarkEVTX decodes the attack-sample collection (5109 records) with
// this package and, as the baseline measured in the same run, with the
// velocidex library (parse only, and parse plus JSON rendering of each
// record as velocidex's users do).
func BenchmarkEVTX(b *testing.B) {
	files := benchFiles(b)
	b.Run("edr", func(b *testing.B) {
		d := NewDecoder(Options{})
		var records int64
		cpu0 := cputime.Now()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			for _, f := range files {
				st, err := d.Read(bytesReaderAt(f.data), int64(len(f.data)), f.name, func(*event.Event) error { return nil })
				if err != nil {
					b.Fatal(err)
				}
				records += st.Records
			}
		}
		report(b, records, cpu0)
	})
	velocidex := func(b *testing.B, render bool) {
		var records int64
		cpu0 := cputime.Now()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			for _, f := range files {
				chunks, err := vx.GetChunks(bytes.NewReader(f.data))
				if err != nil {
					b.Fatal(err)
				}
				for _, c := range chunks {
					recs, _ := c.Parse(0)
					for _, r := range recs {
						if render {
							if _, err := json.Marshal(r.Event); err != nil {
								b.Fatal(err)
							}
						}
					}
					records += int64(len(recs))
				}
			}
		}
		report(b, records, cpu0)
	}
	b.Run("velocidex-parse", func(b *testing.B) { velocidex(b, false) })
	b.Run("velocidex-json", func(b *testing.B) { velocidex(b, true) })
}
