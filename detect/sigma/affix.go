package sigma

import (
	"maps"
	"slices"
)

// affixIndex answers a matcher's plain (uncased) endswith, startswith and
// exact values with a walk of a byte trie instead of a comparison per
// value: SigmaHQ lists hundreds of DLL names under one
// ImageLoaded|endswith, and such a rule is evaluated on every DLL load its
// needles let through. The walk reads at most as many bytes of the value
// as the longest indexed value has, and usually stops after a few (a value
// ending in ".dll" leaves the suffix trie at the byte before the dot when
// no listed name ends with that byte). Exact values sit in a set.
type affixIndex struct {
	suf, pre *byteTrie // suf holds the values reversed
	exact    map[string]struct{}
}

// minAffix is the number of such values from which the index pays.
const minAffix = 6

// buildAffix moves the plain endswith, startswith and exact values of
// groups[0] into an index when there are enough of them (acTests keeps
// every value, for the prefilter's needles and match_debug).
func (m *matcher) buildAffix() {
	if m.all || len(m.groups) != 1 || m.field.kind == fkKeyword {
		return
	}
	indexed := func(t *test) bool {
		return t.kind == tPattern && !t.pat.cased && (t.pat.kind == patSuffix || t.pat.kind == patPrefix || t.pat.kind == patExact)
	}
	n := 0
	for i := range m.groups[0] {
		if indexed(&m.groups[0][i]) {
			n++
		}
	}
	if n < minAffix {
		return
	}
	x := &affixIndex{}
	var rest []test
	var suf, pre trieBuilder
	for _, t := range m.groups[0] {
		if !indexed(&t) {
			rest = append(rest, t)
			continue
		}
		lit := t.pat.lit
		switch t.pat.kind {
		case patExact:
			if x.exact == nil {
				x.exact = map[string]struct{}{}
			}
			x.exact[lit] = struct{}{}
		case patSuffix:
			suf.add(lit, true)
		case patPrefix:
			pre.add(lit, false)
		}
	}
	x.suf, x.pre = suf.build(), pre.build()
	if m.acTests == nil {
		m.acTests = m.groups[0]
	}
	m.affix = x
	m.groups[0] = rest
}

// match reports whether folded value f equals, ends with or starts with
// one of the indexed values.
func (x *affixIndex) match(f string) bool {
	if x.exact != nil {
		if _, ok := x.exact[f]; ok {
			return true
		}
	}
	return x.suf.endsIn(f) || x.pre.startsIn(f)
}

// byteTrie is a trie of byte strings in flat arrays: node i's edges are
// labels[first[i]:first[i+1]] leading to kids[first[i]:first[i+1]], and
// end[i] says a value ends at node i. Node 0 is the root.
type byteTrie struct {
	first  []int32
	labels []byte
	kids   []int32
	end    []bool
}

// trieBuilder collects values for a byteTrie.
type trieBuilder struct {
	nodes []map[byte]int32
	end   []bool
}

// add inserts s, reversed when rev (for suffixes).
func (b *trieBuilder) add(s string, rev bool) {
	if b.nodes == nil {
		b.nodes, b.end = []map[byte]int32{{}}, []bool{false}
	}
	n := int32(0)
	for i := range len(s) {
		c := s[i]
		if rev {
			c = s[len(s)-1-i]
		}
		k, ok := b.nodes[n][c]
		if !ok {
			k = int32(len(b.nodes))
			b.nodes = append(b.nodes, map[byte]int32{})
			b.end = append(b.end, false)
			b.nodes[n][c] = k
		}
		n = k
	}
	b.end[n] = true
}

// build returns the trie (nil when nothing was added).
func (b *trieBuilder) build() *byteTrie {
	if b.nodes == nil {
		return nil
	}
	t := &byteTrie{first: make([]int32, 0, len(b.nodes)+1), end: b.end}
	for _, edges := range b.nodes {
		t.first = append(t.first, int32(len(t.labels)))
		for _, c := range slices.Sorted(maps.Keys(edges)) {
			t.labels = append(t.labels, c)
			t.kids = append(t.kids, edges[c])
		}
	}
	t.first = append(t.first, int32(len(t.labels)))
	return t
}

// child returns the node under n by byte c, or -1.
func (t *byteTrie) child(n int32, c byte) int32 {
	lo, hi := t.first[n], t.first[n+1]
	for j := lo; j < hi; j++ {
		if t.labels[j] == c {
			return t.kids[j]
		}
	}
	return -1
}

// endsIn reports whether s ends with a value of a suffix trie.
func (t *byteTrie) endsIn(s string) bool {
	if t == nil {
		return false
	}
	if t.end[0] {
		return true // the empty value
	}
	n := int32(0)
	for i := len(s) - 1; i >= 0; i-- {
		if n = t.child(n, s[i]); n < 0 {
			return false
		}
		if t.end[n] {
			return true
		}
	}
	return false
}

// startsIn reports whether s starts with a value of a prefix trie.
func (t *byteTrie) startsIn(s string) bool {
	if t == nil {
		return false
	}
	if t.end[0] {
		return true
	}
	n := int32(0)
	for i := 0; i < len(s); i++ {
		if n = t.child(n, s[i]); n < 0 {
			return false
		}
		if t.end[n] {
			return true
		}
	}
	return false
}
