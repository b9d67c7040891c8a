package ioc_test

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/edr-lab/edr/detect/ioc"
	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/internal/cputime"
	"github.com/edr-lab/edr/recording"
)

// BenchmarkRecordingMatch runs Set.Match, and Set.MatchWith with a cache
// of its own (what edr replay's prematch workers run for --ioc), over the
// events of a recording
// (EDR_BENCH_REC) with the indicator files of a directory (EDR_BENCH_IOC,
// as edr generate --ioc-out writes it), in thread CPU ns per event; it
// skips without both.
func BenchmarkRecordingMatch(b *testing.B) {
	rec, dir := os.Getenv("EDR_BENCH_REC"), os.Getenv("EDR_BENCH_IOC")
	if rec == "" || dir == "" {
		b.Skip("EDR_BENCH_REC and EDR_BENCH_IOC name no recording and indicator directory")
	}
	p := ioc.Paths{}
	for name, f := range map[string]*string{"hashes.txt": &p.Hashes, "ips.txt": &p.IPs,
		"domains.txt": &p.Domains, "paths_regex.txt": &p.PathsRegex} {
		if _, err := os.Stat(filepath.Join(dir, name)); err == nil {
			*f = filepath.Join(dir, name)
		}
	}
	pc, _ := strconv.Atoi(os.Getenv("EDR_BENCH_CACHE"))
	set, errs := ioc.Load(p, ioc.Options{PathCache: pc})
	if len(errs) > 0 {
		b.Fatal(errs[0])
	}
	b.Run("Match", func(b *testing.B) {
		recordingMatch(b, rec, func(ev *event.Event, out []ioc.Hit) []ioc.Hit { return set.Match(ev, out) })
	})
	b.Run("MatchWith", func(b *testing.B) {
		c := set.NewCache()
		recordingMatch(b, rec, func(ev *event.Event, out []ioc.Hit) []ioc.Hit { return set.MatchWith(c, ev, out) })
	})
}

func recordingMatch(b *testing.B, rec string, match func(*event.Event, []ioc.Hit) []ioc.Hit) {
	// Match each batch as the reader hands it over, as the prematch workers
	// do, so the events are as warm in cache as there; only Match is timed.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var out []ioc.Hit
	var cpu time.Duration
	hits, n := 0, 0
	for b.Loop() {
		r, err := recording.OpenReader(rec, recording.ReaderOptions{})
		if err != nil {
			b.Fatal(err)
		}
		err = r.Run(func(batch []event.Event) error {
			c0 := cputime.Thread()
			for i := range batch {
				out = match(&batch[i], out[:0])
				hits += len(out)
			}
			cpu += cputime.Thread() - c0
			n += len(batch)
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(n), "cpu-ns/event")
	b.ReportMetric(float64(hits)/float64(b.N), "hits/op")
}
