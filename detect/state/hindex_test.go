package state

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// The index holds exactly the entries inserted and not removed, and a
// probe from an entry's home slot reaches it before an empty slot, after
// every operation: with spread tags and with tags that crowd a few home
// slots (one, three, and the last slot, whose runs wrap around the end),
// through growth and backward-shift deletion. A deletion that left a hole
// in a run, or moved an entry before its home, fails it.
func TestIndexAgreesWithSetUnderCollisions(t *testing.T) {
	tags := map[string]func(r *rand.Rand) uint32{
		"spread": func(r *rand.Rand) uint32 { return r.Uint32() },
		"one":    func(*rand.Rand) uint32 { return 5 },
		"three":  func(r *rand.Rand) uint32 { return uint32(r.IntN(3)) << 3 },
		"wrap":   func(r *rand.Rand) uint32 { return 0xffffffff - uint32(r.IntN(4)) },
	}
	for name, tagOf := range tags {
		var x index[uint32]
		held := map[uint32]uint32{} // ref -> tag
		var refs []uint32
		r := rand.New(rand.NewPCG(3, uint64(len(name))))
		next := uint32(1)
		for op := 0; op < 5000; op++ {
			if len(refs) == 0 || (len(refs) < 40 && r.IntN(2) == 0) {
				tag := tagOf(r)
				x.insert(tag, next)
				held[next] = tag
				refs = append(refs, next)
				next++
			} else {
				k := r.IntN(len(refs))
				ref := refs[k]
				x.remove(held[ref], ref)
				delete(held, ref)
				refs[k] = refs[len(refs)-1]
				refs = refs[:len(refs)-1]
			}
			require.Equal(t, len(held), x.n, "%s: op %d", name, op)
			seen := 0
			for _, s := range x.slots {
				if s.ref != 0 {
					seen++
					require.Equal(t, held[s.ref], s.tag, "%s: op %d: slot of %d", name, op, s.ref)
				}
			}
			require.Equal(t, len(held), seen, "%s: op %d: slots in use", name, op)
			for ref, tag := range held {
				i := tag & x.mask
				for x.slots[i].ref != ref {
					require.NotZero(t, x.slots[i].ref, "%s: op %d: probe for %d hit an empty slot", name, op, ref)
					i = (i + 1) & x.mask
				}
			}
		}
	}
}
