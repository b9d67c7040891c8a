package state

import (
	"hash/maphash"
	"strings"

	"github.com/edr-lab/edr/event"
)

// Process is what the engine knows about one process, learned from its
// creation event (or, partially, from a child's Parent* fields). Values are
// the event's renderings.
type Process struct {
	Host  string
	GUID  string // ProcessGuid, "" when the source has none (Security 4688)
	PID   string // decimal
	Start int64  // event time of the creation event (0 when partial)
	End   int64  // event time of the termination event, 0 while running

	// hk, hp and hpar are the hashes (procSeed) of the process's key
	// (hashProcKey), of its PID key (hashPIDKey) and of its parent's GUID
	// key, 0 when not known. The table that builds a process sets them
	// while the process is its alone (never after: other tables may read
	// it), so every other table that holds it (ObserveStarted, Shared)
	// and every later eviction use them instead of hashing the strings
	// again (the PID's bytes, long untouched at eviction, a cache miss).
	// Next to the key, as read together.
	hk, hp, hpar uint64
	// shared: another table may hold this Process too (ObserveShared
	// built it, ObserveStarted took it), so no table changes it: exit
	// replaces it with a copy that ends, and forget leaves it to the
	// garbage collector instead of reusing it.
	shared bool

	Image            string
	CommandLine      string
	CurrentDirectory string
	User             string
	// File is what the event says about the image file, shared by every
	// process the table holds with the same values (nil: none known).
	File          *FileInfo
	ParentGUID    string
	ParentPID     string
	ParentImage   string
	ParentCommand string
	ParentUser    string
	Partial       bool // learned from a child's Parent* fields only
}

// FileInfo is what a process-creation event reports about the image file:
// its hashes and version resource. The values repeat across the processes
// of one image, so a table keeps each distinct FileInfo once (files)
// instead of six strings per process. A FileInfo is never changed once a
// table holds it.
type FileInfo struct {
	Hashes           string
	OriginalFileName string
	Company          string
	Description      string
	Product          string
	FileVersion      string
}

var noFileInfo FileInfo

// FileInfo returns p's File, or an empty one when it has none.
func (p *Process) FileInfo() *FileInfo {
	if p.File == nil {
		return &noFileInfo
	}
	return p.File
}

// procKey identifies a process: by GUID, or (pidStart set) by PID and
// start time when the source has no GUID. No key needs a string built.
type procKey struct {
	host, guid string // guid: the ProcessGuid, or the PID when pidStart
	start      int64
	pidStart   bool
}
type pidKey struct{ host, pid string }

// hashProcKey is the lru's hash of a procKey: the GUID (or PID) hashed,
// the rest mixed in, cheaper than maphash.Comparable's field-by-field
// walk. GUIDs seldom repeat across hosts, so the host is mixed in by
// length only: keys it leaves equal are told apart by comparing them.
func hashProcKey(seed maphash.Seed, k procKey) uint64 {
	h := maphash.String(seed, k.guid)
	if k.pidStart {
		h ^= uint64(k.start)*0x9e3779b97f4a7c15 + 1
	}
	return h ^ uint64(len(k.host))<<56
}

// procSeed is the seed of every process table's indexes: one for all, so
// the hashes a process carries (Process.hk, hp, hpar) hold in every table.
// Which seed changes no answer a table gives, only where entries sit.
var procSeed = maphash.MakeSeed()

// hashPIDKey is the pidIndex's hash of a pidKey. PIDs repeat across
// hosts, so both strings are hashed.
func hashPIDKey(seed maphash.Seed, k pidKey) uint64 {
	return maphash.String(seed, k.pid) ^ maphash.String(seed, k.host)*0x9e3779b97f4a7c15
}

