package recording

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/edr-lab/edr/internal/fsutil"
)

// lockFile is the writer lock of a recording: OpenWriter holds an exclusive
// lock on it (flock, LockFileEx on Windows) until Close, and the operating
// system drops it when the process dies, so a crashed writer never leaves
// the recording locked. The file is empty and stays in place (removing a
// lock file races with a writer that has just opened it), so two recordings
// written from the same input still have identical bytes.
const lockFile = ".writer.lock"

// ErrLocked means another Writer, in this or another process, has the
// recording open. Readers need no lock.
var ErrLocked = errors.New("another writer has the recording open (one writer at a time)")

// acquireLock takes the recording's writer lock without waiting.
func acquireLock(dir string) (*os.File, error) {
	path := filepath.Join(dir, lockFile)
	f, err := fsutil.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("recording %s: lock: %w", dir, err)
	}
	if err := lockExclusive(f); err != nil {
		f.Close()
		if errors.Is(err, errWouldBlock) {
			return nil, fmt.Errorf("recording %s: %w (lock %s is held)", dir, ErrLocked, path)
		}
		return nil, fmt.Errorf("recording %s: lock %s: %w", dir, path, err)
	}
	return f, nil
}

var errWouldBlock = errors.New("lock held")
