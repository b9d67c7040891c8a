package sigma

import (
	"encoding/base64"
	"fmt"
	"net/netip"
	"regexp"
	"regexp/syntax"
	"strings"
)

// Value modifiers (sigma-appendix-modifiers.md) are one table: a modifier
// is an entry saying what kind it is, what it cannot be combined with and
// how it applies. A new transformation is one entry with its apply; a new
// comparison is one entry with its compile and one case of a testKind in
// evalCtx.test.

// modKind is what a modifier does to a field matcher.
type modKind uint8

const (
	// modWildcard adds wildcards to the value (a step); at most one.
	modWildcard modKind = iota
	// modTransform rewrites the value into one or more values (a step).
	modTransform
	// modType sets how values compare (regex, CIDR, numbers, presence,
	// another field); at most one.
	modType
	// modFlag changes how values combine (flag).
	modFlag
	// modRegexFlag is a flag of a preceding re.
	modRegexFlag
	// modUnsupported is a modifier of the specification edr does not
	// implement: a load error naming it.
	modUnsupported
)

// modExcl is what a type modifier cannot be combined with.
type modExcl uint8

const (
	exSteps      modExcl = 1 << iota // any wildcard or transformation
	exTransforms                     // any transformation
	exCased                          // cased
	exNeq                            // neq
	exKeyword                        // a keyword (field-less) search
)

// modFlags are the modifiers of kind modFlag.
type modFlags uint8

const (
	flagAll   modFlags = 1 << iota // every value must match
	flagCased                      // case-sensitive
	flagNeq                        // the field is present and matches none
)

type modifier struct {
	name     string
	kind     modKind
	excludes modExcl // modType
	flag     modFlags
	// apply (modWildcard, modTransform) appends v's rewritings to out.
	apply func(cc *compileCtx, v sstr, out []sstr) ([]sstr, error)
	// compile (modType) compiles one value; exists compiles the whole
	// matcher instead (compileExists).
	compile func(cc *compileCtx, mod *modifier, s string, mods *modSet) (test, error)
	test    testKind // modType: what compile produces
	shape   patKind  // modWildcard: the shape it gives a fieldref comparison
}

var modifiers = []modifier{
	{name: "contains", kind: modWildcard, shape: patContains, apply: wildcards(true, true)},
	{name: "startswith", kind: modWildcard, shape: patPrefix, apply: wildcards(false, true)},
	{name: "endswith", kind: modWildcard, shape: patSuffix, apply: wildcards(true, false)},

	{name: "base64", kind: modTransform, apply: literalStep("base64", func(s string) []string {
		return []string{base64.StdEncoding.EncodeToString([]byte(s))}
	})},
	{name: "base64offset", kind: modTransform, apply: literalStep("base64offset", base64Offsets)},
	{name: "wide", kind: modTransform, apply: mapLiterals(func(s string) string { return utf16Bytes(s, false, false) })},
	{name: "utf16le", kind: modTransform, apply: mapLiterals(func(s string) string { return utf16Bytes(s, false, false) })},
	{name: "utf16be", kind: modTransform, apply: mapLiterals(func(s string) string { return utf16Bytes(s, true, false) })},
	{name: "utf16", kind: modTransform, apply: literalStep("utf16 (with byte order mark)", func(s string) []string {
		return []string{utf16Bytes(s, false, true)}
	})},
	{name: "windash", kind: modTransform, apply: func(_ *compileCtx, v sstr, out []sstr) ([]sstr, error) {
		exp := windash(v)
		if len(out)+len(exp) > maxExpansion {
			return nil, fmt.Errorf("windash expands to more than %d values", maxExpansion)
		}
		return append(out, exp...), nil
	}},
	{name: "expand", kind: modTransform, apply: func(cc *compileCtx, v sstr, out []sstr) ([]sstr, error) {
		exp, err := cc.expand(v)
		return append(out, exp...), err
	}},

	{name: "all", kind: modFlag, flag: flagAll},
	{name: "cased", kind: modFlag, flag: flagCased},
	{name: "neq", kind: modFlag, flag: flagNeq},

	{name: "re", kind: modType, excludes: exSteps, test: tRegex, compile: compileRegex},
	{name: "cidr", kind: modType, excludes: exSteps | exCased | exKeyword, test: tCIDR, compile: compileCIDR},
	{name: "gt", kind: modType, excludes: exSteps | exCased | exNeq | exKeyword, test: tGT, compile: compileNumCmp},
	{name: "gte", kind: modType, excludes: exSteps | exCased | exNeq | exKeyword, test: tGTE, compile: compileNumCmp},
	{name: "lt", kind: modType, excludes: exSteps | exCased | exNeq | exKeyword, test: tLT, compile: compileNumCmp},
	{name: "lte", kind: modType, excludes: exSteps | exCased | exNeq | exKeyword, test: tLTE, compile: compileNumCmp},
	{name: "exists", kind: modType, excludes: exSteps | exCased | exNeq | exKeyword},
	{name: "fieldref", kind: modType, excludes: exTransforms | exKeyword, test: tFieldRef, compile: compileFieldRef},

	{name: "i", kind: modRegexFlag},
	{name: "m", kind: modRegexFlag},
	{name: "s", kind: modRegexFlag},

	{name: "minute", kind: modUnsupported},
	{name: "hour", kind: modUnsupported},
	{name: "day", kind: modUnsupported},
	{name: "week", kind: modUnsupported},
	{name: "month", kind: modUnsupported},
	{name: "year", kind: modUnsupported},
}