// ProcessTable tracks processes by ProcessGuid (or PID + start time when the
// source has no GUID) with their parent chain. It is bounded: an LRU bound
// on entries, and exited processes are forgotten TTL after their exit in
// event time. It never reads the clock.
//
// Its state is a function of the events observed only: lookups do not
// change recency (a process is used when it starts and each time a child of
// it starts). So the table of a replay does not depend on which rules ran,
// and a tracker that sees the same events without rules (Tracker, for
// segment snapshots) holds the same state.
type ProcessTable struct {
	byGUID *lru[procKey, *Process]
	byPID  pidIndex   // the most recently started process of a PID
	exits  []exitMark // FIFO of exits in event-time order, from exitHead
	// exitHead is the first mark of exits still queued: expiring marks
	// advances it, and the queue moves down only once half of it is spent,
	// not at every expiry (which copied thousands of marks each time).
	exitHead int
	ttl      int64
	now      int64

	Evicted uint64 // entries pushed out by the size bound
	Expired uint64 // exited entries forgotten after the TTL

	// Process values come from slabs, and those the table forgets are
	// reused: the state stage allocates per slab, not per process.
	procFree []*Process
	procSlab slab[Process]

	files fileInterner   // the Files of processes start makes
	strs  stringInterner // their strings that repeat (own)

	pool *Shared // processes other tables started (nil: none)
	cand Process // start's process while it is built

	// cached: byGUID hashes with hashProcKey and procSeed, so the hashes
	// processes carry are its (keyHash). Tests that replace its hash
	// clear it.
	cached bool
}

// procSlabLen is how many processes one allocation holds.
const procSlabLen = 64

// newProcess returns a zero Process for the table to fill.
func (t *ProcessTable) newProcess() *Process {
	if n := len(t.procFree); n > 0 {
		p := t.procFree[n-1]
		t.procFree = t.procFree[:n-1]
		return p
	}
	return t.procSlab.next(procSlabLen)
}

// forget makes a process the table no longer holds (by GUID or by PID)
// available to newProcess, cleared so it keeps nothing alive. This is why
// a *Process from the table is valid only until the next Observe. A
// shared process is left as it is: another table may still hold it.
func (t *ProcessTable) forget(p *Process) {
	if p.shared {
		return
	}
	*p = Process{}
	t.procFree = append(t.procFree, p)
}

type exitMark struct {
	key procKey
	at  int64
}

// NewProcessTable makes a table of at most max entries that forgets exited
// processes ttl nanoseconds (event time) after their exit.
func NewProcessTable(max int, ttl int64) *ProcessTable {
	t := &ProcessTable{byPID: newPIDIndex(), ttl: ttl, cached: true}
	t.byGUID = newLRU[procKey](max, func(p *Process) {
		t.Evicted++
		t.dropPID(p)
		t.forget(p)
	})
	t.byGUID.hash, t.byGUID.seed = hashProcKey, procSeed
	return t
}

// ShareWith makes the processes the table starts shared with the other
// tables of s (see Shared). It is set before the first event.
func (t *ProcessTable) ShareWith(s *Shared) { t.pool = s }

// Len is the number of processes held.
func (t *ProcessTable) Len() int { return t.byGUID.Len() }

func (t *ProcessTable) dropPID(p *Process) {
	t.byPID.drop(p)
}

// keyHash is the hash of p's key in byGUID: the one p carries when it
// has one.
func (t *ProcessTable) keyHash(p *Process) uint64 {
	if t.cached && p.hk != 0 {
		return p.hk
	}
	return t.byGUID.hash(t.byGUID.seed, p.key())
}

// parentHash is the hash in byGUID of k, the key of p's parent by GUID.
func (t *ProcessTable) parentHash(p *Process, k procKey) uint64 {
	if t.cached && p.hpar != 0 {
		return p.hpar
	}
	return t.byGUID.hash(t.byGUID.seed, k)
}

// key identifies a process: its GUID, else PID + start time. It is the
// process's key in byGUID (so keyed).
func (p *Process) key() procKey {
	if p.GUID != "" {
		return procKey{host: p.Host, guid: p.GUID}
	}
	return procKey{host: p.Host, guid: p.PID, start: p.Start, pidStart: true}
}

// Observe updates the table from one event (in event-time order): process
// creations add entries, terminations mark them exited. It returns the
// process a creation started (nil for other events), valid until the next
// Observe: a copy of it lets another table with the same history take the
// same event without reading it again (ObserveStarted).
func (t *ProcessTable) Observe(ev *event.Event) *Process { return t.observe(ev, nil, false) }

