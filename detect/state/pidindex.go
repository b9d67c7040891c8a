package state

import "hash/maphash"

// pidIndex maps a host's PID to one process (ProcessTable.byPID: the most
// recently started of that PID). Like lru, it finds entries through an
// index on a 64-bit hash of the key computed once per operation; an entry
// is the process itself, whose Host and PID are the key, so dropping one
// compares pointers only.
type pidIndex struct {
	procs []*Process // entry r-1 of the index; nil when free
	free  []uint32   // free entries' numbers + 1
	idx   index
	seed  maphash.Seed
	hash  func(maphash.Seed, pidKey) uint64 // hashPIDKey; tests force collisions
}

func newPIDIndex() pidIndex {
	return pidIndex{seed: maphash.MakeSeed(), hash: hashPIDKey}
}

func (x *pidIndex) len() int { return x.idx.n }

// find returns the slot holding host's pid, or the empty one where the
// probe ended, and the key's tag.
func (x *pidIndex) find(host, pid string) (i, tag uint32, p *Process) {
	i, tag = x.idx.probe(x.hash(x.seed, pidKey{host, pid}))
	for {
		s := x.idx.slots[i]
		if s.ref == 0 {
			return i, tag, nil
		}
		if s.tag == tag {
			if p := x.procs[s.ref-1]; p.PID == pid && p.Host == host {
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
func (x *pidIndex) owns(p *Process) bool { return x.get(p.Host, p.PID) == p }

// claim makes p the process of its PID unless the one there started later.
func (x *pidIndex) claim(p *Process) {
	i, tag, old := x.find(p.Host, p.PID)
	if old != nil {
		if old.Start <= p.Start {
			x.procs[x.idx.slots[i].ref-1] = p
		}
		return
	}
	var ref uint32
	if n := len(x.free); n > 0 {
		ref, x.free = x.free[n-1], x.free[:n-1]
		x.procs[ref-1] = p
	} else {
		x.procs = append(x.procs, p)
		ref = uint32(len(x.procs))
	}
	x.idx.insertAt(i, tag, ref)
}

// drop removes p's PID entry if p is the process of its PID.
func (x *pidIndex) drop(p *Process) {
	i, _, held := x.find(p.Host, p.PID)
	if held != p {
		return
	}
	ref := x.idx.slots[i].ref
	x.procs[ref-1] = nil
	x.free = append(x.free, ref)
	x.idx.removeAt(i)
}

// replace puts c in p's place if p is the process of its PID (c has p's
// Host, PID and Start).
func (x *pidIndex) replace(p, c *Process) {
	if i, _, held := x.find(p.Host, p.PID); held == p {
		x.procs[x.idx.slots[i].ref-1] = c
	}
}
