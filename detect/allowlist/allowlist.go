// Package allowlist implements the path and image allowlists of the seed:
// a shared allowlist.paths list that response, hash IOCs and YARA inherit
// unless their module-specific list is explicitly set (which then overrides
// it for that module only). Matching is a case-insensitive prefix match
// (Unicode simple folding; '/' and '\' are the same separator).
package allowlist

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Effective applies the seed's precedence: a module-specific list that is
// explicitly set (even to an empty list) overrides the shared one;
// otherwise the module inherits the shared list. Configurations loaded by
// package config are already resolved this way (its `inherit` keys); this
// is for callers that hold the lists themselves.
func Effective(shared, module []string, moduleSet bool) []string {
	if moduleSet {
		return module
	}
	return shared
}

// Paths is a set of path prefixes.
type Paths struct {
	prefixes []string
}

// NewPaths builds a prefix list; empty entries are ignored.
func NewPaths(prefixes []string) *Paths {
	p := &Paths{}
	for _, s := range prefixes {
		if s = strings.TrimSpace(s); s != "" {
			p.prefixes = append(p.prefixes, s)
		}
	}
	return p
}

// Len is the number of prefixes.
func (p *Paths) Len() int {
	if p == nil {
		return 0
	}
	return len(p.prefixes)
}

// Match reports whether path starts with one of the prefixes, ignoring
// case. A nil list matches nothing.
func (p *Paths) Match(path string) bool {
	if p == nil || path == "" {
		return false
	}
	for _, pre := range p.prefixes {
		if HasPrefixFold(path, pre) {
			return true
		}
	}
	return false
}

// HasPrefixFold reports whether s starts with prefix under Unicode simple
// case folding, treating '/' and '\' as equal.
func HasPrefixFold(s, prefix string) bool {
	for prefix != "" {
		if s == "" {
			return false
		}
		a, na := utf8.DecodeRuneInString(s)
		b, nb := utf8.DecodeRuneInString(prefix)
		if !runeEqualFold(a, b) {
			return false
		}
		s, prefix = s[na:], prefix[nb:]
	}
	return true
}

func runeEqualFold(a, b rune) bool {
	if a == b {
		return true
	}
	if (a == '/' || a == '\\') && (b == '/' || b == '\\') {
		return true
	}
	if a < utf8.RuneSelf && b < utf8.RuneSelf {
		return 'A' <= a && a <= 'Z' && a+'a'-'A' == b || 'A' <= b && b <= 'Z' && b+'a'-'A' == a
	}
	for f := unicode.SimpleFold(a); f != a; f = unicode.SimpleFold(f) {
		if f == b {
			return true
		}
	}
	return false
}

// Images is a list of image basenames ("lsass.exe", or "lsass" without the
// extension) and full paths that must never be acted on.
type Images struct {
	names []string
	paths []string
}

// NewImages builds an image allowlist: entries containing a path separator
// are full paths, others basenames.
func NewImages(entries []string) *Images {
	im := &Images{}
	for _, e := range entries {
		e = strings.TrimSpace(e)
		switch {
		case e == "":
		case strings.ContainsAny(e, `\/`):
			im.paths = append(im.paths, e)
		default:
			im.names = append(im.names, e)
		}
	}
	return im
}

// Match reports whether image (a full path) is allowlisted.
func (im *Images) Match(image string) bool {
	if im == nil || image == "" {
		return false
	}
	for _, p := range im.paths {
		if equalFoldPath(image, p) {
			return true
		}
	}
	base := image
	if i := strings.LastIndexAny(image, `\/`); i >= 0 {
		base = image[i+1:]
	}
	stem := base
	if i := strings.LastIndexByte(base, '.'); i > 0 {
		stem = base[:i]
	}
	for _, n := range im.names {
		if strings.EqualFold(base, n) || strings.EqualFold(stem, n) {
			return true
		}
	}
	return false
}

func equalFoldPath(a, b string) bool {
	return HasPrefixFold(a, b) && HasPrefixFold(b, a)
}
