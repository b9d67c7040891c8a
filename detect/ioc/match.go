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
	return s.match(ev, s.cache, nil, out)
}

// MatchWith is Match with c (from NewCache, used by one goroutine only)
// remembering the verdicts of every kind of value instead of the Set's
// shared path cache; the hits are the same.
func (s *Set) MatchWith(c *Cache, ev *event.Event, out []Hit) []Hit {
	if s.Empty() {
		return out
	}
	return s.match(ev, nil, c.m, out)
}

// The kinds of field value, each matched its own way; a verdict is a
// function of the class and the value alone (the field only names hits).
const (
	classHashes uint8 = iota + 1
	classAddr
	classDomain
	classResults
	classPath
)

// fieldClass is the fields values of one class come from, in the order of
// hits.
type fieldClass struct {
	class uint8
	ids   []event.FieldID
}

var (
	hashClass    = &fieldClass{classHashes, hashFields}
	addrClass    = &fieldClass{classAddr, ipFields}
	domainClass  = &fieldClass{classDomain, domainFields}
	resultsClass = &fieldClass{classResults, resultFields}
	pathClass    = &fieldClass{classPath, pathFields}
	// Every class, in the order of hits.
	fieldClasses = []*fieldClass{hashClass, addrClass, domainClass, resultsClass, pathClass}
)

// fieldSlot is what a field is to Set.match: the class of its values and
// its place in the order of hits (0: no class's field).
type fieldSlot struct{ class, rank uint8 }

// fieldSlots is indexed by FieldID.
var fieldSlots = func() []fieldSlot {
	var t []fieldSlot
	rank := uint8(0)
	for _, fc := range fieldClasses {
		for _, id := range fc.ids {
			if int(id) >= len(t) {
				t = append(t, make([]fieldSlot, int(id)+1-len(t))...)
			}
			rank++
			t[id] = fieldSlot{fc.class, rank}
		}
	}
	return t
}()

// matchedFields is the mask of the fields of every class s has
// indicators for.
func (s *Set) matchedFields() event.FieldMask {
	var ids []event.FieldID
	if s.hashes.len() > 0 {
		ids = append(ids, hashFields...)
	}
	if !s.ips.empty() {
		ids = append(ids, ipFields...)
	}
	if !s.domains.empty() {
		ids = append(ids, domainFields...)
	}
	if !s.ips.empty() || !s.domains.empty() {
		ids = append(ids, resultFields...)
	}
	if !s.paths.empty() {
		ids = append(ids, pathFields...)
	}
	return event.MaskOf(ids...)
}

func (s *Set) match(ev *event.Event, pc *pathCache, m *memo, out []Hit) []Hit {
	var buf [valuesOnStack]fieldValue
	vals := s.fieldValues(ev, buf[:0])
	if m == nil {
		for i := range vals {
			out = s.value(vals[i].class, vals[i].v, vals[i].f.Name(), pc, nil, out)
		}
		return out
	}
	// Find every value's memo set before reading any: the entries are
	// cold (the memo is larger than the caches, which the rules share),
	// and loads issued back to back wait for memory together rather than
	// one after the other.
	var touch uint32
	for i := range vals {
		fv := &vals[i]
		fv.slot, fv.tag = m.find(fv.class, fv.v)
		touch += m.touchWay(fv.slot, fv.tag)
	}
	m.touch = touch
	for i := range vals {
		fv := &vals[i]
		out = s.memoValue(fv.class, fv.v, fv.f.Name(), pc, m, fv.slot, fv.tag, out)
	}
	return out
}

// fieldValue is one non-empty value of ev to match, of a class's field,
// with its memo set and tag once found.
type fieldValue struct {
	v     string
	slot  int
	tag   uint32
	f     event.FieldID
	class uint8
	rank  uint8 // fieldSlots[f].rank
}

// valuesOnStack is the room for an event's fields and values to match on
// the stack (zeroed on every call, so no more than events carry: Sysmon 3
// has five such fields); an event with more spills them to the heap.
const valuesOnStack = 8

// fieldValues appends the non-empty values ev has of the fields of s's
// classes, in the order of hits, leaving out paths no regex can match.
// The event's bitmap is read once for all fields (they come in FieldID
// order, then are put in order: an event has a few).
func (s *Set) fieldValues(ev *event.Event, vals []fieldValue) []fieldValue {
	var buf [valuesOnStack]event.FieldValue
	for _, f := range ev.AppendPresent(&s.fields, buf[:0]) {
		sl := fieldSlots[f.ID]
		if f.Value == "" || sl.class == classPath && !s.paths.tail.mayMatch(f.Value) {
			continue
		}
		fv := fieldValue{v: f.Value, f: f.ID, class: sl.class, rank: sl.rank}
		i := len(vals)
		vals = append(vals, fv)
		for ; i > 0 && vals[i-1].rank > fv.rank; i-- {
			vals[i] = vals[i-1]
		}
		vals[i] = fv
	}
	return vals
}

