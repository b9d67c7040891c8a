package jsonl

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edr-lab/edr/corpus/evtx"
	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/internal/cputime"
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

// BenchmarkJSONLines decodes JSON lines into events: the Security-Datasets
// (Mordor) lines (NXLog and flat dialects, ~2 KB a line, most of it the
// rendered message), and Winlogbeat-shaped lines built from the EVTX
// attack samples (no message). The baseline, measured in the same run, is
// encoding/json decoding the same lines into map[string]any (no mapping to
// events at all).
func BenchmarkJSONLines(b *testing.B) {
	sets := []struct {
		name string
		data []byte
	}{{"mordor", mordorLines(b)}, {"winlogbeat", winlogbeatLines(b)}}
	for _, set := range sets {
		data := set.data
		b.Run(set.name+"/edr", func(b *testing.B) {
			d := NewDecoder(Options{})
			var lines int64
			b.SetBytes(int64(len(data)))
			cpu0 := cputime.Now()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				st, err := d.Read(bytes.NewReader(data), set.name, func(*event.Event) error { return nil })
				if err != nil || st.Failed > 0 {
					b.Fatal(err, st.Failures)
				}
				lines += st.Documents
			}
			reportLines(b, lines, cpu0)
		})
		b.Run(set.name+"/encoding-json", func(b *testing.B) {
			var lines int64
			b.SetBytes(int64(len(data)))
			cpu0 := cputime.Now()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				sc := bufio.NewScanner(bytes.NewReader(data))
				sc.Buffer(make([]byte, 1<<20), 64<<20)
				for sc.Scan() {
					if len(bytes.TrimSpace(sc.Bytes())) == 0 {
						continue
					}
					var m map[string]any
					if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
						b.Fatal(err)
					}
					lines++
				}
			}
			reportLines(b, lines, cpu0)
		})
	}
}

func reportLines(b *testing.B, lines int64, cpu0 time.Duration) {
	b.ReportMetric(float64(lines)/b.Elapsed().Seconds(), "lines/s")
	if cpu := cputime.Now() - cpu0; cpu > 0 {
		b.ReportMetric(float64(lines)/cpu.Seconds(), "lines/cpu-s")
	}
}

// winlogbeatLines renders the EVTX attack samples as Winlogbeat 8 lines
// (winlog.* with event_data), one per record.
func winlogbeatLines(b *testing.B) []byte {
	dir := testutil.Corpus(b, "evtx-attack-samples")
	var buf bytes.Buffer
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".evtx") {
			return err
		}
		evs, _, err := evtx.ReadAll(p)
		if err != nil {
			return err
		}
		for _, e := range evs {
			data := map[string]string{}
			e.Range(func(id event.FieldID, v string) bool {
				data[id.Name()] = v
				return true
			})
			for _, kv := range e.Extra() {
				data[kv.Key] = kv.Value
			}
			doc := map[string]any{
				"@timestamp": time.Unix(0, e.Time).UTC().Format(time.RFC3339Nano),
				"winlog": map[string]any{
					"channel": e.Channel, "event_id": e.EventID, "provider_name": e.Provider,
					"computer_name": e.Value(event.FComputer), "record_id": e.RecordID, "event_data": data,
				},
			}
			line, err := json.Marshal(doc)
			if err != nil {
				return err
			}
			buf.Write(line)
			buf.WriteByte('\n')
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}
