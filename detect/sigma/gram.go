package sigma

import (
	"math"
	"math/bits"
)

// gramFilter finds which needles of one field occur in a value: the
// prefilter's scanner. It replaced a dense Aho-Corasick DFA, whose tables
// (up to 3.6 MB for SigmaHQ's hashes, 3.2 MB for CommandLine) made nearly
// every byte a cache miss on a chain of dependent loads. Here each needle
// is found through one of its windows (its gram): 8 bytes for needles of 8
// or more, else 4. Per text position, the last 4 and 8 folded bytes are
// hashed into small bitmaps, and only a set bit leads to a look-up of the
// needles with that gram and a comparison of each whole needle. Positions
// are independent of one another, so the CPU overlaps them. Needles of one
// to three bytes are looked up whole, gated by a table of the bytes they
// end with. The answer is exact: a needle is reported when it occurs in
// full (the DFA's needles were cut to their last 12 bytes).
type gramFilter struct {
	t4, t8   gramTier // grams of 4 bytes (and needles of 1–3) and of 8
	shortEnd [256]uint8
	refs     []gramRef
	lits     []string // the needles (folded)
	outOff   []uint32 // needle → range in outRule
	outRule  []int32  // entries to mark
	salt     uint64   // tells this filter's values apart in a scanCache
	// minLen is the length of the shortest needle: a shorter text holds
	// none (scanValue skips such values)
	minLen int
}

// gramTier indexes the grams of one length: a bitmap of their hashes and
// an open-addressing table from gram to the needles that use it.
type gramTier struct {
	bitmap    []uint64 // a blocked Bloom filter of the grams; nil: no gram of this length
	bitShift  uint8    // 64 - log2(words in bitmap)
	slots     []gramSlot
	slotShift uint8
}

// A key is a gram's bytes, first byte highest; in the 4-byte tier the
// length sits above them (needles of 1–3 bytes share that tier's table).
type gramSlot struct {
	key    uint64 // 0: empty (8-byte grams of zero bytes are not used)
	lo, hi uint32 // range in refs
}

type gramRef struct {
	needle uint32
	off    uint32 // where the gram starts in the needle
}

const gramMul = 0x9E3779B97F4A7C15

// foldByte folds ASCII letters as the needles are folded (asciiFold); other
// bytes are kept (text with non-ASCII bytes is folded as a whole before the
// scan).
var foldByte = func() (t [256]byte) {
	for i := range t {
		t[i] = byte(i)
	}
	copy(t[:], asciiFold[:])
	return t
}()

func gramKey(g string) uint64 {
	var k uint64
	for i := 0; i < len(g); i++ {
		k = k<<8 | uint64(g[i])
	}
	if len(g) < 8 {
		k |= uint64(len(g)) << 32
	}
	return k
}

