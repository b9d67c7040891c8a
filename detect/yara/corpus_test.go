//go:build cgo && !noyara

package yara

import (
	"bufio"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/edr-lab/edr/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The EVTX corpora the derived YARA hits were computed over.
var scannedCorpora = []string{"evtx-attack-samples", "evtx-to-mitre-attack", "sigma/regression_data", "evtx-parser-samples"}

// TestSignatureBaseCompilesAndAgreesWithDerivedHits compiles every
// signature-base rule file and scans the corpus files as raw bytes, as the
// derived cross-check did (yara -w -r, externals ""), and compares the
// (rule, file) pairs.
func TestSignatureBaseCompilesAndAgreesWithDerivedHits(t *testing.T) {
	rulesDir := testutil.Corpus(t, "yara/signature-base/yara")
	derived := testutil.Corpus(t, "yara/DERIVED_signature-base_hits_on_evtx_corpora.tsv")
	corpus := testutil.CorpusDir()

	r, errs := Compile([]string{rulesDir}, CompileOptions{})
	for _, e := range errs {
		t.Errorf("rule file failed: %v", e)
	}
	require.NotNil(t, r)
	all, _ := RuleFiles([]string{rulesDir})
	assert.Equal(t, len(all), len(r.Files()), "every signature-base file compiles")
	t.Logf("signature-base: %d files, %d rules, %d warnings", len(r.Files()), r.NumRules(), len(r.Warnings()))

	s, err := NewScanner(r, ScannerOptions{Workers: 2})
	require.NoError(t, err)
	defer s.Close()

	got, withExt := map[string]bool{}, map[string]bool{}
	files := 0
	for _, d := range scannedCorpora {
		root := filepath.Join(corpus, d)
		if _, err := os.Stat(root); err != nil {
			t.Skipf("corpus %s absent", root)
		}
		require.NoError(t, filepath.WalkDir(root, func(p string, de fs.DirEntry, err error) error {
			if err != nil || de.IsDir() {
				return err
			}
			files++
			data, err := os.ReadFile(p)
			require.NoError(t, err)
			rel, _ := filepath.Rel(corpus, p)
			rel = filepath.ToSlash(rel)
			m, err := s.ScanBytes(context.Background(), data, Externals{})
			require.NoError(t, err, rel)
			for _, x := range m {
				got[x.Rule+"\t"+rel] = true
			}
			m, err = s.ScanBytes(context.Background(), data, ExternalsFor(p, data, ""))
			require.NoError(t, err, rel)
			for _, x := range m {
				withExt[x.Rule+"\t"+rel] = true
			}
			return nil
		}))
	}
	want := readDerived(t, derived)
	t.Logf("scanned %d files: %d hits, derived lists %d", files, len(got), len(want))
	assert.Equal(t, sortedKeys(want), sortedKeys(got))
	// With LOKI-style externals (filename, extension, filetype …) the
	// verdicts on these files are the same.
	assert.Equal(t, sortedKeys(got), sortedKeys(withExt))
}

func readDerived(t *testing.T, path string) map[string]bool {
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	out := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") || line == "rule\tfile" {
			continue
		}
		rule, file, ok := strings.Cut(line, "\t")
		require.True(t, ok, line)
		out[rule+"\t"+file] = true
	}
	require.NoError(t, sc.Err())
	return out
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
