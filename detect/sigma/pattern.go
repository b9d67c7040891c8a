package sigma

import (
	"strings"
	"unicode/utf8"
)

// sstr is a Sigma string value after escape processing: literal text and
// the wildcards '*' (any run of characters) and '?' (exactly one character).
type sstr []piece

type piece struct {
	lit  string
	wild byte   // 0 for a literal piece, '*' or '?' for a wildcard
	ph   string // placeholder name (expand modifier), lit and wild unused
}

// parseSigmaString applies the escape rules of the Sigma specification
// (sigma-rules-specification.md, "Escape Character"): '\' escapes '*', '?'
// and '\'; a backslash before any other character is a plain backslash.
func parseSigmaString(s string) sstr { return parseSigmaStringExpand(s, false) }

// parseSigmaStringExpand also reads %name% placeholders when the expand
// modifier is present; then `\%` is a plain percent sign
// (sigma-rules-specification.md, "Placeholders").
func parseSigmaStringExpand(s string, expand bool) sstr {
	var out sstr
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			out = append(out, piece{lit: b.String()})
			b.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && (s[i+1] == '*' || s[i+1] == '?' || s[i+1] == '\\'):
			b.WriteByte(s[i+1])
			i++
		case c == '*' || c == '?':
			flush()
			out = append(out, piece{wild: c})
		case expand && c == '\\' && i+1 < len(s) && s[i+1] == '%':
			b.WriteByte('%')
			i++
		case expand && c == '%' && strings.IndexByte(s[i+1:], '%') > 0:
			j := strings.IndexByte(s[i+1:], '%')
			flush()
			out = append(out, piece{ph: s[i+1 : i+1+j]})
			i += j + 1
		default:
			b.WriteByte(c)
		}
	}
	flush()
	return out
}

func literal(s string) sstr {
	if s == "" {
		return sstr{}
	}
	return sstr{{lit: s}}
}

func (v sstr) hasWildcards() bool {
	for _, p := range v {
		if p.wild != 0 || p.ph != "" {
			return true
		}
	}
	return false
}

// text joins the literal pieces (callers check hasWildcards first).
func (v sstr) text() string {
	if len(v) == 1 {
		return v[0].lit
	}
	var b strings.Builder
	for _, p := range v {
		b.WriteString(p.lit)
	}
	return b.String()
}

// String renders the value back in Sigma syntax (for debug output),
// escaping as little as the specification allows: a backslash is doubled
// only before a wildcard or another backslash.
func (v sstr) String() string {
	var b strings.Builder
	for i, p := range v {
		if p.wild != 0 {
			b.WriteByte(p.wild)
			continue
		}
		if p.ph != "" {
			b.WriteString("%" + p.ph + "%")
			continue
		}
		nextWild := i+1 < len(v) && v[i+1].wild != 0
		for j := 0; j < len(p.lit); j++ {
			c := p.lit[j]
			switch {
			case c == '*' || c == '?':
				b.WriteByte('\\')
			case c == '\\':
				var next byte
				if j+1 < len(p.lit) {
					next = p.lit[j+1]
				}
				if next == '*' || next == '?' || next == '\\' || (j+1 == len(p.lit) && nextWild) {
					b.WriteByte('\\')
				}
			}
			b.WriteByte(c)
		}
	}
	if b.Cap() > b.Len() { // the Builder's growth slack would stay with the compiled test
		return strings.Clone(b.String())
	}
	return b.String()
}

func (v sstr) startsWithStar() bool { return len(v) > 0 && v[0].wild == '*' }
func (v sstr) endsWithStar() bool   { return len(v) > 0 && v[len(v)-1].wild == '*' }

func (v sstr) prepend(p piece) sstr { return append(sstr{p}, v...) }
func (v sstr) add(p piece) sstr     { return append(append(sstr{}, v...), p) }

// mapLiterals rewrites every literal piece, keeping wildcards.
func (v sstr) mapLiterals(fn func(string) string) sstr {
	out := make(sstr, 0, len(v))
	for _, p := range v {
		if p.wild == 0 && p.ph == "" {
			p.lit = fn(p.lit)
		}
		out = append(out, p)
	}
	return out
}

// patKind is the shape of a compiled string pattern; most Sigma values are
// exact, prefix, suffix or contains, which map to single string operations.
type patKind uint8

const (
	patExact patKind = iota
	patPrefix
	patSuffix
	patContains
	patAny // '*' alone: any value of a present field
	patGlob
)

