package artifact

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzLookup: any Hashes value (or digest) is answered with data or an
// error, never a panic, and data is only ever returned for a stored entry.
func FuzzLookup(f *testing.F) {
	s, err := Open(f.TempDir(), Options{})
	require.NoError(f, err)
	_, _, err = s.Put([]byte("stored"))
	require.NoError(f, err)
	d := Sum([]byte("stored"))
	f.Add("SHA256=" + d.SHA256)
	f.Add("SHA1=" + d.SHA1 + ",MD5=" + d.MD5)
	f.Add("MD5=,=,,SHA1=zz")
	f.Add(d.MD5)
	f.Fuzz(func(t *testing.T, v string) {
		data, sha, err := s.Lookup(v)
		if err == nil {
			require.Equal(t, d.SHA256, sha)
			require.Equal(t, "stored", string(data))
		}
		_, _ = s.Resolve(v)
		_ = s.Has(v)
	})
}
