package state

// index finds entries by a hash of their key for lru and pidIndex: an
// open-addressing table with linear probing whose slots hold an entry's
// reference R (lru: its number in the lru's storage; pidIndex: the process
// itself, so telling entries apart reads no other array) and 32 bits of
// its hash. R's zero value marks an empty slot. A probe reads
// consecutive slots of one array, usually one cache line, and compares an
// entry's key (a pointer away) only when those 32 bits agree, where Go's
// map it replaces cost a lookup of its own plus a node and a chain to
// follow. Keys of equal hash are probed one after the other and compared
// whole by the caller, so a collision never merges two keys.
//
// Deletion shifts the following entries of the probe run back (no
// tombstones), so the table's contents depend only on the entries held,
// and a probe stops at the first empty slot.
type index[R comparable] struct {
	slots []slot[R] // a power of two long, at most half full
	mask  uint32
	n     int
}

// slot is one entry of the index: ref is the entry's reference (zero: the
// slot is empty), tag the low 32 bits of its hash, from which its home
// slot follows (tag & mask) at any size.
type slot[R comparable] struct {
	tag uint32
	ref R
}

// minSlots is the size of a new index.
const minSlots = 16

// probe returns the home slot of a hash and its tag. Callers read
// slots[i], i = (i+1) & mask, until ref is 0.
func (x *index[R]) probe(h uint64) (i, tag uint32) {
	if x.slots == nil {
		x.slots, x.mask = make([]slot[R], minSlots), minSlots-1
	}
	tag = uint32(h)
	return tag & x.mask, tag
}

// insertAt fills the empty slot i, where a probe for tag ended, with ref
// (not zero). The index may grow, so positions found before are stale
// afterwards.
func (x *index[R]) insertAt(i, tag uint32, ref R) {
	x.slots[i] = slot[R]{tag, ref}
	x.n++
	if 2*x.n > len(x.slots) {
		x.grow()
	}
}

// insert adds ref under tag (the hash's low 32 bits).
func (x *index[R]) insert(tag uint32, ref R) {
	var empty R
	i, _ := x.probe(uint64(tag))
	for x.slots[i].ref != empty {
		i = (i + 1) & x.mask
	}
	x.insertAt(i, tag, ref)
}

func (x *index[R]) grow() {
	var empty R
	old := x.slots
	x.slots, x.mask, x.n = make([]slot[R], 2*len(old)), uint32(2*len(old)-1), 0
	for _, s := range old {
		if s.ref != empty {
			x.insert(s.tag, s.ref)
		}
	}
}

// remove deletes ref, whose tag is tag; it must be held.
func (x *index[R]) remove(tag uint32, ref R) {
	i := tag & x.mask
	for x.slots[i].ref != ref {
		i = (i + 1) & x.mask
	}
	x.removeAt(i)
}

// removeAt empties slot i and moves back the entries after it whose probe
// would otherwise stop short of them at i: those whose home slot is not
// cyclically within (i, j].
func (x *index[R]) removeAt(i uint32) {
	var empty R
	x.n--
	for j := (i + 1) & x.mask; ; j = (j + 1) & x.mask {
		s := x.slots[j]
		if s.ref == empty {
			break
		}
		home := s.tag & x.mask
		if (j-home)&x.mask < (j-i)&x.mask {
			continue // home lies in (i, j]: its probe passes no hole
		}
		x.slots[i] = s
		i = j
	}
	x.slots[i] = slot[R]{}
}
