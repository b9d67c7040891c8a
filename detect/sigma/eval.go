package sigma

import (
	"net/netip"
	"slices"
	"strings"
	"unsafe"

	"github.com/edr-lab/edr/event"
)

// evalCtx holds the per-event scratch of one Matcher: folded field
// values (computed at most once per event), generation-stamped so that a new
// event invalidates them in O(1) without clearing.
type evalCtx struct {
	ev  *event.Event
	gen uint32

	fgen []uint32 // per FieldID: generation of fval
	fval []string // folded schema values

	// per FieldID: a value parsed as an address for CIDR tests (several
	// rules test one DestinationIp against ranges, SigmaHQ's Office rule
	// in a dozen filters), generation-stamped like fval
	agen []uint32
	aval []netip.Addr
	aok  []bool

	xgen  []uint32 // per extra-name index
	xraw  []string
	xok   []bool
	xfgen []uint32
	xfval []string

	slab []byte // backing store of folded strings; reset per event

	memo []int8 // per search of the rule being evaluated: 0 unknown, 1 false, 2 true

	cand candidates // prefilter result for the current event
	scan scanState  // the prefilter's marks (cand.bits are scan.bits)
	sc   *scanCache // memoized scans of repeated values; made at first use (nil while off)
}

func newEvalCtx(nExtra int) *evalCtx {
	n := event.NumFields()
	return &evalCtx{
		fgen: make([]uint32, n), fval: make([]string, n),
		agen: make([]uint32, n), aval: make([]netip.Addr, n), aok: make([]bool, n),
		xgen: make([]uint32, nExtra), xraw: make([]string, nExtra), xok: make([]bool, nExtra),
		xfgen: make([]uint32, nExtra), xfval: make([]string, nExtra),
		slab: make([]byte, 0, 4096),
	}
}

func (c *evalCtx) reset(ev *event.Event) {
	c.ev = ev
	c.gen++
	if c.gen == 0 { // wrapped: stale stamps could collide
		clear(c.fgen)
		clear(c.agen)
		clear(c.xgen)
		clear(c.xfgen)
		c.gen = 1
	}
	c.slab = c.slab[:0]
}

// raw returns a field's value as rendered and whether it is present.
func (c *evalCtx) raw(f *fieldRef) (string, bool) {
	if f.kind == fkSchema {
		return c.ev.Get(f.id)
	}
	i := f.extra
	if c.xgen[i] != c.gen {
		c.xgen[i] = c.gen
		c.xraw[i], c.xok[i] = lookupExtra(c.ev, f.name)
	}
	return c.xraw[i], c.xok[i]
}

// lookupExtra finds a key/value field by exact name, then ignoring case.
func lookupExtra(ev *event.Event, name string) (string, bool) {
	kvs := ev.Extra()
	for i := range kvs {
		if kvs[i].Key == name {
			return kvs[i].Value, true
		}
	}
	for i := range kvs {
		if strings.EqualFold(kvs[i].Key, name) {
			return kvs[i].Value, true
		}
	}
	return "", false
}

