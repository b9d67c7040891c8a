package bench

import (
	"bufio"
	"bytes"
	"os"
	"strconv"
	"strings"
)

const goos = "linux"

// resetPeakRSS restarts the kernel's peak resident set (VmHWM) so the peak
// read after the full run is that run's, not the generation's (Linux 4.0+;
// it reports whether the reset took).
func resetPeakRSS() bool {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
}

// peakRSS is VmHWM from /proc/self/status, else getrusage's maxrss.
func peakRSS() uint64 {
	data, err := os.ReadFile("/proc/self/status")
	if err == nil {
		if v, ok := procField(data, "VmHWM:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(v, " kB"), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return maxRSS()
}

// cpuModel is the first "model name" of /proc/cpuinfo.
func cpuModel() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return ""
	}
	v, _ := procField(data, "model name")
	return strings.TrimSpace(strings.TrimPrefix(v, ":"))
}

// procField returns the trimmed rest of the first line of data that starts
// with key.
func procField(data []byte, key string) (string, bool) {
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if rest, ok := bytes.CutPrefix(sc.Bytes(), []byte(key)); ok {
			return strings.TrimSpace(string(rest)), true
		}
	}
	return "", false
}
