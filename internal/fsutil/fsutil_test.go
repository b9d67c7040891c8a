//go:build unix

package fsutil

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOpenRefusesSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	require.NoError(t, syscall.Mkfifo(fifo, 0o644))
	link := filepath.Join(dir, "link")
	require.NoError(t, os.Symlink(fifo, link))
	for _, p := range []string{fifo, link} {
		for _, flag := range []int{os.O_RDONLY, os.O_WRONLY, os.O_RDWR | os.O_CREATE} {
			_, err := OpenFile(p, flag, 0o644)
			require.ErrorIs(t, err, ErrSpecial, "%s flag %x", p, flag)
			assert.EqualError(t, err, p+": named pipe, not a regular file: not opened")
		}
	}
	_, err := ReadFile("/dev/null")
	assert.ErrorIs(t, err, ErrSpecial, "a device")

	reg := filepath.Join(dir, "new")
	_, err = Open(reg)
	assert.ErrorIs(t, err, fs.ErrNotExist)
	f, err := OpenFile(reg, os.O_CREATE|os.O_WRONLY, 0o644)
	require.NoError(t, err, "O_CREATE makes a missing file")
	_, err = f.WriteString("x")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	b, err := ReadFile(reg)
	require.NoError(t, err)
	assert.Equal(t, "x", string(b))

	assert.True(t, IsSpecial(fs.ModeNamedPipe))
	assert.True(t, IsSpecial(fs.ModeSocket))
	assert.True(t, IsSpecial(fs.ModeDevice|fs.ModeCharDevice))
	assert.False(t, IsSpecial(0))
	assert.False(t, IsSpecial(fs.ModeDir))
	assert.False(t, IsSpecial(fs.ModeSymlink))
}
