package testutil

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCorpusFound(t *testing.T) {
	p := Corpus(t, "sigma")
	st, err := os.Stat(p)
	require.NoError(t, err)
	require.True(t, st.IsDir())
	require.Equal(t, "sigma", filepath.Base(p))
}

func TestEnvOverride(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "corpus"), 0o755))
	t.Setenv("EDR_SHARED", dir)
	require.Equal(t, dir, SharedDir())
	require.Equal(t, filepath.Join(dir, "corpus"), CorpusDir())
}
