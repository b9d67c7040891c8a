package enrich

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFilePEReaderRereadsReplacedImage(t *testing.T) {
	p := filepath.Join(t.TempDir(), "a.exe")
	require.NoError(t, os.WriteFile(p, buildPE(versionBlock([]string{"040904b0"}, "CompanyName", "One")), 0o644))
	r := NewFilePEReader(8)
	vi, ok, err := r.VersionInfo(p)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, "One", vi.Company)
	vi, _, _ = r.VersionInfo(p)
	assert.Equal(t, "One", vi.Company)
	assert.Equal(t, 1, r.cache.len())

	require.NoError(t, os.WriteFile(p, buildPE(versionBlock([]string{"040904b0"}, "CompanyName", "Two, longer")), 0o644))
	future := time.Now().Add(time.Hour)
	require.NoError(t, os.Chtimes(p, future, future))
	vi, _, err = r.VersionInfo(p)
	require.NoError(t, err)
	assert.Equal(t, "Two, longer", vi.Company)

	_, _, err = r.VersionInfo(filepath.Join(t.TempDir(), "missing.exe"))
	assert.ErrorIs(t, err, fs.ErrNotExist)
}
