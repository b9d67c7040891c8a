package sigma_test

import (
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/edr-lab/edr/detect/sigma"
	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/internal/cputime"
	"github.com/edr-lab/edr/recording"
)

// recordingEvents returns copies of the first max events of the recording
// that EDR_BENCH_REC names (skipping the benchmark when it names none).
func recordingEvents(b *testing.B, max int) []*event.Event {
	dir := os.Getenv("EDR_BENCH_REC")
	if dir == "" {
		b.Skip("EDR_BENCH_REC names no recording")
	}
	r, err := recording.OpenReader(dir, recording.ReaderOptions{})
	if err != nil {
		b.Fatal(err)
	}
	var evs []*event.Event
	err = r.Run(func(batch []event.Event) error {
		for i := range batch[:min(len(batch), max-len(evs))] {
			evs = append(evs, batch[i].Clone())
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return evs
}

// BenchmarkRecordingPre runs Matcher.Pre (what edr replay's prematch
// workers run) of the full SigmaHQ set, with the engine's enrichment fields
// as late fields, over the first 300k events of a recording (EDR_BENCH_REC,
// e.g. one made by `edr generate`), on one thread; one op is one pass. It
// reports the thread's CPU nanoseconds per event, the figure to compare
// between builds on a busy machine.
func BenchmarkRecordingPre(b *testing.B) {
	evs := recordingEvents(b, 300_000)
	rs := loadFullSigmaHQ(b, sigma.Options{SecurityAuditAuto: true})
	late := []event.FieldID{event.FGrandParentImage}
	for _, n := range []string{"GrandparentCommandLine", "SourceCommandLine", "SourceParentImage", "SourceParentProcessId",
		"SourceParentCommandLine", "TargetCommandLine", "TargetParentProcessId", "TargetParentImage", "TargetParentCommandLine"} {
		late = append(late, event.MustField(n))
	}
	plan := rs.PlanLate(late)
	m := rs.NewMatcher()
	var p sigma.Pre
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var cpu time.Duration
	for b.Loop() {
		c0 := cputime.Thread()
		for _, ev := range evs {
			m.Pre(plan, ev, &p)
		}
		cpu += cputime.Thread() - c0
	}
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*len(evs)), "cpu-ns/event")
}
