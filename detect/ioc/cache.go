package ioc

import (
	"hash/maphash"
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

// Cache is one goroutine's memory of path verdicts (Set.NewCache); it
// saves time only, as the Set's own cache does.
type Cache struct{ pc *pathCache }

// NewCache returns a path cache for one goroutine's MatchWith calls, of
// the size Options.PathCache gave the Set (none when caching is off).
func (s *Set) NewCache() *Cache {
	if s.Empty() || s.cache == nil {
		return &Cache{}
	}
	return &Cache{pc: newPathCache(s.cacheN, false)}
}
