package sigma

import (
	"encoding/binary"
	"math"
	"math/bits"
	"unicode/utf8"
	"unsafe"

	"github.com/edr-lab/edr/event"
)

// scanCache memoizes the prefilter's scan of a schema field's value: which
// needles of the field's gramFilter occur in it. Telemetry repeats values
// heavily (the same Image, ParentImage, service command lines, registry
// keys, query names), and the gram scan costs a few nanoseconds per byte
// while a hit costs one hash of the value and one comparison with the
// stored copy. The stored value is compared in full, so a hash collision
// only costs a scan: results never depend on the cache's state.
//
// The table is 2-way set-associative (a direct-mapped one lost a third of
// its hits to unique values, hashes and file names, evicting the repeated
// ones), owned by one evalCtx (no locks), and bounded: 2 × scanCacheSets
// ways, each holding one value of at most scanCacheMaxLen bytes and at
// most scanCacheMaxHits needles, so it stays under 2 × 16384 × (64 + 640)
// bytes ≈ 22 MB however long it runs; its allocations grow only as values
// fill them (BenchmarkPreRecording reports the bytes held). 16384 sets
// rather than 4096 halve the scans on replay (0.28 values per event
// instead of 0.52 over the first 614,400 events of a generated
// recording), most of the rest being values seen once. It is made at
// first use, so a Matcher that never sees an audit view holds none.
//
// Replacement is LRU with insertion at the LRU position: a new value takes
// the set's least recently used way and stays the one to evict until it
// hits. Unique values (file names with GUIDs, IP addresses, registry keys
// with counters: most misses on replay) then displace each other rather
// than the set's repeated value. Way 0 of a set is its most recently used
// one: a hit in way 1 swaps the two.
type scanCache struct {
	ways  []scanWay // set i is ways[2i:2i+2]
	shift uint8
	hmask uint64 // ANDed into every hash; tests set 0 to make all values collide
	found []uint32
	hits  uint64 // values answered from the table (tests read it)
	scans uint64 // values scanned (and stored unless they had too many needles)
}

// scanWayInline is the bytes of needles and value a way holds in itself.
const scanWayInline = 40

// A way is one 64-byte line whose address follows from the hash: the
// tag, filter and lengths, then the value's needles and copy when they fit
// in its scanWayInline bytes (4 × needles + length), as about 3 in 4 hits'
// values do on replay (Image, User, addresses, host and query names: 60 %
// of hits are under 24 bytes and 86 % have no needle), so such a hit reads
// one line. Longer values and their needles sit in an allocation of the
// way's own (ext, kept for the values that follow in the way). Before, a
// hit read the set's line, a line of the MRU bytes, and a separate
// allocation found only through the set's line (a hit cost ~80-116 ns,
// memory stalls). Ways of two lines (104 bytes inline, 96 % of hits) saved
// a little more CPU but held 4 MiB a table, ~11 MiB more live peak RSS.
type scanWay struct {
	g      *gramFilter // the filter that scanned the value; nil: empty
	ext    *byte       // extCap × 64 bytes: needles, then value, when they do not fit inline
	tag    uint32      // the value's hash, low half
	vlen   uint16
	nn     uint8
	extCap uint8
	inline [scanWayInline]byte
}

// A way must be one cache line (the table is page-aligned, so ways do
// not straddle two).
var _ = [1]struct{}{}[unsafe.Sizeof(scanWay{})-64]

// bytes is the memory the table holds.
func (sc *scanCache) bytes() int {
	n := len(sc.ways) * int(unsafe.Sizeof(scanWay{}))
	for i := range sc.ways {
		n += 64 * int(sc.ways[i].extCap)
	}
	return n
}

// data is where the way's needles and value are.
func (w *scanWay) data() *byte {
	if 4*int(w.nn)+int(w.vlen) <= scanWayInline {
		return &w.inline[0]
	}
	return w.ext
}

func (w *scanWay) needles() []uint32 {
	return unsafe.Slice((*uint32)(unsafe.Pointer(w.data())), w.nn)
}

func (w *scanWay) val() string {
	return unsafe.String((*byte)(unsafe.Add(unsafe.Pointer(w.data()), 4*uintptr(w.nn))), w.vlen)
}

// Bounds of the cache (variables so tests can shrink the table). A set
// count of 0 turns the cache off.
var (
	scanCacheSets    = 16384
	scanCacheMaxLen  = 512
	scanCacheMaxHits = 32
	scanCacheMinLen  = 8 // shorter values are scanned: a scan is as cheap as a look-up
	scanCacheHMask   = ^uint64(0)
)

func newScanCache(sets int) *scanCache {
	if sets <= 0 {
		return nil
	}
	if sets&(sets-1) != 0 {
		panic("sigma: scanCacheSets must be a power of two")
	}
	return &scanCache{ways: make([]scanWay, 2*sets), shift: uint8(64 - bits.TrailingZeros(uint(sets))), hmask: scanCacheHMask}
}

