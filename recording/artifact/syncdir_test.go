package artifact

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPutReportsDirSyncFailure: a failed directory fsync is the caller's
// error, and the entry, complete and linked, is still readable.
func TestPutReportsDirSyncFailure(t *testing.T) {
	errSync := errors.New("injected directory fsync failure")
	old := syncDir
	syncDir = func(string) error { return errSync }
	defer func() { syncDir = old }()

	s, err := Open(t.TempDir(), Options{})
	require.NoError(t, err)
	defer s.Close()
	data := []byte("MZ not really a PE, but content")
	sha, wrote, err := s.Put(data)
	require.ErrorIs(t, err, errSync)
	assert.True(t, wrote, "the entry was written")
	got, err := s.Get(sha)
	require.NoError(t, err)
	assert.Equal(t, data, got)
}
