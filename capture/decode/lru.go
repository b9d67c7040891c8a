package decode

import "strings"

// lru maps a kernel object address to a name, bounded: when full, the
// least recently used entry goes and the eviction is counted. Eviction
// order depends only on the order of calls, so replays are deterministic
// (no map iteration, no clock).
type lru struct {
	name    string
	evicted map[string]uint64
	max     int
	idx     map[uint64]int32
	ents    []lruEnt
	head    int32 // most recent; -1 when empty
	tail    int32 // least recent
	free    int32 // free list through next
}

type lruEnt struct {
	key        uint64
	val        string
	prev, next int32
}

func newLRU(max int, name string, evicted map[string]uint64) *lru {
	return &lru{name: name, evicted: evicted, max: max, idx: make(map[uint64]int32), head: -1, tail: -1, free: -1}
}

func (l *lru) unlink(i int32) {
	e := &l.ents[i]
	if e.prev >= 0 {
		l.ents[e.prev].next = e.next
	} else {
		l.head = e.next
	}
	if e.next >= 0 {
		l.ents[e.next].prev = e.prev
	} else {
		l.tail = e.prev
	}
}

func (l *lru) pushFront(i int32) {
	e := &l.ents[i]
	e.prev, e.next = -1, l.head
	if l.head >= 0 {
		l.ents[l.head].prev = i
	}
	l.head = i
	if l.tail < 0 {
		l.tail = i
	}
}

// get returns the value and marks it recently used.
func (l *lru) get(k uint64) (string, bool) {
	i, ok := l.idx[k]
	if !ok {
		return "", false
	}
	if l.head != i {
		l.unlink(i)
		l.pushFront(i)
	}
	return l.ents[i].val, true
}

// put sets k to a copy of v. The copy is why: v is usually carved from
// the string table's 8 kB slabs (or is a record source's string), and an
// entry lives as long as its kernel object, so holding v itself would keep
// its whole slab alive: a live run's heap then grows with every slab a
// long-lived file or key object touched.
func (l *lru) put(k uint64, v string) {
	if i, ok := l.idx[k]; ok {
		if l.ents[i].val != v {
			l.ents[i].val = strings.Clone(v)
		}
		if l.head != i {
			l.unlink(i)
			l.pushFront(i)
		}
		return
	}
	if len(l.idx) >= l.max {
		t := l.tail
		l.unlink(t)
		delete(l.idx, l.ents[t].key)
		l.ents[t] = lruEnt{next: l.free}
		l.free = t
		l.evicted[l.name]++
	}
	var i int32
	if l.free >= 0 {
		i = l.free
		l.free = l.ents[i].next
	} else {
		l.ents = append(l.ents, lruEnt{})
		i = int32(len(l.ents) - 1)
	}
	l.ents[i].key, l.ents[i].val = k, strings.Clone(v)
	l.idx[k] = i
	l.pushFront(i)
}

// del removes k.
func (l *lru) del(k uint64) {
	i, ok := l.idx[k]
	if !ok {
		return
	}
	l.unlink(i)
	delete(l.idx, k)
	l.ents[i] = lruEnt{next: l.free}
	l.free = i
}

func (l *lru) len() int { return len(l.idx) }
