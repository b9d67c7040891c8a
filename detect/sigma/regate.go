package sigma

import (
	"math"
	"math/bits"
	"regexp/syntax"
	"unicode"
	"unicode/utf8"
)

// A run gate is a necessary condition of a regex match that a byte scan
// decides far faster than the regex engine: every match contains a run of
// at least k consecutive bytes of one set. SigmaHQ's SNAKE rule,
// `\s[a-fA-F0-9]{64}\s[a-fA-F0-9]{16}`, runs on every process creation
// with a long command line, has no literal to search for, and costs the
// backtracker microseconds per command line; its gate (64 hex digits in a
// row) rejects almost every one while reading about one byte in 64.
//
// Exactness: the set holds every byte that any match of the part can
// consist of. A rune below 0x80 is its own byte; a rune at or above it is
// encoded in bytes 0x80-0xFF only, so its presence adds all of them; an
// invalid byte is read by the regexp package as U+FFFD, which adds them
// too. A run of k runes therefore spans at least k bytes, each in the set.

// byteSet is a set of bytes.
type byteSet [4]uint64

func (s *byteSet) add(c byte)      { s[c>>6] |= 1 << (c & 63) }
func (s *byteSet) has(c byte) bool { return s[c>>6]&(1<<(c&63)) != 0 }
func (s *byteSet) union(o byteSet) {
	s[0], s[1], s[2], s[3] = s[0]|o[0], s[1]|o[1], s[2]|o[2], s[3]|o[3]
}
func (s *byteSet) addRange(lo, hi byte) { // inclusive
	for c := int(lo); c <= int(hi); c++ {
		s.add(byte(c))
	}
}

func (s *byteSet) count() int {
	return bits.OnesCount64(s[0]) + bits.OnesCount64(s[1]) + bits.OnesCount64(s[2]) + bits.OnesCount64(s[3])
}

// addRune adds the bytes of r's UTF-8 encoding: r itself below 0x80, else
// every byte from 0x80 up.
func (s *byteSet) addRune(r rune) {
	if r < utf8.RuneSelf {
		s.add(byte(r))
		return
	}
	s[2], s[3] = ^uint64(0), ^uint64(0)
}

// regexBytes returns the bytes a match of re can consist of.
func regexBytes(re *syntax.Regexp) byteSet {
	var s byteSet
	switch re.Op {
	case syntax.OpLiteral:
		for _, r := range re.Rune {
			s.addRune(r)
			if re.Flags&syntax.FoldCase != 0 {
				for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
					s.addRune(f)
				}
			}
		}
	case syntax.OpCharClass:
		for i := 0; i+1 < len(re.Rune); i += 2 {
			lo, hi := re.Rune[i], re.Rune[i+1]
			if lo < utf8.RuneSelf {
				s.addRange(byte(lo), byte(min(hi, utf8.RuneSelf-1)))
			}
			if hi >= utf8.RuneSelf {
				s.addRune(hi)
			}
		}
	case syntax.OpAnyChar:
		s = byteSet{^uint64(0), ^uint64(0), ^uint64(0), ^uint64(0)}
	case syntax.OpAnyCharNotNL:
		s = byteSet{^uint64(0) &^ (1 << '\n'), ^uint64(0), ^uint64(0), ^uint64(0)}
	case syntax.OpCapture, syntax.OpStar, syntax.OpPlus, syntax.OpQuest, syntax.OpRepeat, syntax.OpConcat, syntax.OpAlternate:
		for _, sub := range re.Sub {
			s.union(regexBytes(sub))
		}
	}
	// empty-width assertions, empty match and no match consume nothing
	return s
}

// runGate: a match contains at least k consecutive bytes of set.
type runGate struct {
	set byteSet
	k   int
}

// score is how unlikely a run is in ordinary text: k times the bits a byte
// of the set carries among 128 ASCII ones. Sets with non-ASCII bytes score
// 0 (any run of text in another script passes).
func (g runGate) score() float64 {
	if g.k == 0 || g.set[2]|g.set[3] != 0 {
		return 0
	}
	return float64(g.k) * math.Log2(128/float64(max(1, g.set.count())))
}

func betterRun(a, b runGate) runGate {
	if b.score() > a.score() {
		return b
	}
	return a
}

// regexRun returns the best run every match of re contains (k 0: none).
func regexRun(re *syntax.Regexp) runGate {
	switch re.Op {
	case syntax.OpLiteral, syntax.OpCharClass, syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		return runGate{set: regexBytes(re), k: minRunes(re)}
	case syntax.OpCapture, syntax.OpPlus:
		return regexRun(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min < 1 {
			return runGate{}
		}
		return betterRun(regexRun(re.Sub[0]), runGate{set: regexBytes(re.Sub[0]), k: minRunes(re)})
	case syntax.OpAlternate:
		var g runGate
		for i, sub := range re.Sub {
			r := regexRun(sub)
			if r.k == 0 {
				return runGate{}
			}
			if i == 0 || r.k < g.k {
				g.k = r.k
			}
			g.set.union(r.set)
		}
		return g
	case syntax.OpConcat:
		// each part's own run, and every window of consecutive parts: the
		// text a window matches is contiguous
		parts := make([]runGate, len(re.Sub))
		for i, sub := range re.Sub {
			parts[i] = runGate{set: regexBytes(sub), k: minRunes(sub)}
		}
		var best runGate
		for i, sub := range re.Sub {
			best = betterRun(best, regexRun(sub))
			var w runGate
			for _, p := range parts[i:] {
				w.set.union(p.set)
				w.k += p.k
				best = betterRun(best, w)
			}
		}
		return best
	}
	return runGate{}
}

// minGateScore is the score from which a gate pays: 8 digits in a row
// scores 30, 64 hex digits 162; a run of 3 lowercase letters 6 (no gate).
const minGateScore = 16

// compileRunGate returns the gate of a regex, nil when it has none worth
// checking.
func compileRunGate(re *syntax.Regexp) *runGate {
	g := regexRun(re)
	if g.score() < minGateScore {
		return nil
	}
	return &g
}

// pass reports whether s holds a run of k bytes of the set. It looks at
// the last byte of each window first, so on text without such bytes it
// reads about one byte in k.
func (g *runGate) pass(s string) bool {
	k := g.k
	for i := k - 1; i < len(s); {
		if !g.set.has(s[i]) {
			i += k
			continue
		}
		lo := i - k + 1 // the run s[lo..i] is what is checked
		j := i - 1
		for j >= lo && g.set.has(s[j]) {
			j--
		}
		if j < lo {
			return true
		}
		i = j + k // s[j] is not in the set: a run starts after it
	}
	return false
}
