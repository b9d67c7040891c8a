package enrich

// boundedCache is a map holding at most max entries; when full, the entry
// inserted longest ago goes (first in, first out). FIFO rather than LRU
// because lookups then never write, and what enrichment caches (volume
// names, accounts, version resources of images) changes rarely: an entry
// that is pushed out and still wanted is simply looked up again. Not safe
// for concurrent use.
type boundedCache[K comparable, V any] struct {
	items   map[K]V
	ring    []K // insertion order; ring[next] is the oldest once full
	next    int
	Evicted uint64
}

func newBoundedCache[K comparable, V any](max int) *boundedCache[K, V] {
	max = max1(max)
	return &boundedCache[K, V]{items: make(map[K]V, max), ring: make([]K, 0, max)}
}

func max1(n int) int {
	if n < 1 {
		return 1
	}
	return n
}

func (c *boundedCache[K, V]) get(k K) (V, bool) {
	v, ok := c.items[k]
	return v, ok
}

func (c *boundedCache[K, V]) put(k K, v V) {
	if _, ok := c.items[k]; ok {
		c.items[k] = v
		return
	}
	if len(c.ring) < cap(c.ring) {
		c.ring = append(c.ring, k)
	} else {
		delete(c.items, c.ring[c.next])
		c.Evicted++
		c.ring[c.next] = k
		c.next = (c.next + 1) % len(c.ring)
	}
	c.items[k] = v
}

// del removes k. Its ring slot stays until its turn comes; if k is put
// again meanwhile, that turn evicts it early, which costs one more lookup,
// never the bound.
func (c *boundedCache[K, V]) del(k K) { delete(c.items, k) }

func (c *boundedCache[K, V]) len() int { return len(c.items) }
