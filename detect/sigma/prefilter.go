package sigma

import (
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/edr-lab/edr/event"
)

// prefilter is a bucket's literal prefilter: per field, a gramFilter over
// the needles the bucket's rules require; an event's candidate rules are
// those whose needle occurs in its field plus the rules without needles.
// Built once at load; scanning allocates nothing.
type prefilter struct {
	byID     []*gramFilter // schema fields (keyword fields' include the keyword needles), by FieldID
	virt     []pfField     // virtual schema fields (EventID, Channel…): not visited by Event.Range
	extra    []pfField     // key/value fields
	keyword  *gramFilter   // needles of keyword searches: scanned over every keyword field without its own
	always   []uint64      // entries evaluated on every event
	nEntries int
	// full[i] has one bit per needle clause of entry i when it has more
	// than one (each clause must have a hit); nil when no entry has
	full []uint8
}

type pfField struct {
	ref fieldRef
	g   *gramFilter
}

// candidates is a bitset of bucket entries, owned by the evalCtx.
type candidates struct{ bits []uint64 }

func (c *candidates) has(i int) bool { return c.bits[i>>6]&(1<<(i&63)) != 0 }

func buildPrefilter(entries []entry) *prefilter {
	pf := &prefilter{nEntries: len(entries), always: make([]uint64, (len(entries)+63)/64)}
	type key struct {
		kind  fieldKind
		id    event.FieldID
		extra int32
	}
	byField := map[key]*acBuilder{}
	var order []key
	refs := map[key]fieldRef{}
	for i, e := range entries {
		cl := ruleClauses(e.rule.conds, e.rule.searches)
		if len(cl) == 0 {
			pf.always[i>>6] |= 1 << (i & 63)
			continue
		}
		if len(cl) > 1 && pf.full == nil {
			pf.full = make([]uint8, len(entries))
		}
		for ci, ns := range cl {
			code := int32(i)
			if len(cl) > 1 {
				code = clauseCode(i, ci)
				pf.full[i] |= 1 << ci
			}
			for _, n := range ns.items {
				k := key{n.field.kind, n.field.id, n.field.extra}
				b := byField[k]
				if b == nil {
					b = newACBuilder()
					b.whole = true
					byField[k] = b
					order = append(order, k)
					refs[k] = n.field
				}
				b.add(n.lit, code)
			}
		}
	}
	// keyword needles are added to the filter of every keyword field that
	// has one, so each field is scanned once
	var kw *acBuilder
	for _, k := range order {
		if k.kind == fkKeyword {
			kw = byField[k]
		}
	}
	if kw != nil {
		for _, k := range order {
			if k.kind == fkSchema && isKeywordField(k.id) || k.kind == fkExtra {
				for _, lit := range kw.order {
					for _, e := range kw.needles[lit] {
						byField[k].add(lit, e)
					}
				}
			}
		}
	}
	// filters of different buckets often hold the same needles (User,
	// Image): the salt keeps their cached values apart
	bucketSalt := uint64(len(entries))
	for _, e := range entries {
		bucketSalt = mix64(bucketSalt^uint64(e.rule.index), 0xa0761d6478bd642f)
	}
	for _, k := range order {
		b := byField[k]
		g := buildGramFilter(b.order, b.needles)
		g.salt = mix64(g.salt^bucketSalt, uint64(k.kind)<<48|uint64(k.id)<<32|uint64(uint32(k.extra))^0x8ebc6af09c88c6e3)
		switch {
		case k.kind == fkKeyword:
			pf.keyword = g
		case k.kind == fkExtra:
			pf.extra = append(pf.extra, pfField{ref: refs[k], g: g})
		case k.id.Virtual():
			pf.virt = append(pf.virt, pfField{ref: refs[k], g: g})
		default:
			if pf.byID == nil {
				pf.byID = make([]*gramFilter, event.NumFields())
			}
			pf.byID[k.id] = g
		}
	}
	return pf
}

