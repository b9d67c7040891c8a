package ioc

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
)

// format is the line syntax of one indicator file.
type format uint8

const (
	fmtHashes format = iota
	fmtIPs
	fmtDomains
	fmtPaths
	fmtLokiHash     // HASH;COMMENT
	fmtLokiFilename // REGEX;SCORE[;FALSE-POSITIVE-REGEX], case-sensitive
	fmtLokiC2       // DOMAIN-OR-IP[;SCORE]
)

var (
	errHashLen    = errors.New("not an MD5, SHA1 or SHA256 hash (32, 40 or 64 hex digits)")
	errHashHex    = errors.New("hash is not hexadecimal")
	errEmptyValue = errors.New("empty value before ';'")
	errDomain     = errors.New("not a domain name")
	errScore      = errors.New("LOKI score is not an integer")
)

// splitLine trims a line and splits "VALUE;comment". Blank lines and lines
// starting with '#' or "//" are skipped; for those, comment returns the
// comment text (LOKI files use such lines as section titles).
func splitLine(line string) (value, comment string, isComment, skip bool) {
	line = strings.TrimSpace(line)
	switch {
	case line == "":
		return "", "", false, true
	case line[0] == '#':
		return "", strings.TrimSpace(strings.TrimLeft(line, "#")), true, true
	case strings.HasPrefix(line, "//"):
		return "", strings.TrimSpace(line[2:]), true, true
	}
	value, comment, _ = strings.Cut(line, ";")
	return strings.TrimSpace(value), strings.TrimSpace(comment), false, false
}

// parseHash decodes an MD5/SHA1/SHA256 hex digest, told apart by length,
// into the first bytes of sum. It returns the lower-case digest.
func parseHash(s string, sum *[32]byte) (Kind, string, error) {
	var k Kind
	switch len(s) {
	case 32:
		k = KindMD5
	case 40:
		k = KindSHA1
	case 64:
		k = KindSHA256
	default:
		return 0, "", errHashLen
	}
	if !decodeHex(sum[:len(s)/2], s) {
		return 0, "", errHashHex
	}
	return k, strings.ToLower(s), nil
}

// parseIPIndicator parses an address or CIDR range. IPv4-mapped IPv6 values
// are turned into IPv4 so that both spellings match the same events.
func parseIPIndicator(s string) (netip.Prefix, bool, error) {
	if strings.IndexByte(s, '/') < 0 {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, false, err
		}
		if a.Zone() != "" {
			return netip.Prefix{}, false, fmt.Errorf("address %q has a zone", s)
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), true, nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, false, err
	}
	a, bits := p.Addr(), p.Bits()
	if a.Is4In6() {
		if bits < 96 {
			return netip.Prefix{}, false, fmt.Errorf("range %q spans beyond IPv4-mapped addresses", s)
		}
		a, bits = a.Unmap(), bits-96
	}
	p = netip.PrefixFrom(a, bits).Masked()
	return p, bits == a.BitLen(), nil
}

// parseDomain normalises a domain indicator: lower case, no trailing dot;
// "*.x" and ".x" mean x and every name under it.
func parseDomain(s string) (string, bool, error) {
	d := strings.ToLower(strings.TrimSuffix(s, "."))
	suffix := false
	switch {
	case strings.HasPrefix(d, "*."):
		d, suffix = d[2:], true
	case strings.HasPrefix(d, "."):
		d, suffix = d[1:], true
	}
	if !validDomain(d) {
		return "", false, errDomain
	}
	return d, suffix, nil
}

// validDomain accepts host names as DNS logs render them (labels of
// letters, digits, '-', '_'; internationalised names as UTF-8 or punycode).
func validDomain(d string) bool {
	if d == "" || len(d) > 253 || d[0] == '.' || d[len(d)-1] == '.' || strings.Contains(d, "..") {
		return false
	}
	for i := 0; i < len(d); i++ {
		c := d[i]
		ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c >= 0x80
		if !ok {
			return false
		}
	}
	return true
}

// compilePath compiles a path regex: case-insensitive for edr's
// paths_regex.txt, as written for LOKI lists (which say (?i) themselves).
func compilePath(expr string, foldCase bool) (*regexp.Regexp, error) {
	if foldCase {
		return regexp.Compile("(?i)" + expr)
	}
	return regexp.Compile(expr)
}

// lokiFilename splits "REGEX;SCORE[;FALSE-POSITIVE-REGEX]". The regex may
// itself contain ';' only before the score, so the line is split from the
// right: the last field is the false-positive regex only when the one
// before it is a score.
func lokiFilename(line string) (expr string, score int, fp string, err error) {
	parts := strings.Split(line, ";")
	if len(parts) < 2 {
		return "", 0, "", errScore
	}
	if n, e := strconv.Atoi(strings.TrimSpace(parts[len(parts)-1])); e == nil {
		return strings.Join(parts[:len(parts)-1], ";"), n, "", nil
	}
	if len(parts) >= 3 {
		if n, e := strconv.Atoi(strings.TrimSpace(parts[len(parts)-2])); e == nil {
			return strings.Join(parts[:len(parts)-2], ";"), n, parts[len(parts)-1], nil
		}
	}
	return "", 0, "", errScore
}

// decodeHex decodes len(dst)*2 hex digits of s into dst without allocating.
func decodeHex(dst []byte, s string) bool {
	if len(s) != 2*len(dst) {
		return false
	}
	bad := byte(0)
	for i := range dst {
		hi, lo := hexVal[s[2*i]], hexVal[s[2*i+1]]
		bad |= hi | lo
		dst[i] = hi<<4 | lo&0x0f
	}
	return bad&0x80 == 0
}

// hexVal maps a hex digit to its value and anything else to 0xff.
var hexVal = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = byte(c - '0')
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = byte(c-'a') + 10
		t[c-'a'+'A'] = byte(c-'a') + 10
	}
	return t
}()
