package state

import "hash/maphash"

// pidIndex maps a host's PID to one process (ProcessTable.byPID: the most
// recently started of that PID). Like lru, it finds entries through an
// index on a 64-bit hash of the key computed once per operation; an entry
// is the process itself, held in its slot, whose Host and PID are the key,
// so dropping one compares the pointers of its probe run only.
type pidIndex struct {
	idx  index[*Process]
	seed maphash.Seed
	hash func(maphash.Seed, pidKey) uint64 // hashPIDKey; tests force collisions
	// cached: hash is hashPIDKey and seed procSeed, so a process's hp,
	// when set, is its key's hash here (hashOf). Tests that replace hash
	// clear it.
	cached bool
}

func newPIDIndex() pidIndex {
	return pidIndex{seed: procSeed, hash: hashPIDKey, cached: true}
}

// hashOf returns the hash of p's key: the one p carries (Process.hp) when
// it has one and the index hashes as every process table does, so the
// index of a table that holds a process another table built (and the
// eviction of a process last touched long ago) reads neither string.
func (x *pidIndex) hashOf(p *Process) uint64 {
	if x.cached && p.hp != 0 {
		return p.hp
	}
	return x.hash(x.seed, pidKey{p.Host, p.PID})
}

func (x *pidIndex) len() int { return x.idx.n }

// find returns the slot holding host's pid, or the empty one where the
// probe ended, and the key's tag.
func (x *pidIndex) find(host, pid string) (i, tag uint32, p *Process) {
	return x.findHash(x.hash(x.seed, pidKey{host, pid}), host, pid)
}

// findHash is find for a key whose hash h the caller has.
func (x *pidIndex) findHash(h uint64, host, pid string) (i, tag uint32, p *Process) {
	i, tag = x.idx.probe(h)
	for {
		s := x.idx.slots[i]
		if s.ref == nil {
			return i, tag, nil
		}
		if s.tag == tag {
			if p := s.ref; p.PID == pid && p.Host == host {
				return i, tag, p
			}
		}
		i = (i + 1) & x.idx.mask
	}
}

// get returns the process of host's pid, or nil.
func (x *pidIndex) get(host, pid string) *Process {
	_, _, p := x.find(host, pid)
	return p
}

// owns reports whether p is the process of its PID.
func (x *pidIndex) owns(p *Process) bool {
	_, ok := x.slotOf(p)
	return ok
}

// slotOf returns the slot holding p, if p is the process of its PID. Keys
// are held once, so p is there only in its key's probe run, and slots are
// told apart by the pointer they hold: no other process (a cache miss
// each, in a table of tens of thousands) is read, nor any other array.
func (x *pidIndex) slotOf(p *Process) (uint32, bool) {
	i, tag := x.idx.probe(x.hashOf(p))
	for {
		s := x.idx.slots[i]
		if s.ref == nil {
			return 0, false
		}
		if s.tag == tag && s.ref == p {
			return i, true
		}
		i = (i + 1) & x.idx.mask
	}
}

// claim makes p the process of its PID unless the one there started later.
func (x *pidIndex) claim(p *Process) {
	i, tag, old := x.findHash(x.hashOf(p), p.Host, p.PID)
	if old != nil {
		if old.Start <= p.Start {
			x.idx.slots[i].ref = p
		}
		return
	}
	x.idx.insertAt(i, tag, p)
}

// drop removes p's PID entry if p is the process of its PID.
func (x *pidIndex) drop(p *Process) {
	if i, ok := x.slotOf(p); ok {
		x.idx.removeAt(i)
	}
}

// replace puts c in p's place if p is the process of its PID (c has p's
// Host, PID and Start).
func (x *pidIndex) replace(p, c *Process) {
	if i, ok := x.slotOf(p); ok {
		x.idx.slots[i].ref = c
	}
}
