package state

import (
	"hash/maphash"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// The PID index answers as the map it replaced (claim: keep the later
// start; drop: only the owner's entry), with its real hash and with hashes
// that crowd most or all keys into a few slots (the last ones: runs wrap
// around), so entries are found, replaced and dropped at the start, middle
// and end of a probe run.
func TestPIDIndexAgreesWithMapUnderCollisions(t *testing.T) {
	for name, hash := range map[string]func(maphash.Seed, pidKey) uint64{
		"hashPIDKey": hashPIDKey,
		"three":      func(_ maphash.Seed, k pidKey) uint64 { return uint64(len(k.pid) % 3) },
		"one":        func(maphash.Seed, pidKey) uint64 { return 1 },
		"wrap":       func(_ maphash.Seed, k pidKey) uint64 { return 0xffffffff - uint64(len(k.pid)%2) },
	} {
		x := newPIDIndex()
		x.hash = hash
		ref := map[pidKey]*Process{}
		var procs []*Process
		r := rand.New(rand.NewPCG(7, 7))
		for i := 0; i < 20000; i++ {
			host, pid := []string{"A", "B"}[r.IntN(2)], strconv.Itoa(r.IntN(30)*7)
			k := pidKey{host, pid}
			switch r.IntN(3) {
			case 0:
				p := &Process{Host: host, PID: pid, Start: int64(r.IntN(1000))}
				procs = append(procs, p)
				x.claim(p)
				if old := ref[k]; old == nil || old.Start <= p.Start {
					ref[k] = p
				}
			case 1:
				if len(procs) > 0 {
					p := procs[r.IntN(len(procs))]
					x.drop(p)
					if ref[pidKey{p.Host, p.PID}] == p {
						delete(ref, pidKey{p.Host, p.PID})
					}
				}
			default:
				require.Same(t, ref[k], x.get(host, pid), "%s: op %d get %v", name, i, k)
			}
			require.Equal(t, len(ref), x.len(), "%s: op %d", name, i)
		}
		for k, p := range ref {
			require.Same(t, p, x.get(k.host, k.pid), name)
			require.True(t, x.owns(p), name)
		}
	}
}
