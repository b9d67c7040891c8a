package recording

import "hash/maphash"

// strIndex finds a string's position in a dictionary slice the caller
// owns: an open-addressing table of slots holding 32 bits of the string's
// hash and its index + 1. It replaces a map[string]int32 on the writer's
// hot path (every string value of every row): a miss compares hash bits
// in the slot and touches neither a key copy nor the string, the table
// keeps no pointers for the garbage collector to scan, and reset clears
// it in place for the next row group. Lookups never depend on the hash
// seed's value (only their speed does), so output stays deterministic.
type strIndex struct {
	seed  maphash.Seed
	slots []uint64 // hash<<32 | index+1; 0: empty
	n     int
}

// lookup returns s's index in dict, or -1; and the slot and hash that
// put takes when it missed.
func (x *strIndex) lookup(dict []string, s string) (int32, strSlot) {
	if x.slots == nil {
		x.seed = maphash.MakeSeed()
		x.slots = make([]uint64, 64)
	}
	h := uint32(maphash.String(x.seed, s))
	mask := len(x.slots) - 1
	for p := int(h) & mask; ; p = (p + 1) & mask {
		v := x.slots[p]
		if v == 0 {
			return -1, strSlot{p, h}
		}
		if uint32(v>>32) == h {
			if i := int32(uint32(v)) - 1; dict[i] == s {
				return i, strSlot{}
			}
		}
	}
}

// strSlot is where a string lookup missed: the slot and the hash.
type strSlot struct {
	p int
	h uint32
}

// put records that the dictionary's entry i is the string whose lookup
// missed at at (with no put since).
func (x *strIndex) put(at strSlot, i int32) {
	x.slots[at.p] = uint64(at.h)<<32 | uint64(i+1)
	x.n++
	if x.n*4 >= len(x.slots)*3 { // keep probes short: at most 3/4 full
		old := x.slots
		x.slots = make([]uint64, 2*len(old))
		mask := len(x.slots) - 1
		for _, v := range old {
			if v == 0 {
				continue
			}
			p := int(v>>32) & mask
			for x.slots[p] != 0 {
				p = (p + 1) & mask
			}
			x.slots[p] = v
		}
	}
}

// strIndexKeep bounds the slots kept between row groups (512 KiB): a
// column that once held a huge dictionary does not keep its table.
const strIndexKeep = 1 << 16

// reset empties the index.
func (x *strIndex) reset() {
	if len(x.slots) > strIndexKeep {
		x.slots = nil
	}
	clear(x.slots)
	x.n = 0
}
