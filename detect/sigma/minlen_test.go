package sigma

import (
	"math/rand/v2"
	"testing"
	"unicode/utf8"

	"github.com/edr-lab/edr/event"
	"github.com/stretchr/testify/require"
)

// scanValue skips values shorter than the filter's shortest needle, which
// is only sound while folding never makes text longer: a short value with
// non-ASCII letters is scanned folded, and a longer folded form could hold
// a needle. Every rune's folded form must encode in at most its own bytes.
func TestFoldNeverLengthens(t *testing.T) {
	grew := 0
	for r := rune(0); r <= utf8.MaxRune; r++ {
		if !utf8.ValidRune(r) {
			continue
		}
		if utf8.RuneLen(foldRune(r)) > utf8.RuneLen(r) {
			grew++
			if grew < 5 {
				t.Errorf("%U folds to %U, which takes more bytes", r, foldRune(r))
			}
		}
	}
	require.Zero(t, grew)
	// whole texts, including invalid UTF-8 (kept byte for byte)
	for _, s := range []string{"ſtart", "KELVIN \u212a", "\xff\xfe", "İstanbul", "ǅ"} {
		require.LessOrEqual(t, len(fold(s)), len(s), "%q", s)
	}
}

// scanValue, with its short-value skip and its cache, marks what the
// prefilter's specification (bruteCandidates) marks, for values around the
// filter's shortest needle, ASCII and not: a skip at len == minLen, or a
// minLen taken from the wrong needles, loses a candidate here.
func TestScanValueShortValues(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 12))
	needleSets := [][]string{
		{"abcd", "abcdefghij", "x.exe"},   // shortest 4, the 4-byte tier
		{"ab", "cmd", "abcdefgh"},         // shortest 2, the short needles
		{"sᴛart", "ſtart", "\u212aelvin"}, // non-ASCII needles, folded shorter
		{"0x3e7", "12345678", "1234"},
	}
	for _, lits := range needleSets {
		c, scan := cacheScanner(event.FCommandLine, lits...)
		order, m := needleIndex(lits, []int32{0, 1, 2})
		shortest := len(order[0])
		for _, l := range order {
			shortest = min(shortest, len(l))
		}
		texts := []string{""}
		for _, l := range lits {
			// every needle alone, cut by one, and with a byte around it
			texts = append(texts, l, l[:len(l)-1], "-"+l, l+"-")
		}
		alpha := []string{"a", "b", "c", "d", "x", ".", "e", "1", "2", "3", "ſ", "K", "\u212a", "t", "s"}
		for range 2000 {
			n := r.IntN(12)
			s := ""
			for range n {
				s += alpha[r.IntN(len(alpha))]
			}
			texts = append(texts, s)
		}
		skipped := 0
		for _, text := range texts {
			for pass := range 2 { // the second pass meets the scan cache's copy
				c.reset(&event.Event{}) // a new event: no stale folded value
				require.Equal(t, bruteCandidates(order, m, text, len(lits)), scan(text), "needles %q text %q pass %d", lits, text, pass)
			}
			if len(text) < shortest {
				skipped++
			}
		}
		require.NotZero(t, skipped, "needles %q: some texts are below the shortest needle", lits)
	}
}
