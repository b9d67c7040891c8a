package recording

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/edr-lab/edr/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// One host directory that cannot be read does not fail the recording: the
// reader skips it, counts it and names it; strict mode fails naming it.
func TestUnreadableHostDirectoryIsSkipped(t *testing.T) {
	if !testutil.Unprivileged(t) {
		return
	}
	dir, victim, others := corruptFixture(t)
	hostDir := filepath.Dir(filepath.Dir(victim)) // REC/host=…/date=…/seg
	require.NoError(t, os.Chmod(hostDir, 0))
	t.Cleanup(func() { _ = os.Chmod(hostDir, 0o755) })

	got, st := readAll(t, dir, ReaderOptions{})
	requireSame(t, others, got)
	assert.Equal(t, 1, st.DirsSkipped)
	require.Len(t, st.Errors, 1)
	var de *DirError
	require.True(t, errors.As(st.Errors[0], &de), "%v is a DirError", st.Errors[0])
	assert.Equal(t, hostDir, de.Path)
	assert.ErrorIs(t, st.Errors[0], os.ErrPermission)

	_, err := OpenReader(dir, ReaderOptions{Strict: true})
	require.Error(t, err)
	assert.True(t, errors.As(err, &de), "%v is a DirError", err)
	assert.Contains(t, err.Error(), hostDir)
}