// foldValue folds s into the slab. The returned string aliases the slab and
// is valid until the next event.
func (c *evalCtx) foldValue(s string) string {
	if !needsFold(s) {
		return s
	}
	start := len(c.slab)
	c.slab = appendFold(c.slab, s)
	b := c.slab[start:]
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// folded returns a present field's folded value.
func (c *evalCtx) folded(f *fieldRef, raw string) string {
	if f.kind == fkSchema {
		if c.fgen[f.id] != c.gen {
			c.fgen[f.id] = c.gen
			c.fval[f.id] = c.foldValue(raw)
		}
		return c.fval[f.id]
	}
	i := f.extra
	if c.xfgen[i] != c.gen {
		c.xfgen[i] = c.gen
		c.xfval[i] = c.foldValue(raw)
	}
	return c.xfval[i]
}

func (c *evalCtx) foldedID(id event.FieldID, raw string) string {
	if c.fgen[id] != c.gen {
		c.fgen[id] = c.gen
		c.fval[id] = c.foldValue(raw)
	}
	return c.fval[id]
}

// evalConds evaluates a condition list (OR) over a rule's searches.
func (c *evalCtx) evalConds(conds []*condNode, searches []*search) bool {
	if cap(c.memo) < len(searches) {
		c.memo = make([]int8, len(searches))
	}
	c.memo = c.memo[:len(searches)]
	clear(c.memo)
	for _, n := range conds {
		if c.evalNode(n, searches) {
			return true
		}
	}
	return false
}

func (c *evalCtx) evalNode(n *condNode, searches []*search) bool {
	switch n.op {
	case opSearch:
		switch c.memo[n.search] {
		case 1:
			return false
		case 2:
			return true
		}
		r := c.evalSearch(searches[n.search])
		c.memo[n.search] = 1 + b2i8(r)
		return r
	case opNot:
		return !c.evalNode(n.kids[0], searches)
	case opAnd:
		for _, k := range n.kids {
			if !c.evalNode(k, searches) {
				return false
			}
		}
		return true
	case opOr:
		for _, k := range n.kids {
			if c.evalNode(k, searches) {
				return true
			}
		}
		return false
	default: // opOf
		hit, left := 0, len(n.kids)
		for _, k := range n.kids {
			left--
			if c.evalNode(k, searches) {
				hit++
				if hit >= n.n {
					return true
				}
			}
			if hit+left < n.n {
				return false
			}
		}
		return false
	}
}

func b2i8(b bool) int8 {
	if b {
		return 1
	}
	return 0
}

func (c *evalCtx) evalSearch(s *search) bool {
	for _, alt := range s.eval {
		if c.evalAlt(alt) {
			return true
		}
	}
	return false
}

// evalOrder returns a search's maps with each map's matchers in the order
// to evaluate them: the matcher whose literals the prefilter keys the map
// on (needles.go's bestOf over the map) last, the others as written. A
// rule is a candidate mostly because that matcher's needle was found, so
// on candidates it is the operand likeliest to hold, and an AND stops at
// the first that fails. On the SigmaHQ set over a generated recording that
// is 14 % fewer matcher evaluations of candidates: "Suspicious File
// Creation In Uncommon AppData Folder" is keyed on its C:\Users\ prefix yet
// fails on its list of extensions, "Creation of an Executable by an
// Executable" on one of its two .exe suffixes. The result is the same in
// any order: a matcher only reads the event and fills per-event caches of
// values it derives from it (folded text, parsed addresses, key/value
// look-ups), which any order fills alike. Maps that need no change are
// shared with alts.
func evalOrder(alts [][]*matcher) [][]*matcher {
	out, cloned := alts, false
	for i, alt := range alts {
		key, best := -1, topSet.score()
		for j, m := range alt {
			if sc := matcherNeedles(m).score(); sc > best {
				key, best = j, sc
			}
		}
		if key < 0 || key == len(alt)-1 {
			continue
		}
		if !cloned {
			out, cloned = slices.Clone(alts), true
		}
		o := make([]*matcher, 0, len(alt))
		o = append(append(append(o, alt[:key]...), alt[key+1:]...), alt[key])
		out[i] = o
	}
	return out
}

// evalAlt evaluates one map of a search: all its matchers must hold.
func (c *evalCtx) evalAlt(alt []*matcher) bool {
	for _, m := range alt {
		if !c.evalMatcher(m) {
			return false
		}
	}
	return true
}

func (c *evalCtx) evalMatcher(m *matcher) bool {
	if m.fast {
		return c.evalQuick(m)
	}
	return c.evalGeneric(m)
}

// evalGeneric evaluates any matcher (a quick one too, ignoring its quick
// form: the reference TestQuickEqualsGeneric compares against).
func (c *evalCtx) evalGeneric(m *matcher) bool {
	if m.field.kind == fkKeyword {
		return c.evalKeyword(m)
	}
	raw, ok := c.raw(&m.field)
	if m.exists >= 0 {
		return ok == (m.exists == 1)
	}
	if !ok {
		return m.null
	}
	if len(m.groups) == 0 {
		return false // only null was asked for
	}
	if m.cidr {
		a, ok := c.addr(&m.field, raw)
		return evalCIDR(m, a, ok)
	}
	if m.neq { // the field differs from every value
		if m.anyAC != nil && m.anyAC.any(c.folded(&m.field, raw)) || m.affix != nil && m.affix.match(c.folded(&m.field, raw)) {
			return false
		}
		for _, g := range m.groups {
			if c.anyTest(m, g, raw) {
				return false
			}
		}
		return true
	}
	if m.all {
		for _, g := range m.groups {
			if !c.anyTest(m, g, raw) {
				return false
			}
		}
		return true
	}
	return (m.anyAC != nil && m.anyAC.any(c.folded(&m.field, raw))) ||
		(m.affix != nil && m.affix.match(c.folded(&m.field, raw))) || c.anyTest(m, m.groups[0], raw)
}

// addr returns a present field's value parsed as an address (unmapped),
// and whether it is one; a schema field's is parsed at most once per event.
func (c *evalCtx) addr(f *fieldRef, raw string) (netip.Addr, bool) {
	if f.kind != fkSchema {
		a, err := netip.ParseAddr(raw)
		return a.Unmap(), err == nil
	}
	if c.agen[f.id] != c.gen {
		c.agen[f.id] = c.gen
		a, err := netip.ParseAddr(raw)
		c.aval[f.id], c.aok[f.id] = a.Unmap(), err == nil
	}
	return c.aval[f.id], c.aok[f.id]
}

// evalCIDR is evalMatcher for a matcher of CIDR values, given the field's
// value parsed once (ok: it is an address) instead of once per value
// (SigmaHQ's Office network rule lists 60 ranges).
func evalCIDR(m *matcher, a netip.Addr, ok bool) bool {
	in := func(g []test) bool {
		if !ok {
			return false
		}
		for i := range g {
			if g[i].prefix.Contains(a) {
				return true
			}
		}
		return false
	}
	if m.neq {
		for _, g := range m.groups {
			if in(g) {
				return false
			}
		}
		return true
	}
	if m.all {
		for _, g := range m.groups {
			if !in(g) {
				return false
			}
		}
		return true
	}
	return in(m.groups[0])
}

func (c *evalCtx) anyTest(m *matcher, tests []test, raw string) bool {
	for i := range tests {
		if c.test(m, &tests[i], raw) {
			return true
		}
	}
	return false
}

func (c *evalCtx) test(m *matcher, t *test, raw string) bool {
	switch t.kind {
	case tPattern:
		if t.pat.cased {
			return t.pat.match(raw)
		}
		return t.pat.match(c.folded(&m.field, raw))
	case tNumEq:
		if f, ok := parseNum(raw); ok {
			return f == t.num
		}
		return t.pat.match(c.folded(&m.field, raw))
	case tRegex:
		if len(raw) < t.minLen {
			return false
		}
		if len(t.guard) > 0 {
			f := c.folded(&m.field, raw)
			found := false
			for _, g := range t.guard {
				if strings.Contains(f, g) {
					found = true
					break
				}
			}
			if !found {
				return false
			}
		}
		if t.gate != nil && !t.gate.pass(raw) {
			return false
		}
		return t.re.MatchString(raw)
	case tCIDR:
		a, ok := c.addr(&m.field, raw)
		return ok && t.prefix.Contains(a)
	case tGT:
		f, ok := parseNum(raw)
		return ok && f > t.num
	case tGTE:
		f, ok := parseNum(raw)
		return ok && f >= t.num
	case tLT:
		f, ok := parseNum(raw)
		return ok && f < t.num
	case tLTE:
		f, ok := parseNum(raw)
		return ok && f <= t.num
	default: // tFieldRef
		other, ok := c.raw(&t.ref)
		if !ok {
			return false
		}
		a, b := raw, other
		if !t.pat.cased {
			a, b = c.folded(&m.field, raw), c.folded(&t.ref, other)
		}
		switch t.pat.kind {
		case patContains:
			return strings.Contains(a, b)
		case patPrefix:
			return strings.HasPrefix(a, b)
		case patSuffix:
			return strings.HasSuffix(a, b)
		default:
			return a == b
		}
	}
}

// Keyword searches look at the event's text fields: every present schema
// data field whose type is text (String, and the IP, SID and Hashes
// renderings; not numbers, GUIDs, times or booleans, and not the System
// envelope: EventID, Channel, Provider_Name, EventRecordID, Computer,
// Security_UserID) and every key/value field. That is
// edr's "message": a Windows event has no single message field. With all,
// each value may match in a different field.
var keywordFields = func() []bool {
	kw := make([]bool, event.NumFields())
	for _, f := range event.Fields() {
		switch f.Type {
		case event.String, event.IP, event.SID, event.Hashes:
			kw[f.ID] = !f.Virtual
		}
	}
	// the System envelope is not message text
	kw[event.FComputer], kw[event.FSecurityUserID] = false, false
	return kw
}()

func isKeywordField(id event.FieldID) bool { return keywordFields[id] }
func (c *evalCtx) evalKeyword(m *matcher) bool {
	if m.all {
		for _, g := range m.groups {
			if !c.keywordGroup(m, g) {
				return false
			}
		}
		return true
	}
	if len(m.groups) == 0 {
		return false
	}
	return c.keywordGroup(m, m.groups[0])
}

func (c *evalCtx) keywordGroup(m *matcher, g []test) bool {
	found := false
	c.ev.Range(func(id event.FieldID, v string) bool {
		if !isKeywordField(id) {
			return true
		}
		for i := range g {
			if c.keywordTest(&g[i], v, func() string { return c.foldedID(id, v) }) {
				found = true
				return false
			}
		}
		return true
	})
	if found {
		return true
	}
	for _, kv := range c.ev.Extra() {
		for i := range g {
			if c.keywordTest(&g[i], kv.Value, func() string { return c.foldValue(kv.Value) }) {
				return true
			}
		}
	}
	return false
}

func (c *evalCtx) keywordTest(t *test, raw string, folded func() string) bool {
	switch t.kind {
	case tRegex:
		return len(raw) >= t.minLen && (t.gate == nil || t.gate.pass(raw)) && t.re.MatchString(raw)
	case tPattern, tNumEq:
		if t.pat.cased {
			return t.pat.match(raw)
		}
		return t.pat.match(folded())
	}
	return false
}
