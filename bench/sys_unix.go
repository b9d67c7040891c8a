//go:build unix

package bench

import "syscall"

// maxRSS is getrusage's peak resident set (kilobytes on Linux and the BSDs,
// bytes on macOS).
func maxRSS() uint64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	if goos == "darwin" || goos == "ios" {
		return uint64(ru.Maxrss)
	}
	return uint64(ru.Maxrss) << 10
}
