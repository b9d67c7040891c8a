package sigma

import (
	"encoding/base64"
	"fmt"
	"math"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf16"

	sigmago "github.com/bradleyjkemp/sigma-go"
	"github.com/edr-lab/edr/event"
)

// Compilation turns sigma-go's search AST into matchers once per rule:
// field names resolved to event.FieldIDs, value modifiers applied in the
// order written (sigma-rules-specification.md, "Value Modifiers"), needles
// folded, regexes compiled, numbers typed.

type fieldKind uint8

const (
	fkSchema  fieldKind = iota // event.FieldID
	fkExtra                    // a name the schema lacks: Event.Extra() lookup
	fkKeyword                  // field-less keyword search
)

type fieldRef struct {
	kind  fieldKind
	id    event.FieldID
	extra int32 // index into the ruleset's extra-name table
	name  string
}

// testKind is how a test compares; evalCtx.test has one case per kind.
type testKind uint8

const (
	tPattern testKind = iota
	tRegex
	tCIDR
	tGT // numeric comparisons (gt, gte, lt, lte modifiers)
	tGTE
	tLT
	tLTE
	tNumEq
	tFieldRef
)

// test is one value of a field matcher.
type test struct {
	kind   testKind
	dashed bool    // the value is one of a windash expansion
	pat    pattern // tPattern; tNumEq fallback (string form); tFieldRef shape
	num    float64 // tGT, tGTE, tLT, tLTE, tNumEq
	// *testExt holds what only regex, cidr and fieldref tests need (nil
	// for the others): most tests are patterns, and a compiled rule set
	// holds tens of thousands of tests for the whole run, so keeping these
	// fields out (and pattern.src, a copy of src) takes a test from 208 to
	// 88 bytes. Embedded, so a kind's eval branch reads t.re, t.prefix, ...
	// as before.
	*testExt
	src string
}

// testExt is the part of a test only some kinds use (see test).
type testExt struct {
	re     *regexp.Regexp // tRegex
	guard  []string       // tRegex: folded literals of which a match contains one
	minLen int            // tRegex: a match spans at least this many runes (so bytes)
	gate   *runGate       // tRegex: a run of bytes every match contains (nil: none worth checking)
	prefix netip.Prefix   // tCIDR
	ref    fieldRef       // tFieldRef
}

// matcher is one `field|modifiers: values` entry.
type matcher struct {
	// quick holds groups[0] compactly when fast (quick.go): the common
	// shape, evaluated without the generic walk over tests
	quick []quickTest
	fast  bool
	// anyAC answers the plain contains values of groups[0] in one scan
	// (large OR lists); those tests are then skipped one by one
	anyAC *acAutomaton
	// affix answers the plain endswith, startswith and exact values of
	// groups[0] (long lists) in a few look-ups; they are skipped too
	affix  *affixIndex
	field  fieldRef
	groups [][]test // values; with all, every group must match, else one test of the single group
	all    bool
	neq    bool // the field is present and none of the values match
	exists int8 // -1 no exists modifier, else the wanted presence (0/1)
	null   bool // null is one of the values: matches an absent field
	cased  bool
	cidr   bool   // every test is tCIDR: the value is parsed once (evalCIDR)
	src    string // "Field|mod|mod", for match_debug
	// acTests are all values of groups[0] when anyAC or affix holds some
	// of them (for match_debug and the prefilter's needles)
	acTests []test
}

// resolver maps rule field names to fieldRefs for one ruleset.
type resolver struct {
	extraIdx   map[string]int32
	extraNames []string
}

// resolve: exact schema name, then names with spaces stripped (Defender's
// "Threat Name"), then case-insensitive; anything else is looked up in the
// event's key/value part by name.
func (r *resolver) resolve(name string) fieldRef {
	if id, ok := event.FieldByName(name); ok {
		return fieldRef{kind: fkSchema, id: id, name: name}
	}
	norm := event.NormalizeName(name)
	if id, ok := event.FieldByName(norm); ok {
		return fieldRef{kind: fkSchema, id: id, name: name}
	}
	if id, ok := event.FieldByNameFold(norm); ok {
		return fieldRef{kind: fkSchema, id: id, name: name}
	}
	idx, ok := r.extraIdx[norm]
	if !ok {
		idx = int32(len(r.extraNames))
		r.extraIdx[norm] = idx
		r.extraNames = append(r.extraNames, norm)
	}
	return fieldRef{kind: fkExtra, extra: idx, name: norm}
}

