//go:build cgo && !noyara

package yara

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func writeRule(t *testing.T, path, content string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
}

// Includes resolve against the including file and stay inside the rules
// being loaded: an absolute path or ../ out of the tree is an error naming
// the file and line, and the file outside is never read.
func TestIncludeConfinedToTheRulesTree(t *testing.T) {
	dir := t.TempDir()
	rules := filepath.Join(dir, "rules")
	outside := filepath.Join(dir, "outside.yar")
	writeRule(t, outside, "rule Outside { condition: true }\n")
	writeRule(t, filepath.Join(rules, "common", "base.yar"), "include \"more.yar\"\nrule Base { condition: true }\n")
	writeRule(t, filepath.Join(rules, "common", "more.yar"), "rule More { condition: true }\n")
	writeRule(t, filepath.Join(rules, "ok.yar.inc"), "rule Ok { condition: true }\n")
	writeRule(t, filepath.Join(rules, "main.yar"), "include \"common/base.yar\"\ninclude \"ok.yar.inc\"\nrule Main { condition: true }\n")
	writeRule(t, filepath.Join(rules, "abs.yar"), "rule A1 { condition: true }\n\ninclude \""+outside+"\"\n")
	writeRule(t, filepath.Join(rules, "up.yar"), "include \"../outside.yar\"\n")

	r, errs := Compile([]string{filepath.Join(rules, "main.yar")}, CompileOptions{IncludeRoots: []string{rules}})
	require.Empty(t, errs)
	assert.ElementsMatch(t, []string{"More", "Base", "Ok", "Main"}, r.Names())

	for file, line := range map[string]int{"abs.yar": 3, "up.yar": 1} {
		r, errs := Compile([]string{filepath.Join(rules, file)}, CompileOptions{})
		if r != nil {
			assert.Empty(t, r.Names(), file)
		}
		require.Len(t, errs, 1, file)
		var fe *FileError
		require.True(t, errors.As(errs[0], &fe), "%v", errs[0])
		assert.Equal(t, filepath.Join(rules, file), fe.File)
		assert.Equal(t, line, fe.Line, file)
		assert.Contains(t, errs[0].Error(), "outside the rules being loaded", file)
	}
	// together: main compiles, the two escaping files are refused
	r, errs = Compile([]string{filepath.Join(rules, "abs.yar"), filepath.Join(rules, "main.yar"), filepath.Join(rules, "up.yar")},
		CompileOptions{IncludeRoots: []string{rules}})
	assert.Len(t, errs, 2)
	require.NotNil(t, r)
	assert.ElementsMatch(t, []string{"More", "Base", "Ok", "Main"}, r.Names())
}
