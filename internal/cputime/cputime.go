// Package cputime reads the CPU time the process has used, so benchmarks
// on a machine shared with other work can report throughput per CPU-second
// beside the wall-clock figure (which the other work inflates).
package cputime

import "time"

// Now returns the user+system CPU time used by the process so far, or 0
// where the platform does not say.
func Now() time.Duration { return now() }

// Thread returns the CPU time the calling OS thread has used (Linux; 0
// elsewhere). Lock the goroutine to its thread (runtime.LockOSThread)
// around what is measured.
func Thread() time.Duration { return thread() }