// compileCtx carries what compiling a matcher needs from the ruleset.
type compileCtx struct {
	res          *resolver
	placeholders map[string][]string
}

// compileMatcher compiles one field matcher of a search.
func (cc *compileCtx) compileMatcher(fm sigmago.FieldMatcher) (*matcher, error) {
	mods, err := parseModifiers(fm.Modifiers)
	src := fm.Field
	if len(fm.Modifiers) > 0 {
		src += "|" + strings.Join(fm.Modifiers, "|")
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", src, err)
	}
	m := &matcher{all: mods.all(), neq: mods.neq(), cased: mods.cased(), exists: -1, src: src}
	if fm.Field == "" {
		m.field = fieldRef{kind: fkKeyword, name: "keywords"}
		if mods.typ != nil && mods.typ.excludes&exKeyword != 0 {
			return nil, fmt.Errorf("%s: modifier %s needs a field", src, mods.typ.name)
		}
	} else {
		m.field = cc.res.resolve(fm.Field)
	}
	if len(fm.Values) == 0 {
		return nil, fmt.Errorf("%s: no values", src)
	}
	if mods.typ != nil && mods.typ.compile == nil { // exists: a presence test, not values
		return m, m.compileExists(fm.Values)
	}
	for _, v := range fm.Values {
		if v == nil {
			if mods.typ != nil || len(mods.steps) > 0 || mods.neq() {
				return nil, fmt.Errorf("%s: null cannot take modifiers", src)
			}
			m.null = true
			continue
		}
		tests, err := cc.compileValue(v, mods, m.field.kind == fkKeyword, m.field.kind == fkSchema && decimalFields[m.field.id])
		if err != nil {
			return nil, fmt.Errorf("%s: %w", src, err)
		}
		if m.all {
			m.groups = append(m.groups, tests)
		} else if len(m.groups) == 0 {
			m.groups = [][]test{tests}
		} else {
			m.groups[0] = append(m.groups[0], tests...)
		}
	}
	if m.all && m.null {
		return nil, fmt.Errorf("%s: null cannot be combined with all", src)
	}
	m.cidr = mods.typ != nil && mods.typ.test == tCIDR && !m.null
	m.buildAnyAC()
	m.buildAffix()
	m.buildQuick()
	m.clip()
	return m, nil
}

// clip copies the value slices into exactly sized ones once the matcher is
// built: append growth leaves up to twice the needed capacity, and a
// compiled rule set holds these slices for the whole run.
func (m *matcher) clip() {
	for i, g := range m.groups {
		m.groups[i] = clipped(g)
	}
	m.groups = clipped(m.groups)
	m.acTests = clipped(m.acTests)
}

// clipped returns s in a new slice of capacity len(s) (nil stays nil).
func clipped[T any](s []T) []T {
	if s == nil || cap(s) == len(s) {
		return s
	}
	return append(make([]T, 0, len(s)), s...)
}

// minAnyAC is the number of plain contains values from which one
// automaton scan beats a strings.Contains per value.
const minAnyAC = 6

func (m *matcher) buildAnyAC() {
	if m.all || len(m.groups) != 1 || m.field.kind == fkKeyword {
		return
	}
	var lits []int
	for i, t := range m.groups[0] {
		if t.kind == tPattern && t.pat.kind == patContains && !t.pat.cased {
			lits = append(lits, i)
		}
	}
	if len(lits) < minAnyAC {
		return
	}
	b := newACBuilder()
	b.exact = true
	var rest []test
	for i, t := range m.groups[0] {
		if indexOfInt(lits, i) >= 0 {
			b.add(t.pat.lit, 0)
		} else {
			rest = append(rest, t)
		}
	}
	if m.anyAC = b.build(); m.anyAC == nil {
		return
	}
	m.acTests = m.groups[0]
	m.groups[0] = rest
}

func indexOfInt(list []int, x int) int {
	for i, v := range list {
		if v == x {
			return i
		}
	}
	return -1
}

func (m *matcher) compileExists(values []interface{}) error {
	if len(values) != 1 {
		return fmt.Errorf("%s: exists takes one boolean", m.src)
	}
	switch v := values[0].(type) {
	case bool:
		m.exists = b2i(v)
	case string:
		switch strings.ToLower(v) {
		case "true":
			m.exists = 1
		case "false":
			m.exists = 0
		default:
			return fmt.Errorf("%s: exists takes true or false, not %q", m.src, v)
		}
	default:
		return fmt.Errorf("%s: exists takes true or false, not %v", m.src, v)
	}
	return nil
}

