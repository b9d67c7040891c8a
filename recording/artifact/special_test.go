//go:build unix

package artifact

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSpecialFilesNotOpened: a FIFO in place of an entry, an alias or a
// link is named in the error at once (opening it would wait for a writer).
func TestSpecialFilesNotOpened(t *testing.T) {
	s, err := Open(t.TempDir(), Options{})
	require.NoError(t, err)
	defer s.Close()
	d := Sum([]byte("image"))
	key := "ws1|C:\\x.exe"
	paths := []string{s.Path(d.SHA256), s.aliasPath("md5", d.MD5), s.linkPath(key)}
	for _, p := range paths {
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, syscall.Mkfifo(p, 0o644))
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, err := s.Get(d.SHA256)
		require.Error(t, err)
		assert.Contains(t, err.Error(), paths[0])
		_, err = s.Resolve(d.MD5)
		require.Error(t, err)
		assert.Contains(t, err.Error(), paths[1])
		_, err = s.Linked(key)
		require.Error(t, err)
		assert.Contains(t, err.Error(), paths[2])
		n, errs := s.Verify()
		assert.Equal(t, 1, n)
		require.Len(t, errs, 1)
		assert.Contains(t, errs[0].Error(), paths[0])
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the artifact store hangs on a FIFO")
	}
}
