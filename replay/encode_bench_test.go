//go:build unix

package replay

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"

	"github.com/edr-lab/edr/detect"
	"github.com/edr-lab/edr/detect/ecs"
	"github.com/edr-lab/edr/detect/ruleset"
)

// recordedAlerts replays a real recording (EDR_BENCH_REC, default
// /tmp/base/rec1m) with the three SigmaHQ folders of the shared corpus
// (and EDR_BENCH_IOC's indicators when set) and keeps a copy of every
// alert, so encoders can be measured on the alerts a replay really makes.
// It skips when the recording or the corpus is missing.
var recordedAlerts = sync.OnceValues(func() ([]*detect.AlertCopy, string) {
	rec := os.Getenv("EDR_BENCH_REC")
	if rec == "" {
		rec = "/tmp/base/rec1m"
	}
	shared := os.Getenv("EDR_SHARED")
	if _, err := os.Stat(rec); err != nil || shared == "" {
		return nil, "needs EDR_SHARED and a recording (EDR_BENCH_REC, default /tmp/base/rec1m)"
	}
	s := filepath.Join(shared, "corpus", "sigma")
	o := ruleset.Options{SigmaPaths: []string{filepath.Join(s, "rules"), filepath.Join(s, "rules-emerging-threats"), filepath.Join(s, "rules-threat-hunting")},
		SigmaSecurityAuditAuto: true}
	if p := os.Getenv("EDR_BENCH_IOC"); p != "" {
		o.IOC = ruleset.IOCFiles(p)
	}
	rules, err := ruleset.Load(o)
	if err != nil {
		return nil, err.Error()
	}
	defer rules.Close()
	recs, err := Open([]string{rec}, ReadOptions{})
	if err != nil {
		return nil, err.Error()
	}
	defer recs.Close()
	rules.CoverAudit(recs.SysmonCover())
	start, err := recs.Start()
	if err != nil {
		return nil, err.Error()
	}
	var keep alertKeeper
	if _, err := Run(context.Background(), recs.Source(), Options{Rules: rules, Sink: &keep, Start: start}); err != nil {
		return nil, err.Error()
	}
	return keep, ""
})

type alertKeeper []*detect.AlertCopy

func (k *alertKeeper) Alert(a *detect.Alert) error {
	c := &detect.AlertCopy{}
	c.CopyFrom(a)
	*k = append(*k, c)
	return nil
}

// BenchmarkEncodeRecordedAlerts is the cost of one ECS NDJSON line over
// the alerts of a real replay (see recordedAlerts), per alert. With
// EDR_BENCH_OUT set it also writes the lines there, to compare with the
// alerts of `edr replay` on the same recording and rules.
func BenchmarkEncodeRecordedAlerts(b *testing.B) {
	alerts, skip := recordedAlerts()
	if skip != "" {
		b.Skip(skip)
	}
	enc := &ecs.NDJSON{}
	var buf []byte
	if out := os.Getenv("EDR_BENCH_OUT"); out != "" {
		for _, c := range alerts {
			buf = enc.Append(buf, c.Alert())
		}
		if err := os.WriteFile(out, buf, 0o644); err != nil {
			b.Fatal(err)
		}
	}
	var bytes int
	b.ReportAllocs()
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		buf = enc.Append(buf[:0], alerts[i%len(alerts)].Alert())
		bytes += len(buf)
	}
	// CPU time (the process's user+system) as well as ns/op: on a loaded
	// machine the wall time counts the waits for a core.
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/alert")
	b.ReportMetric(float64(bytes)/float64(b.N), "B/alert")
}

// cpuTime is the process's user+system CPU time in ns.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
