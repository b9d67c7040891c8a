package ioc

import (
	"encoding/binary"
	"hash/maphash"
	"strings"
	"sync"
)

// Paths repeat: the same images start, load and write all day. pathCache
// remembers which regexes matched a path so that a repeat costs one hash
// and one lock instead of running the regexes again. It only saves time:
// a hit returns exactly what the regexes would (the output never depends on
// what is cached). Direct-mapped, sharded, fixed size, no allocation.
//
// The Set's own cache is shared by every goroutine that calls Match, so its
// shards are locked; under replay's prematch workers the lock words and
// entries then travel between cores on most look-ups. A goroutine that
// matches many events takes a cache of its own (Set.NewCache), unlocked.
type pathCache struct {
	seed   maphash.Seed
	shards []cacheShard
	ways   uint64
	shared bool // used by several goroutines: lock the shards
}

const (
	cacheShards   = 64
	cacheMaxMatch = 4 // paths matching more regexes are not cached
)

type cacheShard struct {
	mu   sync.Mutex
	ents []cacheEntry
	_    [32]byte // a shard per cache line: locking one does not take its neighbour's line
}

type cacheEntry struct {
	key   string
	valid bool
	n     uint8
	ids   [cacheMaxMatch]int32
}

func newPathCache(entries int, shared bool) *pathCache {
	if entries <= 0 {
		return nil
	}
	ways := (entries + cacheShards - 1) / cacheShards
	c := &pathCache{seed: maphash.MakeSeed(), shards: make([]cacheShard, cacheShards), ways: uint64(ways), shared: shared}
	for i := range c.shards {
		c.shards[i].ents = make([]cacheEntry, ways)
	}
	return c
}

func (c *pathCache) slot(v string) (*cacheShard, uint64) {
	h := maphash.String(c.seed, v)
	return &c.shards[h%cacheShards], (h >> 32) % c.ways
}

// get appends the cached pattern ids of v to ids.
func (c *pathCache) get(v string, ids []int32) ([]int32, bool) {
	sh, i := c.slot(v)
	if c.shared {
		sh.mu.Lock()
		defer sh.mu.Unlock()
	}
	e := &sh.ents[i]
	ok := e.valid && e.key == v
	if ok {
		ids = append(ids, e.ids[:e.n]...)
	}
	return ids, ok
}

func (c *pathCache) put(v string, ids []int32) {
	if len(ids) > cacheMaxMatch {
		return
	}
	sh, i := c.slot(v)
	if c.shared {
		sh.mu.Lock()
		defer sh.mu.Unlock()
	}
	e := &sh.ents[i]
	e.key, e.valid, e.n = v, true, uint8(len(ids))
	copy(e.ids[:], ids)
}

// Cache is one goroutine's memory of verdicts (Set.NewCache); it saves
// time only, as the Set's own path cache does.
type Cache struct{ m *memo }

// NewCache returns a cache for one goroutine's MatchWith calls, of the size
// Options.PathCache gave (none when caching is off).
func (s *Set) NewCache() *Cache {
	if s.Empty() || s.memoN == 0 {
		return &Cache{}
	}
	return &Cache{m: newMemo(s.memoN)}
}

// Field values repeat heavily in telemetry: a few hundred images start and
// load all day, the same digests, addresses and host names recur. memo
// remembers the hits of recent values of every class for one goroutine, so
// a repeat costs one hash and one comparison instead of parsing, filter
// probes (cache misses at 100k indicators) and an automaton pass. It saves
// time only: a value is answered from memory only after its bytes compared
// equal to the remembered key, and a verdict is a function of the class and
// the value alone.
//
// Keys are copied into memory the memo owns rather than kept as the
// event's strings, which point into the reader's decoded arenas (a kept
// key would keep its whole arena alive) and, being cold, would cost a
// cache miss to compare. The ways' tags sit apart, eight bytes a set (64
// kB at the default size, which stays in cache), so a look-up reads the
// entry of the one way whose tag is v's, and a value not remembered reads
// none. A key of up to memoInline bytes (addresses, most host names,
// short image paths: most look-ups) sits in its entry, a 64-byte line
// (the table of a memo of the default size is a large allocation, hence
// page-aligned), so a look-up touches one line of the table. A longer key (digests, long paths) is copied
// into a ring of bytes; its entry records where (as an absolute offset)
// and once the ring has wrapped past it the entry is invalid, so the
// bytes compared are always the key the verdict was made for.
type memo struct {
	seed maphash.Seed
	// Per way, its key's tag (bit 1 always set, so 0 is no key's) or 0,
	// with memoMRU on the set's most recently used way.
	tags []uint32
	ents []memoEntry // sets of two ways: 2i and 2i+1
	hits [][memoMaxHits]memoHit
	ring []byte // len a power of two
	head uint64 // absolute offset of the next key byte
	raws []rawHit
	// touch keeps the loads of Set.match's first pass over the entries
	// (their sum), so the compiler does not drop them.
	touch uint32
}

