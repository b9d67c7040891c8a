package decode

import (
	"path/filepath"
	"testing"

	"github.com/edr-lab/edr/capture/raw"
	"github.com/edr-lab/edr/event"
)

// benchRecords is every recorded fixture record (83), in file order.
func benchRecords(b *testing.B) []*raw.Record {
	files, _ := filepath.Glob(filepath.Join(filepath.Dir(fixturePath(b, "x")), "*.json"))
	var recs []*raw.Record
	for _, f := range files {
		fx := loadFixture(b, filepath.Base(f))
		if !fx.Provenance.Synthetic() {
			recs = append(recs, fx.Records...)
		}
	}
	if len(recs) == 0 {
		b.Skip("no fixtures")
	}
	return recs
}

// BenchmarkDecodeFixtures decodes the recorded fixture mix; ns/op and
// allocs/op are per record.
func BenchmarkDecodeFixtures(b *testing.B) {
	recs := benchRecords(b)
	d := New(Options{Host: "lab-windows"})
	var n int
	emit := func(*event.Event) { n++ }
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d.Decode(recs[i%len(recs)], emit)
	}
	b.StopTimer()
	if b.Elapsed() > 0 {
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	}
}

// BenchmarkDecodeEmitting decodes only records that each emit an event
// (process start, image load, network, DNS 3008, WMI, task): the
// per-event cost without the join-only file/registry records.
func BenchmarkDecodeEmitting(b *testing.B) {
	var recs []*raw.Record
	for _, f := range []string{"process_lifecycle.json", "image_load.json", "network_connect.json", "wmi_activity.json", "task_registered.json"} {
		recs = append(recs, loadFixture(b, f).Records...)
	}
	d := New(Options{Host: "lab-windows"})
	emit := func(*event.Event) {}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if d.Decode(recs[i%len(recs)], emit) != Emitted {
			b.Fatal("not emitted")
		}
	}
	b.StopTimer()
	if b.Elapsed() > 0 {
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	}
}
