package state

import "hash/maphash"

// lru is a bounded map that evicts the least recently used entry. Its order
// depends only on the sequence of calls, never on map iteration or time, so
// the engine's state evolves identically on every replay.
//
// Entries live in one slice, numbered, linked by number in recency order,
// and found by an index (open addressing on a 64-bit hash of the key,
// computed once per operation). A value names its key (keyed), so a node
// holds no copy of it: a process table's node is 24 bytes, not the 72 its
// 48-byte key made it, in tables of tens of thousands. Removed entries are
// reused, so the storage is bounded by the most entries ever held (at most
// max) and the state stage allocates only when that grows. Numbers, not
// pointers, keep the slice free of pointers the garbage collector would
// follow besides those of the values.
type lru[K comparable, V keyed[K]] struct {
	max   int
	n     int          // entries held
	nodes []lruNode[V] // nodes[0] is the sentinel: its next is the most recent
	free  uint32       // first removed node, linked by next; 0: none
	idx   index[uint32]
	seed  maphash.Seed
	evict func(V) // called for entries pushed out by the bound

	// hash is maphash.Comparable with seed, replaced by tests that need
	// collisions.
	hash func(maphash.Seed, K) uint64
}

// keyed is a value that names its key. The key of a value an lru holds
// never changes while it is held.
type keyed[K comparable] interface {
	key() K
}

type lruNode[V any] struct {
	val        V
	tag        uint32 // the index's tag of val's key
	prev, next uint32
}

func newLRU[K comparable, V keyed[K]](max int, evict func(V)) *lru[K, V] {
	if max < 1 {
		max = 1
	}
	return &lru[K, V]{max: max, nodes: make([]lruNode[V], 1, min(max+1, 64)), seed: maphash.MakeSeed(), evict: evict, hash: maphash.Comparable[K]}
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
		if s.tag == tag && l.nodes[s.ref].val.key() == k {
			return s.ref, i, tag
		}
		i = (i + 1) & l.idx.mask
	}
}

// lookup returns the node of k or nil.
func (l *lru[K, V]) lookup(k K) *lruNode[V] { return l.lookupHash(l.hash(l.seed, k), k) }

// lookupHash is lookup for a k whose hash h the caller has.
func (l *lru[K, V]) lookupHash(h uint64, k K) *lruNode[V] {
	if r, _, _ := l.find(h, k); r != 0 {
		return &l.nodes[r]
	}
	return nil
}

func (l *lru[K, V]) Len() int { return l.n }

// Get returns the value and marks it most recently used.
func (l *lru[K, V]) Get(k K) (V, bool) { return l.GetHash(l.hash(l.seed, k), k) }

// GetHash is Get for a k whose hash h the caller has.
func (l *lru[K, V]) GetHash(h uint64, k K) (V, bool) {
	r, _, _ := l.find(h, k)
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

// Put stores a value, under its key, as most recently used and reports how
// many entries the bound evicted.
func (l *lru[K, V]) Put(v V) int {
	k := v.key()
	return l.PutHash(l.hash(l.seed, k), v)
}

// PutHash is Put for a value whose key's hash h the caller has.
func (l *lru[K, V]) PutHash(h uint64, v V) int {
	n, _, evicted := l.upsertHash(h, v.key())
	n.val = v
	return evicted
}

// upsert returns k's node, made most recent; a new one (existed false,
// its value zero) when k was not held, and how many entries the bound
// evicted. k is hashed once. The caller gives a new node its value, whose
// key is k, before the next call; an existing node's value it may replace
// by one of the same key. The node is valid until the next call that adds
// an entry.
func (l *lru[K, V]) upsert(k K) (n *lruNode[V], existed bool, evicted int) {
	return l.upsertHash(l.hash(l.seed, k), k)
}

// upsertHash is upsert for a k whose hash h the caller has.
func (l *lru[K, V]) upsertHash(h uint64, k K) (n *lruNode[V], existed bool, evicted int) {
	r, hole, tag := l.find(h, k)
	if r != 0 {
		l.moveFront(r)
		return &l.nodes[r], true, 0
	}
	// The bound makes room first: the least recently used entry is never
	// k, which is new, so this evicts what adding k and then evicting down
	// to max would, in the same order, and the index and the nodes never
	// hold more than max (the index stays half the size).
	for l.n >= l.max {
		old := l.nodes[0].prev
		ov := l.nodes[old].val
		l.remove(old)
		if l.evict != nil {
			l.evict(ov)
		}
		evicted++
	}
	r = l.node()
	l.nodes[r].tag = tag
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
	*n = lruNode[V]{next: l.free}
	l.free = r
}

// node returns the number of an unlinked node: a removed one, else a new
// one.
func (l *lru[K, V]) node() uint32 {
	if r := l.free; r != 0 {
		l.free, l.nodes[r].next = l.nodes[r].next, 0
		return r
	}
	l.nodes = append(l.nodes, lruNode[V]{})
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
func (l *lru[K, V]) each(fn func(V) bool) {
	for r := l.nodes[0].next; r != 0; r = l.nodes[r].next {
		if !fn(l.nodes[r].val) {
			return
		}
	}
}