// scan marks the candidate entries for the current event.
func (pf *prefilter) scan(c *evalCtx) *candidates {
	st := &c.scan
	st.reset(pf.nEntries, pf.full, false)
	copy(st.bits, pf.always)
	ev := c.ev
	for i := range pf.virt {
		f := &pf.virt[i]
		if raw, ok := ev.Get(f.ref.id); ok {
			scanValue(c, f.g, f.ref.id, raw, st)
		}
	}
	if pf.byID != nil || pf.keyword != nil {
		byID, kw := pf.byID, pf.keyword
		ev.Range(func(id event.FieldID, v string) bool {
			var g *gramFilter
			if byID != nil {
				g = byID[id]
			}
			if g == nil && kw != nil && isKeywordField(id) {
				g = kw
			}
			if g != nil {
				scanValue(c, g, id, v, st)
			}
			return true
		})
	}
	for i := range pf.extra {
		f := &pf.extra[i]
		if raw, ok := c.raw(&f.ref); ok && len(raw) >= f.g.minLen {
			if f.g.scan(raw, st) >= utf8.RuneSelf {
				f.g.scan(c.folded(&f.ref, raw), st)
			}
		}
	}
	if pf.keyword != nil {
		for _, kv := range ev.Extra() {
			if len(kv.Value) >= pf.keyword.minLen {
				pf.keyword.scan(c.foldValue(kv.Value), st)
			}
		}
	}
	c.cand.bits = st.bits
	return &c.cand
}

// scanLate marks, in a cleared set, the entries whose needles occur in the
// given schema fields of the current event (split matching's late fields,
// which Pre's scan did not see): their own needles, or for keyword fields
// the keyword needles. One hit makes a candidate here, whatever the entry's
// clauses: the clauses on early fields may have had their hits in Pre.
func (pf *prefilter) scanLate(c *evalCtx, late []event.FieldID) []uint64 {
	st := &c.scan
	st.reset(pf.nEntries, pf.full, true)
	clear(st.bits)
	for _, id := range late {
		raw, ok := c.ev.Get(id)
		if !ok {
			continue
		}
		var g *gramFilter
		if pf.byID != nil {
			g = pf.byID[id]
		}
		if g == nil && pf.keyword != nil && isKeywordField(id) {
			g = pf.keyword
		}
		if g != nil {
			scanValue(c, g, id, raw, st)
		}
	}
	return st.bits
}

// scanValue scans a schema field's value (the filter folds ASCII letters
// itself), and again folded when it has non-ASCII bytes: the raw scan can
// only have marked more, never less, so one pass serves ASCII text.
//
// A value shorter than the filter's shortest needle holds none, and
// folding never lengthens text (TestFoldNeverLengthens), so it is not
// scanned: most values below the scan cache's minimum length are of that
// kind (process and logon IDs, ports: 2.6 of the 3.6 such values per event
// of a generated recording with the SigmaHQ folders).
func scanValue(c *evalCtx, g *gramFilter, id event.FieldID, raw string, st *scanState) {
	if len(raw) < g.minLen {
		return
	}
	if len(raw) >= scanCacheMinLen && len(raw) <= scanCacheMaxLen {
		if c.sc == nil {
			c.sc = newScanCache(scanCacheSets)
		}
		if c.sc != nil {
			scanValueCached(c, c.sc, g, id, raw, st)
			return
		}
	}
	if g.scan(raw, st) >= utf8.RuneSelf {
		g.scan(c.foldedID(id, raw), st)
	}
}

// acAutomaton is a dense Aho-Corasick DFA over byte classes, built exact
// for a matcher's long OR list of contains values (matcher.anyAC). ASCII
// letters of both cases share a class, so ASCII text is scanned raw; text
// with non-ASCII bytes is folded first.
type acAutomaton struct {
	class [256]uint8
	nc    int
	full  []string // exact automata: the whole needles, by output id
	// state*nc + class → state; 8-bit for automata of at most 256 states
	// (most matcher automata: half the memory a compiled rule set holds
	// for them), 16-bit under 65536 states (half the cache footprint),
	// else 32-bit
	trans8   []uint8
	trans16  []uint16
	trans32  []uint32
	firstOut int32    // states >= firstOut have output
	outOff   []uint32 // (state-firstOut) → range in outRule
	outRule  []int32  // entries to mark
}

