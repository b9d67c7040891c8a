package decode

import (
	"path/filepath"
	"testing"

	"github.com/edr-lab/edr/capture/raw"
	"github.com/edr-lab/edr/capture/rawsynth"
	"github.com/edr-lab/edr/corpus/synth"
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
	loop(b, func(i int) {
		d.Decode(recs[i%len(recs)], emit)
	})
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
	loop(b, func(i int) {
		if d.Decode(recs[i%len(recs)], emit) != Emitted {
			b.Fatal("not emitted")
		}
	})
}

// BenchmarkFillAndDecode is the live path: parse UserData by template,
// then decode (process start v4, image load, TCP connect, file create v1,
// DNS 3008 laid out from their manifest templates).
func BenchmarkFillAndDecode(b *testing.B) {
	evs := loadManifests(b)
	want := map[Key]bool{{kernelProcess, 1, 4}: true, {kernelProcess, 5, 0}: true, {kernelNetwork, 12, 0}: true,
		{kernelFile, 12, 1}: true, {dnsClient, 3008, 0}: true}
	var payloads []*raw.Record
	for i, me := range evs {
		if want[me.key] {
			r := bag(me, i)
			p := &raw.Record{Provider: r.Provider, EventID: r.EventID, Version: r.Version, PID: r.PID, Timestamp: r.Timestamp}
			p.SetUserData(encodeUserData(b, r, Template(me.key)))
			payloads = append(payloads, p)
		}
	}
	if len(payloads) != len(want) {
		b.Fatalf("%d payloads", len(payloads))
	}
	d := New(Options{})
	r := &raw.Record{}
	emit := func(*event.Event) {}
	loop(b, func(i int) {
		r.CopyFrom(payloads[i%len(payloads)])
		if err := d.Fill(r); err != nil {
			b.Fatal(err)
		}
		d.Decode(r, emit)
	})
}

// BenchmarkDecodeRoundTripCorpus decodes the raw records rawsynth's
// encoder makes from 20k generated events (the benchmark corpus,
// decode only: enrichment is another package).
func BenchmarkDecodeRoundTripCorpus(b *testing.B) {
	g := synth.New(synth.Options{Seed: 7, Events: 20_000})
	var x rawsynth.Encoder
	var recs []*raw.Record
	var gen event.Event
	for g.Next(&gen) {
		if gen.Channel == event.ChannelSysmon {
			recs = append(recs, x.Encode(&gen)...)
		}
	}
	d := New(Options{})
	emit := func(*event.Event) {}
	loop(b, func(i int) {
		d.Decode(recs[i%len(recs)], emit)
	})
}

// loop runs one record per iteration and reports records/s and
// allocations per record.
func loop(b *testing.B, fn func(i int)) {
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		fn(i)
	}
	b.StopTimer()
	if b.Elapsed() > 0 {
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	}
}
