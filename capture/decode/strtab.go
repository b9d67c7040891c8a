package decode

import (
	"encoding/binary"
	"net/netip"
	"strconv"
	"time"
	"unsafe"

	"github.com/edr-lab/edr/event"
)

// strTab makes the strings the decoder hands to events without an
// allocation per value. Most values repeat — process ids, ports,
// addresses, paths, key names, SIDs — and are interned: a bounded map
// from text to the string made the first time. Strings are carved from
// append-only byte slabs: a string made from one is never written again,
// so it is as immutable as any string, and a new slab is allocated only
// when one fills (~once per few hundred values).
//
// The cost is retention: a string kept keeps its slab (chunkSize bytes)
// alive. Values longer than chunkSize/8 get their own allocation for that
// reason, and the strings the table itself keeps (interned, and its
// caches') are carved from a slab of their own, keep, apart from those it
// only hands out (UtcTime, in chunk): in one slab, each string the table
// kept held on to a slab of times of events long gone, and a live run's
// heap grew with every slab that held a new key path or address.
type strTab struct {
	m     map[string]string
	chunk []byte // slab of the strings handed out only
	keep  []byte // slab of the strings the table keeps
	buf   []byte // scratch for formatting
	// ints and addrs are direct-mapped caches of the numbers and
	// addresses rendered last: cheaper than the map for the commonest
	// values (process and thread ids, ports, peers).
	ints [256]struct {
		v uint64
		s string
	}
	addrs [256]struct {
		a netip.Addr
		s string
	}
}

const (
	internMax = 1 << 12
	chunkSize = 8 << 10
)

func newStrTab() *strTab { return &strTab{m: make(map[string]string, internMax)} }

// Intern returns b as a string, the same string for the same text while it
// stays in the table (implements raw.Interner). The table is emptied when
// full: what it returns never depends on what it held.
func (t *strTab) Intern(b []byte) string {
	if s, ok := t.m[string(b)]; ok {
		return s
	}
	s := carve(&t.keep, b)
	if len(t.m) >= internMax {
		clear(t.m)
	}
	t.m[s] = s
	return s
}

// carve copies b into the slab *slab.
func carve(slab *[]byte, b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > chunkSize/8 {
		return string(b)
	}
	if cap(*slab)-len(*slab) < len(b) {
		*slab = make([]byte, 0, chunkSize)
	}
	at := len(*slab)
	*slab = append(*slab, b...)
	return unsafe.String(&(*slab)[at], len(b))
}

// itoa is event.Itoa, interned.
func (t *strTab) itoa(v uint64) string {
	if v < 10000 {
		return event.Itoa(v) // a table, no allocation
	}
	c := &t.ints[(v*0x9E3779B97F4A7C15)>>56]
	if c.s != "" && c.v == v {
		return c.s
	}
	t.buf = strconv.AppendUint(t.buf[:0], v, 10)
	c.v, c.s = v, carve(&t.keep, t.buf)
	return c.s
}

// addr renders an address as netip does, interned.
func (t *strTab) addr(a netip.Addr) string {
	b := a.As16()
	h := binary.LittleEndian.Uint64(b[:8]) ^ binary.LittleEndian.Uint64(b[8:])
	c := &t.addrs[(h*0x9E3779B97F4A7C15)>>56]
	if c.s != "" && c.a == a {
		return c.s
	}
	t.buf = a.AppendTo(t.buf[:0])
	c.a, c.s = a, carve(&t.keep, t.buf)
	return c.s
}

// hex renders v as event.FormatHex does, interned.
func (t *strTab) hex(v uint64) string {
	t.buf = strconv.AppendUint(append(t.buf[:0], "0x"...), v, 16)
	return t.Intern(t.buf)
}

// utcTime renders event.FormatUtcTime into the slab (times rarely repeat
// beyond the millisecond the decoder already reuses).
func (t *strTab) utcTime(ns int64) string {
	t.buf = appendUtcTime(t.buf[:0], ns)
	return carve(&t.chunk, t.buf)
}

// appendUtcTime appends event.FormatUtcTime(ns) ("2006-01-02
// 15:04:05.000"), computing the civil date directly (days to y/m/d as in
// H. Hinnant's days_from_civil inverse) rather than through time.Format.
func appendUtcTime(dst []byte, ns int64) []byte {
	ms := ns / 1e6
	if ns%1e6 < 0 {
		ms--
	}
	days := ms / 86_400_000
	rem := ms % 86_400_000
	if rem < 0 {
		rem += 86_400_000
		days--
	}
	z := days + 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era--
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	if y < 0 || y > 9999 {
		return time.Unix(0, ns).UTC().AppendFormat(dst, event.UtcTimeLayout)
	}
	n2 := func(b []byte, v int64) []byte { return append(b, byte('0'+v/10), byte('0'+v%10)) }
	dst = n2(n2(dst, y/100), y%100)
	dst = n2(append(dst, '-'), m)
	dst = n2(append(dst, '-'), d)
	h, mi, sec, milli := rem/3_600_000, rem/60_000%60, rem/1000%60, rem%1000
	dst = n2(append(dst, ' '), h)
	dst = n2(append(dst, ':'), mi)
	dst = n2(append(dst, ':'), sec)
	return append(dst, '.', byte('0'+milli/100), byte('0'+milli/10%10), byte('0'+milli%10))
}

// concat joins parts, interned.
func (t *strTab) concat(parts ...string) string {
	t.buf = t.buf[:0]
	for _, p := range parts {
		t.buf = append(t.buf, p...)
	}
	return t.Intern(t.buf)
}
