package decode

import (
	"path/filepath"
	"runtime"
	"testing"

	"github.com/edr-lab/edr/capture/enrich"
	"github.com/edr-lab/edr/capture/raw"
	"github.com/edr-lab/edr/capture/rawsynth"
	"github.com/edr-lab/edr/corpus/synth"
	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/internal/testutil"
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
	recs := roundTripRecords(20_000)
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

// roundTripRecords are the raw records rawsynth's encoder makes from the
// Sysmon events of n generated events (handle closes included).
func roundTripRecords(n int64) []*raw.Record {
	g := synth.New(synth.Options{Seed: 7, Events: n})
	var x rawsynth.Encoder
	var recs []*raw.Record
	var gen event.Event
	for g.Next(&gen) {
		if gen.Channel == event.ChannelSysmon {
			recs = append(recs, x.Encode(&gen)...)
		}
	}
	return recs
}

// BenchmarkDecodeEnrich is the figure: decode + enrich of the
// round-trip corpus, per record, in CPU time (cpu-ns/record: all of the
// process's CPU, GC included, so it holds on a loaded machine) and
// allocations (allocs/record, unrounded). "bags" starts from property bags
// (renormalize, fixtures); "userdata" from the UserData Windows delivers,
// parsed by Fill first (the live path). Caches are warm (one pass first)
// and each pass is later in time than the last, as a live stream is.
func BenchmarkDecodeEnrich(b *testing.B) {
	for _, live := range []bool{false, true} {
		name := "bags"
		if live {
			name = "userdata"
		}
		b.Run(name, func(b *testing.B) { benchDecodeEnrich(b, live) })
	}
}

func benchDecodeEnrich(b *testing.B, live bool) {
	recs := roundTripRecords(20_000)
	if live {
		for i, r := range recs {
			t := Template(Key{r.Provider, r.EventID, r.Version})
			if t == nil {
				b.Fatalf("record %d: no template", i)
			}
			p := &raw.Record{Provider: r.Provider, EventID: r.EventID, Version: r.Version, PID: r.PID, TID: r.TID,
				Timestamp: r.Timestamp, HeaderFlags: raw.HeaderFlag64Bit}
			p.SetUserData(encodeUserData(b, complete(r, t), t))
			recs[i] = p
		}
	}
	en, err := enrich.New(enrich.Config{Volumes: enrich.StaticVolumes{"C:": `\Device\HarddiskVolume3`},
		Accounts: enrich.AccountFunc(func(string) (string, error) { return `CORP\u`, nil })})
	if err != nil {
		b.Fatal(err)
	}
	defer en.Close()
	d := New(Options{Host: "lab-windows"})
	emit := func(e *event.Event) { en.Enrich(e) }
	span := recs[len(recs)-1].Timestamp - recs[0].Timestamp + 1
	// Each pass moves every record one span later (in place: copying a
	// record is the capture's cost, not decoding's); the live path parses
	// the payload anew each time.
	one := func(r *raw.Record, shift int64) {
		r.Timestamp += shift
		if live {
			r.ClearProps()
			if err := d.Fill(r); err != nil {
				b.Fatal(err)
			}
		}
		d.Decode(r, emit)
	}
	for _, r := range recs {
		one(r, 0)
	}
	en.Wait()
	b.ReportAllocs()
	b.ResetTimer()
	cpu0, m0 := testutil.CPUTime(), mallocs()
	for i := 0; i < b.N; i++ {
		one(recs[i%len(recs)], span)
	}
	b.StopTimer()
	b.ReportMetric(float64(mallocs()-m0)/float64(b.N), "allocs/record")
	if cpu := testutil.CPUTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/record")
	}
}

// complete adds the template fields the round-trip encoder leaves out
// (it sets only what the decoders read), zero-valued, so the record can be
// laid out as UserData.
func complete(r *raw.Record, t raw.Template) *raw.Record {
	c := &raw.Record{}
	c.CopyFrom(r)
	for _, f := range t {
		if c.Prop(f.Name) != nil {
			continue
		}
		switch f.Type {
		case raw.InUnicodeString, raw.InAnsiString:
			c.AddString(f.Name, raw.String, "")
		case raw.InSID:
			c.AddString(f.Name, raw.SID, "S-1-0-0")
		case raw.InGUID:
			c.AddBytes(f.Name, raw.GUID, make([]byte, 16))
		case raw.InBinary:
			c.AddBytes(f.Name, raw.Binary, make([]byte, max(0, f.FixedLen)))
		default:
			c.AddNum(f.Name, raw.U64, 0)
		}
	}
	for _, f := range t {
		if f.Type == raw.InBinary && f.LenFrom >= 0 {
			b, _ := c.Bytes(f.Name)
			c.Prop(t[f.LenFrom].Name).Num = uint64(len(b))
		}
	}
	return c
}

func mallocs() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.Mallocs
}
