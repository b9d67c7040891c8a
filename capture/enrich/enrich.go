package enrich

import (
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/edr-lab/edr/event"
)

// Config sets up an Enricher. Zero limits take the defaults.
type Config struct {
	Machine  MachineID     // for derived ProcessGuids
	Volumes  VolumeMap     // nil: NT device paths stay as they are (counted)
	Accounts AccountLookup // nil: SIDs stay as they are
	PE       PEReader      // nil: no version-resource fields

	ProcessMax int           // process table entries (default 65,536)
	ProcessTTL time.Duration // exited processes are kept this long in event time (default 5 min)
	DNSMax     int           // DNS answers remembered (default 16,384)
	DNSTTL     time.Duration // a DNS answer names an address this long (default 1 h)
	CacheMax   int           // entries of each lookup cache: accounts, images (default 16,384)
	QueueMax   int           // keys waiting for an OS lookup, per resolver (default 1,024)
	Workers    int           // OS lookup goroutines per resolver (default 1)

	// Shared, when set, shares the process table's processes with other
	// tables that see the enriched events (edr live's tracker and engine).
	Shared *SharedProcesses
}

func (c *Config) defaults() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.ProcessMax, 1<<16)
	def(&c.DNSMax, 1<<14)
	def(&c.CacheMax, 1<<14)
	def(&c.QueueMax, 1<<10)
	def(&c.Workers, 1)
	if c.ProcessTTL <= 0 {
		c.ProcessTTL = 5 * time.Minute
	}
	if c.DNSTTL <= 0 {
		c.DNSTTL = time.Hour
	}
}

// Stats counts what enrichment did and could not do.
type Stats struct {
	Events         uint64
	PathsMapped    uint64 // NT device paths rewritten to DOS paths
	PathsUnmapped  uint64 // NT device paths no drive letter names (kept as NT paths)
	GUIDsDerived   uint64 // ProcessGuids derived for process creations
	ProcessFilled  uint64 // events whose process the table knew
	ProcessUnknown uint64 // events of a process the table did not know (started before the rundown, or evicted)
	ParentUnknown  uint64 // process creations whose parent the table did not know
	HostnamesFound uint64 // network events named from a DNS answer

	// Lookups off the hot path: hits, misses (event went on without the
	// field), queued, dropped (queue full), failed (the OS said no).
	AccountHits, AccountMisses, AccountQueued, AccountDropped, AccountFailed uint64
	PEHits, PEMisses, PEQueued, PEDropped, PEFailed                          uint64
}

// Enricher fills the fields of decoded events that the kernel's records do
// not carry, the way Sysmon fills them: DOS paths, ProcessGuids, parent
// fields from the process table, account names, version resources, and
// destination host names from DNS answers.
//
// Enrich must see events in event-time order (after the reorder stage),
// because the process table and DNS cache follow event time. The Enricher is
// not safe for concurrent use; its lookups run on their own goroutines, and
// Enrich never waits for them: an event whose lookup is not cached yet goes
// on without the field and the lookup is queued (Stats counts both).
type Enricher struct {
	cfg      Config
	paths    *DevicePaths
	procs    *processTable
	dns      *dnsCache
	accounts *resolver[string]
	pe       *resolver[VersionInfo]
	stats    Stats
}

// New makes an Enricher, reading the volume map once (RefreshVolumes reads
// it again after a mount).
func New(cfg Config) (*Enricher, error) {
	cfg.defaults()
	e := &Enricher{
		cfg:   cfg,
		procs: newProcessTable(cfg.ProcessMax, int64(cfg.ProcessTTL)),
		dns:   newDNSCache(cfg.DNSMax, int64(cfg.DNSTTL)),
	}
	e.procs.ShareWith(cfg.Shared)
	if err := e.RefreshVolumes(); err != nil {
		return nil, err
	}
	if cfg.Accounts != nil {
		e.accounts = newResolver(cfg.Accounts.LookupAccount, cfg.CacheMax, cfg.QueueMax, cfg.Workers)
	}
	if cfg.PE != nil {
		e.pe = newResolver(func(path string) (VersionInfo, error) {
			vi, _, err := cfg.PE.VersionInfo(path)
			return vi, err
		}, cfg.CacheMax, cfg.QueueMax, cfg.Workers)
	}
	return e, nil
}

// RefreshVolumes reads the volume map again.
func (e *Enricher) RefreshVolumes() error {
	d, err := NewDevicePaths(e.cfg.Volumes)
	if err != nil {
		return err
	}
	if e.paths != nil {
		d.Mapped, d.Unmapped = e.paths.Mapped, e.paths.Unmapped
	}
	e.paths = d
	return nil
}

// Wait blocks until every queued lookup is resolved.
func (e *Enricher) Wait() {
	if e.accounts != nil {
		e.accounts.wait()
	}
	if e.pe != nil {
		e.pe.wait()
	}
}

