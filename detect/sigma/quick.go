package sigma

import (
	"unicode/utf8"
)

// Most matchers SigmaHQ writes are one field compared with a list of plain
// strings (equals, startswith, endswith, contains, a glob), OR-ed. The
// generic evaluator walks such a list as tests, a large struct made for
// every modifier (regex, CIDR, numbers, fieldrefs), and re-checks the
// folded-value cache per test. A quick matcher keeps those values in a
// compact list instead and folds the field once; it is built at compile
// time only where it decides exactly what the generic evaluator decides
// (TestQuickEqualsGeneric compares the two over every SigmaHQ matcher).

// quickTest is one plain string value of a quick matcher.
type quickTest struct {
	lit   string   // folded unless cased
	pat   *pattern // patGlob only
	kind  patKind
	cased bool
}

// buildQuick fills m.quick when every value m still tests one by one
// (after the automaton and the affix index took theirs) is a string
// pattern of a field: no keyword search, exists, all, CIDR or number
// value. Called at the end of compileMatcher; matchers built elsewhere
// (the router's guards, keyword searches) stay generic.
func (m *matcher) buildQuick() {
	if m.field.kind == fkKeyword || m.exists >= 0 || m.all || m.cidr || len(m.groups) != 1 {
		return
	}
	g := m.groups[0]
	q := make([]quickTest, 0, len(g))
	for i := range g {
		t := &g[i]
		if t.kind != tPattern {
			return
		}
		qt := quickTest{lit: t.pat.lit, kind: t.pat.kind, cased: t.pat.cased}
		if t.pat.kind == patGlob {
			qt.pat = &t.pat
		}
		q = append(q, qt)
	}
	m.quick, m.fast = q, true
}

// evalQuick is evalMatcher for a quick matcher.
func (c *evalCtx) evalQuick(m *matcher) bool {
	raw, ok := c.raw(&m.field)
	if !ok {
		return m.null
	}
	return c.quickHit(m, raw) != m.neq
}

// quickHit reports whether the present value raw equals, starts with,
// ends with, contains or globs one of m's values. Until some test needs
// the folded value (cached per event, so often folded by an earlier rule),
// equals, startswith and endswith compare raw ASCII text directly
// (foldCompare), sparing the fold of the whole value.
func (c *evalCtx) quickHit(m *matcher, raw string) bool {
	f, folded := c.foldedCached(&m.field)
	if m.anyAC != nil || m.affix != nil {
		if !folded {
			f, folded = c.folded(&m.field, raw), true
		}
		if m.anyAC != nil && m.anyAC.any(f) || m.affix != nil && m.affix.match(f) {
			return true
		}
	}
	for i := range m.quick {
		q := &m.quick[i]
		s := raw
		if !q.cased {
			if !folded {
				if hit, ok := foldCompare(q.kind, raw, q.lit); ok {
					if hit {
						return true
					}
					continue
				}
				f, folded = c.folded(&m.field, raw), true
			}
			s = f
		}
		if q.kind == patGlob && q.pat.match(s) || q.kind != patGlob && litMatch(q.kind, q.lit, s) {
			return true
		}
	}
	return false
}

// foldedCached returns a field's folded value when this event already
// folded it.
func (c *evalCtx) foldedCached(f *fieldRef) (string, bool) {
	if f.kind == fkSchema {
		return c.fval[f.id], c.fgen[f.id] == c.gen
	}
	return c.xfval[f.extra], c.xfgen[f.extra] == c.gen
}

// foldCompare decides an exact, prefix or suffix test of folded lit
// against fold(raw) without folding raw, where the bytes it must read are
// ASCII: an ASCII byte is a rune of its own that folds to one byte, so up
// to the first non-ASCII byte raw and fold(raw) line up byte for byte
// (from the start for exact and prefix, from the end for suffix). Folding
// never lengthens text (a rune folds to the least rune of its orbit, which
// is never longer in UTF-8), so a value shorter than lit cannot match. ok
// is false when a non-ASCII byte comes first (or for other shapes): the
// caller then folds.
func foldCompare(kind patKind, raw, lit string) (hit, ok bool) {
	if kind != patExact && kind != patPrefix && kind != patSuffix {
		return false, false
	}
	if len(raw) < len(lit) {
		return false, true
	}
	off := 0
	if kind == patSuffix {
		off = len(raw) - len(lit)
		for i := len(lit) - 1; i >= 0; i-- {
			b := raw[off+i]
			if b >= utf8.RuneSelf {
				return false, false
			}
			if asciiFold[b] != lit[i] {
				return false, true
			}
		}
		return true, true
	}
	for i := 0; i < len(lit); i++ {
		b := raw[i]
		if b >= utf8.RuneSelf {
			return false, false
		}
		if asciiFold[b] != lit[i] {
			return false, true
		}
	}
	// raw starts with lit; for exact, anything after it folds to at least
	// one more byte
	return kind == patPrefix || len(raw) == len(lit), true
}
