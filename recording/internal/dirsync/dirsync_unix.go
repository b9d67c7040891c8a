//go:build unix

package dirsync

import (
	"errors"
	"os"
	"syscall"
)

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP) {
		err = nil // this filesystem does not sync directories
	}
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
