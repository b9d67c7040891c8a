package termsafe

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

func TestString(t *testing.T) {
	for in, want := range map[string]string{
		`C:\Windows\System32\cmd.exe`: `C:\Windows\System32\cmd.exe`,
		"ws01.corp.example.com":       "ws01.corp.example.com",
		"héllo wörld ✓":               "héllo wörld ✓",
		"evil\x1b]0;pwned\x07host":    `evil\x1b]0;pwned\x07host`,
		"a\x1b[2Jb":                   `a\x1b[2Jb`,
		"tab\there\r\nnext":           `tab\there\r\nnext`,
		"del\x7f":                     `del\x7f`,
		"c1\u009bc":                   `c1\u009bc`,
		"bad\xffutf8":                 `bad\xffutf8`,
		"rtl\u202eexe.txt":            `rtl\u202eexe.txt`,
		"zero\u200bwidth":             `zero\u200bwidth`,
		"":                            "",
	} {
		assert.Equal(t, want, String(in), "%q", in)
		assert.Equal(t, want, string(AppendString(nil, in)), "%q", in)
	}
}

func TestLongLinesAreCut(t *testing.T) {
	long := strings.Repeat("x", 1<<20)
	got := String(long)
	assert.Equal(t, strings.Repeat("x", MaxLine)+"…(1048576 bytes)", got)
	// escapes count towards the cap, and a cut never splits a rune
	got = String(strings.Repeat("\x1bé", 1<<16))
	assert.LessOrEqual(t, len(got), MaxLine+len("\\x1b")+len("…(196608 bytes)"))
	assert.True(t, utf8.ValidString(got))
	assert.True(t, strings.HasSuffix(got, "…(196608 bytes)"), got[len(got)-40:])
	assert.NotContains(t, got, "\x1b")
}

func TestTextKeepsLines(t *testing.T) {
	in := "first \x1b[31mred\nsecond\n" + strings.Repeat("y", MaxLine+1) + "\n"
	assert.Equal(t, `first \x1b[31mred`+"\nsecond\n"+strings.Repeat("y", MaxLine)+"…(4097 bytes)\n", Text(in))
}

func FuzzString(f *testing.F) {
	f.Add("evil\x1b]0;x\x07\u202e\xff")
	f.Fuzz(func(t *testing.T, s string) {
		out := String(s)
		assert.True(t, utf8.ValidString(out))
		for _, r := range out {
			assert.False(t, unsafeRune(r), "%q in %q", r, out)
		}
		assert.LessOrEqual(t, len(out), MaxLine+len(`\u0000`)+len("…( bytes)")+20)
	})
}
