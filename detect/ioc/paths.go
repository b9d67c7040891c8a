package ioc

import (
	"regexp"
	"regexp/syntax"
	"slices"
	"sort"
	"strings"
)

// Go's regexp has no DFA: one alternation of N regexes costs O(N) per input
// byte, which at thousands of path regexes is milliseconds per path. So
// each regex contributes the literals that every match of it must contain;
// one Aho-Corasick automaton over all literals (ASCII case-folded) reads a
// path once, and only regexes whose literal occurred are run. Regexes with
// no usable literal are joined into one combined RE2 program that guards
// running them one by one.

// minLiteral is the shortest literal worth prefiltering on: shorter ones
// (a lone "\") occur in every path.
const minLiteral = 3

// maxAlternatives bounds the literal set of one group; maxClass the
// characters of a class expanded into literals.
const (
	maxAlternatives = 256
	maxClass        = 36
	maxGroups       = 4
)

type pathPattern struct {
	re, exclude *regexp.Regexp
	expr        string
	foldCase    bool
	ind         int32
	also        [][]int32 // further literal groups (literal ids), each required
}

type pathSet struct {
	pats     []pathPattern
	ac       acMachine
	primary  [][]int32 // literal id → patterns whose primary group holds it
	always   []int32   // patterns without a literal, in load order
	alwaysRe *regexp.Regexp
	tail     tailFilter
}

func (p *pathSet) empty() bool { return len(p.pats) == 0 }

func buildPathSet(pats []pathPattern) pathSet {
	ps := pathSet{pats: pats, tail: buildTailFilter(pats)}
	litID := map[string]int32{}
	var lits []string
	id := func(l string) int32 {
		i, ok := litID[l]
		if !ok {
			i = int32(len(lits))
			litID[l] = i
			lits = append(lits, l)
			ps.primary = append(ps.primary, nil)
		}
		return i
	}
	for i := range pats {
		groups := literalGroups(pats[i].expr, pats[i].foldCase)
		if groups == nil {
			ps.always = append(ps.always, int32(i))
			continue
		}
		for _, l := range groups[0] {
			lid := id(l)
			ps.primary[lid] = append(ps.primary[lid], int32(i))
		}
		for _, g := range groups[1:] {
			ids := make([]int32, len(g))
			for j, l := range g {
				ids[j] = id(l)
			}
			slices.Sort(ids)
			pats[i].also = append(pats[i].also, ids)
		}
	}
	ps.ac = buildAC(lits)
	if len(ps.always) > 0 {
		ps.alwaysRe = alternation(pats, ps.always)
	}
	return ps
}

// alternation compiles one program matching wherever any of pats[ids]
// matches. It joins parse trees, not source text: a source such as `\Q…`
// (quoted to the end) cannot be wrapped in "(?:…)". Nil when the joined
// program does not compile (the guard is then skipped, not the patterns).
func alternation(pats []pathPattern, ids []int32) *regexp.Regexp {
	alt := &syntax.Regexp{Op: syntax.OpAlternate}
	for _, id := range ids {
		sub, err := syntax.Parse(pats[id].re.String(), syntax.Perl)
		if err != nil {
			return nil
		}
		alt.Sub = append(alt.Sub, sub)
	}
	re, err := regexp.Compile(alt.String())
	if err != nil {
		return nil
	}
	return re
}

// maxFound bounds the distinct literals recorded for one value on the
// stack; more spill to the heap.
const maxFound = 128

// candidates appends the ids of patterns that may match v (a superset):
// a literal of their primary group occurs in v, and so does a literal of
// each further group. Unsorted, possibly repeated.
func (p *pathSet) candidates(v string, cand []int32) []int32 {
	var buf [maxFound]int32
	found := p.ac.scan(v, buf[:0])
	for _, lit := range found {
	pats:
		for _, pid := range p.primary[lit] {
			for _, g := range p.pats[pid].also {
				if !anyIn(g, found) {
					continue pats
				}
			}
			cand = append(cand, pid)
		}
	}
	if len(p.always) > 0 && (p.alwaysRe == nil || p.alwaysRe.MatchString(v)) {
		cand = append(cand, p.always...)
	}
	return cand
}

