package regress_test

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edr-lab/edr/corpus/evtx"
	"github.com/edr-lab/edr/corpus/jsonl"
	"github.com/edr-lab/edr/detect/sigma"
	"github.com/edr-lab/edr/detect/sigma/regress"
	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/internal/testutil"
	"github.com/stretchr/testify/require"
)

var evtxSample = regress.Collect("evtx", func(path string, fn func(*event.Event) error) error {
	st, err := evtx.ReadFile(path, fn)
	if err == nil && st.Failed > 0 {
		err = fmt.Errorf("%s: %d records failed", path, st.Failed)
	}
	return err
})

var jsonSample = regress.JSONBeside(func(path string, fn func(*event.Event) error) error {
	st, err := jsonl.ReadFile(path, jsonl.Options{}, fn)
	if err == nil && st.Failed > 0 {
		err = fmt.Errorf("%s: %d documents failed", path, st.Failed)
	}
	return err
})

// manifestIDs reads the rule ids of regression_manifest.tsv.
func manifestIDs(t *testing.T, root string) map[string]bool {
	f, err := os.Open(filepath.Join(root, "regression_manifest.tsv"))
	require.NoError(t, err)
	defer f.Close()
	ids := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		require.GreaterOrEqual(t, len(cols), 2)
		ids[cols[1]] = true
	}
	require.NoError(t, sc.Err())
	return ids
}

// Every SigmaHQ regression test in the shared corpus passes, read from the
// EVTX samples and from the JSON beside them; every test the manifest lists
// is among the passes, and only tests whose regression data the trimmed
// corpus lacks are skipped.
func TestSigmaHQRegression(t *testing.T) {
	root := testutil.Corpus(t, "sigma")
	dirs, err := regress.RuleDirs(root)
	require.NoError(t, err)
	rs, errs := sigma.Load(dirs, sigma.Options{})
	tests := regress.Discover(rs, errs, root)
	want := manifestIDs(t, root)
	for name, read := range map[string]regress.EventReader{"evtx": evtxSample, "json": jsonSample} {
		t.Run(name, func(t *testing.T) {
			passed := map[string]bool{}
			for _, r := range regress.Run(rs, tests, read) {
				rel, _ := filepath.Rel(root, r.RulePath)
				switch {
				case r.Pass:
					require.Equal(t, name, r.Source)
					passed[r.RuleID] = true
				case r.Skip:
					require.False(t, want[r.RuleID], "%s is in the manifest but was skipped: %s", rel, r.Reason)
				default:
					t.Errorf("FAIL %s (%s): %s", rel, r.RuleID, r.Reason)
				}
			}
			for id := range want {
				require.True(t, passed[id], "manifest test %s did not pass", id)
			}
			t.Logf("%d passed (manifest lists %d)", len(passed), len(want))
		})
	}
}
