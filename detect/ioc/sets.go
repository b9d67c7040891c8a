package ioc

import (
	"net/netip"
)

// hashSet keys indicators by raw digest, so a lookup decodes the event's
// hex once into a stack array and probes one map.
type hashSet struct {
	md5    map[[16]byte]int32
	sha1   map[[20]byte]int32
	sha256 map[[32]byte]int32
	filter bitFilter // digestKey of every digest
}

func newHashSet() hashSet {
	return hashSet{md5: map[[16]byte]int32{}, sha1: map[[20]byte]int32{}, sha256: map[[32]byte]int32{}}
}

func (h *hashSet) len() int { return len(h.md5) + len(h.sha1) + len(h.sha256) }

// insert records idx under sum; on a duplicate it returns the existing head.
func (h *hashSet) insert(k Kind, sum *[32]byte, idx int32) (int32, bool) {
	switch k {
	case KindMD5:
		return insertKey(h.md5, [16]byte(sum[:16]), idx)
	case KindSHA1:
		return insertKey(h.sha1, [20]byte(sum[:20]), idx)
	default:
		return insertKey(h.sha256, *sum, idx)
	}
}

func insertKey[K comparable](m map[K]int32, k K, idx int32) (int32, bool) {
	if head, ok := m[k]; ok {
		return head, true
	}
	m[k] = idx
	return 0, false
}

func (h *hashSet) lookup(k Kind, sum *[32]byte) int32 {
	var idx int32
	var ok bool
	switch k {
	case KindMD5:
		idx, ok = h.md5[[16]byte(sum[:16])]
	case KindSHA1:
		idx, ok = h.sha1[[20]byte(sum[:20])]
	case KindSHA256:
		idx, ok = h.sha256[*sum]
	}
	if !ok {
		return -1
	}
	return idx
}

// ipSet holds exact addresses in a hash set and ranges in one binary
// prefix trie per family. IPv4-mapped IPv6 addresses are unmapped on both
// sides, so "::ffff:1.2.3.4" (the DNS client's spelling) matches 1.2.3.0/24.
type ipSet struct {
	exact  map[netip.Addr]int32
	filter bitFilter // addrKey of every exact address
	v4, v6 trie
}

func newIPSet() ipSet {
	return ipSet{exact: map[netip.Addr]int32{}, v4: newTrie(), v6: newTrie()}
}

func (s *ipSet) empty() bool { return len(s.exact) == 0 && s.v4.empty() && s.v6.empty() }

func (s *ipSet) insert(p netip.Prefix, exact bool, idx int32) (int32, bool) {
	if exact {
		return insertKey(s.exact, p.Addr(), idx)
	}
	if p.Addr().Is4() {
		return s.v4.insert(p, idx)
	}
	return s.v6.insert(p, idx)
}

// lookup appends the heads of every matching indicator chain to cand: the
// exact address first, then ranges from the widest to the narrowest.
func (s *ipSet) lookup(a netip.Addr, cand []int32) []int32 {
	a = a.Unmap().WithZone("")
	if s.filter.mayHave(addrKey(a)) {
		if idx, ok := s.exact[a]; ok {
			cand = append(cand, idx)
		}
	}
	if a.Is4() {
		return s.v4.lookup(a, cand)
	}
	return s.v6.lookup(a, cand)
}

// trie is a binary prefix trie in one slice; node 0 is the root.
type trie struct{ nodes []trieNode }

type trieNode struct {
	child [2]int32 // 0 = none (the root is never a child)
	ind   int32    // head of the indicator chain ending here, -1 if none
}

func newTrie() trie { return trie{nodes: []trieNode{{ind: -1}}} }

func (t *trie) empty() bool { return len(t.nodes) == 1 && t.nodes[0].ind < 0 }

func addrBit(b *[16]byte, i int) int { return int(b[i>>3]>>(7-uint(i&7))) & 1 }

func addrBytes(a netip.Addr) (b [16]byte) {
	if a.Is4() {
		v4 := a.As4()
		copy(b[:], v4[:])
		return b
	}
	return a.As16()
}

func (t *trie) insert(p netip.Prefix, idx int32) (int32, bool) {
	b := addrBytes(p.Addr())
	n := int32(0)
	for i := 0; i < p.Bits(); i++ {
		bit := addrBit(&b, i)
		c := t.nodes[n].child[bit]
		if c == 0 {
			t.nodes = append(t.nodes, trieNode{ind: -1})
			c = int32(len(t.nodes) - 1)
			t.nodes[n].child[bit] = c
		}
		n = c
	}
	if head := t.nodes[n].ind; head >= 0 {
		return head, true
	}
	t.nodes[n].ind = idx
	return 0, false
}

func (t *trie) lookup(a netip.Addr, cand []int32) []int32 {
	if len(t.nodes) == 1 && t.nodes[0].ind < 0 {
		return cand
	}
	b := addrBytes(a)
	n := int32(0)
	for i := 0; ; i++ {
		if ind := t.nodes[n].ind; ind >= 0 {
			cand = append(cand, ind)
		}
		if i == a.BitLen() {
			return cand
		}
		n = t.nodes[n].child[addrBit(&b, i)]
		if n == 0 {
			return cand
		}
	}
}

// domainSet holds exact names and suffixes ("x" standing for x and *.x) in
// two hash sets; a lookup hashes the name once, right to left, and probes
// the name and each parent name whose hash passes the filter.
type domainSet struct {
	exact  map[string]int32
	suffix map[string]int32
	// nameHash of every exact name and every suffix.
	exactF, suffixF bitFilter
}

func newDomainSet() domainSet {
	return domainSet{exact: map[string]int32{}, suffix: map[string]int32{}}
}

func (d *domainSet) empty() bool { return len(d.exact) == 0 && len(d.suffix) == 0 }

func (d *domainSet) insert(name string, suffix bool, idx int32) (int32, bool) {
	if suffix {
		return insertKey(d.suffix, name, idx)
	}
	return insertKey(d.exact, name, idx)
}

// maxName is the longest name lookup takes (matchDomain's bound).
const maxName = 256

// lookup takes a lower-case name without trailing dot, at most maxName
// bytes, and appends matching chain heads: the exact name, then suffixes
// from the longest to the shortest.
func (d *domainSet) lookup(name []byte, cand []int32) []int32 {
	if len(name) > maxName {
		return cand
	}
	// Label starts whose suffix passed the filter, right to left.
	var starts [maxName]uint8
	n := 0
	h := uint64(0xCBF29CE484222325)
	for i := len(name) - 1; i >= 0; i-- {
		h = suffixHash(h, name[i])
		if (i == 0 || name[i-1] == '.') && d.suffixF.mayHave(h) {
			starts[n] = uint8(i)
			n++
		}
	}
	if d.exactF.mayHave(h) {
		if idx, ok := d.exact[string(name)]; ok {
			cand = append(cand, idx)
		}
	}
	if len(d.suffix) == 0 {
		return cand
	}
	for j := n - 1; j >= 0; j-- {
		if idx, ok := d.suffix[string(name[starts[j]:])]; ok {
			cand = append(cand, idx)
		}
	}
	return cand
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}
