package enrich

import (
	"runtime"
	"strings"
	"testing"

	"github.com/edr-lab/edr/corpus/synth"
	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/internal/testutil"
)

// decodedStream turns generator events into what the kernel decoders hand
// to enrichment: paths in the NT namespace, and none of the fields Sysmon
// computes (GUIDs, parent fields, version resources, host names).
func decodedStream(n int) []*event.Event {
	g := synth.New(synth.Options{Seed: 1, Hosts: 4, Events: int64(n)})
	strip := []event.FieldID{
		event.FProcessGuid, event.FParentProcessGuid, event.FParentImage, event.FParentCommandLine, event.FParentUser,
		versionFields.fileVersion, versionFields.description, versionFields.product, versionFields.company, event.FOriginalFileName, event.FDestinationHost,
		fSourceProcessGUID, fTargetProcessGUID, event.MustField("SourceProcessGuid"), event.MustField("TargetProcessGuid"),
	}
	var out []*event.Event
	var e event.Event
	for g.Next(&e) {
		ev := e.Clone()
		for _, id := range strip {
			ev.Del(id)
		}
		for _, id := range []event.FieldID{event.FImage, event.FImageLoaded, event.FTargetFilename, event.FParentImage, event.FSourceImage, event.FTargetImage} {
			if v, ok := ev.Get(id); ok && strings.HasPrefix(v, `C:\`) {
				ev.Set(id, `\Device\HarddiskVolume3`+v[2:])
			}
		}
		out = append(out, ev)
	}
	return out
}

// BenchmarkEnrich measures the hot path in steady state (caches warm, as
// after the first seconds of a session) on the generator's mix.
func BenchmarkEnrich(b *testing.B) {
	src := decodedStream(1 << 16)
	images := fakePE{}
	for _, ev := range src {
		for _, id := range []event.FieldID{event.FImage, event.FImageLoaded} {
			if v, ok := ev.Get(id); ok {
				images[`C:`+strings.TrimPrefix(v, `\Device\HarddiskVolume3`)] = VersionInfo{Company: "Microsoft Corporation", OriginalFileName: "X.EXE"}
			}
		}
	}
	e, err := New(Config{Volumes: testVolumes, Accounts: AccountFunc(func(sid string) (string, error) { return `CORP\u`, nil }), PE: images})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	span := src[len(src)-1].Time - src[0].Time + 1
	var work event.Event
	pass := int64(0)
	enrichOne := func(i int) {
		work.CopyFrom(src[i])
		work.Time += pass * span // later passes are later in time, as a live stream is
		e.Enrich(&work)
	}
	for i := range src { // warm the caches
		enrichOne(i)
	}
	e.Wait()
	pass++
	b.ReportAllocs()
	b.ResetTimer()
	cpu0, mallocs0 := testutil.CPUTime(), mallocs()
	for i := 0; i < b.N; i++ {
		j := i % len(src)
		if j == 0 && i > 0 {
			pass++
		}
		enrichOne(j)
	}
	b.StopTimer()
	reportRates(b, cpu0, mallocs0)
	s := e.Stats()
	b.Logf("n=%d mapped=%d unmapped=%d guids=%d filled=%d unknown=%d parentUnknown=%d hostnames=%d accountMiss=%d peMiss=%d",
		s.Events, s.PathsMapped, s.PathsUnmapped, s.GUIDsDerived, s.ProcessFilled, s.ProcessUnknown, s.ParentUnknown, s.HostnamesFound, s.AccountMisses, s.PEMisses)
}

// BenchmarkCopy is the event copy BenchmarkEnrich includes, to subtract.
func BenchmarkCopy(b *testing.B) {
	src := decodedStream(1 << 16)
	var work event.Event
	b.ReportAllocs()
	b.ResetTimer()
	cpu0, mallocs0 := testutil.CPUTime(), mallocs()
	for i := 0; i < b.N; i++ {
		work.CopyFrom(src[i%len(src)])
	}
	b.StopTimer()
	reportRates(b, cpu0, mallocs0)
}

// reportRates adds events per wall second, CPU nanoseconds per event (all
// of the process's CPU, GC included) and heap allocations per event
// unrounded (allocs/op rounds a rare allocation down to 0).
func reportRates(b *testing.B, cpu0 int64, mallocs0 uint64) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.Mallocs-mallocs0)/float64(b.N), "allocs/event")
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	if cpu := testutil.CPUTime() - cpu0; cpu > 0 {
		b.ReportMetric(float64(cpu)/float64(b.N), "cpu-ns/event")
	}
}

func mallocs() uint64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.Mallocs
}
