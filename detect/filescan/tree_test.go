package filescan_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/edr-lab/edr/detect/filescan"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// denyOpener fails to open one file.
type denyOpener struct{ name string }

func (d denyOpener) Open(path string) (io.ReadCloser, error) {
	if filepath.Base(path) == d.name {
		return nil, &os.PathError{Op: "open", Path: path, Err: os.ErrPermission}
	}
	return os.Open(path)
}

// ScanTree hands out files in path order whatever the number of workers,
// with the same verdicts, and names every skip.
func TestScanTreeOrderAndSkips(t *testing.T) {
	f := newFixture(t)
	for i := range 40 { // enough files for workers to finish out of order
		p := filepath.Join(f.root, "many", fmt.Sprintf("f%02d.bin", i))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(fmt.Sprint("file ", i)), 0o644))
	}
	require.NoError(t, os.WriteFile(filepath.Join(f.root, "locked.exe"), f.dropper, 0o644))
	s := filescan.New(filescan.Options{IOC: f.set})
	run := func(workers int) ([]string, []string, filescan.TreeStats) {
		var files, skips []string
		st, err := s.ScanTree(context.Background(), []string{f.root, filepath.Join(f.root, "many")},
			filescan.TreeOptions{MaxFileBytes: 1024, Workers: workers, Opener: denyOpener{"locked.exe"}},
			func(tf filescan.TreeFile) {
				files = append(files, fmt.Sprintf("%s %d %s ioc=%d", tf.Path, tf.Size, tf.Result.SHA256, len(tf.Result.IOC)))
			},
			func(k filescan.Skipped) { skips = append(skips, fmt.Sprintf("%s %s %v", k.Path, k.Reason, k.Err)) })
		require.NoError(t, err)
		return files, skips, st
	}
	files1, skips1, st1 := run(1)
	files8, skips8, st8 := run(8)
	assert.Equal(t, files1, files8)
	assert.Equal(t, skips1, skips8)
	assert.Equal(t, st1, st8)
	assert.True(t, sort.StringsAreSorted(files1))
	assert.Len(t, files1, 42, "40 + dropper + cmd.exe, the overlapping root counted once")
	assert.Equal(t, 42, st1.Files)
	assert.Contains(t, files1, fmt.Sprintf("%s %d %s ioc=1", filepath.Join(f.root, "C/Users/a/AppData/Local/Temp/dropper.exe"), len(f.dropper), f.digests.SHA256))
	assert.Equal(t, []string{
		filepath.Join(f.root, "C/big.exe") + " too large <nil>",
		filepath.Join(f.root, "locked.exe") + " unreadable open: permission denied",
	}, skips1)
	assert.Equal(t, 1, st1.Skipped[filescan.SkipTooLarge])
	assert.Equal(t, 1, st1.Skipped[filescan.SkipUnreadable])
}

func TestScanTreeMissingRoot(t *testing.T) {
	s := filescan.New(filescan.Options{})
	_, err := s.ScanTree(context.Background(), []string{filepath.Join(t.TempDir(), "nope")}, filescan.TreeOptions{},
		func(filescan.TreeFile) {}, func(filescan.Skipped) {})
	assert.True(t, errors.Is(err, os.ErrNotExist), "%v", err)
}
