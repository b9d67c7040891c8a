//go:build !unix

package recording

import "time"

// cpuTime is not measured here; benchmarks then omit ev/cpu-s.
func cpuTime() time.Duration { return 0 }
