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
	evs := recordedEvents(b)
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
			materialize(batch, evs, i)
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

// recordedEvent is an event of a recording held compactly: its header and
// its fields, whose strings are the reader's (a dictionary value keeps the
// place it shares with every row that uses it).
type recordedEvent struct {
	hdr    event.Event
	fields []recordedField
}

type recordedField struct {
	id event.FieldID
	v  string
}

// recordedEvents returns the first EDR_BENCH_EVENTS (default 100,000)
// events of the recording EDR_BENCH_REC, skipping the benchmark when none
// is named.
func recordedEvents(b *testing.B) []recordedEvent {
	dir, ok := os.LookupEnv("EDR_BENCH_REC")
	if !ok {
		b.Skip("EDR_BENCH_REC names no recording")
	}
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("EDR_BENCH_EVENTS")); err == nil {
		n = v
	}
	var evs []recordedEvent
	r, err := recording.OpenReader(dir, recording.ReaderOptions{})
	if err != nil {
		b.Fatal(err)
	}
	stop := os.ErrClosed
	err = r.Run(func(batch []event.Event) error {
		for i := range batch {
			ev := &batch[i]
			c := recordedEvent{hdr: event.Event{Time: ev.Time, Host: ev.Host, Channel: ev.Channel, Provider: ev.Provider, EventID: ev.EventID, RecordID: ev.RecordID, Seq: ev.Seq, Source: ev.Source}}
			ev.Range(func(id event.FieldID, v string) bool {
				c.fields = append(c.fields, recordedField{id, v})
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
	return evs
}

// materialize fills batch with the events from evs[from] on (wrapping).
func materialize(batch []event.Event, evs []recordedEvent, from int) {
	for j := range batch {
		c, ev := &evs[(from+j)%len(evs)], &batch[j]
		ev.Reset()
		ev.Time, ev.Host, ev.Channel, ev.Provider, ev.EventID, ev.RecordID, ev.Seq, ev.Source = c.hdr.Time, c.hdr.Host, c.hdr.Channel, c.hdr.Provider, c.hdr.EventID, c.hdr.RecordID, c.hdr.Seq, c.hdr.Source
		for _, f := range c.fields {
			ev.Set(f.id, f.v)
		}
	}
}

// BenchmarkPrefilterRecording runs the prefilter's scan alone (the
// candidates of each event's bucket: gram scans, the scan cache, the
// short-value skip) with the SigmaHQ rules over the events of
// BenchmarkPreRecording, materialized block by block as the decoder hands
// them over. It reports the thread's CPU nanoseconds per event and the
// scan cache's look-ups and scans per event.
func BenchmarkPrefilterRecording(b *testing.B) {
	evs := recordedEvents(b)
	rs, _, _ := loadSigmaHQ(b)
	m := rs.NewMatcher()
	const block = 4096
	batch := make([]event.Event, block)
	var cpu int64
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	i := 0
	for b.Loop() {
		materialize(batch, evs, i)
		t0 := cputime.Thread()
		for j := range batch {
			if bk, _ := rs.buckets(&batch[j]); bk != nil {
				bk.scan(m.ctx, &batch[j])
			}
		}
		cpu += int64(cputime.Thread() - t0)
		i += block
	}
	n := float64(b.N * block)
	b.ReportMetric(float64(cpu)/n, "cpu-ns/event")
	if sc := m.ctx.sc; sc != nil {
		b.ReportMetric(float64(sc.hits)/n, "hits/event")
		b.ReportMetric(float64(sc.scans)/n, "scans/event")
	}
}
