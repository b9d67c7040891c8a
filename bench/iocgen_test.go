package bench

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/edr-lab/edr/corpus/synth"
	"github.com/edr-lab/edr/detect/ioc"
	"github.com/edr-lab/edr/detect/ruleset"
	"github.com/edr-lab/edr/event"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGenerateIOCs: the files load without a single error as --ioc DIR
// loads them, hold n indicators, are the same bytes for the same n and
// seed, and every kind has indicators that fire on the seed's events.
func TestGenerateIOCs(t *testing.T) {
	const n, seed = 20_000, 7
	dir := t.TempDir()
	c, err := GenerateIOCs(dir, n, seed)
	require.NoError(t, err)
	assert.Equal(t, n, c.Total())
	assert.Equal(t, IOCCounts{Hashes: 12000, IPs: 3000, Domains: 4800, Paths: 200, Matching: 16}, c)

	set, errs := ioc.Load(ruleset.IOCFiles(dir), ioc.Options{})
	require.Empty(t, errs)
	assert.Equal(t, n, set.Len())

	again := t.TempDir()
	_, err = GenerateIOCs(again, n, seed)
	require.NoError(t, err)
	for _, f := range []string{"hashes.txt", "ips.txt", "domains.txt", "paths_regex.txt"} {
		a, err := os.ReadFile(filepath.Join(dir, f))
		require.NoError(t, err)
		b, err := os.ReadFile(filepath.Join(again, f))
		require.NoError(t, err)
		assert.Equal(t, a, b, "%s differs between two runs", f)
	}

	hits := map[ioc.Kind]int{}
	g := synth.New(synth.Options{Seed: seed, Events: iocSampleEvents})
	var ev event.Event
	var out []ioc.Hit
	for g.Next(&ev) {
		out = set.Match(&ev, out[:0])
		for _, h := range out {
			hits[h.Kind]++
		}
	}
	assert.Positive(t, hits[ioc.KindMD5], "MD5")
	assert.Positive(t, hits[ioc.KindSHA1], "SHA1")
	assert.Positive(t, hits[ioc.KindSHA256], "SHA256")
	assert.Positive(t, hits[ioc.KindIP], "IP")
	assert.Positive(t, hits[ioc.KindDomain], "domain")
	assert.Positive(t, hits[ioc.KindPath], "path")
	// Values seen once in the sample: a handful of hits each, no flood
	// (a value may also come back in a second field, e.g. an address in
	// QueryResults).
	total := 0
	for _, k := range hits {
		total += k
	}
	assert.LessOrEqual(t, total, 4*c.Matching, "hits %v", hits)
}

func TestGenerateIOCsRejectsNonPositive(t *testing.T) {
	_, err := GenerateIOCs(t.TempDir(), 0, 1)
	assert.ErrorContains(t, err, "must be positive")
}