// ObserveShared is Observe for a table whose started processes another
// table takes as they are (ObserveStarted), not as copies: the process it
// returns is never changed or reused afterwards, by either table, and
// stays valid for as long as one holds it. The engine's table and its
// Enricher's mirror so hold each running process once, not twice. Lookups
// answer as after Observe.
func (t *ProcessTable) ObserveShared(ev *event.Event) *Process { return t.observe(ev, nil, true) }

// ObserveStarted is Observe for a table whose history equals the one that
// returned started for ev (the same events observed in the same order, the
// same bounds): the new entry is started itself when ObserveShared
// returned it, else a copy of it, strings shared, instead of one read from
// the event and copied again. The table ends in the state Observe(ev)
// would leave, so lookups answer the same. A started of nil, or an event
// that starts no process, is plain Observe.
func (t *ProcessTable) ObserveStarted(ev *event.Event, started *Process) {
	t.observe(ev, started, false)
}

func (t *ProcessTable) observe(ev *event.Event, started *Process, share bool) *Process {
	if ev.Time > t.now {
		t.now = ev.Time
		t.expire()
	}
	switch roles := event.RolesOf(ev); roles.Lifecycle {
	case event.ProcessStart:
		if started != nil {
			return t.startCopy(roles, started)
		}
		return t.start(ev, roles, share)
	case event.ProcessEnd:
		guid, pid := roles.Actor.IDs(ev)
		t.exit(ev.Host, guid, pid, ev.Time)
	}
	return nil
}

// start records the process a process-creation event starts, as its roles
// name it and its parent; a shared one (ObserveShared, or any with a
// Shared) has an allocation of its own, as it outlives the table's hold on
// it when another table keeps it, which a slab's slot would keep the whole
// slab for. The process is built in t.cand with the event's strings
// first: a Shared may hold an equal one already, which the table then
// takes instead of copying the strings again.
func (t *ProcessTable) start(ev *event.Event, roles *event.Roles, share bool) *Process {
	a, par := &roles.Actor, &roles.Parent
	p := &t.cand
	*p = Process{
		Host:             ev.Host,
		Start:            ev.Time,
		Image:            ev.Value(a.Image),
		CommandLine:      ev.Value(a.CommandLine),
		CurrentDirectory: ev.Value(event.FCurrentDirectory),
		User:             ev.Value(a.User),
		ParentImage:      ev.Value(par.Image),
		ParentCommand:    ev.Value(par.CommandLine),
		ParentUser:       ev.Value(par.User),
	}
	file := FileInfo{
		Hashes:           ev.Value(event.FHashes),
		OriginalFileName: ev.Value(event.FOriginalFileName),
		Company:          ev.Value(event.FCompany),
		Description:      ev.Value(event.FDescription),
		Product:          ev.Value(event.FProduct),
		FileVersion:      ev.Value(event.FFileVersion),
	}
	p.GUID, p.PID = a.IDs(ev)
	p.ParentGUID, p.ParentPID = par.IDs(ev)
	domain := "" // of User, joined to it as domain\name by own
	if a.User == event.NoField {
		// Security 4688: the account of the new process's token, else the
		// subject that started it.
		if u := ev.Value(event.FTargetUserName); u != "" && u != "-" {
			p.User, domain = u, ev.Value(event.FTargetDomainName)
		} else if u := ev.Value(event.FSubjectUserName); u != "" {
			p.User, domain = u, ev.Value(event.FSubjectDomainName)
		}
	}
	var parent *Process // the table's, whose strings own may take
	if par.GUID != event.NoField {
		if p.ParentGUID != "" {
			p.hpar = hashProcKey(procSeed, procKey{host: p.Host, guid: p.ParentGUID})
		}
		parent = t.learnParent(p)
	} else {
		parent = t.linkParent(p, true)
	}
	if t.pool != nil {
		if q := t.pool.take(p, &file, domain); q != nil {
			t.cand = Process{} // keeps no event string alive
			t.add(q)
			return q
		}
		share = true
	}
	if share {
		p = new(Process)
	} else {
		p = t.newProcess()
	}
	*p, t.cand = t.cand, Process{}
	p.File = t.files.get(file)
	t.own(p, domain, parent)
	p.shared = share
	if t.pool != nil {
		t.pool.put(p)
	}
	t.add(p)
	return p
}

