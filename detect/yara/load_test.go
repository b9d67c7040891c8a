//go:build cgo && !noyara

package yara

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// genRuleFiles writes n rule files of three rules each under dir: every
// 10th has a syntax error, every 25th redefines a rule of the file 7 before (same directory, so
// earlier in load order).
// It returns how many files are bad.
func genRuleFiles(tb testing.TB, dir string, n int) (bad int) {
	tb.Helper()
	for i := 0; i < n; i++ {
		var b strings.Builder
		for j := 0; j < 3; j++ {
			fmt.Fprintf(&b, "rule R%d_%d {\n  strings:\n    $a = \"marker %d %d\"\n    $h = { 4D 5A ?? %02X }\n  condition:\n    $a or $h\n}\n", i, j, i, j, i%256)
		}
		switch {
		case i%10 == 9:
			b.WriteString("rule Broken" + fmt.Sprint(i) + " { condition: }\n")
			bad++
		case i%25 == 24:
			fmt.Fprintf(&b, "rule R%d_0 { condition: false }\n", i-7)
			bad++
		}
		name := filepath.Join(dir, fmt.Sprintf("d%02d", i%7), fmt.Sprintf("f%04d.yar", i))
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			tb.Fatal(err)
		}
		if err := os.WriteFile(name, []byte(b.String()), 0o644); err != nil {
			tb.Fatal(err)
		}
	}
	return bad
}

// A bad file does not restart the compile of the files before it: loading
// N files hands at most 2N files to libyara (each once alone, the good
// ones once together), for 250 as for 1,000 files. Counted, not timed.
func TestCompileIsLinearInFiles(t *testing.T) {
	for _, n := range []int{250, 1000} {
		dir := t.TempDir()
		bad := genRuleFiles(t, dir, n)
		before := compileCalls.Load()
		r, checks, errs := CompileChecked([]string{dir}, CompileOptions{})
		calls := compileCalls.Load() - before
		require.NotNil(t, r)
		assert.Len(t, errs, bad, "n=%d", n)
		assert.Len(t, checks, n)
		assert.Equal(t, 3*(n-bad), r.NumRules(), "n=%d", n)
		assert.LessOrEqual(t, calls, int64(2*n), "n=%d: files compiled", n)
		assert.Equal(t, int64(2*n-bad), calls, "n=%d: each file alone, the good ones together", n)
		r.Close()
	}
}

// A rule name two files define is an error on the later file, naming the
// earlier one, and the earlier file's rules stay.
func TestDuplicateRuleNamedOnceWithItsOwner(t *testing.T) {
	dir := t.TempDir()
	writeRule(t, filepath.Join(dir, "a.yar"), "rule Same { condition: true }\nrule A { condition: true }\n")
	writeRule(t, filepath.Join(dir, "b.yar"), "rule B { condition: true }\nrule Same { condition: false }\n")
	r, checks, errs := CompileChecked([]string{dir}, CompileOptions{})
	require.Len(t, errs, 1)
	assert.Contains(t, errs[0].Error(), filepath.Join(dir, "b.yar"))
	assert.Contains(t, errs[0].Error(), `b.yar:2: duplicated identifier "Same" (also defined in `+filepath.Join(dir, "a.yar")+")")
	assert.Equal(t, []string{"Same", "A"}, r.Names())
	assert.Equal(t, []string{"B", "Same"}, checks[1].Rules)
}

// An index file that includes the files being loaded is left out with a
// note (its rules come from them), whichever sorts first; a file with no
// rule is listed with none; missing includes are one error for the file.
func TestIndexFilesEmptyFilesAndIncludeErrors(t *testing.T) {
	dir := t.TempDir()
	var idx, missing strings.Builder
	for i := 0; i < 3; i++ {
		writeRule(t, filepath.Join(dir, "malware", fmt.Sprintf("m%d.yar", i)), fmt.Sprintf("rule M%d { condition: true }\n", i))
		fmt.Fprintf(&idx, "include \"./malware/m%d.yar\"\n", i)
	}
	for i := 0; i < 200; i++ {
		fmt.Fprintf(&missing, "include \"./gone/g%d.yar\"\n", i)
	}
	writeRule(t, filepath.Join(dir, "index.yar"), idx.String())
	writeRule(t, filepath.Join(dir, "old_index.yar"), missing.String())
	writeRule(t, filepath.Join(dir, "empty.yar"), "// nothing here\n")

	r, checks, errs := CompileChecked([]string{dir}, CompileOptions{})
	require.NotNil(t, r)
	assert.Equal(t, []string{"M0", "M1", "M2"}, r.Names())
	byFile := map[string]FileCheck{}
	for _, c := range checks {
		byFile[filepath.Base(c.File)] = c
	}
	assert.Contains(t, byFile["index.yar"].Note, "index file")
	assert.NoError(t, byFile["index.yar"].Err)
	assert.Empty(t, byFile["empty.yar"].Rules)
	assert.NoError(t, byFile["empty.yar"].Err)
	require.Len(t, errs, 1, "%v", errs)
	msg := errs[0].Error()
	assert.Contains(t, msg, "old_index.yar:1")
	assert.LessOrEqual(t, strings.Count(msg, "g1"), 2, msg) // not one line per include
	assert.Less(t, len(msg), 600, msg)
}