func b2i(b bool) int8 {
	if b {
		return 1
	}
	return 0
}

// scalarString renders a YAML scalar as Sigma compares it.
func scalarString(v interface{}) (string, bool, error) {
	switch x := v.(type) {
	case string:
		return x, false, nil
	case bool:
		if x {
			return "true", false, nil
		}
		return "false", false, nil
	case int:
		return strconv.Itoa(x), true, nil
	case int64:
		return strconv.FormatInt(x, 10), true, nil
	case uint64:
		return strconv.FormatUint(x, 10), true, nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), true, nil
	}
	return "", false, fmt.Errorf("value %v of type %T is not a scalar", v, v)
}

// decimalFields are the schema fields rendered as decimal integers in every
// event type that has them (EventID, ProcessId of Sysmon is, ProcessId of
// Security is hex, so the latter field is not).
var decimalFields = func() []bool {
	dec := make([]bool, event.NumFields())
	for _, f := range event.Fields() {
		dec[f.ID] = f.Type == event.UInt || f.Type == event.Int
	}
	for _, d := range event.Defs() {
		for _, f := range d.Fields {
			if f.Type != event.UInt && f.Type != event.Int {
				dec[f.ID] = false
			}
		}
	}
	return dec
}()

// compileValue compiles one value. An integer compared with a field that
// Windows renders in decimal is compared as its decimal text (so the
// prefilter can use it); with other fields numbers compare as numbers
// (0x10 equals 16).
func (cc *compileCtx) compileValue(v interface{}, mods modSet, keyword, decimalField bool) ([]test, error) {
	s, numeric, err := scalarString(v)
	if err != nil {
		return nil, err
	}
	if t := mods.typ; t != nil {
		ct, err := t.compile(cc, t, s, &mods)
		if err != nil {
			return nil, err
		}
		return []test{ct}, nil
	}
	// plain strings: escapes, then modifiers in order
	vals := []sstr{parseSigmaStringExpand(s, mods.has("expand"))}
	if numeric {
		vals = []sstr{literal(s)}
	}
	if keyword && mods.wildcard == nil {
		// keywords are searched anywhere in the message fields
		// (sigma-rules-specification.md, "Keywords search").
		mods.steps = append(mods.steps, modByName["contains"])
	}
	for _, step := range mods.steps {
		if vals, err = cc.applyStep(step, vals); err != nil {
			return nil, err
		}
	}
	tests := make([]test, 0, len(vals))
	dashed := mods.has("windash")
	for _, sv := range vals {
		tests = append(tests, test{kind: tPattern, pat: compilePattern(sv, mods.cased()), dashed: dashed, src: sv.String()})
	}
	if numeric && len(mods.steps) == 0 && !mods.cased() {
		f, _ := parseNum(s)
		if !decimalField || f != float64(int64(f)) || strings.ContainsAny(s, ".eE") {
			tests[0].kind, tests[0].num = tNumEq, f
		}
	}
	return tests, nil
}

const maxExpansion = 1024

// applyStep applies one wildcard or transformation step to every value.
func (cc *compileCtx) applyStep(step *modifier, vals []sstr) ([]sstr, error) {
	out := make([]sstr, 0, len(vals))
	for _, v := range vals {
		var err error
		if out, err = step.apply(cc, v, out); err != nil {
			return nil, err
		}
		if len(out) > maxExpansion {
			return nil, fmt.Errorf("%s expands to more than %d values", step.name, maxExpansion)
		}
	}
	return out, nil
}

func utf16Bytes(s string, bigEndian, bom bool) string {
	units := utf16.Encode([]rune(s))
	b := make([]byte, 0, 2*len(units)+2)
	if bom {
		if bigEndian {
			b = append(b, 0xFE, 0xFF)
		} else {
			b = append(b, 0xFF, 0xFE)
		}
	}
	for _, u := range units {
		if bigEndian {
			b = append(b, byte(u>>8), byte(u))
		} else {
			b = append(b, byte(u), byte(u>>8))
		}
	}
	return string(b)
}

// base64Offsets returns the three encodings of s at byte offsets 0, 1 and
// 2 within a longer base64 text, trimmed to the characters that do not
// depend on the surrounding bytes (sigma-appendix-modifiers.md, base64offset).
func base64Offsets(s string) []string {
	start := [3]int{0, 2, 3}
	endTrim := [3]int{0, 3, 2} // indexed by (len+shift) % 3
	out := make([]string, 0, 3)
	for i := 0; i < 3; i++ {
		// the i shift bytes only influence the characters trimmed below
		enc := base64.StdEncoding.EncodeToString([]byte(strings.Repeat(" ", i) + s))
		end := len(enc) - endTrim[(len(s)+i)%3]
		if start[i] >= end {
			continue
		}
		out = append(out, enc[start[i]:end])
	}
	return out
}

