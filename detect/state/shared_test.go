package state

import (
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// sharedBounds are tables of different bounds and TTLs that see the same
// events, as edr live's Enricher mirror, recording tracker and engine do:
// where their history differs (the small bound evicts, and a Security
// 4688's parent fields come from the table's own PID index), they build
// different processes.
var sharedBounds = []struct {
	max int
	ttl int64
}{{65536, 600 * sec}, {16384, 300 * sec}, {300, 2 * sec}}

// Tables that share their processes (Shared) hold after every event the
// values tables that share nothing hold, and the processes the large
// tables both hold running are one copy: each process started is built
// once, by the first table that sees its event.
func TestSharedTablesHoldOneCopy(t *testing.T) {
	s := NewShared()
	var shared, plain []*ProcessTable
	for _, b := range sharedBounds {
		p := NewProcessTable(b.max, b.ttl)
		p.ShareWith(s)
		shared, plain = append(shared, p), append(plain, NewProcessTable(b.max, b.ttl))
	}
	evs := generated()
	for i := range evs {
		for j := range shared {
			shared[j].Observe(&evs[i])
			plain[j].Observe(&evs[i])
		}
		if i%997 == 0 || i == len(evs)-1 {
			for j := range shared {
				require.Equal(t, dumpPlain(plain[j]), dumpPlain(shared[j]), "table %d: after event %d", j, i)
			}
		}
	}
	require.NotZero(t, plain[2].Evicted, "the small bound evicts")
	copies, running := 0, 0
	for _, p := range running0(shared[0]) {
		q := shared[1].ByGUID(p.Host, p.GUID)
		if q == nil || q.End != 0 || p.GUID == "" {
			continue
		}
		running++
		if q != p {
			copies++
		}
	}
	require.Greater(t, running, 1000, "the large tables hold the mix's running processes")
	require.Zero(t, copies, "processes both large tables hold running are one copy")
}

// running0 is the running processes t started (not partial).
func running0(t *ProcessTable) []*Process {
	var out []*Process
	t.byGUID.each(func(p *Process) bool {
		if !p.Partial && p.End == 0 {
			out = append(out, p)
		}
		return true
	})
	return out
}

// Tables that share their processes while each runs on its own goroutine,
// at its own pace, hold the values of tables that share nothing; with
// -race, a write to a process another table holds is a race the detector
// reports.
func TestSharedTablesConcurrently(t *testing.T) {
	s := NewShared()
	evs := generated()
	var wg sync.WaitGroup
	tables := make([]*ProcessTable, len(sharedBounds))
	for j, b := range sharedBounds {
		tables[j] = NewProcessTable(b.max, b.ttl)
		tables[j].ShareWith(s)
		wg.Add(1)
		go func(tb *ProcessTable) {
			defer wg.Done()
			for i := range evs {
				tb.Observe(&evs[i])
			}
		}(tables[j])
	}
	wg.Wait()
	for j, b := range sharedBounds {
		ref := NewProcessTable(b.max, b.ttl)
		for i := range evs {
			ref.Observe(&evs[i])
		}
		require.Equal(t, dumpPlain(ref), dumpPlain(tables[j]), "table %d", j)
	}
}