var modByName = func() map[string]*modifier {
	m := make(map[string]*modifier, len(modifiers))
	for i := range modifiers {
		m[modifiers[i].name] = &modifiers[i]
	}
	return m
}()

// modSet is a field matcher's modifiers, parsed.
type modSet struct {
	wildcard *modifier   // contains / startswith / endswith
	steps    []*modifier // transformations and wildcard adders, in order
	typ      *modifier   // re, cidr, gt, gte, lt, lte, exists, fieldref
	reFlags  string
	flags    modFlags
}

func (m *modSet) all() bool   { return m.flags&flagAll != 0 }
func (m *modSet) cased() bool { return m.flags&flagCased != 0 }
func (m *modSet) neq() bool   { return m.flags&flagNeq != 0 }

// has reports whether a step of that name is among the modifiers.
func (m *modSet) has(step string) bool {
	for _, s := range m.steps {
		if s.name == step {
			return true
		}
	}
	return false
}

func parseModifiers(mods []string) (modSet, error) {
	var m modSet
	for i, name := range mods {
		mod := modByName[name]
		if mod == nil {
			return m, fmt.Errorf("unknown modifier %q", name)
		}
		switch mod.kind {
		case modWildcard:
			if m.wildcard != nil {
				return m, fmt.Errorf("modifiers %s and %s exclude each other", m.wildcard.name, name)
			}
			m.wildcard = mod
			m.steps = append(m.steps, mod)
		case modTransform:
			m.steps = append(m.steps, mod)
		case modType:
			if m.typ != nil {
				return m, fmt.Errorf("modifiers %s and %s exclude each other", m.typ.name, name)
			}
			m.typ = mod
		case modFlag:
			m.flags |= mod.flag
		case modRegexFlag:
			if m.typ == nil || m.typ.test != tRegex || i == 0 {
				return m, fmt.Errorf("regex flag %q must follow re", name)
			}
			m.reFlags += name
		case modUnsupported:
			return m, fmt.Errorf("time modifier %s is unsupported", name)
		}
	}
	return m, m.checkExclusions()
}

// checkExclusions applies the type modifier's excludes.
func (m *modSet) checkExclusions() error {
	t := m.typ
	if t == nil {
		return nil
	}
	if t.excludes&exSteps != 0 && len(m.steps) > 0 {
		names := make([]string, len(m.steps))
		for i, s := range m.steps {
			names[i] = s.name
		}
		return fmt.Errorf("modifier %s cannot be combined with %s", t.name, strings.Join(names, "|"))
	}
	if t.excludes&exTransforms != 0 {
		for _, s := range m.steps {
			if s.kind == modTransform {
				return fmt.Errorf("modifier %s cannot be combined with %s", t.name, s.name)
			}
		}
	}
	if t.excludes&exCased != 0 && m.cased() {
		return fmt.Errorf("modifier cased cannot be combined with %s", t.name)
	}
	if t.excludes&exNeq != 0 && m.neq() {
		return fmt.Errorf("modifier neq cannot be combined with %s", t.name)
	}
	return nil
}

