package artifact

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/edr-lab/edr/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// realFile returns the bytes of a real EVTX file from the corpus (or skips).
func realFile(t *testing.T) []byte {
	p := testutil.Corpus(t, "evtx-attack-samples/Credential Access/CA_keefarce_keepass_credump.evtx")
	data, err := os.ReadFile(p)
	require.NoError(t, err)
	return data
}

func TestPutGetRoundTripAndLayout(t *testing.T) {
	data := realFile(t)
	rec := t.TempDir()
	s, err := Open(rec, Options{})
	require.NoError(t, err)
	defer s.Close()
	sha, wrote, err := s.Put(data)
	require.NoError(t, err)
	assert.True(t, wrote)
	d := Sum(data)
	assert.Equal(t, d.SHA256, sha)
	p := filepath.Join(rec, "artifacts", "sha256", d.SHA256[:2], d.SHA256+".zst")
	assert.Equal(t, p, s.Path(d.SHA256))
	st, err := os.Stat(p)
	require.NoError(t, err)
	assert.Less(t, st.Size(), int64(len(data)), "zstd compresses EVTX")
	assert.True(t, s.Has(strings.ToUpper(d.SHA256)))

	got, err := s.Get(d.SHA256)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(data, got))

	// SHA1 and MD5 resolve to the entry; Lookup takes a Sysmon Hashes value.
	for _, dg := range []string{d.SHA1, strings.ToUpper(d.MD5), d.SHA256} {
		sha, err := s.Resolve(dg)
		require.NoError(t, err)
		assert.Equal(t, d.SHA256, sha)
	}
	got, sha, err = s.Lookup("SHA1=" + strings.ToUpper(d.SHA1) + ",MD5=" + d.MD5 + ",IMPHASH=00")
	require.NoError(t, err)
	assert.Equal(t, d.SHA256, sha)
	assert.Len(t, got, len(data))
	_, _, err = s.Lookup("SHA1=" + strings.Repeat("0", 40))
	assert.ErrorIs(t, err, ErrNotFound)
	_, _, err = s.Lookup("IMPHASH=" + d.MD5)
	assert.ErrorIs(t, err, ErrNotFound)
	_, err = s.Resolve("xyz")
	assert.Error(t, err)
}

func TestNeverRewritten(t *testing.T) {
	rec := t.TempDir()
	s, err := Open(rec, Options{})
	require.NoError(t, err)
	defer s.Close()
	sha, _, err := s.Put([]byte("same content"))
	require.NoError(t, err)
	before, err := os.Stat(s.Path(sha))
	require.NoError(t, err)
	_, wrote, err := s.Put([]byte("same content"))
	require.NoError(t, err)
	assert.False(t, wrote)
	after, err := os.Stat(s.Path(sha))
	require.NoError(t, err)
	assert.True(t, os.SameFile(before, after), "the entry is the same file")
	assert.Equal(t, before.ModTime(), after.ModTime())
	st := s.Stats()
	assert.Equal(t, 1, st.Entries)
	assert.Equal(t, 1, st.Puts)
	assert.Equal(t, 1, st.Dedups)
	// No temporary files are left behind.
	left, _ := filepath.Glob(filepath.Join(rec, "artifacts", "*", "*", ".tmp-*"))
	assert.Empty(t, left)
}

func TestConcurrentPutsOfSameContent(t *testing.T) {
	s, err := Open(t.TempDir(), Options{})
	require.NoError(t, err)
	defer s.Close()
	var wg sync.WaitGroup
	var mu sync.Mutex
	wrote := 0
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, w, err := s.Put([]byte("contended"))
			assert.NoError(t, err)
			_, _, err = s.Put([]byte{byte(i)})
			assert.NoError(t, err)
			if w {
				mu.Lock()
				wrote++
				mu.Unlock()
			}
		}(i)
	}
	wg.Wait()
	assert.Equal(t, 1, wrote, "exactly one writer creates the entry")
	assert.Equal(t, 9, s.Stats().Entries)
	n, errs := s.Verify()
	assert.Equal(t, 9, n)
	assert.Empty(t, errs)
}

func TestCaps(t *testing.T) {
	s, err := Open(t.TempDir(), Options{MaxFileBytes: 10, MaxTotalBytes: 60})
	require.NoError(t, err)
	defer s.Close()
	_, _, err = s.Put([]byte("01234567890"))
	assert.ErrorIs(t, err, ErrTooLarge)
	var full error
	for i := 0; i < 10 && full == nil; i++ {
		_, _, full = s.Put([]byte{'a', byte(i)})
	}
	assert.ErrorIs(t, full, ErrFull)
	st := s.Stats()
	assert.LessOrEqual(t, st.StoredBytes, int64(60))
	assert.Equal(t, 2, st.Refused)
}

func TestCorruptEntriesDetected(t *testing.T) {
	data := realFile(t)
	rec := t.TempDir()
	s, err := Open(rec, Options{})
	require.NoError(t, err)
	_, _, err = s.Put(data)
	require.NoError(t, err)
	d := Sum(data)
	sha2, _, err := s.Put([]byte("second entry"))
	require.NoError(t, err)
	require.NoError(t, s.Close())

	// Flip a byte in the middle of the first entry, truncate the second.
	p := s.Path(d.SHA256)
	comp, err := os.ReadFile(p)
	require.NoError(t, err)
	comp[len(comp)/2] ^= 0xff
	require.NoError(t, os.Chmod(p, 0o644))
	require.NoError(t, os.WriteFile(p, comp, 0o644))
	require.NoError(t, os.WriteFile(s.Path(sha2), comp[:5], 0o644))

	s, err = Open(rec, Options{})
	require.NoError(t, err)
	defer s.Close()
	assert.Equal(t, 2, s.Stats().Entries, "reopening counts existing entries")
	_, err = s.Get(d.SHA256)
	require.ErrorIs(t, err, ErrCorrupt)
	assert.Contains(t, err.Error(), p)
	n, errs := s.Verify()
	assert.Equal(t, 2, n)
	require.Len(t, errs, 2)
	for _, e := range errs {
		assert.True(t, errors.Is(e, ErrCorrupt), "%v", e)
	}
	_, _, err = s.Lookup("SHA256=" + d.SHA256)
	assert.ErrorIs(t, err, ErrCorrupt)
}

func TestLinks(t *testing.T) {
	s, err := Open(t.TempDir(), Options{})
	require.NoError(t, err)
	defer s.Close()
	sha, _, err := s.Put([]byte("image"))
	require.NoError(t, err)
	key := "ws1|Microsoft-Windows-Sysmon/Operational|1|1700000000|C:\\x.exe"
	require.NoError(t, s.Link(key, sha))
	got, err := s.Linked(key)
	require.NoError(t, err)
	assert.Equal(t, sha, got)
	other, _, err := s.Put([]byte("other"))
	require.NoError(t, err)
	require.NoError(t, s.Link(key, other), "relinking is not an error")
	got, err = s.Linked(key)
	require.NoError(t, err)
	assert.Equal(t, sha, got, "the first link stands")
	_, err = s.Linked("absent")
	assert.ErrorIs(t, err, ErrNotFound)
	assert.Error(t, s.Link(key, "nothex"))
}
