package state

import "hash/maphash"

// lru is a bounded map that evicts the least recently used entry. Its order
// depends only on the sequence of calls, never on map iteration or time, so
// the engine's state evolves identically on every replay.
//
// Entries are found by a 64-bit hash of their key, computed once per
// operation: the map's own hashing, its probing and its growth then work on
// an integer instead of the key's strings (which a new key would hash twice,
// to look it up and to insert it, and growth again). Keys of the same hash
// are chained (hnext) and compared whole, so a collision never merges two
// keys, and the random seed changes nothing a caller sees.
type lru[K comparable, V any] struct {
	max   int
	n     int                       // entries held
	items map[uint64]*lruNode[K, V] // by hash of key: the first of its chain
	seed  maphash.Seed
	head  lruNode[K, V] // sentinel: head.next is the most recent
	evict func(K, V)    // called for entries pushed out by the bound

	// hash is maphash.Comparable with seed, replaced by tests that need
	// collisions.
	hash func(maphash.Seed, K) uint64

	// Nodes come from slabs and removed ones are reused (free, linked by
	// next): the state stage allocates per slab, not per entry. The
	// storage is bounded by the most entries ever held (at most max).
	free *lruNode[K, V]
	slab slab[lruNode[K, V]]
}

// lruSlab is how many nodes one allocation holds.
const lruSlab = 256

type lruNode[K comparable, V any] struct {
	key        K
	val        V
	h          uint64         // hash of key
	hnext      *lruNode[K, V] // next entry of the same hash
	prev, next *lruNode[K, V]
}

func newLRU[K comparable, V any](max int, evict func(K, V)) *lru[K, V] {
	if max < 1 {
		max = 1
	}
	l := &lru[K, V]{max: max, items: make(map[uint64]*lruNode[K, V]), seed: maphash.MakeSeed(), evict: evict, hash: maphash.Comparable[K]}
	l.head.next, l.head.prev = &l.head, &l.head
	return l
}

// find returns the node of k, whose hash is h, or nil.
func (l *lru[K, V]) find(h uint64, k K) *lruNode[K, V] {
	n := l.items[h]
	for n != nil && n.key != k {
		n = n.hnext
	}
	return n
}

// lookup returns the node of k or nil.
func (l *lru[K, V]) lookup(k K) *lruNode[K, V] { return l.find(l.hash(l.seed, k), k) }

func (l *lru[K, V]) Len() int { return l.n }

// Get returns the value and marks it most recently used.
func (l *lru[K, V]) Get(k K) (V, bool) {
	n := l.lookup(k)
	if n == nil {
		var zero V
		return zero, false
	}
	l.moveFront(n)
	return n.val, true
}

// Peek returns the value without touching its recency.
func (l *lru[K, V]) Peek(k K) (V, bool) {
	n := l.lookup(k)
	if n == nil {
		var zero V
		return zero, false
	}
	return n.val, true
}

// Put stores a value as most recently used and reports how many entries the
// bound evicted.
func (l *lru[K, V]) Put(k K, v V) int { return l.PutOwn(k, v, nil) }

// PutOwn is Put for a key that may borrow storage (an event's strings):
// own, when set, gives the key to store when k is new. An existing entry
// keeps the key it was stored with.
func (l *lru[K, V]) PutOwn(k K, v V, own func(K) K) int {
	n, _, evicted := l.upsert(k, own)
	n.val = v
	return evicted
}

// upsert returns k's node, made most recent; a new one (existed false,
// its value zero, its key own(k) when own is set) when k was not held,
// and how many entries the bound evicted. k is hashed once.
func (l *lru[K, V]) upsert(k K, own func(K) K) (n *lruNode[K, V], existed bool, evicted int) {
	h := l.hash(l.seed, k)
	first := l.items[h]
	for n := first; n != nil; n = n.hnext {
		if n.key == k {
			l.moveFront(n)
			return n, true, 0
		}
	}
	if own != nil {
		k = own(k)
	}
	n = l.node()
	n.key, n.h, n.hnext = k, h, first
	l.items[h] = n
	l.n++
	l.link(n)
	for l.n > l.max {
		old := l.head.prev
		l.remove(old)
		if l.evict != nil {
			l.evict(old.key, old.val)
		}
		l.recycle(old)
		evicted++
	}
	return n, false, evicted
}

// Delete removes a key.
func (l *lru[K, V]) Delete(k K) {
	if n := l.lookup(k); n != nil {
		l.remove(n)
		l.recycle(n)
	}
}

func (l *lru[K, V]) remove(n *lruNode[K, V]) {
	n.prev.next, n.next.prev = n.next, n.prev
	n.prev, n.next = nil, nil
	l.n--
	// Unchain it from the entries of its hash.
	first := l.items[n.h]
	switch {
	case first == n && n.hnext == nil:
		delete(l.items, n.h)
	case first == n:
		l.items[n.h] = n.hnext
	default:
		p := first
		for p.hnext != n {
			p = p.hnext
		}
		p.hnext = n.hnext
	}
	n.hnext = nil
}

// node returns an unlinked node: a removed one, else one of the slab.
func (l *lru[K, V]) node() *lruNode[K, V] {
	if n := l.free; n != nil {
		l.free, n.next = n.next, nil
		return n
	}
	return l.slab.next(min(lruSlab, l.max+1))
}

// recycle makes a removed node available to node. Its key and value are
// cleared, so it keeps nothing alive.
func (l *lru[K, V]) recycle(n *lruNode[K, V]) {
	*n = lruNode[K, V]{next: l.free}
	l.free = n
}

func (l *lru[K, V]) link(n *lruNode[K, V]) {
	n.prev, n.next = &l.head, l.head.next
	l.head.next.prev = n
	l.head.next = n
}

func (l *lru[K, V]) moveFront(n *lruNode[K, V]) {
	if l.head.next == n {
		return
	}
	n.prev.next, n.next.prev = n.next, n.prev
	l.link(n)
}

// each calls fn from the most to the least recently used entry until fn
// returns false. It does not change recency.
func (l *lru[K, V]) each(fn func(K, V) bool) {
	for n := l.head.next; n != &l.head; n = n.next {
		if !fn(n.key, n.val) {
			return
		}
	}
}
