//go:build windows

package enrich

import (
	"errors"

	"golang.org/x/sys/windows"
)

// DOSDevices is the live VolumeMap: QueryDosDevice over the drive letters
// A: to Z:.
type DOSDevices struct{}

func (DOSDevices) Volumes() (map[string]string, error) {
	out := map[string]string{}
	buf := make([]uint16, windows.MAX_LONG_PATH)
	for l := 'A'; l <= 'Z'; l++ {
		drive := string(l) + ":"
		name, err := windows.UTF16PtrFromString(drive)
		if err != nil {
			return nil, err
		}
		n, err := windows.QueryDosDevice(name, &buf[0], uint32(len(buf)))
		if err != nil {
			if errors.Is(err, windows.ERROR_FILE_NOT_FOUND) {
				continue // no such drive
			}
			return nil, err
		}
		// The result is a NUL-separated list; the first target is the one
		// the drive letter resolves to.
		if n > 0 {
			out[drive] = windows.UTF16ToString(buf[:n])
		}
	}
	return out, nil
}
