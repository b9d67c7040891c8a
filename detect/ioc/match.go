package ioc

import (
	"net/netip"
	"slices"

	"github.com/edr-lab/edr/event"
)

// The fields each kind of indicator is matched on, in the order hits are
// reported. They cover Sysmon and the analogous fields of the other
// channels the schema knows.
var (
	// Sysmon Hashes (1, 6, 7, 23–29) and Hash (15): "SHA1=…,MD5=…,…".
	hashFields = []event.FieldID{event.FHashes, event.FHash}
	// Sysmon 3; Security 5156/5157 (DestAddress, SourceAddress), 5154/5158;
	// logon and share events 4624/4625/4648/5140/5145 (IpAddress); 4825.
	ipFields = fieldIDs("DestinationIp", "SourceIp", "DestAddress", "SourceAddress", "IpAddress", "ClientAddress")
	// Sysmon 22 and DNS-Client 3006/3008/3020 (QueryName); Sysmon 3 host names.
	domainFields = fieldIDs("QueryName", "DestinationHostname", "SourceHostname")
	// Sysmon 22 and DNS-Client 3008/3020: addresses and CNAMEs of the answer.
	resultFields = fieldIDs("QueryResults")
	// File and image paths: Sysmon (Image, TargetFilename, ImageLoaded,
	// ParentImage, SourceImage, TargetImage), Security 4688 (NewProcessName,
	// ParentProcessName) and others (ProcessName, CallerProcessName), WFP
	// 5156 (Application), System 7045 (ImagePath), PowerShell 4104,
	// TaskScheduler 129 and Defender (Path).
	pathFields = fieldIDs("Image", "TargetFilename", "ImageLoaded", "ParentImage", "SourceImage", "TargetImage",
		"NewProcessName", "ParentProcessName", "ProcessName", "CallerProcessName", "Application", "ImagePath", "Path")
)

func fieldIDs(names ...string) []event.FieldID {
	out := make([]event.FieldID, len(names))
	for i, n := range names {
		out[i] = event.MustField(n)
	}
	return out
}

// HashFields, IPFields, DomainFields and PathFields list the event fields
// each kind of indicator is matched on (QueryResults is matched for
// addresses and CNAMEs too).
func HashFields() []event.FieldID   { return append([]event.FieldID(nil), hashFields...) }
func IPFields() []event.FieldID     { return append([]event.FieldID(nil), ipFields...) }
func DomainFields() []event.FieldID { return append([]event.FieldID(nil), domainFields...) }
func PathFields() []event.FieldID   { return append([]event.FieldID(nil), pathFields...) }

// maxCand bounds the candidates kept on the stack for one value; more spill
// to the heap (only with thousands of regexes sharing a literal).
const maxCand = 64

// Match appends to out every indicator that matches a value of ev and
// returns the extended slice. Hits come in a fixed order: hash fields, IP
// fields, domain fields, QueryResults, path fields (each in the order of
// the Fields lists); within a field, values in order of appearance; for one
// value, indicators in load order (file order, then line). Match does not
// allocate beyond growing out, and is safe for concurrent use.
func (s *Set) Match(ev *event.Event, out []Hit) []Hit {
	if s.Empty() {
		return out
	}
	return s.match(ev, s.cache, out)
}

// MatchWith is Match with c (from NewCache, used by one goroutine only)
// remembering path verdicts instead of the Set's shared cache; the hits are
// the same.
func (s *Set) MatchWith(c *Cache, ev *event.Event, out []Hit) []Hit {
	if s.Empty() {
		return out
	}
	return s.match(ev, c.pc, out)
}

