package state

// lru is a bounded map that evicts the least recently used entry. Its order
// depends only on the sequence of calls, never on map iteration or time, so
// the engine's state evolves identically on every replay.
type lru[K comparable, V any] struct {
	max   int
	items map[K]*lruNode[K, V]
	head  lruNode[K, V] // sentinel: head.next is the most recent
	evict func(K, V)    // called for entries pushed out by the bound

	// Nodes come from slabs and removed ones are reused (free, linked by
	// next): the state stage allocates per slab, not per entry. The
	// storage is bounded by the most entries ever held (at most max).
	free *lruNode[K, V]
	slab []lruNode[K, V]
}

// lruSlab is how many nodes one allocation holds.
const lruSlab = 256

type lruNode[K comparable, V any] struct {
	key        K
	val        V
	prev, next *lruNode[K, V]
}

func newLRU[K comparable, V any](max int, evict func(K, V)) *lru[K, V] {
	if max < 1 {
		max = 1
	}
	l := &lru[K, V]{max: max, items: make(map[K]*lruNode[K, V]), evict: evict}
	l.head.next, l.head.prev = &l.head, &l.head
	return l
}

func (l *lru[K, V]) Len() int { return len(l.items) }

// Get returns the value and marks it most recently used.
func (l *lru[K, V]) Get(k K) (V, bool) {
	n, ok := l.items[k]
	if !ok {
		var zero V
		return zero, false
	}
	l.moveFront(n)
	return n.val, true
}

// Peek returns the value without touching its recency.
func (l *lru[K, V]) Peek(k K) (V, bool) {
	n, ok := l.items[k]
	if !ok {
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
// and how many entries the bound evicted. One map lookup when k is held.
func (l *lru[K, V]) upsert(k K, own func(K) K) (n *lruNode[K, V], existed bool, evicted int) {
	if n, ok := l.items[k]; ok {
		l.moveFront(n)
		return n, true, 0
	}
	if own != nil {
		k = own(k)
	}
	n = l.node()
	n.key = k
	l.items[k] = n
	l.link(n)
	for len(l.items) > l.max {
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
	if n, ok := l.items[k]; ok {
		l.remove(n)
		l.recycle(n)
	}
}

func (l *lru[K, V]) remove(n *lruNode[K, V]) {
	n.prev.next, n.next.prev = n.next, n.prev
	n.prev, n.next = nil, nil
	delete(l.items, n.key)
}

// node returns an unlinked node: a removed one, else one of the slab.
func (l *lru[K, V]) node() *lruNode[K, V] {
	if n := l.free; n != nil {
		l.free, n.next = n.next, nil
		return n
	}
	if len(l.slab) == 0 {
		l.slab = make([]lruNode[K, V], min(lruSlab, l.max+1))
	}
	n := &l.slab[0]
	l.slab = l.slab[1:]
	return n
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
