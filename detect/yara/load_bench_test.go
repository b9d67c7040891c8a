//go:build cgo && !noyara && unix

package yara

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BenchmarkCompile1000Files: 1,000 generated files (10 % syntax errors,
// 4 % duplicate rules); reports the peak RSS of the process (VmHWM) and
// the Go heap in use after the load.
func BenchmarkCompile1000Files(b *testing.B) {
	for _, n := range []int{250, 1000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			dir := b.TempDir()
			genRuleFiles(b, dir, n)
			b.ResetTimer()
			var took, cpu time.Duration
			for i := 0; i < b.N; i++ {
				start, cpu0 := time.Now(), cpuTime()
				r, _, _ := CompileChecked([]string{dir}, CompileOptions{})
				took += time.Since(start)
				cpu += cpuTime() - cpu0
				r.Close()
			}
			// CPU time as well as wall time: on a shared machine the
			// wall time measures the neighbours too.
			b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/load")
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			b.ReportMetric(float64(took.Milliseconds())/float64(b.N), "ms/load")
			b.ReportMetric(float64(ms.HeapSys)/(1<<20), "heapsys-MB")
			if hwm := vmHWM(); hwm > 0 {
				b.ReportMetric(float64(hwm)/(1<<10), "peakRSS-MB")
			}
		})
	}
}

// cpuTime is the user and system CPU time of the process.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// vmHWM is the process's peak resident set in KiB (Linux), 0 elsewhere.
func vmHWM() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			var kb int64
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &kb)
			return kb
		}
	}
	return 0
}