// buildGramFilter indexes needles (folded, in a deterministic order) with
// the entries each marks.
func buildGramFilter(order []string, needles map[string][]int32) *gramFilter {
	g := &gramFilter{lits: clipped(order), outOff: make([]uint32, len(order)+1), salt: gramSalt(order)}
	g.minLen = math.MaxInt
	for i, lit := range order {
		g.minLen = min(g.minLen, len(lit))
		g.outRule = append(g.outRule, needles[lit]...)
		g.outOff[i+1] = uint32(len(g.outRule))
	}
	// a gram that many needles contain is likely common in text too (the
	// hash prefixes "SHA256=", ".EXE", "DWORD (0X0000"): each needle takes
	// the window fewest needles contain, avoiding the paths and keys most
	// Windows events carry
	contain := map[string]int{}
	// seen is reused (a map per needle allocated ~80 MB loading SigmaHQ
	// rules/), unless a long needle grew it: clear costs its capacity
	seen := map[string]bool{}
	for _, lit := range order {
		if len(seen) > 256 {
			seen = map[string]bool{}
		} else {
			clear(seen)
		}
		for _, n := range []int{4, 8} {
			for off := 0; off+n <= len(lit); off++ {
				if w := lit[off : off+n]; !seen[w] {
					seen[w] = true
					contain[w]++
				}
			}
		}
	}
	byKey := [2]map[uint64][]gramRef{{}, {}}
	var keys [2][]uint64
	for i, lit := range order {
		tier, gram, off := 0, lit, 0
		switch {
		case len(lit) >= 8:
			if off = bestGram(lit, 8, contain); off >= 0 {
				tier, gram = 1, lit[off:off+8]
				break
			}
			fallthrough
		case len(lit) > 4:
			off = bestGram(lit, 4, contain)
			gram = lit[off : off+4]
		}
		k := gramKey(gram)
		if byKey[tier][k] == nil {
			keys[tier] = append(keys[tier], k)
		}
		byKey[tier][k] = append(byKey[tier][k], gramRef{needle: uint32(i), off: uint32(off)})
		if len(gram) < 4 {
			g.shortEnd[gram[len(gram)-1]] |= 1 << (len(gram) - 1)
		}
	}
	for tier, t := range []*gramTier{&g.t4, &g.t8} {
		var gramKeys []uint64
		for _, k := range keys[tier] {
			if tier == 1 || k>>32 == 4 {
				gramKeys = append(gramKeys, k)
			}
		}
		if len(gramKeys) > 0 {
			// about 64 bits per gram (false hits at 1 in 1,000
			// positions), 8192 at least
			nb := 8192
			for nb < 64*len(gramKeys) && nb < 1<<21 {
				nb <<= 1
			}
			t.bitmap = make([]uint64, nb/64)
			t.bitShift = uint8(64 - bits.TrailingZeros(uint(nb/64)))
			for _, k := range gramKeys {
				word, mask := t.bloom(k)
				t.bitmap[word] |= mask
			}
		}
		ns := 16
		for ns < 2*len(keys[tier]) {
			ns <<= 1
		}
		t.slots = make([]gramSlot, ns)
		t.slotShift = uint8(64 - bits.TrailingZeros(uint(ns)))
		for _, k := range keys[tier] {
			s := int((k * gramMul) >> t.slotShift)
			for t.slots[s].key != 0 {
				s = (s + 1) & (ns - 1)
			}
			rs := byKey[tier][k]
			t.slots[s] = gramSlot{key: k, lo: uint32(len(g.refs)), hi: uint32(len(g.refs) + len(rs))}
			g.refs = append(g.refs, rs...)
		}
	}
	g.outRule, g.refs = clipped(g.outRule), clipped(g.refs) // held for the whole run
	return g
}

// bestGram returns the offset of lit's n-byte window that fewest needles
// contain and that is not part of text most events carry; -1 when every
// window is zero bytes (not a usable key).
func bestGram(lit string, n int, contain map[string]int) int {
	best, bestScore := -1, 1<<62
	for off := 0; off+n <= len(lit); off++ {
		w := lit[off : off+n]
		if n == 8 && gramKey(w) == 0 {
			continue
		}
		score := contain[w]
		if isCommonText(w) {
			score += 1 << 30
		}
		if score < bestScore {
			best, bestScore = off, score
		}
	}
	return best
}

// scan marks in st the entries of the needles that occur in s (s is
// either ASCII or already folded: on other text it may mark more) and
// returns the OR of its bytes (>= 0x80: s was not ASCII).
func (g *gramFilter) scan(s string, st *scanState) byte {
	var w uint64
	var or byte
	b4, b8 := g.t4.bitmap, g.t8.bitmap
	sh4, sh8 := g.t4.bitShift, g.t8.bitShift
	for i := 0; i < len(s); i++ {
		or |= s[i]
		b := foldByte[s[i]]
		w = w<<8 | uint64(b)
		if g.shortEnd[b] != 0 {
			g.short(s, i, w, g.shortEnd[b], st)
		}
		if i < 3 {
			continue
		}
		if b4 != nil {
			k := w&0xFFFFFFFF | 4<<32
			h := k * gramMul
			if m := uint64(1)<<(h>>(sh4-6)&63) | uint64(1)<<(h>>(sh4-12)&63); b4[h>>sh4]&m == m {
				g.verify(&g.t4, 4, s, i, k, st)
			}
		}
		if b8 != nil && i >= 7 {
			h := w * gramMul
			if m := uint64(1)<<(h>>(sh8-6)&63) | uint64(1)<<(h>>(sh8-12)&63); b8[h>>sh8]&m == m {
				g.verify(&g.t8, 8, s, i, w, st)
			}
		}
	}
	return or
}