func (s *Set) match(ev *event.Event, pc *pathCache, out []Hit) []Hit {
	if s.hashes.len() > 0 {
		for _, f := range hashFields {
			if v, ok := ev.Get(f); ok && v != "" {
				out = s.matchHashes(v, f.Name(), out)
			}
		}
	}
	if !s.ips.empty() {
		for _, f := range ipFields {
			if v, ok := ev.Get(f); ok {
				if a, ok := parseAddr(v); ok {
					out = s.matchAddr(a, f.Name(), v, out)
				}
			}
		}
	}
	if !s.domains.empty() {
		for _, f := range domainFields {
			if v, ok := ev.Get(f); ok && v != "" {
				out = s.matchDomain(v, f.Name(), out)
			}
		}
	}
	if !s.ips.empty() || !s.domains.empty() {
		for _, f := range resultFields {
			if v, ok := ev.Get(f); ok && v != "" {
				out = s.matchResults(v, f.Name(), out)
			}
		}
	}
	if !s.paths.empty() {
		for _, f := range pathFields {
			if v, ok := ev.Get(f); ok && v != "" {
				out = s.matchPath(v, f.Name(), pc, out)
			}
		}
	}
	return out
}

// MatchHashes matches a Sysmon Hashes value ("SHA1=…,MD5=…,SHA256=…,
// IMPHASH=…"; a bare digest is told apart by length). IMPHASH and unknown
// algorithms are ignored. field names the hits' Field.
func (s *Set) MatchHashes(hashes, field string, out []Hit) []Hit {
	return s.matchHashes(hashes, field, out)
}

func (s *Set) matchHashes(v, field string, out []Hit) []Hit {
	for v != "" {
		part := v
		if i := indexComma(v); i >= 0 {
			part, v = v[:i], v[i+1:]
		} else {
			v = ""
		}
		alg, digest := "", trimSpace(part)
		if i := indexEq(digest); i >= 0 {
			alg, digest = trimSpace(digest[:i]), trimSpace(digest[i+1:])
		}
		k := hashKind(alg, len(digest))
		var sum [32]byte
		// Every digest is at least 16 bytes; the first 8 decide the filter.
		if k == 0 || !decodeHex(sum[:8], digest[:16]) || !s.hashes.filter.mayHave(digestKey(k, sum[:8])) ||
			!decodeHex(sum[8:len(digest)/2], digest[16:]) {
			continue
		}
		if idx := s.hashes.lookup(k, &sum); idx >= 0 {
			out = s.hit(out, idx, field, digest)
		}
	}
	return out
}

// hashKind names a digest by its algorithm label (any case) or, without
// one, by its length.
func hashKind(alg string, n int) Kind {
	var k Kind
	switch {
	case alg == "" && n == 32, equalFold(alg, "MD5"):
		k = KindMD5
	case alg == "" && n == 40, equalFold(alg, "SHA1"):
		k = KindSHA1
	case alg == "" && n == 64, equalFold(alg, "SHA256"):
		k = KindSHA256
	default:
		return 0
	}
	if n != [...]int{KindMD5: 32, KindSHA1: 40, KindSHA256: 64}[k] {
		return 0
	}
	return k
}

// MatchAddr matches one textual address (IPv4, IPv6, IPv4-mapped, with or
// without zone).
func (s *Set) MatchAddr(v, field string, out []Hit) []Hit {
	if a, ok := parseAddr(v); ok {
		out = s.matchAddr(a, field, v, out)
	}
	return out
}

func (s *Set) matchAddr(a netip.Addr, field, v string, out []Hit) []Hit {
	var buf [maxCand]int32
	return s.emit(s.ips.lookup(a, buf[:0]), field, v, out)
}

// MatchDomain matches one host name (any case, trailing dot allowed).
func (s *Set) MatchDomain(v, field string, out []Hit) []Hit {
	return s.matchDomain(v, field, out)
}

func (s *Set) matchDomain(v, field string, out []Hit) []Hit {
	var name [maxName]byte
	n := len(v)
	if n > 0 && v[n-1] == '.' {
		n--
	}
	if n == 0 || n > len(name) {
		return out
	}
	for i := 0; i < n; i++ {
		name[i] = lower(v[i])
	}
	var buf [maxCand]int32
	return s.emit(s.domains.lookup(name[:n], buf[:0]), field, v, out)
}