// acBuilder collects needles for one automaton.
type acBuilder struct {
	needles map[string][]int32
	order   []string
	// exact builds a matcher automaton (any): no class sharing, and needles
	// cut to maxNeedle are verified in full at each hit (full[entry])
	exact bool
	full  []string
	// whole keeps needles uncut (the prefilter's gramFilter verifies them
	// in full)
	whole bool
}

func newACBuilder() *acBuilder { return &acBuilder{needles: map[string][]int32{}} }

// Needles longer than maxNeedle are cut to their last maxNeedle bytes (any
// substring of a required literal is required too; the exact automaton
// verifies the whole value at a hit); this bounds the automaton for OR
// lists of hundreds of hashes. Cuts stay on UTF-8 rune boundaries. The
// prefilter's needles are kept whole (acBuilder.whole): its gramFilter
// verifies them in full.
const (
	maxNeedleDefault  = 12
	maxClassesDefault = 96
)

var maxNeedle, maxClasses = maxNeedleDefault, maxClassesDefault

func (b *acBuilder) add(lit string, entry int32) {
	if b.exact {
		entry = int32(len(b.full))
		b.full = append(b.full, lit)
	}
	if len(lit) > maxNeedle && !b.whole {
		cut := len(lit) - maxNeedle
		for cut < len(lit) && !utf8.RuneStart(lit[cut]) {
			cut++
		}
		lit = lit[cut:]
	}
	if _, ok := b.needles[lit]; !ok {
		b.order = append(b.order, lit)
	}
	rs := b.needles[lit]
	if len(rs) == 0 || rs[len(rs)-1] != entry {
		b.needles[lit] = append(rs, entry)
	}
}

func (b *acBuilder) build() *acAutomaton {
	a := &acAutomaton{full: clipped(b.full)}
	// byte classes: every ASCII needle byte gets its own class; non-ASCII
	// needle bytes get their own while the budget lasts, the rarest share
	// one (a shared class can only add candidates, never lose one, and only
	// for text with non-ASCII bytes). Bytes in no needle are class 0.
	// Lower-case ASCII letters share the class of their folded form.
	var freq [256]int
	for _, n := range b.order {
		for i := 0; i < len(n); i++ {
			freq[n[i]]++
		}
	}
	var ascii, high []int
	for c := 0; c < 256; c++ {
		switch {
		case freq[c] == 0:
		case c < utf8.RuneSelf:
			ascii = append(ascii, c)
		default:
			high = append(high, c)
		}
	}
	sort.SliceStable(high, func(i, j int) bool { return freq[high[i]] > freq[high[j]] })
	nc := 1
	for _, c := range ascii {
		a.class[c] = uint8(nc)
		nc++
	}
	shared := 0
	for _, c := range high {
		if nc < maxClasses-1 || b.exact {
			a.class[c] = uint8(nc)
			nc++
			continue
		}
		if shared == 0 {
			shared = nc
			nc++
		}
		a.class[c] = uint8(shared)
	}
	if nc > 255 {
		return nil // more than 254 distinct needle bytes
	}
	for c := 'a'; c <= 'z'; c++ {
		a.class[c] = a.class[c-'a'+'A']
	}
	a.nc = nc
	// trie with sparse edges (first child / next sibling): most nodes have
	// one child, and the dense table is allocated once, at its final size
	maxStates := 1
	for _, n := range b.order {
		maxStates += len(n)
	}
	first := make([]int32, 1, maxStates) // first child, -1 none
	next := make([]int32, 1, maxStates)  // next sibling, -1 none
	cls := make([]uint8, 1, maxStates)   // class of the edge into the node
	outs := make([][]int32, 1, maxStates)
	first[0], next[0] = -1, -1
	child := func(s int32, c uint8) int32 {
		for k := first[s]; k >= 0; k = next[k] {
			if cls[k] == c {
				return k
			}
		}
		return -1
	}
	for _, n := range b.order {
		s := int32(0)
		for i := 0; i < len(n); i++ {
			c := a.class[n[i]]
			nx := child(s, c)
			if nx < 0 {
				nx = int32(len(cls))
				first, next, cls, outs = append(first, -1), append(next, first[s]), append(cls, c), append(outs, nil)
				first[s] = nx
			}
			s = nx
		}
		outs[s] = append(outs[s], b.needles[n]...)
	}
	// BFS: failure links; outputs merge along them
	n := len(cls)
	fail := make([]int32, n)
	queue := make([]int32, 1, n)
	for qi := 0; qi < len(queue); qi++ {
		s := queue[qi]
		if s != 0 {
			outs[s] = mergeEntries(outs[s], outs[fail[s]])
		}
		for k := first[s]; k >= 0; k = next[k] {
			queue = append(queue, k)
			if s == 0 {
				continue
			}
			f := fail[s]
			for {
				if t := child(f, cls[k]); t >= 0 {
					fail[k] = t
					break
				}
				if f == 0 {
					break
				}
				f = fail[f]
			}
		}
	}
	// number the states: those without output first, in BFS order (the
	// shallow states, where scanning spends its time, share cache lines),
	// then those with output, so the scan loop tests st >= firstOut instead
	// of loading an output table per byte
	order := make([]int32, 0, n)
	for _, s := range queue {
		if len(outs[s]) == 0 {
			order = append(order, s)
		}
	}
	a.firstOut = int32(len(order))
	for _, s := range queue {
		if len(outs[s]) > 0 {
			order = append(order, s)
		}
	}
	newID := make([]int32, n)
	for i, old := range order {
		newID[old] = int32(i)
	}
	switch {
	case n <= 1<<8:
		a.trans8 = make([]uint8, n*nc)
		fillRows(a.trans8, nc, queue, fail, first, next, cls, newID)
	case n <= 1<<16:
		a.trans16 = make([]uint16, n*nc)
		fillRows(a.trans16, nc, queue, fail, first, next, cls, newID)
	default:
		a.trans32 = make([]uint32, n*nc)
		fillRows(a.trans32, nc, queue, fail, first, next, cls, newID)
	}
	out := order[a.firstOut:]
	a.outOff = make([]uint32, len(out)+1)
	for i, old := range out {
		a.outOff[i+1] = a.outOff[i] + uint32(len(outs[old]))
		a.outRule = append(a.outRule, outs[old]...)
	}
	a.outRule = clipped(a.outRule) // held for the whole run
	return a
}