// Close stops the lookup goroutines.
func (e *Enricher) Close() {
	if e.accounts != nil {
		e.accounts.close()
	}
	if e.pe != nil {
		e.pe.close()
	}
}

// Stats returns the counters.
func (e *Enricher) Stats() Stats {
	s := e.stats
	s.PathsMapped, s.PathsUnmapped = e.paths.Mapped, e.paths.Unmapped
	if r := e.accounts; r != nil {
		s.AccountHits, s.AccountMisses, s.AccountQueued, s.AccountDropped, s.AccountFailed =
			r.Hits.Load(), r.Misses.Load(), r.Queued.Load(), r.Dropped.Load(), r.Failed.Load()
	}
	if r := e.pe; r != nil {
		s.PEHits, s.PEMisses, s.PEQueued, s.PEDropped, s.PEFailed =
			r.Hits.Load(), r.Misses.Load(), r.Queued.Load(), r.Dropped.Load(), r.Failed.Load()
	}
	return s
}

// fileFields hold file-system paths that no process role names. With the
// image fields of the event's roles (actor, parent, target, loaded image)
// they are what kernel providers report in the NT namespace. Device of
// Sysmon 9 is deliberately absent: Sysmon shows the device.
var fileFields = [2]event.FieldID{event.FTargetFilename, event.FCurrentDirectory}

// versionFields are the fields versionInfo fills.
var versionFields = struct{ fileVersion, description, product, company event.FieldID }{
	event.MustField("FileVersion"), event.MustField("Description"), event.MustField("Product"), event.MustField("Company"),
}

// Enrich fills what it can of ev in place. Which fields name which process
// comes from the schema's roles (event.RolesOf), so an event kind a decoder
// adds is enriched once its Def has roles.
func (e *Enricher) Enrich(ev *event.Event) {
	e.stats.Events++
	r := event.RolesOf(ev)
	for _, id := range [...]event.FieldID{r.Actor.Image, r.Parent.Image, r.Target.Image, r.Loads, fileFields[0], fileFields[1]} {
		if v, ok := ev.Get(id); ok && v != "" && v[0] == '\\' {
			ev.Set(id, e.paths.MapPath(v))
		}
	}
	if r.Lifecycle == event.ProcessStart && ev.Channel == event.ChannelSysmon {
		e.processCreate(ev)
	} else {
		e.fillProcess(ev, &r.Actor)
	}
	e.fillProcess(ev, &r.Target)
	if ev.Channel == event.ChannelSysmon {
		switch ev.EventID {
		case 3:
			e.destinationHostname(ev)
		case 7: // (6, a driver load, has no version fields)
			e.versionInfo(ev, r.Loads)
		case 11, 23, 26:
			if e.pe != nil {
				// A written or deleted file: an image cached under that path
				// may have been replaced.
				if p, ok := ev.Get(event.FTargetFilename); ok {
					e.pe.forget(p)
				}
			}
		}
	}
	e.resolveUser(ev, r.Actor.User)
	e.procs.Observe(ev)
	e.dns.Observe(ev)
}

// processCreate derives the ProcessGuid and fills the parent fields from the
// table, then the version resource.
func (e *Enricher) processCreate(ev *event.Event) {
	if !ev.Has(event.FProcessGuid) {
		if pid, err := strconv.ParseUint(ev.Value(event.FProcessId), 10, 32); err == nil {
			ev.Set(event.FProcessGuid, ProcessGUID(e.cfg.Machine, uint32(pid), ev.Time))
			e.stats.GUIDsDerived++
		}
	}
	if ppid, ok := ev.Get(event.FParentProcessId); ok {
		if parent := e.procs.ByPID(ev.Host, ppid, ev.Time); parent != nil {
			setAbsent(ev, event.FParentProcessGuid, parent.GUID)
			setAbsent(ev, event.FParentImage, parent.Image)
			setAbsent(ev, event.FParentCommandLine, parent.CommandLine)
			setAbsent(ev, event.FParentUser, parent.User)
		} else {
			e.stats.ParentUnknown++
		}
	}
	if u, ok := ev.Get(event.FParentUser); ok && isSID(u) && e.accounts != nil {
		if name, found := e.accounts.get(u); found {
			ev.Set(event.FParentUser, name)
		}
	}
	e.versionInfo(ev, event.FImage)
}

