package state

import (
	"hash/maphash"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"
)

// refLRU is the reference the lru must agree with: a slice, most recent
// first, searched linearly.
type refLRU struct {
	max     int
	keys    []string
	vals    []int
	evicted []string
}

func (r *refLRU) find(k string) int { return slices.Index(r.keys, k) }

func (r *refLRU) front(i int) {
	k, v := r.keys[i], r.vals[i]
	r.keys = slices.Insert(slices.Delete(r.keys, i, i+1), 0, k)
	r.vals = slices.Insert(slices.Delete(r.vals, i, i+1), 0, v)
}

func (r *refLRU) put(k string, v int) {
	if i := r.find(k); i >= 0 {
		r.front(i)
		r.vals[0] = v
		return
	}
	r.keys, r.vals = slices.Insert(r.keys, 0, k), slices.Insert(r.vals, 0, v)
	for len(r.keys) > r.max {
		r.evicted = append(r.evicted, r.keys[len(r.keys)-1])
		r.keys, r.vals = r.keys[:len(r.keys)-1], r.vals[:len(r.vals)-1]
	}
}

// testEntry is the lru tests' value: an int under a string key.
type testEntry struct {
	k string
	v int
}

func (e testEntry) key() string { return e.k }

// The lru agrees with a linear reference on every operation — values,
// recency order, evictions — with its real hash and with hashes that make
// most or all keys collide or crowd the index's last slots, so entries of
// one hash are probed past, found, moved, evicted and deleted from the
// start, middle and end of a probe run, also one that wraps around.
func TestLRUAgreesWithReferenceUnderCollisions(t *testing.T) {
	hashes := map[string]func(maphash.Seed, string) uint64{
		"maphash": maphash.Comparable[string],
		"three":   func(_ maphash.Seed, k string) uint64 { return uint64(len(k) % 3) },
		"one":     func(maphash.Seed, string) uint64 { return 7 },
		// Home slots at the index's end: probe runs wrap around to its start.
		"wrap": func(_ maphash.Seed, k string) uint64 { return 0xffffffff - uint64(len(k)%2) },
	}
	for _, name := range []string{"maphash", "three", "one", "wrap"} {
		ref := &refLRU{max: 20}
		var evicted []string
		l := newLRU[string](20, func(e testEntry) { evicted = append(evicted, e.k) })
		l.hash = hashes[name]
		r := rand.New(rand.NewPCG(uint64(len(name)), 1))
		for i := 0; i < 20000; i++ {
			k := "k" + strconv.Itoa(r.IntN(40))
			switch op := r.IntN(4); op {
			case 0, 1:
				l.Put(testEntry{k, i})
				ref.put(k, i)
			case 2:
				v, ok := l.Get(k)
				j := ref.find(k)
				require.Equal(t, j >= 0, ok, "%s: op %d Get %s", name, i, k)
				if ok {
					require.Equal(t, testEntry{k, ref.vals[j]}, v)
					ref.front(j)
				}
			default:
				if r.IntN(2) == 0 {
					l.Delete(k)
					if j := ref.find(k); j >= 0 {
						ref.keys, ref.vals = slices.Delete(ref.keys, j, j+1), slices.Delete(ref.vals, j, j+1)
					}
				} else {
					v, ok := l.Peek(k)
					j := ref.find(k)
					require.Equal(t, j >= 0, ok, "%s: op %d Peek %s", name, i, k)
					if ok {
						require.Equal(t, testEntry{k, ref.vals[j]}, v)
					}
				}
			}
			keys := []string{}
			l.each(func(e testEntry) bool { keys = append(keys, e.k); return true })
			require.Equal(t, append([]string{}, ref.keys...), keys, "%s: recency order after op %d", name, i)
			require.Equal(t, len(ref.keys), l.Len())
		}
		require.Equal(t, ref.evicted, evicted, name)
		require.NotEmpty(t, evicted, name)
	}
}

// A process table's lru node holds the *Process and its links only: the
// key is read from the process (keyed), not kept beside it, so the tens of
// thousands of nodes a table of a long live run holds take 24 bytes each,
// not the 72 a 48-byte procKey copy made them.
func TestLRUNodeHoldsNoKey(t *testing.T) {
	require.Equal(t, uintptr(24), unsafe.Sizeof(lruNode[*Process]{}))
	require.Less(t, unsafe.Sizeof(lruNode[*Process]{}), unsafe.Sizeof(procKey{}))
}
