package recording

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/edr-lab/edr/internal/fsutil"
)

// FileSize names a file and its size.
type FileSize struct {
	Path  string `json:"path"`
	Bytes int64  `json:"bytes"`
}

// Pending is what a writer left under .wal/: write-ahead logs not yet
// turned into segments (a writer is running, or crashed and no writer has
// opened the recording since), and bytes recovery could not read, kept
// aside in *.bad files. Nothing is opened to find them.
type Pending struct {
	WALs     []FileSize `json:"wals"`
	WALBytes int64      `json:"wal_bytes"`
	// KeptAside are *.bad files: a WAL's unreadable rest, a whole WAL that
	// was not one, or a sources log that was not one.
	KeptAside      []FileSize `json:"kept_aside"`
	KeptAsideBytes int64      `json:"kept_aside_bytes"`
	// SpecialFiles under .wal/ (FIFOs, devices, sockets): named, not opened.
	SpecialFiles []string `json:"special_files"`
}

// PendingFiles lists the recording's pending WALs and kept-aside files
// (sorted by path). A recording without .wal/ has none.
func PendingFiles(dir string) (*Pending, error) {
	p := &Pending{WALs: []FileSize{}, KeptAside: []FileSize{}, SpecialFiles: []string{}}
	root := filepath.Join(dir, walDir)
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == root && errors.Is(err, fs.ErrNotExist) {
				return filepath.SkipDir
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		if fsutil.IsSpecial(d.Type()) {
			p.SpecialFiles = append(p.SpecialFiles, (&fsutil.SpecialError{Path: path, Mode: d.Type()}).Error())
			return nil
		}
		isBad := strings.HasSuffix(path, ".bad")
		if !isBad && !isWAL(path) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		f := FileSize{path, info.Size()}
		if isBad {
			p.KeptAside = append(p.KeptAside, f)
			p.KeptAsideBytes += f.Bytes
		} else {
			p.WALs = append(p.WALs, f)
			p.WALBytes += f.Bytes
		}
		return nil
	})
	if err != nil {
		return p, fmt.Errorf("recording %s: %w", dir, err)
	}
	return p, nil
}
