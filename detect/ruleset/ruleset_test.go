package ruleset

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A .yar file among the Sigma paths is named as a YARA file, never parsed
// as YAML (which reported a false YAML error); the Sigma rules still load.
func TestSigmaPathsSkipYARAFiles(t *testing.T) {
	dir := t.TempDir()
	yar := filepath.Join(dir, "a.yar")
	require.NoError(t, os.WriteFile(yar, []byte("rule A {\n strings:\n  $a = \"x: [y\"\n condition: $a\n}\n"), 0o644))
	sig := filepath.Join(dir, "r.yml")
	require.NoError(t, os.WriteFile(sig, []byte("title: T\nid: 11111111-1111-1111-1111-111111111111\nlogsource:\n  category: process_creation\n  product: windows\n"+
		"detection:\n  sel:\n    Image|endswith: '\\x.exe'\n  condition: sel\nlevel: high\n"), 0o644))
	r, err := Load(Options{SigmaPaths: []string{yar, sig}})
	require.NoError(t, err)
	defer r.Close()
	require.Len(t, r.Errors, 1)
	assert.Contains(t, r.Errors[0].Error(), "a.yar: a YARA file given as a Sigma rule")
	assert.NotContains(t, r.Errors[0].Error(), "yaml")
	assert.Len(t, r.Sigma.Rules(), 1)
}
