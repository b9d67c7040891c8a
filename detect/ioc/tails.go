package ioc

import (
	"regexp/syntax"
)

// Path regexes are mostly anchored at the end ("\\x\.exe$", "\.(exe|dll)$"),
// and most written file names end otherwise (.tmp, .log, .pdf …). When
// every regex is, a path whose last bytes end none of them cannot match:
// tailFilter turns it away for a few loads, before the memo hashes it and
// long before the automaton reads it. It only saves time: a value it
// passes is matched as before, and it passes every value it cannot rule
// out (a non-ASCII byte among the last ones, or any regex not anchored).

// maxTail bounds the bytes of a value's end the filter keys on.
const maxTail = 8

type tailFilter struct {
	n    int       // bytes keyed on; 0: no filter, every value may match
	keys bitFilter // tailKey of the last n bytes of every tail
}

// endTails returns lower-case ASCII strings such that every string re
// matches ends with one of them, ASCII case folded; false when re does
// not always match at the end of the text (nor, then, does any literal
// run it ends with count). re is parsed as literalGroups parses it.
func endTails(re *syntax.Regexp) ([]string, bool) {
	switch re.Op {
	case syntax.OpEndText: // "$" without (?m), and "\z"
		return []string{""}, true
	case syntax.OpCapture:
		return endTails(re.Sub[0])
	case syntax.OpAlternate:
		var out []string
		for _, sub := range re.Sub {
			t, ok := endTails(sub)
			if !ok {
				return nil, false
			}
			out = append(out, t...)
		}
		return out, len(out) <= maxAlternatives
	case syntax.OpConcat:
		tails, ok := endTails(re.Sub[len(re.Sub)-1])
		if !ok {
			return nil, false
		}
		// Grow the tails leftwards while the nodes before them match a
		// small exact set of strings.
		for i := len(re.Sub) - 2; i >= 0; i-- {
			in := analyze(re.Sub[i])
			// A literal with a non-ASCII rune: what follows the last one
			// is still required, and nothing before it counts.
			cut := in.exact == nil && re.Sub[i].Op == syntax.OpLiteral
			if cut {
				in.exact = []string{asciiEnd(re.Sub[i].Rune)}
			}
			if in.exact == nil || len(in.exact)*len(tails) > maxAlternatives {
				break
			}
			tails = product(in.exact, tails)
			if cut {
				break
			}
		}
		return tails, true
	}
	return nil, false
}

// asciiEnd is the run of ASCII runes rs ends with, lower-cased.
func asciiEnd(rs []rune) string {
	i := len(rs)
	for i > 0 && rs[i-1] < 0x80 {
		i--
	}
	b := make([]byte, 0, len(rs)-i)
	for _, r := range rs[i:] {
		b = append(b, lower(byte(r)))
	}
	return string(b)
}

// buildTailFilter keys the filter on the shortest tail's length (at most
// maxTail) when every pattern has tails; none otherwise.
func buildTailFilter(pats []pathPattern) tailFilter {
	var all []string
	n := maxTail
	for i := range pats {
		flags := syntax.Perl
		if pats[i].foldCase {
			flags |= syntax.FoldCase
		}
		re, err := syntax.Parse(pats[i].expr, flags)
		if err != nil {
			return tailFilter{}
		}
		tails, ok := endTails(re.Simplify())
		if !ok {
			return tailFilter{}
		}
		for _, t := range tails {
			n = min(n, len(t))
		}
		all = append(all, tails...)
	}
	if n == 0 || len(all) == 0 {
		return tailFilter{}
	}
	f := tailFilter{n: n, keys: newBitFilter(len(all))}
	for _, t := range all {
		key, _ := tailKey(t, n)
		f.keys.add(key)
	}
	return f
}

// tailKey packs the last n bytes of v, ASCII lower-cased; false when one
// of them is not ASCII (then the rune they belong to may fold to an ASCII
// letter: the Kelvin sign to k, the long s to s). len(v) ≥ n.
func tailKey(v string, n int) (uint64, bool) {
	var key uint64
	for i := len(v) - n; i < len(v); i++ {
		c := v[i]
		if c >= 0x80 {
			return 0, false
		}
		key = key<<8 | uint64(asciiFold[c])
	}
	return key, true
}

// mayMatch reports whether some pattern may match v: false only when v
// ends with no tail of any pattern.
func (f *tailFilter) mayMatch(v string) bool {
	if f.n == 0 {
		return true
	}
	if len(v) < f.n { // every tail is f.n ASCII bytes or longer
		return false
	}
	key, ascii := tailKey(v, f.n)
	return !ascii || f.keys.mayHave(key)
}