// rawHit is a hit before it is dressed: the indicator and the observed
// value (v itself, or for Hashes and QueryResults the part of v that
// matched).
type rawHit struct {
	idx int32
	val string
}

// value appends the hits of one field value, from m's memory when it
// remembers the value, else matched (and then remembered).
func (s *Set) value(class uint8, v, field string, pc *pathCache, m *memo, out []Hit) []Hit {
	if m == nil {
		var buf [memoMaxHits]rawHit
		return s.dress(s.valueHits(class, v, pc, buf[:0]), field, out)
	}
	slot, tag := m.find(class, v)
	return s.memoValue(class, v, field, pc, m, slot, tag, out)
}

// memoValue is value through m, with v's set and tag found.
func (s *Set) memoValue(class uint8, v, field string, pc *pathCache, m *memo, slot int, tag uint32, out []Hit) []Hit {
	raws, ok := m.get(slot, tag, class, v, m.raws[:0])
	if !ok {
		raws = s.valueHits(class, v, pc, raws)
		m.put(slot, tag, class, v, raws)
	}
	out = s.dress(raws, field, out)
	clear(raws)       // hold no string of the event (it would pin the arena it points into)
	m.raws = raws[:0] // keep what a value with many hits grew
	return out
}

func (s *Set) dress(raws []rawHit, field string, out []Hit) []Hit {
	for _, r := range raws {
		out = s.hit1(out, r.idx, field, r.val)
	}
	return out
}

func (s *Set) valueHits(class uint8, v string, pc *pathCache, raws []rawHit) []rawHit {
	switch class {
	case classHashes:
		return s.hashHits(v, raws)
	case classAddr:
		if a, ok := parseAddr(v); ok {
			return s.addrHits(a, v, raws)
		}
		return raws
	case classDomain:
		return s.domainHits(v, raws)
	case classResults:
		return s.resultHits(v, raws)
	default:
		return s.pathHits(v, pc, raws)
	}
}

// MatchHashes matches a Sysmon Hashes value ("SHA1=…,MD5=…,SHA256=…,
// IMPHASH=…"; a bare digest is told apart by length). IMPHASH and unknown
// algorithms are ignored. field names the hits' Field.
func (s *Set) MatchHashes(hashes, field string, out []Hit) []Hit {
	return s.value(classHashes, hashes, field, nil, nil, out)
}

func (s *Set) hashHits(v string, raws []rawHit) []rawHit {
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
			raws = s.chain(raws, idx, digest)
		}
	}
	return raws
}

// chain appends a hit of every indicator of the chain from idx (one key's
// duplicates, in load order).
func (s *Set) chain(raws []rawHit, idx int32, val string) []rawHit {
	for ; idx >= 0; idx = s.ind[idx].next {
		raws = append(raws, rawHit{idx, val})
	}
	return raws
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
	return s.value(classAddr, v, field, nil, nil, out)
}

func (s *Set) addrHits(a netip.Addr, v string, raws []rawHit) []rawHit {
	var buf [maxCand]int32
	return s.emit(s.ips.lookup(a, buf[:0]), v, raws)
}

// MatchDomain matches one host name (any case, trailing dot allowed).
func (s *Set) MatchDomain(v, field string, out []Hit) []Hit {
	return s.value(classDomain, v, field, nil, nil, out)
}

func (s *Set) domainHits(v string, raws []rawHit) []rawHit {
	var name [maxName]byte
	n := len(v)
	if n > 0 && v[n-1] == '.' {
		n--
	}
	if n == 0 || n > len(name) {
		return raws
	}
	for i := 0; i < n; i++ {
		name[i] = lower(v[i])
	}
	var buf [maxCand]int32
	return s.emit(s.domains.lookup(name[:n], buf[:0]), v, raws)
}

// resultHits matches the addresses and CNAMEs of a DNS answer as Sysmon
// and the DNS client render it: "type:  5 cdn.example.net;::ffff:1.2.3.4;".
func (s *Set) resultHits(v string, raws []rawHit) []rawHit {
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
			raws = s.addrHits(a, tok, raws)
		} else if indexDot(tok) >= 0 {
			raws = s.domainHits(tok, raws)
		}
	}
	return raws
}

// MatchPath matches one file path against the path regexes.
func (s *Set) MatchPath(v, field string, out []Hit) []Hit {
	if s.paths.empty() {
		return out
	}
	return s.value(classPath, v, field, s.cache, nil, out)
}

func (s *Set) pathHits(v string, pc *pathCache, raws []rawHit) []rawHit {
	if s.paths.empty() || !s.paths.tail.mayMatch(v) {
		return raws
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
		raws = s.chain(raws, s.paths.pats[id].ind, v)
	}
	return raws
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
func (s *Set) emit(cand []int32, v string, raws []rawHit) []rawHit {
	for _, head := range cand {
		for idx := s.ind[head].next; idx >= 0; idx = s.ind[idx].next {
			cand = append(cand, idx)
		}
	}
	for _, idx := range sortDedup(cand) {
		raws = append(raws, rawHit{idx, v})
	}
	return raws
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
