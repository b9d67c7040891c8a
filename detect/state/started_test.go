package state

import (
	"hash/maphash"
	"testing"

	"github.com/stretchr/testify/require"
)

// tableDump is everything a ProcessTable holds that lookups, snapshots or
// later events can tell apart: entries in recency order with their keys and
// values, which entry owns each PID, the exit queue and the counters.
type tableDump struct {
	Keys             []procKey
	Procs            []Process
	PIDOwner         []bool
	PIDs             int
	Exits            []exitMark
	Now              int64
	Evicted, Expired uint64
}

func dumpTable(t *ProcessTable) tableDump {
	d := tableDump{PIDs: t.byPID.len(), Exits: t.exits[t.exitHead:], Now: t.now, Evicted: t.Evicted, Expired: t.Expired}
	t.byGUID.each(func(p *Process) bool {
		d.Keys = append(d.Keys, p.key())
		d.Procs = append(d.Procs, values(p))
		d.PIDOwner = append(d.PIDOwner, t.byPID.owns(p))
		return true
	})
	return d
}

// values is *p without the hashes it carries: caches of its keys' hashes
// (set by the table that built it), not values a lookup answers.
func values(p *Process) Process {
	v := *p
	v.hk, v.hp, v.hpar = 0, 0, 0
	return v
}

// tableBounds are the bounds the ObserveStarted tests run under: small
// ones that make the generated mix evict and expire entries, and the
// defaults.
var tableBounds = []struct {
	max int
	ttl int64
}{{300, 2 * sec}, {65536, 600 * sec}}

// A table fed ObserveStarted with copies of what another table's Observe
// returned holds, after every event, what that table holds: the same
// entries in the same recency order, the same PID owners, exits and
// counters. Small bounds make the generated mix evict and expire entries,
// and a fifth of its starts are Security 4688s (parents linked by PID).
func TestObserveStartedKeepsTheSameTable(t *testing.T) {
	for _, b := range tableBounds {
		a, c := NewProcessTable(b.max, b.ttl), NewProcessTable(b.max, b.ttl)
		evs := generated()
		starts, copied := 0, 0
		for i := range evs {
			p := a.Observe(&evs[i])
			var cp *Process
			if p != nil {
				starts++
				v := *p
				cp = &v
			}
			c.ObserveStarted(&evs[i], cp)
			if cp != nil {
				copied++
			}
			if i%997 == 0 || i == len(evs)-1 {
				require.Equal(t, dumpTable(a), dumpTable(c), "bound %d: after event %d", b.max, i)
			}
		}
		require.Greater(t, starts, 1000, "the mix starts processes")
		require.Equal(t, starts, copied)
		if b.max == 300 {
			require.NotZero(t, a.Evicted, "the bound evicts")
			require.NotZero(t, a.Expired, "the TTL expires")
		}
	}
}

// A table whose keys all collide (every GUID key one hash, every PID key
// one hash) holds after every event what a table of real hashes holds,
// under tiny bounds that make the mix evict and expire all the time: the
// index must tell keys apart by comparing them, and deleting from a probe
// run must keep every other entry reachable. An index that trusted its
// 32-bit tags, or left a hole in a run, fails it.
func TestProcessTableSameWhenAllKeysCollide(t *testing.T) {
	for _, max := range []int{1, 7, 300} {
		spread, coll := NewProcessTable(max, 2*sec), NewProcessTable(max, 2*sec)
		coll.byGUID.hash = func(maphash.Seed, procKey) uint64 { return 0xfffffffe }
		coll.byPID.hash = func(maphash.Seed, pidKey) uint64 { return 0xffffffff }
		coll.cached, coll.byPID.cached = false, false // the hashes processes carry are not these
		evs := generated()
		for i := range evs {
			pr, pc := spread.Observe(&evs[i]), coll.Observe(&evs[i])
			require.Equal(t, pr == nil, pc == nil, "bound %d: event %d", max, i)
			if pr != nil {
				require.Equal(t, *pr, *pc, "bound %d: event %d", max, i)
			}
			if i%101 == 0 || i == len(evs)-1 {
				require.Equal(t, dumpTable(spread), dumpTable(coll), "bound %d: after event %d", max, i)
			}
		}
		require.NotZero(t, spread.Evicted, "bound %d evicts", max)
		if max == 300 {
			require.NotZero(t, spread.Expired, "the TTL expires")
		}
	}
}