// Two ways per set, least recently used out: values that occur once
// (most written file names) then evict each other, not the hot ones.
type memoEntry struct {
	n     uint16 // key length
	class uint8  // 0: empty
	nhits uint8  // hits remembered, at most memoMaxHits
	// The key when n <= memoInline, else its absolute ring offset in the
	// first 8 bytes (little endian).
	key [memoInline]byte
}

// memoHit is a remembered hit; its value is key[off:off+n].
type memoHit struct {
	idx    int32
	off, n uint16
}

const (
	memoDefault  = 16384
	memoMaxHits  = 4    // values with more hits are not remembered
	memoMRU      = 1    // tags bit
	memoMaxKey   = 1024 // nor longer values (n and offsets fit uint16)
	memoInline   = 60   // longest key held in its entry (which is then 64 bytes)
	memoKeyBytes = 64   // ring bytes per entry
)

// memoEntries is the memo size for Options.PathCache n ≥ 0.
func memoEntries(n int) int {
	if n == 0 {
		n = memoDefault
	}
	e := 2
	for e < n {
		e <<= 1
	}
	return e
}

func newMemo(entries int) *memo {
	return &memo{seed: maphash.MakeSeed(), tags: make([]uint32, entries), ents: make([]memoEntry, entries),
		hits: make([][memoMaxHits]memoHit, entries), ring: make([]byte, entries*memoKeyBytes)}
}

// find returns the first way of v's set and v's tag.
func (m *memo) find(class uint8, v string) (int, uint32) {
	h := maphash.String(m.seed, v) ^ uint64(class)*0x9E3779B97F4A7C15
	return int(h & uint64(len(m.ents)-2)), uint32(h>>32)&^memoMRU | 2
}

// touchWay reads the entry of the way of slot's set tagged tag, if any (to
// have its line on the way); the result means nothing.
func (m *memo) touchWay(slot int, tag uint32) uint32 {
	t := m.tags[slot : slot+2]
	switch tag {
	case t[0] &^ memoMRU:
		return uint32(m.ents[slot].n)
	case t[1] &^ memoMRU:
		return uint32(m.ents[slot+1].n)
	}
	return 0
}

// get appends the remembered hits of v (whose set starts at slot) to raws.
func (m *memo) get(slot int, tag uint32, class uint8, v string, raws []rawHit) ([]rawHit, bool) {
	for w := slot; w < slot+2; w++ {
		if m.tags[w]&^memoMRU != tag || !m.holds(w, class, v) {
			continue
		}
		for _, h := range m.hits[w][:m.ents[w].nhits] {
			raws = append(raws, rawHit{h.idx, v[h.off : h.off+h.n]})
		}
		m.tags[w] |= memoMRU
		m.tags[w^1] &^= memoMRU
		return raws, true
	}
	return raws, false
}

// holds reports whether entry w is v's: its key (in the entry, or still
// in the ring) equal to v.
func (m *memo) holds(w int, class uint8, v string) bool {
	e := &m.ents[w]
	if e.class != class || int(e.n) != len(v) {
		return false
	}
	if len(v) <= memoInline {
		return string(e.key[:len(v)]) == v
	}
	pos := binary.LittleEndian.Uint64(e.key[:8])
	if m.head-pos > uint64(len(m.ring)) {
		return false
	}
	p := int(pos & uint64(len(m.ring)-1))
	return string(m.ring[p:p+len(v)]) == v
}

// put remembers raws, the hits of v, in the least recently used way of
// the set starting at slot.
func (m *memo) put(slot int, tag uint32, class uint8, v string, raws []rawHit) {
	if len(raws) > memoMaxHits || len(v) > memoMaxKey || len(v) > len(m.ring) {
		return
	}
	w := slot
	if m.tags[w]&memoMRU != 0 {
		w++
	}
	e := &m.ents[w]
	if len(v) <= memoInline {
		copy(e.key[:], v)
	} else {
		size := uint64(len(m.ring))
		at := m.head
		if at%size+uint64(len(v)) > size { // no room before the end: start over
			at += size - at%size
		}
		copy(m.ring[at%size:], v)
		m.head = at + uint64(len(v))
		binary.LittleEndian.PutUint64(e.key[:8], at)
	}
	for i, r := range raws {
		// r.val is a part of v; the first place holding the same bytes
		// dresses the hit identically.
		off := strings.Index(v, r.val)
		m.hits[w][i] = memoHit{idx: r.idx, off: uint16(off), n: uint16(len(r.val))}
	}
	e.n, e.class, e.nhits = uint16(len(v)), class, uint8(len(raws))
	m.tags[w] = tag | memoMRU
	m.tags[w^1] &^= memoMRU
}
