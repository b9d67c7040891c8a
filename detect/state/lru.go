package state

import "hash/maphash"

// lru is a bounded map that evicts the least recently used entry. Its order
// depends only on the sequence of calls, never on map iteration or time, so
// the engine's state evolves identically on every replay.
//
// Entries live in one slice, numbered, linked by number in recency order,
// and found by an index (open addressing on a 64-bit hash of the key,
// computed once per operation). Removed entries are reused, so the
// storage is bounded by the most entries ever held (at most max) and the
// state stage allocates only when that grows. Numbers, not pointers, keep
// the slice free of pointers the garbage collector would follow besides
// those of keys and values.
type lru[K comparable, V any] struct {
	max   int
	n     int             // entries held
	nodes []lruNode[K, V] // nodes[0] is the sentinel: its next is the most recent
	free  uint32          // first removed node, linked by next; 0: none
	idx   index
	seed  maphash.Seed
	evict func(K, V) // called for entries pushed out by the bound

	// hash is maphash.Comparable with seed, replaced by tests that need
	// collisions.
	hash func(maphash.Seed, K) uint64
}

type lruNode[K comparable, V any] struct {
	key        K
	val        V
	tag        uint32 // the index's tag of key
	prev, next uint32
}

func newLRU[K comparable, V any](max int, evict func(K, V)) *lru[K, V] {
	if max < 1 {
		max = 1
	}
	return &lru[K, V]{max: max, nodes: make([]lruNode[K, V], 1, min(max+1, 64)), seed: maphash.MakeSeed(), evict: evict, hash: maphash.Comparable[K]}
}

// find returns the number of k's node, whose hash is h, or 0; on 0 also
// the empty slot where the probe ended (for index.insertAt) and h's tag.
func (l *lru[K, V]) find(h uint64, k K) (ref, hole, tag uint32) {
	i, tag := l.idx.probe(h)
	for {
		s := l.idx.slots[i]
		if s.ref == 0 {
			return 0, i, tag
		}
		if s.tag == tag && l.nodes[s.ref].key == k {
			return s.ref, i, tag
		}
		i = (i + 1) & l.idx.mask
	}
}

// lookup returns the node of k or nil.
func (l *lru[K, V]) lookup(k K) *lruNode[K, V] {
	if r, _, _ := l.find(l.hash(l.seed, k), k); r != 0 {
		return &l.nodes[r]
	}
	return nil
}

func (l *lru[K, V]) Len() int { return l.n }

// Get returns the value and marks it most recently used.
func (l *lru[K, V]) Get(k K) (V, bool) {
	r, _, _ := l.find(l.hash(l.seed, k), k)
	if r == 0 {
		var zero V
		return zero, false
	}
	l.moveFront(r)
	return l.nodes[r].val, true
}

// Peek returns the value without touching its recency.
func (l *lru[K, V]) Peek(k K) (V, bool) {
	if n := l.lookup(k); n != nil {
		return n.val, true
	}
	var zero V
	return zero, false
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
// and how many entries the bound evicted. k is hashed once. The node is
// valid until the next call that adds an entry.
func (l *lru[K, V]) upsert(k K, own func(K) K) (n *lruNode[K, V], existed bool, evicted int) {
	r, hole, tag := l.find(l.hash(l.seed, k), k)
	if r != 0 {
		l.moveFront(r)
		return &l.nodes[r], true, 0
	}
	if own != nil {
		k = own(k)
	}
	// The bound makes room first: the least recently used entry is never
	// k, which is new, so this evicts what adding k and then evicting down
	// to max would, in the same order, and the index and the nodes never
	// hold more than max (the index stays half the size).
	for l.n >= l.max {
		old := l.nodes[0].prev
		o := &l.nodes[old]
		ok, ov := o.key, o.val
		l.remove(old)
		if l.evict != nil {
			l.evict(ok, ov)
		}
		evicted++
	}
	r = l.node()
	l.nodes[r].key, l.nodes[r].tag = k, tag
	if evicted > 0 {
		l.idx.insert(tag, r) // removal moved entries: hole may be stale
	} else {
		l.idx.insertAt(hole, tag, r)
	}
	l.n++
	l.link(r)
	return &l.nodes[r], false, evicted
}

// Delete removes a key.
func (l *lru[K, V]) Delete(k K) {
	if r, _, _ := l.find(l.hash(l.seed, k), k); r != 0 {
		l.remove(r)
	}
}

// remove unlinks node r, takes it out of the index and keeps it for
// reuse, cleared so it keeps nothing alive.
func (l *lru[K, V]) remove(r uint32) {
	n := &l.nodes[r]
	l.nodes[n.prev].next, l.nodes[n.next].prev = n.next, n.prev
	l.n--
	l.idx.remove(n.tag, r)
	*n = lruNode[K, V]{next: l.free}
	l.free = r
}

// node returns the number of an unlinked node: a removed one, else a new
// one.
func (l *lru[K, V]) node() uint32 {
	if r := l.free; r != 0 {
		l.free, l.nodes[r].next = l.nodes[r].next, 0
		return r
	}
	l.nodes = append(l.nodes, lruNode[K, V]{})
	return uint32(len(l.nodes) - 1)
}

func (l *lru[K, V]) link(r uint32) {
	n, head := &l.nodes[r], &l.nodes[0]
	n.prev, n.next = 0, head.next
	l.nodes[head.next].prev = r
	head.next = r
}

func (l *lru[K, V]) moveFront(r uint32) {
	if l.nodes[0].next == r {
		return
	}
	n := &l.nodes[r]
	l.nodes[n.prev].next, l.nodes[n.next].prev = n.next, n.prev
	l.link(r)
}

// each calls fn from the most to the least recently used entry until fn
// returns false. It does not change recency.
func (l *lru[K, V]) each(fn func(K, V) bool) {
	for r := l.nodes[0].next; r != 0; r = l.nodes[r].next {
		if !fn(l.nodes[r].key, l.nodes[r].val) {
			return
		}
	}
}
