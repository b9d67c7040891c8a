//go:build !linux

package bench

import "runtime"

const goos = runtime.GOOS

// resetPeakRSS cannot reset the peak outside Linux: the peak covers the
// whole process.
func resetPeakRSS() bool { return false }

func peakRSS() uint64 { return maxRSS() }

// cpuModel is not looked up outside Linux.
func cpuModel() string { return "" }
