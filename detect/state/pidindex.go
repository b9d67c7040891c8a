package state

import "hash/maphash"

// pidIndex maps a host's PID to one process (ProcessTable.byPID: the most
// recently started of that PID). Like lru, it finds entries by a 64-bit
// hash of the key computed once per operation, with keys of one hash
// chained and compared whole; dropping a process compares pointers only.
type pidIndex struct {
	m    map[uint64]*pidEntry // by hash of key: the first of its chain
	n    int
	seed maphash.Seed
	hash func(maphash.Seed, pidKey) uint64 // maphash.Comparable; tests force collisions

	free *pidEntry // removed entries, linked by next, reused
	slab slab[pidEntry]
}

type pidEntry struct {
	key  pidKey // the strings of p
	p    *Process
	h    uint64
	next *pidEntry // next entry of the same hash
}

func newPIDIndex() pidIndex {
	return pidIndex{m: map[uint64]*pidEntry{}, seed: maphash.MakeSeed(), hash: maphash.Comparable[pidKey]}
}

func (x *pidIndex) len() int { return x.n }

// get returns the process of host's pid, or nil.
func (x *pidIndex) get(host, pid string) *Process {
	k := pidKey{host, pid}
	for e := x.m[x.hash(x.seed, k)]; e != nil; e = e.next {
		if e.key == k {
			return e.p
		}
	}
	return nil
}

// owns reports whether p is the process of its PID.
func (x *pidIndex) owns(p *Process) bool { return x.get(p.Host, p.PID) == p }

// claim makes p the process of its PID unless the one there started later.
func (x *pidIndex) claim(p *Process) {
	k := pidKey{p.Host, p.PID}
	h := x.hash(x.seed, k)
	first := x.m[h]
	for e := first; e != nil; e = e.next {
		if e.key == k {
			if e.p.Start <= p.Start {
				e.key, e.p = k, p // the key's strings now those of the live entry
			}
			return
		}
	}
	e := x.entry()
	*e = pidEntry{key: k, p: p, h: h, next: first}
	x.m[h] = e
	x.n++
}

// drop removes p's PID entry if p is the process of its PID.
func (x *pidIndex) drop(p *Process) {
	h := x.hash(x.seed, pidKey{p.Host, p.PID})
	var prev *pidEntry
	for e := x.m[h]; e != nil; prev, e = e, e.next {
		if e.p != p {
			continue
		}
		switch {
		case prev != nil:
			prev.next = e.next
		case e.next != nil:
			x.m[h] = e.next
		default:
			delete(x.m, h)
		}
		*e = pidEntry{next: x.free}
		x.free = e
		x.n--
		return
	}
}

// entry returns an unused entry: a removed one, else one of the slab.
func (x *pidIndex) entry() *pidEntry {
	if e := x.free; e != nil {
		x.free = e.next
		return e
	}
	return x.slab.next(lruSlab)
}
