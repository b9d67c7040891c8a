package ioc

import (
	"regexp"
	"regexp/syntax"
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

// maxAlternatives bounds the literal set of one regex.
const maxAlternatives = 32

type pathPattern struct {
	re, exclude *regexp.Regexp
	expr        string
	foldCase    bool
	ind         int32
}

type pathSet struct {
	pats     []pathPattern
	ac       acMachine
	litPats  [][]int32 // literal id → pattern ids
	always   []int32   // patterns without a literal, in load order
	alwaysRe *regexp.Regexp
}

func (p *pathSet) empty() bool { return len(p.pats) == 0 }

func buildPathSet(pats []pathPattern) pathSet {
	ps := pathSet{pats: pats}
	litID := map[string]int32{}
	var lits []string
	for i, pat := range pats {
		set := requiredLiterals(pat.expr, pat.foldCase)
		if set == nil {
			ps.always = append(ps.always, int32(i))
			continue
		}
		for _, l := range set {
			id, ok := litID[l]
			if !ok {
				id = int32(len(lits))
				litID[l] = id
				lits = append(lits, l)
				ps.litPats = append(ps.litPats, nil)
			}
			ps.litPats[id] = append(ps.litPats[id], int32(i))
		}
	}
	ps.ac = buildAC(lits)
	if len(ps.always) > 0 {
		alt := make([]string, len(ps.always))
		for i, id := range ps.always {
			alt[i] = "(?:" + pats[id].re.String() + ")"
		}
		// The parts compiled alone, so the alternation compiles too.
		ps.alwaysRe = regexp.MustCompile(strings.Join(alt, "|"))
	}
	return ps
}

// candidates appends the ids of patterns that may match v (a superset),
// unsorted and possibly repeated.
func (p *pathSet) candidates(v string, cand []int32) []int32 {
	cand = p.ac.scan(v, p.litPats, cand)
	if p.alwaysRe != nil && p.alwaysRe.MatchString(v) {
		cand = append(cand, p.always...)
	}
	return cand
}

// confirm reports whether pattern id really matches v.
func (p *pathSet) confirm(id int32, v string) bool {
	pat := &p.pats[id]
	return pat.re.MatchString(v) && (pat.exclude == nil || !pat.exclude.MatchString(v))
}

// requiredLiterals returns lower-case literals at least one of which occurs
// in every string expr matches, or nil when there is no such set of useful
// literals.
func requiredLiterals(expr string, foldCase bool) []string {
	flags := syntax.Perl
	if foldCase {
		flags |= syntax.FoldCase
	}
	re, err := syntax.Parse(expr, flags)
	if err != nil {
		return nil
	}
	set := required(re.Simplify())
	if set == nil || minLen(set) < minLiteral {
		return nil
	}
	return set
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
	if b == nil {
		return a != nil
	}
	if a == nil {
		return false
	}
	if ma, mb := minLen(a), minLen(b); ma != mb {
		return ma > mb
	}
	return len(a) < len(b)
}

func required(re *syntax.Regexp) []string {
	switch re.Op {
	case syntax.OpLiteral:
		return best(literalRuns(re.Rune))
	case syntax.OpCharClass:
		if c, ok := foldedChar(re); ok {
			return []string{string(c)}
		}
	case syntax.OpCapture, syntax.OpPlus:
		return required(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return required(re.Sub[0])
		}
	case syntax.OpConcat:
		return requiredConcat(re.Sub)
	case syntax.OpAlternate:
		var out []string
		for _, sub := range re.Sub {
			s := required(sub)
			if s == nil || len(out)+len(s) > maxAlternatives {
				return nil
			}
			out = append(out, s...)
		}
		return dedup(out)
	}
	return nil
}

// requiredConcat merges adjacent literal pieces into runs and picks the
// best of the runs and of the sub-expressions' own literal sets.
func requiredConcat(subs []*syntax.Regexp) []string {
	var bestSet []string
	var run []rune
	flush := func() {
		if s := best(literalRuns(run)); better(s, bestSet) {
			bestSet = s
		}
		run = run[:0]
	}
	for _, sub := range subs {
		if sub.Op == syntax.OpLiteral {
			run = append(run, sub.Rune...)
			continue
		}
		if c, ok := foldedChar(sub); ok && sub.Op == syntax.OpCharClass {
			run = append(run, c)
			continue
		}
		flush()
		if s := required(sub); better(s, bestSet) {
			bestSet = s
		}
	}
	flush()
	return bestSet
}

// literalRuns lower-cases ASCII runes and cuts the literal at non-ASCII
// runes (the automaton folds ASCII only).
func literalRuns(rs []rune) []string {
	var out []string
	var b strings.Builder
	for _, r := range rs {
		if r >= 0x80 {
			if b.Len() > 0 {
				out = append(out, b.String())
				b.Reset()
			}
			continue
		}
		b.WriteByte(lower(byte(r)))
	}
	if b.Len() > 0 {
		out = append(out, b.String())
	}
	return out
}

func best(runs []string) []string {
	var out string
	for _, r := range runs {
		if len(r) > len(out) {
			out = r
		}
	}
	if out == "" {
		return nil
	}
	return []string{out}
}

// foldedChar reports a character class that is one ASCII letter in either
// case ([Pp]) or one ASCII character.
func foldedChar(re *syntax.Regexp) (rune, bool) {
	if re.Op != syntax.OpCharClass {
		return 0, false
	}
	var c rune = -1
	for i := 0; i < len(re.Rune); i += 2 {
		if re.Rune[i+1]-re.Rune[i] > 64 {
			return 0, false
		}
		for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
			if r >= 0x80 && r != 0x212A && r != 0x17F { // Kelvin sign, long s: fold to k, s
				return 0, false
			}
			l := rune(lower(byte(r)))
			switch r {
			case 0x212A:
				l = 'k'
			case 0x17F:
				l = 's'
			}
			if c >= 0 && l != c {
				return 0, false
			}
			c = l
		}
	}
	return c, c >= 0
}

func dedup(s []string) []string {
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