// pattern is a compiled string value: literal text already folded (unless
// cased) and a matcher shape.
type pattern struct {
	kind  patKind
	cased bool
	lit   string   // exact / prefix / suffix / contains; patGlob: its longest literal
	glob  []gtoken // patGlob
}

type gtoken struct {
	lit  string
	wild byte
}

// compilePattern turns a Sigma string into a matcher, folding literals
// unless cased.
func compilePattern(v sstr, cased bool) pattern {
	// merge adjacent literals and collapse runs of '*'
	var toks []gtoken
	for _, p := range v {
		if p.wild == 0 {
			if p.lit == "" {
				continue
			}
			lit := p.lit
			if !cased {
				lit = fold(lit)
			}
			if n := len(toks); n > 0 && toks[n-1].wild == 0 {
				toks[n-1].lit += lit
				continue
			}
			toks = append(toks, gtoken{lit: lit})
			continue
		}
		if n := len(toks); p.wild == '*' && n > 0 && toks[n-1].wild == '*' {
			continue
		}
		toks = append(toks, gtoken{wild: p.wild})
	}
	pt := pattern{cased: cased} // test.src keeps the value as written
	star := func(t gtoken) bool { return t.wild == '*' }
	lit := func(t gtoken) bool { return t.wild == 0 }
	switch n := len(toks); {
	case n == 0:
		pt.kind, pt.lit = patExact, ""
	case n == 1 && lit(toks[0]):
		pt.kind, pt.lit = patExact, toks[0].lit
	case n == 1 && star(toks[0]):
		pt.kind = patAny
	case n == 2 && star(toks[0]) && lit(toks[1]):
		pt.kind, pt.lit = patSuffix, toks[1].lit
	case n == 2 && lit(toks[0]) && star(toks[1]):
		pt.kind, pt.lit = patPrefix, toks[0].lit
	case n == 3 && star(toks[0]) && lit(toks[1]) && star(toks[2]):
		pt.kind, pt.lit = patContains, toks[1].lit
	default:
		pt.kind, pt.glob = patGlob, toks
		// a match contains every literal: the longest is checked first
		// with strings.Contains, which rejects most values faster than
		// globMatch's backtracking
		for _, t := range toks {
			if len(t.lit) > len(pt.lit) {
				pt.lit = t.lit
			}
		}
	}
	return pt
}

// match tests a value already folded (or raw when the pattern is cased).
func (p *pattern) match(s string) bool {
	if p.kind == patGlob {
		return strings.Contains(s, p.lit) && globMatch(p.glob, s)
	}
	return litMatch(p.kind, p.lit, s)
}

// litMatch tests s against lit as exact, prefix, suffix, contains or any
// (every kind but patGlob); quick matchers share it.
func litMatch(kind patKind, lit, s string) bool {
	switch kind {
	case patExact:
		return s == lit
	case patPrefix:
		return strings.HasPrefix(s, lit)
	case patSuffix:
		return strings.HasSuffix(s, lit)
	case patContains:
		return strings.Contains(s, lit)
	}
	return true // patAny
}

// globMatch matches '*' / '?' token lists; it backtracks only to the last
// '*', so it runs in O(len(s) * len(toks)) at worst.
func globMatch(toks []gtoken, s string) bool {
	ti, si := 0, 0
	starT, starS := -1, 0
	for {
		if ti < len(toks) {
			t := toks[ti]
			switch t.wild {
			case '*':
				starT, starS = ti, si
				ti++
				continue
			case '?':
				if si < len(s) {
					_, n := utf8.DecodeRuneInString(s[si:])
					si += n
					ti++
					continue
				}
			default:
				if strings.HasPrefix(s[si:], t.lit) {
					// a literal directly after '*' can jump to its next occurrence
					si += len(t.lit)
					ti++
					continue
				}
			}
		} else if si == len(s) {
			return true
		}
		if starT < 0 || starS >= len(s) {
			return false
		}
		// retry from the last '*', consuming one more character
		_, n := utf8.DecodeRuneInString(s[starS:])
		starS += n
		ti, si = starT+1, starS
	}
}

// literals returns the literal runs of the pattern (folded as compiled);
// the prefilter picks needles from them.
func (p *pattern) literals() []string {
	switch p.kind {
	case patAny:
		return nil
	case patGlob:
		var out []string
		for _, t := range p.glob {
			if t.wild == 0 {
				out = append(out, t.lit)
			}
		}
		return out
	default:
		if p.lit == "" {
			return nil
		}
		return []string{p.lit}
	}
}
