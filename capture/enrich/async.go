package enrich

import (
	"strings"
	"sync"
	"sync/atomic"
)

// resolver answers slow lookups (SID → account, image → version resource)
// from a bounded cache and never blocks its caller on the OS: a miss
// returns at once, and the key goes on a bounded queue that workers
// resolve into the cache, so a later event of the same key finds it. When
// the queue is full the key is not queued (counted in Dropped); a later
// miss queues it again.
//
// Failed lookups are cached as failures too, so an unresolvable SID costs
// one OS call, not one per event.
type resolver[V any] struct {
	lookup func(string) (V, error)

	mu       sync.Mutex
	idle     sync.Cond // signalled when inflight drops to 0
	cache    *boundedCache[string, resolved[V]]
	pending  map[string]struct{}
	inflight int
	closed   bool
	queue    chan string
	wg       sync.WaitGroup

	Hits, Misses, Queued, Dropped, Failed atomic.Uint64
}

type resolved[V any] struct {
	v  V
	ok bool
}

func newResolver[V any](lookup func(string) (V, error), cacheMax, queueMax, workers int) *resolver[V] {
	r := &resolver[V]{
		lookup:  lookup,
		cache:   newBoundedCache[string, resolved[V]](cacheMax),
		pending: map[string]struct{}{},
		queue:   make(chan string, max1(queueMax)),
	}
	r.idle.L = &r.mu
	for i := 0; i < max1(workers); i++ {
		r.wg.Add(1)
		go r.work()
	}
	return r
}

// get returns the cached value of k. found is false on a miss (k is then
// queued) and for a key whose lookup failed.
func (r *resolver[V]) get(k string) (v V, found bool) {
	r.mu.Lock()
	res, hit := r.cache.get(k)
	if hit {
		r.mu.Unlock()
		r.Hits.Add(1)
		return res.v, res.ok
	}
	r.Misses.Add(1)
	if _, queued := r.pending[k]; queued || r.closed {
		r.mu.Unlock()
		return v, false
	}
	k = strings.Clone(k) // the event's string may pin a large buffer
	select {
	case r.queue <- k:
		r.pending[k] = struct{}{}
		r.inflight++
		r.Queued.Add(1)
	default:
		r.Dropped.Add(1)
	}
	r.mu.Unlock()
	return v, false
}

// forget drops k from the cache (the file behind it changed).
func (r *resolver[V]) forget(k string) {
	r.mu.Lock()
	r.cache.del(k)
	r.mu.Unlock()
}

func (r *resolver[V]) work() {
	defer r.wg.Done()
	for k := range r.queue {
		v, err := r.lookup(k)
		if err != nil {
			r.Failed.Add(1)
		}
		r.mu.Lock()
		r.cache.put(k, resolved[V]{v, err == nil})
		delete(r.pending, k)
		r.inflight--
		if r.inflight == 0 {
			r.idle.Broadcast()
		}
		r.mu.Unlock()
	}
}

// wait blocks until every queued key is resolved (tests, shutdown).
func (r *resolver[V]) wait() {
	r.mu.Lock()
	for r.inflight > 0 {
		r.idle.Wait()
	}
	r.mu.Unlock()
}

// close stops the workers after the queued keys are resolved.
func (r *resolver[V]) close() {
	r.mu.Lock()
	first := !r.closed
	r.closed = true // get never sends once it sees this, so the close below is safe
	r.mu.Unlock()
	if first {
		close(r.queue)
	}
	r.wg.Wait()
}
