//go:build unix

package testutil

import "syscall"

// CPUTime is the process's user + system CPU time in nanoseconds (0 where
// unknown): on a shared machine a benchmark's wall time says more about the
// neighbours than about the code.
func CPUTime() int64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