// dumpPlain is dumpTable without which processes are shared, to compare
// with a table that shares none.
func dumpPlain(t *ProcessTable) tableDump {
	d := dumpTable(t)
	for i := range d.Procs {
		d.Procs[i].shared = false
	}
	return d
}

// A table that holds the processes another table's ObserveShared started
// (ObserveStarted), while that table runs ahead on its own goroutine (as an
// Enricher runs ahead of its engine), holds after every event what a table
// fed Observe holds: the producer's later exits, evictions and expiries do
// not reach it. With -race, a write to a shared process after it was
// handed over is a race the detector reports.
func TestObserveSharedWhileAhead(t *testing.T) {
	for _, b := range tableBounds {
		prod, cons, ref := NewProcessTable(b.max, b.ttl), NewProcessTable(b.max, b.ttl), NewProcessTable(b.max, b.ttl)
		evs := generated()
		started := make(chan *Process, 512) // the producer runs up to 512 events ahead
		go func() {
			for i := range evs {
				started <- prod.ObserveShared(&evs[i])
			}
			close(started)
		}()
		i, shared := 0, 0
		for p := range started {
			if p != nil && p.shared {
				shared++
			}
			cons.ObserveStarted(&evs[i], p)
			ref.Observe(&evs[i])
			if i%997 == 0 || i == len(evs)-1 {
				require.Equal(t, dumpPlain(ref), dumpPlain(cons), "bound %d: after event %d", b.max, i)
			}
			i++
		}
		require.Equal(t, dumpPlain(ref), dumpPlain(prod), "bound %d: the producer's own table", b.max)
		require.Greater(t, shared, 1000, "the mix starts processes, all shared")
		if b.max == 300 {
			require.NotZero(t, ref.Evicted, "the bound evicts")
			require.NotZero(t, ref.Expired, "the TTL expires")
		}
	}
}

// The hashes a process carries are those of its keys as it stands, in
// every table that holds it: after the generated mix (evicting, expiring,
// exits unsharing processes, 4688 starts linked by PID), each process a
// table holds — by the producer's ObserveShared and by the consumer's
// ObserveStarted — is found by a lookup that hashes its key's strings
// (ByGUID; ByPID for its PID's owner), and its carried hashes equal the
// hashes of its keys. A table that used a stale or wrong carried hash
// files the entry where such a lookup does not look.
func TestCarriedHashesAreTheKeys(t *testing.T) {
	for _, b := range tableBounds {
		prod, cons := NewProcessTable(b.max, b.ttl), NewProcessTable(b.max, b.ttl)
		evs := generated()
		carried := 0
		check := func(tb *ProcessTable, name string, i int) {
			tb.byGUID.each(func(p *Process) bool {
				if p.hk != 0 {
					carried++
					require.Equal(t, hashProcKey(procSeed, p.key()), p.hk, "%s: event %d", name, i)
					require.Equal(t, hashPIDKey(procSeed, pidKey{p.Host, p.PID}), p.hp, "%s: event %d", name, i)
				}
				if p.hpar != 0 {
					require.Equal(t, hashProcKey(procSeed, procKey{host: p.Host, guid: p.ParentGUID}), p.hpar, "%s: event %d", name, i)
				}
				if p.GUID != "" {
					require.Same(t, p, tb.ByGUID(p.Host, p.GUID), "%s: event %d", name, i)
				}
				if tb.byPID.owns(p) {
					require.Same(t, p, tb.byPID.get(p.Host, p.PID), "%s: event %d", name, i)
				}
				return true
			})
		}
		for i := range evs {
			cons.ObserveStarted(&evs[i], prod.ObserveShared(&evs[i]))
			if i%499 == 0 || i == len(evs)-1 {
				check(prod, "producer", i)
				check(cons, "consumer", i)
			}
		}
		require.Greater(t, carried, 1000, "processes carry hashes")
		if b.max == 300 {
			require.NotZero(t, prod.Evicted, "the bound evicts")
			require.NotZero(t, prod.Expired, "the TTL expires")
		}
	}
}
