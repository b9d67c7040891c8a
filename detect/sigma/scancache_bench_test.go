package sigma

import (
	"os"
	"runtime"
	"strconv"
	"testing"

	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/internal/cputime"
	"github.com/edr-lab/edr/recording"
)

// BenchmarkPreRecording runs Pre (the replay's prematch) with the SigmaHQ
// rules over the first EDR_BENCH_EVENTS (default 100,000) events of the
// recording EDR_BENCH_REC, holding the reader's strings, with two scan
// cache sizes: EDR_BENCH_A and EDR_BENCH_B sets (default: both
// scanCacheSets, which measures the noise). One op = one block of events
// through each; read the cpu-ns/event metrics and their ratio (B/A).
// Replay does not revisit events, so keep N × 4096 within the events
// loaded (the table would otherwise hit on the first pass's values).
func BenchmarkPreRecording(b *testing.B) {
	dir, ok := os.LookupEnv("EDR_BENCH_REC")
	if !ok {
		b.Skip("EDR_BENCH_REC names no recording")
	}
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("EDR_BENCH_EVENTS")); err == nil {
		n = v
	}
	type field struct {
		id event.FieldID
		v  string
	}
	type compact struct {
		hdr    event.Event
		fields []field
	}
	var evs []compact
	r, err := recording.OpenReader(dir, recording.ReaderOptions{})
	if err != nil {
		b.Fatal(err)
	}
	stop := os.ErrClosed
	err = r.Run(func(batch []event.Event) error {
		for i := range batch {
			ev := &batch[i]
			c := compact{hdr: event.Event{Time: ev.Time, Host: ev.Host, Channel: ev.Channel, Provider: ev.Provider, EventID: ev.EventID, RecordID: ev.RecordID, Seq: ev.Seq, Source: ev.Source}}
			ev.Range(func(id event.FieldID, v string) bool {
				c.fields = append(c.fields, field{id, v})
				return true
			})
			evs = append(evs, c)
			if len(evs) == n {
				return stop
			}
		}
		return nil
	})
	if err != nil && err != stop {
		b.Fatal(err)
	}
	rs, _, _ := loadSigmaHQ(b)
	plan := rs.PlanLate([]event.FieldID{event.FParentImage, event.FParentCommandLine, event.FGrandParentImage})
	// The two matchers take turns over blocks of events, each on its own
	// scan caches, so the machine's load falls on both alike.
	var ms [2]*Matcher
	for k, env := range []string{"EDR_BENCH_A", "EDR_BENCH_B"} {
		sets := scanCacheSets
		if v, err := strconv.Atoi(os.Getenv(env)); err == nil {
			sets = v
		}
		ms[k] = rs.NewMatcher()
		ms[k].ctx.sc, ms[k].vctx.sc = newScanCache(sets), newScanCache(sets)
	}
	// Each pass first materializes the block's events (untimed) into
	// 4096 events of their own (32 MiB of value slots, beyond the caches),
	// so Pre meets events as cold as the decoder hands them over.
	const block = 4096
	batch := make([]event.Event, block)
	var p Pre
	var cpu [2]int64
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	i := 0
	for b.Loop() {
		for o := range ms {
			k := (o + i/block) & 1 // alternate which goes first
			for j := range batch {
				c, ev := &evs[(i+j)%len(evs)], &batch[j]
				ev.Reset()
				ev.Time, ev.Host, ev.Channel, ev.Provider, ev.EventID, ev.RecordID, ev.Seq, ev.Source = c.hdr.Time, c.hdr.Host, c.hdr.Channel, c.hdr.Provider, c.hdr.EventID, c.hdr.RecordID, c.hdr.Seq, c.hdr.Source
				for _, f := range c.fields {
					ev.Set(f.id, f.v)
				}
			}
			t0 := cputime.Thread()
			for j := range batch {
				ms[k].Pre(plan, &batch[j], &p)
			}
			cpu[k] += int64(cputime.Thread() - t0)
		}
		i += block
	}
	for k, name := range []string{"A", "B"} {
		b.ReportMetric(float64(cpu[k])/float64(b.N*block), "cpu-ns/event-"+name)
		b.ReportMetric(float64(ms[k].ctx.sc.hits+ms[k].vctx.sc.hits)/float64(b.N*block), "hits/event-"+name)
		b.ReportMetric(float64(ms[k].ctx.sc.scans+ms[k].vctx.sc.scans)/float64(b.N*block), "scans/event-"+name)
		b.ReportMetric(float64(ms[k].ctx.sc.bytes()+ms[k].vctx.sc.bytes())/(1<<20), "cache-MiB-"+name)
	}
	b.ReportMetric(float64(cpu[1])/float64(cpu[0]), "B/A")
}
