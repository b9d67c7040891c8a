package main

import (
	"encoding/json"
	"encoding/xml"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/edr-lab/edr/internal/testutil"
	"github.com/stretchr/testify/require"
)

const goodRule = `title: Whoami
id: 11111111-1111-4111-8111-111111111111
logsource: {product: windows, category: process_creation}
detection:
    sel:
        Image|endswith: '\whoami.exe'
    condition: sel
`

func TestRulesValidate(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "good.yml"), []byte(goodRule), 0o644))
	linux := strings.Replace(strings.Replace(goodRule, "windows", "linux", 1), "1111-4", "2222-4", 1)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "linux.yml"), []byte(linux), 0o644))
	out, code := edr(t, "rules", "validate", dir)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "2 rules: 1 compiled, 1 unsupported, 0 errors")

	bad := strings.Replace(goodRule, "endswith", "sortof", 1)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "bad.yml"), []byte(bad), 0o644))
	out, code = edr(t, "rules", "validate", "--json", dir)
	require.Equal(t, 1, code, out)
	byStatus := map[string]ruleReport{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var r ruleReport
		require.NoError(t, json.Unmarshal([]byte(line), &r), line)
		byStatus[r.Status] = r
	}
	require.Contains(t, byStatus["error"].Reason, `unknown modifier "sortof"`)
	require.Equal(t, filepath.Join(dir, "bad.yml"), byStatus["error"].Path)
	require.Equal(t, "Whoami", byStatus["compiled"].Title)
	require.Contains(t, byStatus["unsupported"].Reason, `product "linux"`)

	_, code = edr(t, "rules", "validate", filepath.Join(dir, "missing"))
	require.Equal(t, 2, code)

	// placeholders for the expand modifier come from a file
	exp := strings.Replace(strings.Replace(goodRule, "Image|endswith: '\\whoami.exe'", "User|expand: '%Admins%'", 1), "1111-4", "3333-4", 1)
	require.NoError(t, os.Remove(filepath.Join(dir, "bad.yml")))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "expand.yml"), []byte(exp), 0o644))
	out, code = edr(t, "rules", "validate", dir)
	require.Equal(t, 1, code, out)
	require.Contains(t, out, "%Admins% is not defined")
	ph := filepath.Join(t.TempDir(), "ph.yml")
	require.NoError(t, os.WriteFile(ph, []byte("Admins: [adm_*]\n"), 0o644))
	out, code = edr(t, "rules", "validate", "--placeholders", ph, dir)
	require.Equal(t, 0, code, out)
	require.Contains(t, out, "3 rules: 2 compiled, 1 unsupported, 0 errors")
}

// neverFires replaces a Sigma rule's detection (up to the next top-level
// key) with one that nothing matches, so its regression test fails.
func neverFires(rule string) string {
	return detectionBlock.ReplaceAllString(rule, "\ndetection:\n    sel:\n        Image: 'nothing-matches-this'\n    condition: sel\n$1")
}

var detectionBlock = regexp.MustCompile(`(?s)\ndetection:\n.*?\n([a-z_]+:)`)

func TestSigmaRegressionCommand(t *testing.T) {
	root := testutil.Corpus(t, "sigma")
	out, code := edr(t, "test", "--sigma-regression", root)
	require.Equal(t, 0, code, out)
	require.Regexp(t, `(?m)^129 passed, 0 failed, \d+ skipped$`, out)
	require.Contains(t, out, "(evtx)")

	out, code = edr(t, "test", "--sigma-regression", root, "--format", "junit")
	require.Equal(t, 0, code)
	var suite struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
	}
	require.NoError(t, xml.Unmarshal([]byte(out[strings.Index(out, "<testsuite"):]), &suite))
	require.Zero(t, suite.Failures)
	require.Positive(t, suite.Tests)

	// a rule whose sample does not make it fire fails the run
	dir := t.TempDir()
	rulesDir := filepath.Join(dir, "rules")
	require.NoError(t, os.MkdirAll(rulesDir, 0o755))
	// (the first rule of the manifest, with a detection its sample cannot meet)
	src := filepath.Join(root, "rules-emerging-threats", "2025", "Exploits", "CVE-2025-55182",
		"proc_creation_win_exploit_cve_2025_55182_susp_nodejs_server_child_process.yml")
	data, err := os.ReadFile(src)
	if err != nil {
		t.Skipf("sample rule absent: %v", err)
	}
	rule := neverFires(string(data))
	require.NotEqual(t, string(data), rule)
	require.NoError(t, os.WriteFile(filepath.Join(rulesDir, "r.yml"), []byte(rule), 0o644))
	out, code = edr(t, "test", "--sigma-regression", dir, "--regression-root", root, "--format", "json")
	require.Equal(t, 1, code, out)
	require.Contains(t, out, `"status":"fail"`)
	require.Contains(t, out, `"failed":1`)
	out, code = edr(t, "test", "--sigma-regression", dir, "--regression-root", root, "--format", "github")
	require.Equal(t, 1, code, out)
	ruleFile := filepath.ToSlash(filepath.Join(rulesDir, "r.yml"))
	require.Regexp(t, `(?m)^::error file=`+regexp.QuoteMeta(ghProperty(ruleFile))+`,line=\d+,title=Sigma regression test failed%3A [^,:]+::.*hits, want at least 1`, out)
	require.Regexp(t, `(?m)^0 passed, 1 failed, \d+ skipped$`, out)
	out, code = edr(t, "test", "--sigma-regression", dir, "--regression-root", root, "--format", "junit")
	require.Equal(t, 1, code, out)
	require.Equal(t, 1, checkJUnit(t, []byte(out)).Failures)

	_, code = edr(t, "test", "--sigma-regression", root, "--format", "xml")
	require.Equal(t, 2, code)
	_, code = edr(t, "test")
	require.Equal(t, 2, code)
}