// startCopy is start for an entry another table built from the same event
// with the same history: the same table operations, in the same order,
// without reading the event or copying its strings.
func (t *ProcessTable) startCopy(roles *event.Roles, started *Process) *Process {
	p := started
	if !started.shared {
		p = t.newProcess()
		*p = *started
	}
	if roles.Parent.GUID != event.NoField {
		t.learnParent(p)
	} else {
		t.linkParent(p, false) // p has what it filled in already
	}
	t.add(p)
	return p
}

// linkParent completes a child whose event names its parent by PID only
// (no GUIDs: Security 4688) from the running process of that PID, when
// fill is set, and marks that process used. It returns that process, nil
// if none.
func (t *ProcessTable) linkParent(p *Process, fill bool) *Process {
	parent := t.byPID.get(p.Host, p.ParentPID)
	if parent == nil || parent.End != 0 {
		return nil
	}
	if fill {
		p.ParentGUID = parent.GUID
		p.ParentCommand = parent.CommandLine
		p.ParentUser = parent.User
	}
	t.byGUID.GetHash(t.keyHash(parent), parent.key()) // in use again
	return parent
}

// learnParent adds a partial entry for a parent the table has not seen
// start (it started before the recording), so grandchildren still find
// their grandparent's image and command line. It returns the parent
// entry, known or added (nil: none).
func (t *ProcessTable) learnParent(child *Process) *Process {
	if child.ParentGUID == "" || child.ParentImage == "" {
		return nil
	}
	k := procKey{host: child.Host, guid: child.ParentGUID}
	if q, ok := t.byGUID.GetHash(t.parentHash(child, k), k); ok {
		return q // known: in use again
	}
	p := t.newProcess()
	*p = Process{
		Host: child.Host, GUID: child.ParentGUID, PID: child.ParentPID,
		Image: child.ParentImage, CommandLine: child.ParentCommand, User: child.ParentUser,
		Partial: true,
	}
	t.own(p, "", nil)
	t.add(p)
	return p
}

// add holds p (its strings its own).
func (t *ProcessTable) add(p *Process) {
	t.byGUID.PutHash(t.keyHash(p), p)
	t.byPID.claim(p)
}

func (t *ProcessTable) exit(host, guid, pid string, at int64) {
	var p *Process
	if guid != "" {
		p, _ = t.byGUID.Peek(procKey{host: host, guid: guid})
	}
	if p == nil && pid != "" {
		p = t.byPID.get(host, pid)
	}
	if p == nil || p.End != 0 {
		return
	}
	if p.shared {
		p = t.unshare(p)
	}
	p.End = at
	t.exits = append(t.exits, exitMark{p.key(), at})
}

// unshare replaces a shared process in the table with a copy of its own,
// which the table may change, and returns the copy.
func (t *ProcessTable) unshare(p *Process) *Process {
	c := t.newProcess()
	*c = *p
	c.shared = false
	if n := t.byGUID.lookupHash(t.keyHash(p), p.key()); n != nil && n.val == p {
		n.val = c
	}
	t.byPID.replace(p, c)
	return c
}

// expire forgets processes that exited more than ttl ago (event time).
func (t *ProcessTable) expire() {
	n := t.exitHead
	for ; n < len(t.exits) && t.exits[n].at+t.ttl < t.now; n++ {
		m := t.exits[n]
		if p, ok := t.byGUID.Peek(m.key); ok && p.End == m.at {
			t.byGUID.Delete(m.key)
			t.dropPID(p)
			t.forget(p)
			t.Expired++
		}
		t.exits[n] = exitMark{} // keeps no key alive
	}
	t.exitHead = n
	if n > 0 && 2*n >= len(t.exits) {
		t.compactExits()
	}
}

// compactExits moves the queued exit marks to the start of exits.
func (t *ProcessTable) compactExits() {
	n := copy(t.exits, t.exits[t.exitHead:])
	clear(t.exits[n:])
	t.exits, t.exitHead = t.exits[:n], 0
}

