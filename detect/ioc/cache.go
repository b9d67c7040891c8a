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
type pathCache struct {
	seed   maphash.Seed
	shards []cacheShard
	ways   uint64
}

const (
	cacheShards   = 64
	cacheMaxMatch = 4 // paths matching more regexes are not cached
)

type cacheShard struct {
	mu   sync.Mutex
	ents []cacheEntry
}

type cacheEntry struct {
	key   string
	valid bool
	n     uint8
	ids   [cacheMaxMatch]int32
}

func newPathCache(entries int) *pathCache {
	if entries <= 0 {
		return nil
	}
	ways := (entries + cacheShards - 1) / cacheShards
	c := &pathCache{seed: maphash.MakeSeed(), shards: make([]cacheShard, cacheShards), ways: uint64(ways)}
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
	sh.mu.Lock()
	e := &sh.ents[i]
	ok := e.valid && e.key == v
	if ok {
		ids = append(ids, e.ids[:e.n]...)
	}
	sh.mu.Unlock()
	return ids, ok
}

func (c *pathCache) put(v string, ids []int32) {
	if len(ids) > cacheMaxMatch {
		return
	}
	sh, i := c.slot(v)
	sh.mu.Lock()
	e := &sh.ents[i]
	e.key, e.valid, e.n = v, true, uint8(len(ids))
	copy(e.ids[:], ids)
	sh.mu.Unlock()
}
