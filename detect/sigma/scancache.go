package sigma

import (
	"encoding/binary"
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
// slots, each holding one value of at most scanCacheMaxLen bytes and at
// most scanCacheMaxHits needles, so it stays under 2 × 4096 × (80 + 512 +
// 128) bytes ≈ 5.9 MB however long it runs; its buffers grow only as
// values fill them (4.3 MB after a million generated events). It is made
// at first use, so a Matcher that never sees an audit view holds one.
//
// Replacement is LRU with insertion at the LRU position: a new value takes
// the set's least recently used way and stays the one to evict until it
// hits. Unique values (file names with GUIDs, IP addresses, registry keys
// with counters: most misses on replay) then displace each other rather
// than the set's repeated value. Ways never move: a byte per set names the
// most recently used one.
type scanCache struct {
	slots []scanSlot
	mru   []uint8 // per set: the way that hit last
	shift uint8
	hmask uint64 // ANDed into every hash; tests set 0 to make all values collide
	found []uint32
	hits  uint64 // values answered from the table (tests read it)
}

type scanSlot struct {
	g       *gramFilter // the filter that scanned the value; nil: empty
	h       uint64
	val     string // aliases buf
	buf     []byte
	needles []uint32
}

// Bounds of the cache (variables so tests can shrink the table). A set
// count of 0 turns the cache off.
var (
	scanCacheSets    = 4096
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
	return &scanCache{slots: make([]scanSlot, 2*sets), mru: make([]uint8, sets), shift: uint8(64 - bits.TrailingZeros(uint(sets))), hmask: scanCacheHMask}
}

func (sc *scanCache) set(h uint64) int { return int((h * 0xD6E8FEB86659FD93) >> sc.shift) }

// lookup returns the slot holding raw as scanned by g (h: its hash),
// now the most recently used way of its set, or nil.
func (sc *scanCache) lookup(g *gramFilter, h uint64, raw string) *scanSlot {
	set := sc.set(h)
	for w := range 2 {
		if s := &sc.slots[2*set+w]; s.g == g && s.h == h && s.val == raw {
			sc.hits++
			sc.mru[set] = uint8(w)
			return s
		}
	}
	return nil
}

// store files raw's result out in the least recently used way of its set
// (whose buffers are reused), which stays the least recently used.
func (sc *scanCache) store(g *gramFilter, h uint64, raw string, out []uint32) {
	set := sc.set(h)
	s := &sc.slots[2*set+int(sc.mru[set]^1)]
	if cap(s.buf) < len(raw) {
		s.buf = make([]byte, 0, max(64, 1<<bits.Len(uint(len(raw)-1))))
	}
	s.buf = append(s.buf[:0], raw...)
	s.val = unsafe.String(unsafe.SliceData(s.buf), len(s.buf))
	s.g, s.h = g, h
	s.needles = append(s.needles[:0], out...)
}

// scanValueCached is scanValue through the cache: the needles found by
// the raw scan and, for non-ASCII text, by the folded scan are replayed
// from the slot on a hit (marking is idempotent, so replaying the recorded
// marks in order leaves st exactly as the scans would).
func scanValueCached(c *evalCtx, sc *scanCache, g *gramFilter, id event.FieldID, raw string, st *scanState) {
	h := (valueHash(raw) ^ g.salt ^ uint64(id)*0x9E3779B97F4A7C15) & sc.hmask
	if s := sc.lookup(g, h, raw); s != nil {
		for _, n := range s.needles {
			g.mark(n, st)
		}
		return
	}
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
