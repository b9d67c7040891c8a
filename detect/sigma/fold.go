package sigma

import (
	"slices"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Sigma matches strings case-insensitively. edr folds both sides once with
// Unicode simple case folding: every rune maps to the smallest rune of its
// SimpleFold orbit, so 'K', 'k' and 'K' (Kelvin sign) fold alike and 'ſ'
// folds with 's'. Folding is rune-to-rune, so '?' (one rune) keeps its
// meaning on folded text. Needles are folded at compile time; event values
// at most once per event.

var asciiFold = func() (t [128]byte) {
	for i := range t {
		t[i] = byte(i)
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] = byte(c - 'a' + 'A')
	}
	return t
}()

var (
	bmpFoldOnce sync.Once
	bmpFold     []rune // orbit minimum for every BMP rune, built on first non-ASCII fold
)

func orbitMin(r rune) rune {
	m := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		if f < m {
			m = f
		}
	}
	return m
}

func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		return rune(asciiFold[r])
	}
	if r < 0x10000 {
		bmpFoldOnce.Do(func() {
			bmpFold = make([]rune, 0x10000)
			for i := range bmpFold {
				bmpFold[i] = orbitMin(rune(i))
			}
		})
		return bmpFold[r]
	}
	return orbitMin(r)
}

// isFolded reports whether s is unchanged by folding (the common case for
// values without lower-case ASCII letters is rare, so callers mostly use
// appendFold directly).
func needsFold(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf || ('a' <= c && c <= 'z') {
			return true
		}
	}
	return false
}

// appendFold appends the folded form of s to dst. ASCII text, nearly all
// of Windows telemetry, is folded by index into room made once; from the
// first non-ASCII byte on, rune by rune.
func appendFold(dst []byte, s string) []byte {
	at := len(dst)
	dst = slices.Grow(dst, len(s))[:at+len(s)]
	i := 0
	for ; i < len(s) && s[i] < utf8.RuneSelf; i++ {
		dst[at+i] = asciiFold[s[i]]
	}
	dst = dst[:at+i]
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			dst = append(dst, asciiFold[c])
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 {
			dst = append(dst, c) // invalid UTF-8 byte: kept as is
		} else {
			dst = utf8.AppendRune(dst, foldRune(r))
		}
		i += n
	}
	return dst
}

// fold returns the folded form of s (allocates; compile time only).
func fold(s string) string {
	if !needsFold(s) {
		return s
	}
	return string(appendFold(make([]byte, 0, len(s)), s))
}
