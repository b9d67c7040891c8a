package evtx

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/internal/testutil"
)

// benchFiles loads the EVTX files of the attack-sample collection into
// memory so that the benchmark measures decoding, not the disk.
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

func BenchmarkDecodeEVTX(b *testing.B) {
	files := benchFiles(b)
	d := NewDecoder(Options{})
	var records int64
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
	b.ReportMetric(float64(records)/b.Elapsed().Seconds(), "records/s")
}
