package service

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestHashTreeAndDigest: a folder's files are hashed in path order (the
// SHA-256 of "abc" is the FIPS 180-2 example), keep filters, and the digest
// changes when one byte of one file does.
func TestHashTreeAndDigest(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "sub"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "sub", "b.yar"), []byte("abc"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a.yar"), nil, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "c.txt"), []byte("x"), 0o644))
	hs, err := HashTree("yara", dir, func(p string) bool { return filepath.Ext(p) == ".yar" })
	require.NoError(t, err)
	require.Len(t, hs, 2)
	assert.Equal(t, FileHash{"yara", filepath.Join(dir, "a.yar"), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", 0}, hs[0])
	assert.Equal(t, FileHash{"yara", filepath.Join(dir, "sub", "b.yar"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", 3}, hs[1])
	d1 := Digest(hs)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "sub", "b.yar"), []byte("abd"), 0o644))
	hs2, err := HashTree("yara", dir, func(p string) bool { return filepath.Ext(p) == ".yar" })
	require.NoError(t, err)
	assert.NotEqual(t, d1, Digest(hs2))
	assert.Equal(t, d1, Digest(hs), "the digest depends only on its input")
	_, err = HashTree("yara", filepath.Join(dir, "missing"), nil)
	assert.Error(t, err)
}
