package dirsync

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSyncDir(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "f"), []byte("x"), 0o644))
	assert.NoError(t, Sync(dir))
}

// TestSyncMissingDirFails: where directories can be synced, failing to is
// an error naming the directory, not silence.
func TestSyncMissingDirFails(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "gone")
	err := Sync(missing)
	if runtime.GOOS == "windows" {
		assert.NoError(t, err, "Windows cannot sync directories: nothing to report")
		return
	}
	require.Error(t, err)
	assert.ErrorIs(t, err, os.ErrNotExist)
	assert.Contains(t, err.Error(), missing)
}
