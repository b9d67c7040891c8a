//go:build !unix && !windows

package recording

import "os"

// lockExclusive: platforms without flock or LockFileEx (js, wasip1, plan9)
// are not supported targets for writing recordings; no lock is taken.
func lockExclusive(f *os.File) error { return nil }
