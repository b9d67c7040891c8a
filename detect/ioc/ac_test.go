package ioc

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The automaton finds exactly the literals a folded substring search finds,
// whatever the text starts, ends or folds with (the root skip loop must
// not step over a byte that starts a literal or a folded rune).
func TestACScanAgreesWithContains(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const alphabet = `abkKsS\._:x`
	word := func(n int) string {
		var b strings.Builder
		for range n {
			switch r.IntN(12) {
			case 0:
				b.WriteString("\u212A") // KELVIN SIGN folds to k
			case 1:
				b.WriteString("\u017F") // LATIN SMALL LETTER LONG S folds to s
			default:
				b.WriteByte(alphabet[r.IntN(len(alphabet))])
			}
		}
		return b.String()
	}
	fold := func(s string) string {
		return strings.NewReplacer("\u212A", "k", "\u017F", "s").Replace(strings.ToLower(s))
	}
	for range 200 {
		var lits []string
		for range 1 + r.IntN(6) {
			if l := fold(word(2 + r.IntN(3))); !slices.Contains(lits, l) {
				lits = append(lits, l)
			}
		}
		m := buildAC(lits)
		for range 50 {
			v := word(r.IntN(30))
			var want []int32
			for id, l := range lits {
				if strings.Contains(fold(v), l) {
					want = append(want, int32(id))
				}
			}
			got := m.scan(v, nil)
			slices.Sort(got)
			require.Equal(t, want, got, "literals %q in %q", lits, v)
		}
	}
}
