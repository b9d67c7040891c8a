package detect

import (
	"sync"
	"time"

	"github.com/edr-lab/edr/event"
)

// StateOptions bound the state alerts need. Zero values select the
// defaults (the engine's).
type StateOptions struct {
	MaxProcesses int           // process table bound (default 65536)
	ProcessTTL   time.Duration // how long exited processes are kept, event time (default 10m)
	MaxDNS       int           // DNS cache bound (default 20000)
	DNSTTL       time.Duration // DNS answer lifetime, event time (default 15m)
}

func (o *StateOptions) defaults() {
	if o.MaxProcesses <= 0 {
		o.MaxProcesses = 65536
	}
	if o.ProcessTTL <= 0 {
		o.ProcessTTL = 10 * time.Minute
	}
	if o.MaxDNS <= 0 {
		o.MaxDNS = 20000
	}
	if o.DNSTTL <= 0 {
		o.DNSTTL = 15 * time.Minute
	}
}

// StateTracker follows, per host, the state an engine would hold — the
// same ProcessTable and DNSCache, fed the same events — for producers of
// recordings (edr generate, edr import): each segment they open carries its
// host's snapshot (recording.WriterOptions.Snapshot = tracker.Snapshot;
// call Observe after each Write, since the writer takes the snapshot before
// the event that opens the segment). It runs no rule. It is safe for
// concurrent use.
type StateTracker struct {
	opts   StateOptions
	limits SnapshotLimits
	mu     sync.Mutex
	hosts  map[string]*hostState
	last   *hostState
}

type hostState struct {
	host  string
	procs *ProcessTable
	dns   *DNSCache
}

// NewStateTracker makes a tracker; each host gets the bounds of opts.
func NewStateTracker(opts StateOptions, limits SnapshotLimits) *StateTracker {
	opts.defaults()
	return &StateTracker{opts: opts, limits: limits, hosts: map[string]*hostState{}}
}

func (t *StateTracker) host(name string) *hostState {
	if t.last != nil && t.last.host == name {
		return t.last
	}
	h := t.hosts[name]
	if h == nil {
		h = &hostState{host: name, procs: NewProcessTable(t.opts.MaxProcesses, int64(t.opts.ProcessTTL)),
			dns: NewDNSCache(t.opts.MaxDNS, int64(t.opts.DNSTTL))}
		t.hosts[name] = h
	}
	t.last = h
	return h
}

// Observe updates the state of ev's host.
func (t *StateTracker) Observe(ev *event.Event) {
	t.mu.Lock()
	h := t.host(ev.Host)
	h.procs.Observe(ev)
	h.dns.Observe(ev)
	t.mu.Unlock()
}

// Snapshot encodes host's state for an event at time at; its signature is
// recording.WriterOptions.Snapshot's.
func (t *StateTracker) Snapshot(host string, at int64) []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	h := t.host(host)
	return encodeSnapshot(host, at, h.procs.snapshot(host, at), h.dns.snapshot(host, at), t.limits)
}
