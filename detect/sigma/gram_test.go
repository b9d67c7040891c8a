package sigma

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// bruteCandidates is the prefilter's specification: entry e is marked when
// one of its needles occurs in the folded text.
func bruteCandidates(order []string, needles map[string][]int32, text string, n int) []uint64 {
	bits := make([]uint64, (n+63)/64)
	f := fold(text)
	for _, lit := range order {
		if strings.Contains(f, lit) {
			for _, e := range needles[lit] {
				bits[e>>6] |= 1 << (e & 63)
			}
		}
	}
	return bits
}

func gramCandidates(order []string, needles map[string][]int32, text string, n int) []uint64 {
	g := buildGramFilter(order, needles)
	bits := make([]uint64, (n+63)/64)
	if needsFold(text) {
		text = fold(text)
	}
	g.scan(text, &scanState{bits: bits})
	return bits
}

// needleIndex adds needles as the prefilter does: folded, uncut, one entry
// each (entries may share needles).
func needleIndex(lits []string, entries []int32) ([]string, map[string][]int32) {
	b := newACBuilder()
	b.whole = true
	for i, l := range lits {
		b.add(fold(l), entries[i])
	}
	return b.order, b.needles
}

func TestGramFilterExact(t *testing.T) {
	cases := []struct {
		needles []string
		text    string
	}{
		{[]string{"a", "bc", "def", "ghij", "klmnopq", "rstuvwxyz0"}, "xxA--Bc--DEF--ghIJ--KLMNOPQ--rstuvwxyz0"},
		{[]string{".exe", "\\cmd.exe", "mimikatz"}, `C:\Windows\System32\CMD.EXE /c mimiKatz`},
		{[]string{"sha256=0123456789abcdef", "md5=ff"}, "SHA1=aa,MD5=FF00,SHA256=0123456789ABCDEF99"},
		{[]string{"\x00\x00\x00\x00\x00\x00\x00\x00x", "\x00a\x00"}, "\x00\x00\x00\x00\x00\x00\x00\x00X\x00A\x00"},
		{[]string{"ſtart", "Ꮪ", "é"}, "START ꮪ É"}, // non-ASCII text is folded first
		{[]string{"needle-longer-than-text", "needle"}, "needle"},
		{[]string{"abcdefgh", "bcdefghi"}, "abcdefghi"}, // grams at the text's start and end
	}
	for _, c := range cases {
		entries := make([]int32, len(c.needles))
		for i := range entries {
			entries[i] = int32(i * 3)
		}
		order, m := needleIndex(c.needles, entries)
		want := bruteCandidates(order, m, c.text, 3*len(c.needles))
		require.NotZero(t, want[0], "case %q: the brute force finds something", c.needles)
		require.Equal(t, want, gramCandidates(order, m, c.text, 3*len(c.needles)), "needles %q text %q", c.needles, c.text)
	}
}

// Random needles over a small alphabet (many shared grams, hits at every
// offset) against random texts.
func TestGramFilterRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	alpha := "abAB.\\ \x00é"
	word := func(n int) string {
		var b strings.Builder
		for b.Len() < n {
			b.WriteByte(alpha[r.IntN(len(alpha))])
		}
		return b.String()
	}
	hits := 0
	for round := 0; round < 300; round++ {
		n := 1 + r.IntN(60)
		lits := make([]string, n)
		entries := make([]int32, n)
		for i := range lits {
			lits[i] = word(1 + r.IntN(14))
			entries[i] = int32(r.IntN(130))
		}
		order, m := needleIndex(lits, entries)
		for k := 0; k < 20; k++ {
			text := word(r.IntN(80))
			want := bruteCandidates(order, m, text, 130)
			require.Equal(t, want, gramCandidates(order, m, text, 130), "needles %q text %q", order, text)
			for _, w := range want {
				if w != 0 {
					hits++
				}
			}
		}
	}
	require.Greater(t, hits, 1000)
}

func FuzzGramFilter(f *testing.F) {
	f.Add("abc\x00defghijk\x00x", "xxABCdefGHIJKxx")
	f.Fuzz(func(t *testing.T, needles, text string) {
		lits := strings.Split(needles, "\x00")
		var keep []string
		for _, l := range lits {
			if l != "" && len(keep) < 64 {
				keep = append(keep, l)
			}
		}
		if len(keep) == 0 {
			return
		}
		entries := make([]int32, len(keep))
		for i := range entries {
			entries[i] = int32(i)
		}
		order, m := needleIndex(keep, entries)
		require.Equal(t, bruteCandidates(order, m, text, 64), gramCandidates(order, m, text, 64))
	})
}

// The matcher automaton (any) answers like strings.Contains over every
// table width: needle sets sized so the automaton has up to 256 states
// (8-bit table), just over (16-bit), and far over.
func TestACAnyTableWidths(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	alpha := "abcd.\\"
	word := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = alpha[r.IntN(len(alpha))]
		}
		return string(b)
	}
	widths := map[string]bool{}
	for _, total := range []int{40, 200, 255, 256, 257, 300, 2000} {
		for round := 0; round < 20; round++ {
			b := newACBuilder()
			b.exact = true
			var lits []string
			for chars := 0; chars < total; {
				w := word(1 + r.IntN(12))
				lits = append(lits, w)
				b.add(w, 0)
				chars += len(w)
			}
			a := b.build()
			require.NotNil(t, a)
			switch {
			case a.trans8 != nil:
				widths["8"] = true
			case a.trans16 != nil:
				widths["16"] = true
			}
			for q := 0; q < 50; q++ {
				text := word(r.IntN(40))
				want := false
				for _, l := range lits {
					want = want || strings.Contains(text, l)
				}
				require.Equal(t, want, a.any(text), "needles %q text %q", lits, text)
			}
		}
	}
	require.True(t, widths["8"] && widths["16"], "both table widths are exercised: %v", widths)
}