// ByGUID returns the process of a ProcessGuid on a host.
func (t *ProcessTable) ByGUID(host, guid string) *Process {
	if guid == "" {
		return nil
	}
	p, _ := t.byGUID.Peek(procKey{host: host, guid: guid})
	return p
}

// ByPID returns the process that held a PID at event time at: the most
// recent start not after at. A process that exited before at is not
// returned (its PID may have been reused by one the table never saw).
func (t *ProcessTable) ByPID(host, pid string, at int64) *Process {
	p := t.byPID.get(host, pid)
	if p == nil || p.Start > at || (p.End != 0 && p.End < at) {
		return nil
	}
	return p
}

// Find returns a process by GUID, else by PID at time at.
func (t *ProcessTable) Find(host, guid, pid string, at int64) *Process {
	if p := t.ByGUID(host, guid); p != nil {
		return p
	}
	if pid == "" {
		return nil
	}
	return t.ByPID(host, pid, at)
}

// Parent returns the parent of p if the table knows it.
func (t *ProcessTable) Parent(p *Process) *Process {
	if p == nil {
		return nil
	}
	if p.ParentGUID != "" {
		return t.ByGUID(p.Host, p.ParentGUID)
	}
	if p.ParentPID != "" && p.Start != 0 {
		return t.ByPID(p.Host, p.ParentPID, p.Start)
	}
	return nil
}

// own makes p's strings the table's own. The event's strings may point
// into large buffers (a decoded Parquet page, a generator's arena) that a
// long-lived entry would otherwise keep alive: the table's memory is then
// bounded by its entries, not by the input. Strings that repeat across
// processes (host, images, users, directories, the parent's command line)
// are the table's one copy (strs); the rest are copied into one allocation
// of p's. A userDomain other than "" and "-" becomes part of User
// (domain\user). (File is owned by the table's files.) The host and the
// parent's GUID, PID, image, command line and user are parent's strings
// when equal (parent: the table's entry of p's parent, nil if none), which
// the table owns already: no interner look-up (a hash and a probe each)
// or copy for them.
func (t *ProcessTable) own(p *Process, userDomain string, parent *Process) {
	if userDomain == "-" {
		userDomain = ""
	}
	if parent == nil {
		parent = &noParent
	}
	p.Host = t.strs.getAs(p.Host, parent.Host)
	p.Image, p.CurrentDirectory = t.strs.get(p.Image), t.strs.get(p.CurrentDirectory)
	p.User = t.strs.joined(userDomain, p.User)
	p.ParentImage, p.ParentCommand, p.ParentUser = t.strs.getAs(p.ParentImage, parent.Image), t.strs.getAs(p.ParentCommand, parent.CommandLine), t.strs.getAs(p.ParentUser, parent.User)
	fields := [...]*string{&p.GUID, &p.PID, &p.CommandLine, &p.ParentGUID, &p.ParentPID}
	copied := fields[:3]
	// The parent's GUID and PID are the parent's strings: a look-up of the
	// parent by them (learnParent, Parent) then compares equal pointers,
	// not the bytes of a long-untouched entry.
	if p.ParentGUID == parent.GUID {
		p.ParentGUID = parent.GUID
	} else {
		copied = append(copied, &p.ParentGUID)
	}
	if p.ParentPID == parent.PID {
		p.ParentPID = parent.PID
	} else {
		copied = append(copied, &p.ParentPID)
	}
	ownStrings(copied)
	p.hk, p.hp = hashProcKey(procSeed, p.key()), hashPIDKey(procSeed, pidKey{p.Host, p.PID})
}

// noParent is own's parent when there is none: it has no strings.
var noParent Process

// ownStrings copies the strings of fields into one allocation and points
// them at it.
func ownStrings(fields []*string) {
	n := 0
	for _, f := range fields {
		n += len(*f)
	}
	var b strings.Builder
	b.Grow(n)
	for _, f := range fields {
		b.WriteString(*f)
	}
	all, off := b.String(), 0
	for _, f := range fields {
		*f, off = all[off:off+len(*f)], off+len(*f)
	}
}