var dashes = []string{"-", "/", "\u2013", "\u2014", "\u2015"}

// windash replaces every dash-like character (-, /, en dash, em dash,
// horizontal bar) by each of the five, in every combination
// (sigma-appendix-modifiers.md, windash).
func windash(v sstr) []sstr {
	out := []sstr{{}}
	for _, p := range v {
		if p.wild != 0 {
			for i := range out {
				out[i] = append(out[i], p)
			}
			continue
		}
		parts := splitDashes(p.lit)
		for _, part := range parts {
			if !isDash(part) {
				for i := range out {
					out[i] = append(out[i], piece{lit: part})
				}
				continue
			}
			next := make([]sstr, 0, len(out)*len(dashes))
			for _, o := range out {
				for _, d := range dashes {
					next = append(next, append(append(sstr{}, o...), piece{lit: d}))
				}
			}
			out = next
			if len(out) > maxExpansion {
				return out
			}
		}
	}
	return out
}

func isDash(s string) bool {
	for _, d := range dashes {
		if s == d {
			return true
		}
	}
	return false
}

func splitDashes(s string) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); {
		matched := ""
		for _, d := range dashes {
			if strings.HasPrefix(s[i:], d) {
				matched = d
				break
			}
		}
		if matched == "" {
			i++
			continue
		}
		if start < i {
			out = append(out, s[start:i])
		}
		out = append(out, matched)
		i += len(matched)
		start = i
	}
	if start < len(s) {
		out = append(out, s[start:])
	}
	return out
}

// expand replaces %name% placeholder pieces with every configured value
// (each read as a Sigma string, so it may hold wildcards).
func (cc *compileCtx) expand(v sstr) ([]sstr, error) {
	out := []sstr{{}}
	for _, p := range v {
		if p.ph == "" {
			for i := range out {
				out[i] = append(out[i], p)
			}
			continue
		}
		repl, ok := cc.placeholders[p.ph]
		if !ok {
			return nil, fmt.Errorf("placeholder %%%s%% is not defined (Options.Placeholders)", p.ph)
		}
		next := make([]sstr, 0, len(out)*len(repl))
		for _, o := range out {
			for _, r := range repl {
				next = append(next, append(append(sstr{}, o...), parseSigmaString(r)...))
			}
		}
		if len(next) > maxExpansion {
			return nil, fmt.Errorf("placeholders expand to more than %d values", maxExpansion)
		}
		out = next
	}
	return out, nil
}

// parseNum reads a decimal integer, a 0x hex integer or a decimal float
// without allocating (strconv allocates its error on failure, and numeric
// tests run on every candidate event).
func parseNum(s string) (float64, bool) {
	if s == "" {
		return 0, false
	}
	neg := false
	i := 0
	if s[0] == '-' || s[0] == '+' {
		neg = s[0] == '-'
		i = 1
	}
	if i == len(s) {
		return 0, false
	}
	var n uint64
	if len(s) > i+2 && s[i] == '0' && (s[i+1] == 'x' || s[i+1] == 'X') {
		for _, c := range []byte(s[i+2:]) {
			var d byte
			switch {
			case '0' <= c && c <= '9':
				d = c - '0'
			case 'a' <= c && c <= 'f':
				d = c - 'a' + 10
			case 'A' <= c && c <= 'F':
				d = c - 'A' + 10
			default:
				return 0, false
			}
			if n > math.MaxUint64>>4 {
				return 0, false
			}
			n = n<<4 | uint64(d)
		}
		return sign(float64(n), neg), true
	}
	for j := i; j < len(s); j++ {
		c := s[j]
		if c < '0' || c > '9' {
			if c == '.' || c == 'e' || c == 'E' {
				return parseFloat(s)
			}
			return 0, false
		}
		if n > (math.MaxUint64-9)/10 {
			return parseFloat(s)
		}
		n = n*10 + uint64(c-'0')
	}
	return sign(float64(n), neg), true
}

func parseFloat(s string) (float64, bool) {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || c == '.' || c == 'e' || c == 'E' || c == '-' || c == '+') {
			return 0, false
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil && !math.IsNaN(f) && !math.IsInf(f, 0)
}

func sign(f float64, neg bool) float64 {
	if neg {
		return -f
	}
	return f
}
