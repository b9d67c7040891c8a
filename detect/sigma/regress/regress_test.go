package regress

import (
	"path/filepath"
	"testing"

	"github.com/edr-lab/edr/detect/sigma"
	"github.com/edr-lab/edr/internal/testutil"
	"github.com/stretchr/testify/require"
)

// TestSigmaHQRegressionJSON runs every SigmaHQ regression test in the shared
// corpus from the JSON beside each EVTX: all must pass.
func TestSigmaHQRegressionJSON(t *testing.T) {
	root := testutil.Corpus(t, "sigma")
	dirs, err := RuleDirs(root)
	require.NoError(t, err)
	rs, errs := sigma.Load(dirs, sigma.Options{})
	tests := Discover(rs, errs, root)
	require.NotEmpty(t, tests)
	results := Run(rs, tests, JSONBeside)
	failed, passed := 0, 0
	for _, r := range results {
		if r.Pass {
			passed++
		}
		if !r.Pass && !r.Skip {
			failed++
			rel, _ := filepath.Rel(root, r.RulePath)
			t.Errorf("FAIL %s (%s): %s", rel, r.RuleID, r.Reason)
		}
	}
	t.Logf("%d tests: %d passed, %d failed, %d skipped (regression data absent)", len(results), passed, failed, len(results)-passed-failed)
	require.Positive(t, passed)
}
