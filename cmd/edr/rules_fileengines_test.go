package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edr-lab/edr/detect/yara"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRulesValidateYARAAndIOC(t *testing.T) {
	dir := t.TempDir()
	write := func(rel, content string) {
		p := filepath.Join(dir, rel)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	}
	write("yara/good.yar", "rule Good { strings: $a = \"x\" condition: $a }\nrule Good2 { condition: filename == \"a\" }\n")
	write("yara/bad.yar", "rule Bad {\n condition: nosuch\n}\n")
	write("yara/zdup.yar", "rule Good { condition: true }\n")
	write("ioc/hashes.txt", "44d88612fea8a8f36de82e1278abb02f;eicar\nnot-a-hash\n")
	write("ioc/c2-iocs.txt", "evil.example\n10.0.0.0/8;60\n")
	write("ioc/README.txt", "not a list\n")

	out, code := edr(t, "rules", "validate", dir)
	assert.Equal(t, 1, code, out)
	assert.Regexp(t, `error +\S+hashes.txt:2 .*not an MD5`, out)
	assert.Regexp(t, `compiled +\S+hashes.txt hashes.txt "1 indicators"`, out)
	assert.Regexp(t, `compiled +\S+c2-iocs.txt c2-iocs.txt "2 indicators"`, out)
	assert.NotContains(t, out, "README.txt")
	if !yara.Available {
		assert.Regexp(t, `unsupported +\S+good.yar`, out)
		return
	}
	assert.Regexp(t, `compiled +\S+good.yar Good "Good"`, out)
	assert.Regexp(t, `compiled +\S+good.yar Good2 "Good2"`, out)
	assert.Regexp(t, `error +\S+bad.yar:2 .*nosuch`, out)
	assert.Regexp(t, `error +\S+zdup.yar:1 .*with the other files: .*Good`, out)
	assert.True(t, strings.HasSuffix(strings.TrimSpace(strings.Split(out, "edr:")[0]), "errors"), out)
}

func TestVersionReportsYARA(t *testing.T) {
	out, code := edr(t, "version")
	require.Equal(t, 0, code, out)
	if yara.Available {
		assert.Regexp(t, `(?m)^yara: libyara 4\.2\.\d+ \(go-yara v4\)$`, out)
	} else {
		assert.Contains(t, out, "yara: YARA compiled out")
	}
}

// A YARA file that does not compile is one error, not one per compile pass.
func TestRulesValidateCountsABadYARAFileOnce(t *testing.T) {
	dir := yaraRuleDir(t, map[string]string{"a.yar": "rule A { condition: true }\n",
		"bad.yar": "rule Bad {\n condition: nosuch\n}\n", "c.yar": "rule C { condition: true }\n"})
	out, code := edr(t, "rules", "validate", dir)
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, "3 rules: 2 compiled, 0 unsupported, 1 errors", out)
	assert.Equal(t, 1, strings.Count(out, "bad.yar"), out)
}

// A .yar file named directly is YARA's alone (it used to be parsed as Sigma
// too, with a false YAML error); a file without rules is listed as such,
// and an index file whose includes are loaded anyway is listed as an index,
// not as a duplicate of every rule it includes.
func TestRulesValidateYARAFileNamedDirectlyEmptyAndIndex(t *testing.T) {
	dir := yaraRuleDir(t, map[string]string{"a.yar": "rule A {\n strings:\n  $a = \"x: [y\"\n condition: $a\n}\n",
		"empty.yara": "/* retired */\n", "all.yar": "include \"a.yar\"\n"})

	out, code := edr(t, "rules", "validate", filepath.Join(dir, "a.yar"))
	assert.Equal(t, 0, code, out)
	assert.NotContains(t, out, "sigma", out)
	assert.NotContains(t, out, "yaml", out)
	assert.Contains(t, out, "1 rules: 1 compiled, 0 unsupported, 0 errors\n", out)

	out, code = edr(t, "rules", "validate", dir)
	assert.Equal(t, 0, code, out)
	assert.Regexp(t, `(?m)^empty +\S+empty.yara - "\(no rules\)": the file defines no rule$`, out)
	assert.Regexp(t, `(?m)^index +\S+all.yar - "\(1 rules\)": index file`, out)
	assert.Regexp(t, `(?m)^compiled +\S+a.yar A "A"$`, out)
	assert.Contains(t, out, "1 rules: 1 compiled, 0 unsupported, 0 errors (and 2 files without rules of their own: 1 empty, 1 index)", out)
}

// yaraRuleDir writes rule files (name → content) into a new directory;
// it skips the test in builds without YARA.
func yaraRuleDir(t *testing.T, files map[string]string) string {
	t.Helper()
	if !yara.Available {
		t.Skip("YARA compiled out")
	}
	dir := t.TempDir()
	for name, content := range files {
		writeFile(t, filepath.Join(dir, name), content)
	}
	return dir
}