// wildcards returns the step that adds '*' before and/or after the value
// (unless it already has one there).
func wildcards(before, after bool) func(*compileCtx, sstr, []sstr) ([]sstr, error) {
	return func(_ *compileCtx, v sstr, out []sstr) ([]sstr, error) {
		if before && !v.startsWithStar() {
			v = v.prepend(piece{wild: '*'})
		}
		if after && !v.endsWithStar() {
			v = v.add(piece{wild: '*'})
		}
		return append(out, v), nil
	}
}

// mapLiterals returns the step that encodes the literal pieces of a value
// and keeps its wildcards.
func mapLiterals(f func(string) string) func(*compileCtx, sstr, []sstr) ([]sstr, error) {
	return func(_ *compileCtx, v sstr, out []sstr) ([]sstr, error) {
		return append(out, v.mapLiterals(f)), nil
	}
}

// literalStep returns the step that encodes a whole value into literals;
// a value with wildcards cannot be encoded as a whole.
func literalStep(what string, f func(string) []string) func(*compileCtx, sstr, []sstr) ([]sstr, error) {
	return func(_ *compileCtx, v sstr, out []sstr) ([]sstr, error) {
		if v.hasWildcards() {
			return nil, fmt.Errorf("%s of a value with wildcards", what)
		}
		for _, s := range f(v.text()) {
			out = append(out, literal(s))
		}
		return out, nil
	}
}

func compileRegex(_ *compileCtx, _ *modifier, s string, mods *modSet) (test, error) {
	expr := s
	if mods.reFlags != "" {
		expr = "(?" + mods.reFlags + ")" + s
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return test{}, fmt.Errorf("regex %q: %w", s, err)
	}
	t := test{kind: tRegex, testExt: &testExt{re: re}, src: s}
	if lits, ok := testNeedles(&t); ok {
		t.guard = lits
	}
	if p, err := syntax.Parse(expr, syntax.Perl); err == nil {
		t.minLen = minRunes(p.Simplify())
		if t.guard == nil { // a literal to search for rejects faster
			t.gate = compileRunGate(p)
		}
	}
	return t, nil
}

// minRunes is the fewest runes a match of re spans: a value of fewer bytes
// cannot match (SigmaHQ's SNAKE rule wants 82 characters of a command line
// and runs on every process creation).
func minRunes(re *syntax.Regexp) int {
	switch re.Op {
	case syntax.OpLiteral:
		return len(re.Rune)
	case syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return 1
	case syntax.OpCapture, syntax.OpPlus:
		return minRunes(re.Sub[0])
	case syntax.OpRepeat:
		return re.Min * minRunes(re.Sub[0])
	case syntax.OpConcat:
		n := 0
		for _, s := range re.Sub {
			n += minRunes(s)
		}
		return n
	case syntax.OpAlternate:
		n := -1
		for _, s := range re.Sub {
			if m := minRunes(s); n < 0 || m < n {
				n = m
			}
		}
		return max(n, 0)
	}
	return 0 // empty, anchors, star, quest, no match
}

func compileCIDR(_ *compileCtx, _ *modifier, s string, _ *modSet) (test, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		a, aerr := netip.ParseAddr(s)
		if aerr != nil {
			return test{}, fmt.Errorf("cidr %q: %w", s, err)
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	return test{kind: tCIDR, testExt: &testExt{prefix: p.Masked()}, src: s}, nil
}

func compileNumCmp(_ *compileCtx, mod *modifier, s string, _ *modSet) (test, error) {
	f, ok := parseNum(s)
	if !ok {
		return test{}, fmt.Errorf("%s needs a number, not %q", mod.name, s)
	}
	return test{kind: mod.test, num: f, src: s}, nil
}

func compileFieldRef(cc *compileCtx, _ *modifier, s string, mods *modSet) (test, error) {
	shape := patExact
	if mods.wildcard != nil {
		shape = mods.wildcard.shape
	}
	return test{kind: tFieldRef, testExt: &testExt{ref: cc.res.resolve(s)}, pat: pattern{kind: shape, cased: mods.cased()}, src: s}, nil
}
