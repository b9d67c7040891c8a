package sigma

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// Rendering a parsed value back in Sigma syntax and parsing it again gives
// the same value (sigma-rules-specification.md, "Escape Character").
func TestEscapeRoundTrip(t *testing.T) {
	for _, v := range []string{`a\*b`, `a\\*`, `a\\\*`, `\\\\srv`, `C:\Windows\x.exe`, `x\`, `*\\`, `a?b\?`, `\\*\\?`} {
		p := parseSigmaString(v)
		require.Equal(t, p, parseSigmaString(p.String()), v)
	}
	require.Equal(t, `C:\Windows\x.exe`, parseSigmaString(`C:\Windows\x.exe`).String())
}

// base64offset of Invoke-Mimikatz yields the three shifted encodings
// (sigma-appendix-modifiers.md "base64offset": shifts by zero to two bytes;
// "except the first and last byte the encoded values have a static part").
// Derived independently: base64 of the value after 0, 1 and 2 arbitrary
// bytes, keeping only the characters that are the same whatever bytes
// precede and follow (at offset 1 the 6 high bits of the last byte 'z'
// still give a fixed 'e').
func TestBase64OffsetInvokeMimikatz(t *testing.T) {
	pats := base64Offsets("Invoke-Mimikatz")
	require.Equal(t, []string{"SW52b2tlLU1pbWlrYXR6", "ludm9rZS1NaW1pa2F0e", "JbnZva2UtTWltaWthdH"}, pats)
	// base64 of Invoke-Mimikatz with 0-2 bytes before and after (python's
	// base64 module): each contains one of the patterns
	for _, enc := range []string{"SW52b2tlLU1pbWlrYXR6", "SW52b2tlLU1pbWlrYXR6cQ==", "SW52b2tlLU1pbWlrYXR6cXI=",
		"eEludm9rZS1NaW1pa2F0eg==", "eEludm9rZS1NaW1pa2F0enE=", "eEludm9rZS1NaW1pa2F0enFy",
		"eHlJbnZva2UtTWltaWthdHo=", "eHlJbnZva2UtTWltaWthdHpx", "eHlJbnZva2UtTWltaWthdHpxcg=="} {
		found := 0
		for _, p := range pats {
			if strings.Contains(enc, p) {
				found++
			}
		}
		require.Equal(t, 1, found, enc)
	}
}

func TestWindashExpansion(t *testing.T) {
	got := windash(parseSigmaString("-a /b"))
	require.Len(t, got, 25) // two dash positions, five characters each
	require.Equal(t, "\u2015a \u2014b", got[4*5+3].text())
}

func TestFold(t *testing.T) {
	require.Equal(t, fold("WHOAMI"), fold("whoami"))
	require.Equal(t, fold("ПРИВЕТ"), fold("привет"))
	require.Equal(t, fold("K"), fold("\u212a")) // Kelvin sign
	require.Equal(t, fold("S"), fold("\u017f")) // long s
	require.NotEqual(t, fold("ss"), fold("ß"))  // simple folding only
}

// appendFold folds as foldRune does rune by rune (invalid bytes kept),
// after what dst already holds, on ASCII, non-ASCII and invalid text.
func TestAppendFoldRuneByRune(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	parts := []string{"a", "Z", "q", "\\", " ", "é", "É", "\u212a", "\u017f", "ß", "\xff", "\xc3", "😀", "Ω"}
	for n := 0; n < 20000; n++ {
		var b strings.Builder
		for k := r.IntN(12); k > 0; k-- {
			b.WriteString(parts[r.IntN(len(parts))])
		}
		s := b.String()
		var want []byte
		for i := 0; i < len(s); {
			c, size := utf8.DecodeRuneInString(s[i:])
			if c == utf8.RuneError && size == 1 {
				want = append(want, s[i])
			} else {
				want = utf8.AppendRune(want, foldRune(c))
			}
			i += size
		}
		prefix := []byte("pre")[:r.IntN(4)]
		require.Equal(t, string(prefix)+string(want), string(appendFold(append([]byte{}, prefix...), s)), "%q", s)
	}
}