// anyIn reports whether a found literal is in the sorted group g.
func anyIn(g, found []int32) bool {
	for _, f := range found {
		if _, ok := slices.BinarySearch(g, f); ok {
			return true
		}
	}
	return false
}

// confirm reports whether pattern id really matches v.
func (p *pathSet) confirm(id int32, v string) bool {
	pat := &p.pats[id]
	return pat.re.MatchString(v) && (pat.exclude == nil || !pat.exclude.MatchString(v))
}

// literalGroups returns up to maxGroups sets of lower-case literals such
// that every string expr matches contains a literal of each set, the best
// prefilter first; nil when there is no useful set.
func literalGroups(expr string, foldCase bool) [][]string {
	flags := syntax.Perl
	if foldCase {
		flags |= syntax.FoldCase
	}
	re, err := syntax.Parse(expr, flags)
	if err != nil {
		return nil
	}
	info := analyze(re.Simplify())
	groups := info.req
	if info.exact != nil {
		groups = append(groups, info.exact)
	}
	var useful [][]string
	for _, g := range groups {
		if minLen(g) >= minLiteral {
			useful = append(useful, dedup(g))
		}
	}
	if len(useful) == 0 {
		return nil
	}
	sort.SliceStable(useful, func(i, j int) bool { return better(useful[i], useful[j]) })
	if len(useful) > maxGroups {
		useful = useful[:maxGroups]
	}
	return useful
}

// requiredLiterals is the primary group of literalGroups.
func requiredLiterals(expr string, foldCase bool) []string {
	g := literalGroups(expr, foldCase)
	if g == nil {
		return nil
	}
	return g[0]
}

func minLen(set []string) int {
	m := -1
	for _, s := range set {
		if m < 0 || len(s) < m {
			m = len(s)
		}
	}
	return m
}

// better reports whether literal set a prefilters better than b: longer
// shortest literal first, then fewer alternatives.
func better(a, b []string) bool {
	if ma, mb := minLen(a), minLen(b); ma != mb {
		return ma > mb
	}
	return len(a) < len(b)
}

// litInfo is what the prefilter knows about a regex node.
type litInfo struct {
	exact []string   // all strings the node matches, when few; nil when unknown
	req   [][]string // groups: every match contains a literal of each
}

func analyze(re *syntax.Regexp) litInfo {
	switch re.Op {
	case syntax.OpEmptyMatch, syntax.OpBeginLine, syntax.OpEndLine, syntax.OpBeginText, syntax.OpEndText,
		syntax.OpWordBoundary, syntax.OpNoWordBoundary:
		return litInfo{exact: []string{""}}
	case syntax.OpLiteral:
		return literalInfo(re.Rune)
	case syntax.OpCharClass:
		if cs, ok := classChars(re); ok {
			return litInfo{exact: cs}
		}
	case syntax.OpCapture:
		return analyze(re.Sub[0])
	case syntax.OpPlus:
		return litInfo{req: groupsOf(analyze(re.Sub[0]))}
	case syntax.OpRepeat:
		sub := analyze(re.Sub[0])
		if re.Min == 1 && re.Max == 1 {
			return sub
		}
		if re.Min >= 1 {
			return litInfo{req: groupsOf(sub)}
		}
	case syntax.OpConcat:
		return concatInfo(re.Sub)
	case syntax.OpAlternate:
		return alternateInfo(re.Sub)
	}
	return litInfo{}
}

// groupsOf is every group a node guarantees, its exact set included.
func groupsOf(in litInfo) [][]string {
	if in.exact != nil {
		return append(in.req, in.exact)
	}
	return in.req
}

