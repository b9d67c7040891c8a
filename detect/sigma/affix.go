package sigma

import "strings"

// affixIndex answers a matcher's plain (uncased) endswith, startswith and
// exact values with a few look-ups instead of a comparison per value:
// SigmaHQ lists hundreds of DLL names under one ImageLoaded|endswith, and
// such a rule is evaluated on every DLL load its needles let through.
// Values of 4 bytes or more are bucketed by their last (first) 4 bytes;
// exact values sit in a set.
type affixIndex struct {
	suf, pre           map[uint32][]string
	sufShort, preShort []string // under 4 bytes
	exact              map[string]struct{}
}

// minAffix is the number of such values from which the index pays.
const minAffix = 6

func affixKey(s string) uint32 {
	return uint32(s[0]) | uint32(s[1])<<8 | uint32(s[2])<<16 | uint32(s[3])<<24
}

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
			addAffix(&x.suf, &x.sufShort, lit, len(lit)-4)
		case patPrefix:
			addAffix(&x.pre, &x.preShort, lit, 0)
		}
	}
	if m.acTests == nil {
		m.acTests = m.groups[0]
	}
	m.affix = x
	m.groups[0] = rest
}

// addAffix files lit under its 4 bytes from at, or with the short values.
func addAffix(idx *map[uint32][]string, short *[]string, lit string, at int) {
	if len(lit) < 4 {
		*short = append(*short, lit)
		return
	}
	if *idx == nil {
		*idx = map[uint32][]string{}
	}
	k := affixKey(lit[at:])
	(*idx)[k] = append((*idx)[k], lit)
}

// match reports whether folded value f equals, ends with or starts with
// one of the indexed values.
func (x *affixIndex) match(f string) bool {
	if x.exact != nil {
		if _, ok := x.exact[f]; ok {
			return true
		}
	}
	if len(f) >= 4 {
		for _, lit := range x.suf[affixKey(f[len(f)-4:])] {
			if strings.HasSuffix(f, lit) {
				return true
			}
		}
		for _, lit := range x.pre[affixKey(f)] {
			if strings.HasPrefix(f, lit) {
				return true
			}
		}
	}
	for _, lit := range x.sufShort {
		if strings.HasSuffix(f, lit) {
			return true
		}
	}
	for _, lit := range x.preShort {
		if strings.HasPrefix(f, lit) {
			return true
		}
	}
	return false
}
