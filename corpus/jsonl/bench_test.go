package jsonl

import (
	"archive/zip"
	"bytes"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/internal/testutil"
)

// mordorLines loads the JSON lines of the Security-Datasets archives into
// memory (decompressed once), so that benchmarks measure decoding only.
func mordorLines(b *testing.B) []byte {
	dir := testutil.Corpus(b, "security-datasets")
	var all bytes.Buffer
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".zip") {
			return err
		}
		zr, err := zip.OpenReader(p)
		if err != nil {
			return err
		}
		defer zr.Close()
		for _, f := range ZipMembers(&zr.Reader) {
			rc, err := f.Open()
			if err != nil {
				return err
			}
			_, err = io.Copy(&all, rc)
			rc.Close()
			if err != nil {
				return err
			}
			if all.Len() > 0 && all.Bytes()[all.Len()-1] != '\n' {
				all.WriteByte('\n')
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return all.Bytes()
}

// BenchmarkDecodeJSONLines decodes the Mordor JSON lines (NXLog and flat
// dialects, ~2 KB a line with the rendered message) into events.
func BenchmarkDecodeJSONLines(b *testing.B) {
	data := mordorLines(b)
	d := NewDecoder(Options{})
	var lines int64
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		st, err := d.Read(bytes.NewReader(data), "mordor", func(*event.Event) error { return nil })
		if err != nil {
			b.Fatal(err)
		}
		lines += st.Documents
	}
	b.ReportMetric(float64(lines)/b.Elapsed().Seconds(), "lines/s")
}
