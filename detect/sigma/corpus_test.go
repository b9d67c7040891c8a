package sigma

import (
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/edr-lab/edr/internal/testutil"
	"github.com/stretchr/testify/require"
)

var sigmaHQDirs = []string{"rules/windows", "rules-emerging-threats", "rules-threat-hunting"}

func loadSigmaHQ(t testing.TB) (*Ruleset, []*LoadError, int) {
	root := testutil.Corpus(t, "sigma")
	var paths []string
	files := 0
	for _, d := range sigmaHQDirs {
		p := filepath.Join(root, d)
		paths = append(paths, p)
		fs, err := ruleFiles(p)
		require.NoError(t, err)
		files += len(fs)
	}
	rs, errs := Load(paths, Options{})
	return rs, errs, files
}

// TestSigmaHQCompileRate: at least 99.5 % of SigmaHQ's Windows, emerging
// threats and threat hunting rules compile; every failure names its reason.
func TestSigmaHQCompileRate(t *testing.T) {
	start := time.Now()
	rs, errs, files := loadSigmaHQ(t)
	elapsed := time.Since(start)
	failed := map[string]bool{}
	for _, e := range errs {
		require.NotEmpty(t, e.Path)
		require.NotEmpty(t, e.Reason())
		failed[e.Path] = true
		t.Logf("does not compile: %s", e)
	}
	unsupported := map[string]int{}
	for _, r := range rs.Rules() {
		if r.Unsupported != "" {
			unsupported[r.Unsupported]++
		}
	}
	reasons := make([]string, 0, len(unsupported))
	for k := range unsupported {
		reasons = append(reasons, k)
	}
	sort.Strings(reasons)
	for _, k := range reasons {
		t.Logf("compiled, logsource unsupported: %d × %s", unsupported[k], k)
	}
	ok := files - len(failed)
	rate := float64(ok) / float64(files)
	t.Logf("%d files, %d compiled (%.2f %%), %d failed; %d rules loaded; load+compile took %v (not asserted)",
		files, ok, 100*rate, len(failed), len(rs.Rules()), elapsed)
	require.GreaterOrEqual(t, rate, 0.995)
}

// BenchmarkLoadSigmaHQ: parse and compile SigmaHQ's Windows, emerging
// threats and threat hunting rules (one op = the whole set).
func BenchmarkLoadSigmaHQ(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		loadSigmaHQ(b)
	}
}
