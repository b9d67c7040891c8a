package state

import (
	"sync"
	"time"

	"github.com/edr-lab/edr/event"
)

// Options bound the state alerts need. Zero values select the
// defaults (the engine's).
type Options struct {
	MaxProcesses int           // process table bound (default 65536)
	ProcessTTL   time.Duration // how long exited processes are kept, event time (default 10m)
	MaxDNS       int           // DNS cache bound (default 20000)
	DNSTTL       time.Duration // DNS answer lifetime, event time (default 15m)
	// Shared, when set, is shared with the process tables of other
	// states that see the same events (see Shared).
	Shared *Shared
}

func (o *Options) defaults() {
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

// State is what alerts read beside the event, for every host: the process
// table and the DNS answers, fed events in (time, host, seq) order. The
// detection engine holds one; a Tracker holds one per host.
type State struct {
	Procs *ProcessTable
	DNS   *DNSCache
}

// New makes an empty state with the bounds of opts.
func New(opts Options) *State {
	opts.defaults()
	s := &State{Procs: NewProcessTable(opts.MaxProcesses, int64(opts.ProcessTTL)), DNS: NewDNSCache(opts.MaxDNS, int64(opts.DNSTTL))}
	s.Procs.ShareWith(opts.Shared)
	return s
}

// Observe updates the state from one event.
func (s *State) Observe(ev *event.Event) {
	s.Procs.Observe(ev)
	s.DNS.Observe(ev)
}

// ObserveShared is Observe with the process table's part done by
// ProcessTable.ObserveShared; it returns the process started, nil if none.
func (s *State) ObserveShared(ev *event.Event) *Process {
	p := s.Procs.ObserveShared(ev)
	s.DNS.Observe(ev)
	return p
}

// ObserveStarted is Observe with the process table's part done by
// ProcessTable.ObserveStarted (started: what a table with the same
// history returned for ev, or a copy of it).
func (s *State) ObserveStarted(ev *event.Event, started *Process) {
	s.Procs.ObserveStarted(ev, started)
	s.DNS.Observe(ev)
}

// Snapshot encodes host's state as it stands for an event at time at
// (before that event is observed).
func (s *State) Snapshot(host string, at int64, lim SnapshotLimits) []byte {
	return encodeSnapshot(host, at, s.Procs.snapshot(host, at), s.DNS.snapshot(host, at), lim)
}

// Restore adds a snapshot's processes and DNS answers and reports whether
// it held any. A snapshot that does not decode changes nothing and returns
// an error wrapping ErrSnapshotVersion or ErrSnapshotCorrupt.
func (s *State) Restore(data []byte) (nonEmpty bool, err error) {
	snap, err := DecodeSnapshot(data)
	if err != nil {
		return false, err
	}
	s.Procs.restore(snap)
	s.DNS.restore(snap)
	return len(snap.Processes) > 0 || len(snap.dns) > 0, nil
}

// Tracker follows, per host, the state an engine would hold — the
// same ProcessTable and DNSCache, fed the same events — for producers of
// recordings (edr generate, edr import): each segment they open carries its
// host's snapshot. recording.OpenIngest wires it: the writer takes the
// snapshot before the event that opens a segment, and Ingest.Write calls
// Observe after each write. It runs no rule. It is safe for
// concurrent use.
type Tracker struct {
	opts     Options
	limits   SnapshotLimits
	mu       sync.Mutex
	hosts    map[string]*State
	last     *State
	lastHost string
}

// NewTracker makes a tracker; each host gets the bounds of opts.
func NewTracker(opts Options, limits SnapshotLimits) *Tracker {
	return &Tracker{opts: opts, limits: limits, hosts: map[string]*State{}}
}

func (t *Tracker) host(name string) *State {
	if t.last != nil && t.lastHost == name {
		return t.last
	}
	h := t.hosts[name]
	if h == nil {
		h = New(t.opts)
		t.hosts[name] = h
	}
	t.last, t.lastHost = h, name
	return h
}

// Processes is the number of processes held, all hosts together.
func (t *Tracker) Processes() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, h := range t.hosts {
		n += h.Procs.Len()
	}
	return n
}

// Observe updates the state of ev's host.
func (t *Tracker) Observe(ev *event.Event) {
	t.mu.Lock()
	t.host(ev.Host).Observe(ev)
	t.mu.Unlock()
}

// Snapshot encodes host's state for an event at time at; its signature is
// recording.WriterOptions.Snapshot's.
func (t *Tracker) Snapshot(host string, at int64) []byte {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.host(host).Snapshot(host, at, t.limits)
}
