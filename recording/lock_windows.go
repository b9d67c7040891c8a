//go:build windows

package recording

import (
	"errors"
	"os"

	"golang.org/x/sys/windows"
)

// lockExclusive locks one byte far beyond the (empty) file's end; the lock
// goes with the handle, so closing the file or exiting releases it.
func lockExclusive(f *os.File) error {
	ol := &windows.Overlapped{OffsetHigh: 0x40000000}
	err := windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, ol)
	if errors.Is(err, windows.ERROR_LOCK_VIOLATION) {
		return errWouldBlock
	}
	return err
}