// literalInfo: ASCII is lower-cased (the automaton folds ASCII); a
// non-ASCII rune cuts the literal into separately required runs.
func literalInfo(rs []rune) litInfo {
	var runs [][]string
	var b strings.Builder
	ascii := true
	for _, r := range rs {
		if r >= 0x80 {
			ascii = false
			if b.Len() > 0 {
				runs = append(runs, []string{b.String()})
				b.Reset()
			}
			continue
		}
		b.WriteByte(lower(byte(r)))
	}
	if ascii {
		return litInfo{exact: []string{b.String()}}
	}
	if b.Len() > 0 {
		runs = append(runs, []string{b.String()})
	}
	return litInfo{req: runs}
}

// classChars expands a small class into its ASCII-folded characters (the
// Kelvin sign and long s fold to k and s, as RE2's (?i) does).
func classChars(re *syntax.Regexp) ([]string, bool) {
	seen := map[byte]bool{}
	var out []string
	for i := 0; i < len(re.Rune); i += 2 {
		if re.Rune[i+1]-re.Rune[i] > 2*maxClass {
			return nil, false
		}
		for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
			var c byte
			switch {
			case r == 0x212A:
				c = 'k'
			case r == 0x17F:
				c = 's'
			case r >= 0x80:
				return nil, false
			default:
				c = lower(byte(r))
			}
			if !seen[c] {
				seen[c] = true
				out = append(out, string(c))
			}
		}
	}
	if len(out) == 0 || len(out) > maxClass {
		return nil, false
	}
	return out, true
}

// concatInfo joins runs of exact children by cross product and keeps
// every child's groups (all are required in a concatenation).
func concatInfo(subs []*syntax.Regexp) litInfo {
	var out litInfo
	cur := []string{""}
	allExact := true
	flush := func() {
		if cur != nil {
			out.req = append(out.req, cur)
		}
	}
	for _, sub := range subs {
		in := analyze(sub)
		out.req = append(out.req, in.req...)
		if in.exact == nil {
			allExact = false
			flush()
			cur = []string{""}
			continue
		}
		if cur != nil && len(cur)*len(in.exact) <= maxAlternatives {
			cur = product(cur, in.exact)
			continue
		}
		// Too many alternatives: close the run, but carry what all of its
		// strings end with into the next one ("c:\", "d:\" … carry ":\").
		allExact = false
		flush()
		cur = product([]string{commonSuffix(cur)}, in.exact)
	}
	if allExact {
		out.exact = cur
		return out
	}
	flush()
	return out
}

// commonSuffix is the longest string every element of set ends with.
func commonSuffix(set []string) string {
	if len(set) == 0 {
		return ""
	}
	suf := set[0]
	for _, x := range set[1:] {
		for !strings.HasSuffix(x, suf) {
			suf = suf[1:]
		}
	}
	return suf
}

func product(a, b []string) []string {
	out := make([]string, 0, len(a)*len(b))
	for _, x := range a {
		for _, y := range b {
			out = append(out, x+y)
		}
	}
	return out
}

// alternateInfo: exact when every branch is; otherwise one group made of
// each branch's best group (a branch without one leaves nothing).
func alternateInfo(subs []*syntax.Regexp) litInfo {
	infos := make([]litInfo, len(subs))
	allExact := true
	var exact []string
	for i, sub := range subs {
		infos[i] = analyze(sub)
		if infos[i].exact == nil {
			allExact = false
		}
		exact = append(exact, infos[i].exact...)
	}
	if allExact && len(exact) <= maxAlternatives {
		return litInfo{exact: exact}
	}
	var group []string
	for _, in := range infos {
		best := bestGroup(groupsOf(in))
		if best == nil {
			return litInfo{}
		}
		group = append(group, best...)
	}
	if len(group) > maxAlternatives {
		return litInfo{}
	}
	return litInfo{req: [][]string{group}}
}

// bestGroup is the best of the groups that are useful on their own.
func bestGroup(groups [][]string) []string {
	var best []string
	for _, g := range groups {
		if minLen(g) >= minLiteral && (best == nil || better(g, best)) {
			best = g
		}
	}
	return best
}

func dedup(s []string) []string {
	s = append([]string(nil), s...)
	sort.Strings(s)
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
