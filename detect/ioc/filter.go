package ioc

import (
	"encoding/binary"
	"net/netip"
)

// Most event values match no indicator, and with a hundred thousand
// indicators a map probe that misses costs a cache miss. bitFilter is a
// one-hash Bloom filter in front of a map: a clear bit proves the key is
// absent, a set bit sends the lookup on to the map. It only saves time —
// the map still decides — so a false positive costs a probe, never a hit.
type bitFilter struct {
	bits  []uint64 // nil: not built, every key may be present
	shift uint
}

// filterBitsPerKey keeps false positives near 6 % with one hash.
const filterBitsPerKey = 16

func newBitFilter(keys int) bitFilter {
	shift := uint(64 - 6)
	for n := 64; n < keys*filterBitsPerKey; n <<= 1 {
		shift--
	}
	return bitFilter{bits: make([]uint64, 1<<(64-shift)/64), shift: shift}
}

func (f *bitFilter) index(h uint64) uint64 { return (h * 0x9E3779B97F4A7C15) >> f.shift }

func (f *bitFilter) add(h uint64) {
	i := f.index(h)
	f.bits[i>>6] |= 1 << (i & 63)
}

// mayHave reports whether h may have been added.
func (f *bitFilter) mayHave(h uint64) bool {
	if f.bits == nil {
		return true
	}
	i := f.index(h)
	return f.bits[i>>6]&(1<<(i&63)) != 0
}

// digestKey keys a digest by its first 8 bytes (digests are uniform) and
// its kind; it needs only the first 16 hex digits decoded.
func digestKey(k Kind, first8 []byte) uint64 {
	return binary.LittleEndian.Uint64(first8) ^ uint64(k)
}

// addrKey keys an unmapped, zoneless address.
func addrKey(a netip.Addr) uint64 {
	b := a.As16()
	lo, hi := binary.LittleEndian.Uint64(b[:8]), binary.LittleEndian.Uint64(b[8:])
	if a.Is4() {
		lo ^= 4
	}
	return hi ^ (lo * 0xC2B2AE3D27D4EB4F)
}

// suffixHash steps the hash of a name's suffix one byte to the left:
// hashing right to left yields the hash of every label suffix of a name in
// one pass (domainSet.lookup), and of a whole name by folding all its bytes.
func suffixHash(h uint64, c byte) uint64 { return (h ^ uint64(c)) * 0x100000001B3 }

func nameHash(name string) uint64 {
	h := uint64(0xCBF29CE484222325)
	for i := len(name) - 1; i >= 0; i-- {
		h = suffixHash(h, name[i])
	}
	return h
}

// buildFilters fills the filters of the hash, address and domain sets from
// their maps (order does not matter: a filter is a set of bits).
func (s *Set) buildFilters() {
	h := &s.hashes
	h.filter = newBitFilter(h.len())
	for sum := range h.md5 {
		h.filter.add(digestKey(KindMD5, sum[:8]))
	}
	for sum := range h.sha1 {
		h.filter.add(digestKey(KindSHA1, sum[:8]))
	}
	for sum := range h.sha256 {
		h.filter.add(digestKey(KindSHA256, sum[:8]))
	}
	s.ips.filter = newBitFilter(len(s.ips.exact))
	for a := range s.ips.exact {
		s.ips.filter.add(addrKey(a))
	}
	d := &s.domains
	d.exactF, d.suffixF = newBitFilter(len(d.exact)), newBitFilter(len(d.suffix))
	for n := range d.exact {
		d.exactF.add(nameHash(n))
	}
	for n := range d.suffix {
		d.suffixF.add(nameHash(n))
	}
}