// fillProcess fills a process's GUID, image and user from the table by
// PID at event time, for an event that names the PID but not the GUID.
// Roles without a GUID field (Security's) have nothing to fill.
func (e *Enricher) fillProcess(ev *event.Event, ref *event.ProcessRef) {
	if ref.GUID == event.NoField || ev.Has(ref.GUID) || ev.Has(ref.AltGUID) {
		return
	}
	pid, ok := ev.Get(ref.PID)
	if !ok {
		return
	}
	p := e.procs.ByPID(ev.Host, pid, ev.Time)
	if p == nil || p.GUID == "" {
		e.stats.ProcessUnknown++
		return
	}
	e.stats.ProcessFilled++
	ev.Set(ref.GUID, p.GUID)
	if ref.Image != event.NoField {
		if img, ok := ev.Get(ref.Image); ok && p.Image != "" && !strings.Contains(img, `\`) {
			// Kernel-Process stop reports the bare file name; Sysmon shows
			// the path the process started from.
			ev.Set(ref.Image, p.Image)
		} else {
			setAbsent(ev, ref.Image, p.Image)
		}
	}
	if ref.User != event.NoField {
		setAbsent(ev, ref.User, p.User)
	}
}

// resolveUser replaces a SID in the actor's user field by the account
// name, or fills it from the event header's SID when absent, when the name
// is cached.
func (e *Enricher) resolveUser(ev *event.Event, user event.FieldID) {
	if e.accounts == nil || user == event.NoField {
		return
	}
	u, ok := ev.Get(user)
	if !ok {
		u = ev.Value(event.FSecurityUserID)
	}
	if !isSID(u) {
		return
	}
	if name, found := e.accounts.get(u); found {
		ev.Set(user, name)
	}
}

func isSID(s string) bool { return len(s) > 4 && s[:4] == "S-1-" }

// versionInfo fills FileVersion … OriginalFileName from the image's version
// resource when the event has none of them yet. A string the resource does
// not hold is rendered "-", as Sysmon does; an image that could not be read
// (or is not cached yet) leaves the fields absent.
func (e *Enricher) versionInfo(ev *event.Event, image event.FieldID) {
	if e.pe == nil || image == event.NoField || ev.Has(event.FOriginalFileName) || ev.Has(versionFields.fileVersion) {
		return
	}
	path, ok := ev.Get(image)
	if !ok || path == "" || path[0] == '\\' {
		return // an unmapped NT path cannot be opened
	}
	vi, found := e.pe.get(path)
	if !found {
		return
	}
	ev.Set(versionFields.fileVersion, dash(vi.FileVersion))
	ev.Set(versionFields.description, dash(vi.Description))
	ev.Set(versionFields.product, dash(vi.Product))
	ev.Set(versionFields.company, dash(vi.Company))
	ev.Set(event.FOriginalFileName, dash(vi.OriginalFileName))
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// destinationHostname names the destination of a network event from the
// DNS answers seen before it, as Sysmon's reverse lookup would.
func (e *Enricher) destinationHostname(ev *event.Event) {
	if ev.Has(event.FDestinationHost) {
		return
	}
	ip, ok := ev.Get(event.FDestinationIp)
	if !ok {
		return
	}
	if name := e.dns.Lookup(ev.Host, ip, ev.Time); name != "" {
		ev.Set(event.FDestinationHost, name)
		e.stats.HostnamesFound++
	}
}

func setAbsent(ev *event.Event, id event.FieldID, v string) {
	if v != "" && !ev.Has(id) {
		ev.Set(id, v)
	}
}

// RunningProcess is one process of the rundown: what the kernel reports
// for processes already running when the session starts.
type RunningProcess struct {
	PID, ParentPID   uint32
	Start            int64 // UTC nanoseconds
	Image            string
	CommandLine      string
	CurrentDirectory string
	User             string // a SID or an account name
	IntegrityLevel   string
}

// Seed enters the processes already running on host into the process table,
// parents before children (by start time), as Sysmon process creations that
// are not emitted: they get ProcessGuids and parent fields like any other,
// so the first events of a running process are enriched.
func (e *Enricher) Seed(host string, procs []RunningProcess) {
	sorted := append([]RunningProcess(nil), procs...)
	sort.SliceStable(sorted, func(i, j int) bool {
		if sorted[i].Start != sorted[j].Start {
			return sorted[i].Start < sorted[j].Start
		}
		return sorted[i].PID < sorted[j].PID
	})
	var ev event.Event
	for _, p := range sorted {
		ev.Reset()
		ev.Time, ev.Host, ev.Channel, ev.Provider, ev.EventID = p.Start, host, event.ChannelSysmon, event.ProviderSysmon, 1
		ev.Set(event.FProcessId, strconv.FormatUint(uint64(p.PID), 10))
		ev.Set(event.FParentProcessId, strconv.FormatUint(uint64(p.ParentPID), 10))
		for _, f := range []struct {
			id event.FieldID
			v  string
		}{{event.FImage, p.Image}, {event.FCommandLine, p.CommandLine}, {event.FCurrentDirectory, p.CurrentDirectory}, {event.FUser, p.User}, {event.FIntegrityLevel, p.IntegrityLevel}} {
			if f.v != "" {
				ev.Set(f.id, strings.Clone(f.v))
			}
		}
		e.Enrich(&ev)
	}
	e.stats.Events -= uint64(len(sorted)) // seeding is not enriching events
}