// fillRows writes the dense rows in BFS order: a missing edge goes where
// the fail state's row (already filled) goes.
func fillRows[T uint8 | uint16 | uint32](table []T, nc int, queue, fail, first, next []int32, cls []uint8, newID []int32) {
	for _, s := range queue {
		row := table[int(newID[s])*nc : int(newID[s]+1)*nc]
		if s != 0 {
			f := int(newID[fail[s]])
			copy(row, table[f*nc:(f+1)*nc])
		}
		for k := first[s]; k >= 0; k = next[k] {
			row[cls[k]] = T(newID[k])
		}
	}
}

// any reports whether any needle of an exact automaton occurs in s
// (folded). A hit on a cut needle is confirmed against the whole needle
// ending there.
func (a *acAutomaton) any(s string) bool {
	if a.trans8 != nil {
		return anyTable(a, a.trans8, s)
	}
	if a.trans16 != nil {
		return anyTable(a, a.trans16, s)
	}
	return anyTable(a, a.trans32, s)
}

func anyTable[T uint8 | uint16 | uint32](a *acAutomaton, trans []T, s string) bool {
	st := uint32(0)
	class, first, nc := &a.class, uint32(a.firstOut), uint32(a.nc)
	for i := 0; i < len(s); i++ {
		st = uint32(trans[st*nc+uint32(class[s[i]])])
		if st >= first && a.confirm(s[:i+1], st-first) {
			return true
		}
	}
	return false
}

func (a *acAutomaton) confirm(prefix string, o uint32) bool {
	for _, id := range a.outRule[a.outOff[o]:a.outOff[o+1]] {
		if strings.HasSuffix(prefix, a.full[id]) {
			return true
		}
	}
	return false
}

// mergeEntries returns the sorted union of two sorted entry lists.
func mergeEntries(a, b []int32) []int32 {
	if len(b) == 0 {
		return a
	}
	out := make([]int32, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || (i < len(a) && a[i] < b[j]):
			out = append(out, a[i])
			i++
		case i == len(a) || b[j] < a[i]:
			out = append(out, b[j])
			j++
		default:
			out = append(out, a[i])
			i, j = i+1, j+1
		}
	}
	return out
}