// short marks the needles of one to three bytes ending at s[i].
func (g *gramFilter) short(s string, i int, w uint64, lens uint8, st *scanState) {
	for l := 1; l <= 3; l++ {
		if lens&(1<<(l-1)) == 0 || i+1 < l {
			continue
		}
		k := w&(1<<(8*l)-1) | uint64(l)<<32
		lo, hi := g.t4.lookup(k)
		for _, r := range g.refs[lo:hi] {
			g.mark(r.needle, st)
		}
	}
}

// verify marks the needles whose gram k (n bytes) ends at s[i] and that
// occur there.
func (g *gramFilter) verify(t *gramTier, n int, s string, i int, k uint64, st *scanState) {
	lo, hi := t.lookup(k)
	for _, r := range g.refs[lo:hi] {
		lit := g.lits[r.needle]
		if len(lit) > n { // else the gram is the needle
			p := i + 1 - n - int(r.off)
			if p < 0 || p+len(lit) > len(s) || !equalFolded(s[p:p+len(lit)], lit) {
				continue
			}
		}
		g.mark(r.needle, st)
	}
}

func (g *gramFilter) mark(n uint32, st *scanState) {
	if st.rec {
		st.found = append(st.found, n)
	}
	for _, e := range g.outRule[g.outOff[n]:g.outOff[n+1]] {
		if e >= 0 {
			st.bits[e>>6] |= 1 << (uint(e) & 63)
			continue
		}
		st.clause(e)
	}
}

// scanState is where a scan marks what it found: the candidate set, and
// for entries with several needle clauses (prefilter.full) which clauses
// had a hit in this event (generation-stamped, so a scan clears nothing).
type scanState struct {
	bits  []uint64
	any   bool // one hit makes a candidate, whatever the clauses (scanLate)
	full  []uint8
	gen   uint32
	stamp []uint32
	mask  []uint8
	// rec: also note each needle found in found (scanCache's miss path)
	rec   bool
	found []uint32
}

// clauseCode is the outRule value of a needle of clause k of entry i when
// the entry has several clauses: negative, so mark tells it from a plain
// entry.
func clauseCode(i, k int) int32 { return int32(uint32(1)<<31 | uint32(k)<<24 | uint32(i)) }

// clause notes a hit of a clause needle; the entry is a candidate once
// every one of its clauses had one.
func (st *scanState) clause(e int32) {
	i := int(e & 0xFFFFFF)
	if !st.any {
		if st.stamp[i] != st.gen {
			st.stamp[i], st.mask[i] = st.gen, 0
		}
		st.mask[i] |= 1 << ((e >> 24) & 7)
		if st.mask[i] != st.full[i] {
			return
		}
	}
	st.bits[i>>6] |= 1 << (i & 63)
}

// reset prepares st for a scan of an event over n entries.
func (st *scanState) reset(n int, full []uint8, any bool) {
	words := (n + 63) / 64
	if cap(st.bits) < words {
		st.bits = make([]uint64, words)
	}
	st.bits = st.bits[:words]
	st.full, st.any = full, any
	if full == nil || any {
		return
	}
	if len(st.stamp) < n {
		st.stamp, st.mask = make([]uint32, n), make([]uint8, n)
		st.gen = 0
	}
	st.gen++
	if st.gen == 0 {
		clear(st.stamp)
		st.gen = 1
	}
}

// bloom returns a gram's word in the bitmap and its two bits there (one
// load per test; two bits cut false hits about tenfold at 64 bits per
// gram), all from the product's high bits (its low bits depend on the
// gram's last bytes only). scan inlines the same computation.
func (t *gramTier) bloom(k uint64) (int, uint64) {
	h := k * gramMul
	return int(h >> t.bitShift), uint64(1)<<(h>>(t.bitShift-6)&63) | uint64(1)<<(h>>(t.bitShift-12)&63)
}

func (t *gramTier) lookup(k uint64) (uint32, uint32) {
	mask := len(t.slots) - 1
	for s := int((k * gramMul) >> t.slotShift); ; s = (s + 1) & mask {
		sl := &t.slots[s]
		if sl.key == k {
			return sl.lo, sl.hi
		}
		if sl.key == 0 {
			return 0, 0
		}
	}
}

// equalFolded compares text (ASCII or folded) with a folded needle.
func equalFolded(text, lit string) bool {
	for j := 0; j < len(lit); j++ {
		if foldByte[text[j]] != lit[j] {
			return false
		}
	}
	return true
}
