// Package fsutil holds the one rule every reader and writer of edr
// follows for the files it finds: a special file (named pipe, device,
// socket) is never opened. Opening a FIFO blocks until a peer appears, and
// a device can be endless, so such a file is named and skipped by the
// caller (or fails it in strict mode) instead.
//
// The check is made twice: a stat before open, so a special file is never
// opened at all, and an fstat after it, for a file swapped in between; the
// open itself uses O_NONBLOCK where the system has it, so even that race
// cannot hang.
package fsutil

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// ErrSpecial is wrapped by every error about a special file.
var ErrSpecial = errors.New("not a regular file")

// SpecialError names a special file and what it is.
type SpecialError struct {
	Path string
	Mode fs.FileMode
}

func (e *SpecialError) Error() string {
	return fmt.Sprintf("%s: %s, %v: not opened", e.Path, Kind(e.Mode), ErrSpecial)
}

func (e *SpecialError) Unwrap() error { return ErrSpecial }

// Kind names the type of a file mode ("named pipe", "socket", …).
func Kind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "named pipe"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "device"
	case m&fs.ModeIrregular != 0:
		return "irregular file"
	case m.IsDir():
		return "directory"
	case m&fs.ModeSymlink != 0:
		return "symbolic link"
	}
	return "regular file"
}

// IsSpecial reports whether a mode (of a directory entry or a stat,
// symbolic links not followed) is a special file: not regular, not a
// directory, not a symbolic link.
func IsSpecial(m fs.FileMode) bool {
	return !m.IsRegular() && !m.IsDir() && m&fs.ModeSymlink == 0
}

// Check returns a SpecialError when path (symbolic links followed) exists
// and is not a regular file; a missing file is the stat's error.
func Check(path string) (fs.FileInfo, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, &SpecialError{path, st.Mode()}
	}
	return st, nil
}

// Open opens a regular file for reading.
func Open(path string) (*os.File, error) { return OpenFile(path, os.O_RDONLY, 0) }

// OpenFile is os.OpenFile that refuses anything but a regular file. With
// O_CREATE, a path that does not exist yet is created as usual.
func OpenFile(path string, flag int, perm fs.FileMode) (*os.File, error) {
	if _, err := Check(path); err != nil && !(flag&os.O_CREATE != 0 && errors.Is(err, fs.ErrNotExist)) {
		return nil, err
	}
	f, err := os.OpenFile(path, flag|nonblock, perm)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, &SpecialError{path, st.Mode()}
	}
	return f, nil
}

// ReadFile is os.ReadFile for regular files only.
func ReadFile(path string) ([]byte, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(f)
}