func (sc *scanCache) set(h uint64) int { return int((h * 0xD6E8FEB86659FD93) >> sc.shift) }

// holds reports whether w holds raw as scanned by g (tag: its hash's low
// half).
func (w *scanWay) holds(g *gramFilter, tag uint32, raw string) bool {
	return w.tag == tag && w.g == g && int(w.vlen) == len(raw) && w.val() == raw
}

// lookup returns the way holding raw as scanned by g (h: its hash), now
// way 0 of its set (the most recently used), or nil.
func (sc *scanCache) lookup(g *gramFilter, h uint64, raw string) *scanWay {
	set := sc.ways[2*sc.set(h):][:2]
	tag := uint32(h)
	if set[0].holds(g, tag, raw) {
		sc.hits++
		return &set[0]
	}
	if set[1].holds(g, tag, raw) {
		sc.hits++
		set[0], set[1] = set[1], set[0]
		return &set[0]
	}
	return nil
}

// store files raw's result out in way 1 of its set, the least recently
// used, which it stays (an allocation the way holds for longer values is
// kept for the next).
func (sc *scanCache) store(g *gramFilter, h uint64, raw string, out []uint32) {
	if len(out) > math.MaxUint8 || len(raw) > math.MaxUint16 {
		return // beyond what a way records (only with bounds raised far)
	}
	w := &sc.ways[2*sc.set(h)+1]
	need := 4*len(out) + len(raw)
	if need > scanWayInline && 64*int(w.extCap) < need {
		n := (need + 63) &^ 63
		if n/64 > math.MaxUint8 {
			return
		}
		w.ext, w.extCap = unsafe.SliceData(make([]byte, n)), uint8(n/64)
	}
	w.g, w.tag, w.nn, w.vlen = g, uint32(h), uint8(len(out)), uint16(len(raw))
	copy(w.needles(), out)
	copy(unsafe.Slice((*byte)(unsafe.Add(unsafe.Pointer(w.data()), 4*len(out))), len(raw)), raw)
}

// scanValueCached is scanValue through the cache: the needles found by
// the raw scan and, for non-ASCII text, by the folded scan are replayed
// from the slot on a hit (marking is idempotent, so replaying the recorded
// marks in order leaves st exactly as the scans would).
func scanValueCached(c *evalCtx, sc *scanCache, g *gramFilter, id event.FieldID, raw string, st *scanState) {
	h := (valueHash(raw) ^ g.salt ^ uint64(id)*0x9E3779B97F4A7C15) & sc.hmask
	if s := sc.lookup(g, h, raw); s != nil {
		for _, n := range s.needles() {
			g.mark(n, st)
		}
		return
	}
	sc.scans++
	st.rec, sc.found = true, sc.found[:0]
	st.found = sc.found
	if g.scan(raw, st) >= utf8.RuneSelf {
		g.scan(c.foldedID(id, raw), st)
	}
	st.rec, sc.found = false, st.found
	if len(sc.found) <= scanCacheMaxHits {
		sc.store(g, h, raw, sc.found)
	}
}

// valueHash is a fast non-cryptographic hash of s (multiply-fold mixing of
// 8-byte words, in the manner of wyhash): it only spreads values over the
// table.
func valueHash(s string) uint64 {
	const k0, k1, k2 = 0xa0761d6478bd642f, 0xe7037ed1a0b428db, 0x8ebc6af09c88c6e3
	n := len(s)
	b := unsafe.Slice(unsafe.StringData(s), n)
	h := uint64(n) * k0
	i := 0
	for ; i+16 <= n; i += 16 {
		h = mix64(binary.LittleEndian.Uint64(b[i:])^k1, binary.LittleEndian.Uint64(b[i+8:])^h)
	}
	switch {
	case n-i > 8:
		h = mix64(binary.LittleEndian.Uint64(b[i:])^k1, binary.LittleEndian.Uint64(b[n-8:])^h)
	case n >= 8:
		if n-i > 0 {
			h = mix64(binary.LittleEndian.Uint64(b[n-8:])^k1, h^k2)
		}
	case n >= 4:
		h = mix64(uint64(binary.LittleEndian.Uint32(b))<<32|uint64(binary.LittleEndian.Uint32(b[n-4:]))^k1, h^k2)
	case n > 0:
		h = mix64(uint64(b[0])<<16|uint64(b[n>>1])<<8|uint64(b[n-1])^k1, h^k2)
	}
	return mix64(h^k0, uint64(n)^k2)
}

func mix64(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// gramSalt tells the cache's keys of different filters apart (the same
// Image value is scanned by the filters of several logsources); computed
// from the filter's needles, so it is the same on every load.
func gramSalt(order []string) uint64 {
	h := uint64(len(order))
	for _, lit := range order {
		h = mix64(h^valueHash(lit), 0xe7037ed1a0b428db)
	}
	return h
}
