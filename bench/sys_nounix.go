//go:build !unix

package bench

import "time"

// cpuTime is not measured without getrusage (CPU shares are then 0).
func cpuTime() time.Duration { return 0 }

// maxRSS is not measured without getrusage.
func maxRSS() uint64 { return 0 }