// matchResults matches the addresses and CNAMEs of a DNS answer as Sysmon
// and the DNS client render it: "type:  5 cdn.example.net;::ffff:1.2.3.4;".
func (s *Set) matchResults(v, field string, out []Hit) []Hit {
	for v != "" {
		i := 0
		for i < len(v) && !isSep(v[i]) {
			i++
		}
		tok := v[:i]
		if i < len(v) {
			v = v[i+1:]
		} else {
			v = ""
		}
		if tok == "" || tok == "type:" || allDigits(tok) {
			continue
		}
		if a, ok := parseAddr(tok); ok {
			out = s.matchAddr(a, field, tok, out)
		} else if indexDot(tok) >= 0 {
			out = s.matchDomain(tok, field, out)
		}
	}
	return out
}

// MatchPath matches one file path against the path regexes.
func (s *Set) MatchPath(v, field string, out []Hit) []Hit {
	return s.matchPath(v, field, s.cache, out)
}

func (s *Set) matchPath(v, field string, pc *pathCache, out []Hit) []Hit {
	if s.paths.empty() {
		return out
	}
	var buf [maxCand]int32
	ids, ok := buf[:0], false
	if pc != nil {
		ids, ok = pc.get(v, ids)
	}
	if !ok {
		ids = s.matchPathIDs(v, ids)
		if pc != nil {
			pc.put(v, ids)
		}
	}
	for _, id := range ids {
		out = s.hit(out, s.paths.pats[id].ind, field, v)
	}
	return out
}

// matchPathIDs appends the sorted ids of the patterns that match v.
func (s *Set) matchPathIDs(v string, ids []int32) []int32 {
	var buf [maxCand]int32
	cand := sortDedup(s.paths.candidates(v, buf[:0]))
	for _, id := range cand {
		if s.paths.confirm(id, v) {
			ids = append(ids, id)
		}
	}
	return ids
}

// emit appends hits for candidate chain heads, every indicator of the
// chains in load order.
func (s *Set) emit(cand []int32, field, v string, out []Hit) []Hit {
	for _, head := range cand {
		for idx := s.ind[head].next; idx >= 0; idx = s.ind[idx].next {
			cand = append(cand, idx)
		}
	}
	for _, idx := range sortDedup(cand) {
		out = s.hit1(out, idx, field, v)
	}
	return out
}

// sortDedup sorts candidates in place (slices.Sort does not allocate) and
// drops repeats.
func sortDedup(c []int32) []int32 {
	slices.Sort(c)
	return slices.Compact(c)
}

// parseAddr parses an address without allocating on the common failures
// ("-", host names): only strings made of address characters reach netip.
func parseAddr(v string) (netip.Addr, bool) {
	if len(v) < 2 || len(v) > 64 {
		return netip.Addr{}, false
	}
	colon, dot := false, false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == ':':
			colon = true
		case c == '.':
			dot = true
		case c == '%':
			v = v[:i] // the zone does not change what the address is
		case c >= '0' && c <= '9':
		case colon && (c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'):
		default:
			return netip.Addr{}, false
		}
		if c == '%' {
			break
		}
	}
	if !colon && !dot {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(v)
	return a, err == nil
}

func isSep(c byte) bool {
	return c == ';' || c == ' ' || c == ',' || c == '\t' || c == '\r' || c == '\n'
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func indexComma(s string) int { return indexOf(s, ',') }
func indexEq(s string) int    { return indexOf(s, '=') }
func indexDot(s string) int   { return indexOf(s, '.') }

func indexOf(s string, c byte) int {
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

func trimSpace(s string) string {
	for len(s) > 0 && (s[0] == ' ' || s[0] == '\t') {
		s = s[1:]
	}
	for len(s) > 0 && (s[len(s)-1] == ' ' || s[len(s)-1] == '\t') {
		s = s[:len(s)-1]
	}
	return s
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lower(a[i]) != lower(b[i]) {
			return false
		}
	}
	return true
}
