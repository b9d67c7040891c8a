// Package decode turns raw ETW records (capture/raw) into event.Event in
// Sysmon's schema, or in the provider's own channel for events Sysmon has
// no equivalent of (PowerShell, WMI-Activity, TaskScheduler, DNS 3006). It
// is portable: the same code runs on the live path and on recorded raw
// records on any OS.
//
// Routing is on provider + event id + version, never on opcode: Windows 11
// delivers image loads as Kernel-Process 5 with opcode 0, and the registry
// opcodes are the manifest's 32–37. A version the decoder was not written
// for is counted and the record kept, never decoded by guess.
//
// A Decoder holds join state (file names by FileObject/FileKey, registry
// key paths by KeyObject) in bounded, deterministic LRU maps, so one
// Decoder must see one host's records in arrival order, from one goroutine.
package decode

import (
	"fmt"
	"slices"

	"github.com/edr-lab/edr/capture"
	"github.com/edr-lab/edr/capture/raw"
	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/winevt"
)

// PathMapper converts an NT device path (\Device\HarddiskVolume3\…) to the
// DOS path rules expect (C:\…). Enrichment implements it from the volume
// map; the decoder's default leaves paths as they are.
type PathMapper interface {
	MapPath(nt string) string
}

type identityPaths struct{}

func (identityPaths) MapPath(p string) string { return p }

// Result says what Decode did with a record.
type Result uint8

const (
	// Emitted: one or more events were emitted.
	Emitted Result = iota
	// State: the record only updated join state (an open, a close, a plain
	// file open) or names a key whose held writes were emitted.
	State
	// Held: a registry write waits for the event that names its key.
	Held
	// Unhandled: a provider/event id the decoder does not decode.
	Unhandled
	// UnknownVersion: a known event id in a version the decoder does not
	// know; the record is kept (see Decoder.Kept).
	UnknownVersion
)

var resultNames = [...]string{"emitted", "state", "held", "unhandled", "unknown-version"}

func (r Result) String() string { return resultNames[r] }

// Key identifies an event template.
type Key struct {
	Provider raw.ProviderID
	EventID  uint16
	Version  uint8
}

// Stats counts what the decoder did. Maps are keyed by template; callers
// that print them sort the keys.
type Stats struct {
	Records        uint64
	Emitted        uint64
	Unhandled      map[Key]uint64
	UnknownVersion map[Key]uint64
	// Evicted counts join-state entries pushed out by the bounds, per map
	// ("file-object", "file-key", "registry-key", "registry-held").
	Evicted map[string]uint64
	// Unresolved counts events emitted without the path a join should have
	// given (the naming event was never seen).
	Unresolved uint64
	// ShortUserData counts live records whose payload ended inside a
	// template field (see Fill).
	ShortUserData uint64
}

// Emit receives each decoded event. The event is reused after Emit
// returns: copy it (event.Clone/CopyFrom) to keep it.
type Emit func(*event.Event)

// Options configure a Decoder.
type Options struct {
	// Paths maps NT device paths; nil leaves them as NT paths.
	Paths PathMapper
	// Host is the Computer of every event (ETW records do not carry it).
	Host string
	// MaxFiles, MaxKeys bound the join maps (default 65536 each);
	// MaxHeld bounds registry writes waiting for their key (default 1024).
	MaxFiles, MaxKeys, MaxHeld int
	// MaxKept bounds the unknown-version records kept (default 1024).
	MaxKept int
}

// Decoder decodes raw records. Not safe for concurrent use.
type Decoder struct {
	opt   Options
	paths PathMapper
	b     winevt.Builder
	ev    event.Event
	emit  Emit
	Stats Stats
	// Kept holds copies of records of unknown versions (up to MaxKept), so
	// a decoder written later can decode them.
	Kept []*raw.Record

	fileObj, fileKey *lru
	keys             *lru
	st               *strTab
	held             []*raw.Record
	prov             *provider // the last record's (see provider)
	lastMS           int64
	lastUtc          string
}

// New returns a Decoder.
func New(opt Options) *Decoder {
	if opt.MaxFiles <= 0 {
		opt.MaxFiles = 1 << 16
	}
	if opt.MaxKeys <= 0 {
		opt.MaxKeys = 1 << 16
	}
	if opt.MaxHeld <= 0 {
		opt.MaxHeld = 1024
	}
	if opt.MaxKept <= 0 {
		opt.MaxKept = 1024
	}
	d := &Decoder{opt: opt, paths: opt.Paths, st: newStrTab()}
	if d.paths == nil {
		d.paths = identityPaths{}
	}
	d.Stats = Stats{Unhandled: map[Key]uint64{}, UnknownVersion: map[Key]uint64{}, Evicted: map[string]uint64{}}
	d.fileObj = newLRU(opt.MaxFiles, "file-object", d.Stats.Evicted)
	d.fileKey = newLRU(opt.MaxFiles, "file-key", d.Stats.Evicted)
	d.keys = newLRU(opt.MaxKeys, "registry-key", d.Stats.Evicted)
	return d
}

// builder is the shared Windows-event builder every decoder fills.
type builder = *winevt.Builder

type handler struct {
	versions uint64 // bit v set: version v is known
	fn       func(d *Decoder, r *raw.Record) Result
}

// provider is a routed provider: its rendered GUID and name (the hot path
// does not format GUIDs) and the handlers of its event ids. A handful of
// providers with a few ids each: scanning them is cheaper than hashing a
// 16-byte GUID per record.
type provider struct {
	id         raw.ProviderID
	guid, name string
	ids        []uint16
	hs         []handler
}

// providers is filled by route (init functions only).
var providers []*provider

func lookupProvider(p raw.ProviderID) *provider {
	for _, e := range providers {
		if e.id == p {
			return e
		}
	}
	return nil
}

func (p *provider) handler(id uint16) (handler, bool) {
	for i, x := range p.ids {
		if x == id {
			return p.hs[i], true
		}
	}
	return handler{}, false
}

// route registers fn for a provider's event ids in the given versions.
func route(p raw.ProviderID, versions []uint8, fn func(*Decoder, *raw.Record) Result, ids ...uint16) {
	var mask uint64
	for _, v := range versions {
		mask |= 1 << v
	}
	e := lookupProvider(p)
	if e == nil {
		e = &provider{id: p, guid: "{" + p.String() + "}"}
		for _, cp := range capture.Providers {
			if cp.GUID == p {
				e.name = cp.Name
			}
		}
		providers = append(providers, e)
	}
	for _, id := range ids {
		if i := slices.Index(e.ids, id); i >= 0 {
			e.hs[i] = handler{mask, fn}
			continue
		}
		e.ids, e.hs = append(e.ids, id), append(e.hs, handler{mask, fn})
	}
}

// route looks up the handler of a provider's event id.
func routeOf(p raw.ProviderID, id uint16) (handler, bool) {
	if e := lookupProvider(p); e != nil {
		return e.handler(id)
	}
	return handler{}, false
}

// Known reports whether the decoder handles this template.
func Known(k Key) (handled, versionKnown bool) {
	h, ok := routeOf(k.Provider, k.EventID)
	if !ok {
		return false, false
	}
	return true, k.Version < 64 && h.versions&(1<<k.Version) != 0
}

// provider returns p's entry, remembering the last one (records of one
// provider come in runs).
func (d *Decoder) provider(p raw.ProviderID) *provider {
	if d.prov == nil || d.prov.id != p {
		d.prov = lookupProvider(p)
	}
	return d.prov
}

// Decode decodes one record, calling emit for every event it yields
// (possibly several: a key open releases the writes held for it).
func (d *Decoder) Decode(r *raw.Record, emit Emit) Result {
	d.Stats.Records++
	d.emit = emit
	var h handler
	ok := false
	if p := d.provider(r.Provider); p != nil {
		h, ok = p.handler(r.EventID)
	}
	k := Key{r.Provider, r.EventID, r.Version}
	if !ok {
		d.Stats.Unhandled[k]++
		return Unhandled
	}
	if r.Version >= 64 || h.versions&(1<<r.Version) == 0 {
		d.Stats.UnknownVersion[k]++
		if len(d.Kept) < d.opt.MaxKept {
			c := &raw.Record{}
			c.CopyFrom(r)
			d.Kept = append(d.Kept, c)
		}
		return UnknownVersion
	}
	return h.fn(d, r)
}

// Flush emits the registry writes still held (their key was never named),
// without TargetObject, and counts them as unresolved.
func (d *Decoder) Flush(emit Emit) {
	d.emit = emit
	for _, r := range d.held {
		d.registryWrite(r, "", false)
		raw.Put(r)
	}
	d.held = d.held[:0]
}

// start begins an event on channel/provider with the record's header.
func (d *Decoder) start(r *raw.Record, channel, provider string, id uint16) builder {
	b := &d.b
	b.Reset(&d.ev, event.SourceETW)
	b.SetTime(r.UnixNano())
	e := b.Event()
	e.EventID = id
	// The channels here are already canonical: set them directly rather
	// than through System's case folding (a hot-path cost when channels
	// alternate).
	e.Channel = channel
	e.Provider = provider
	// The System header's fields set directly, as System would for these
	// keys with values in the Windows rendering (never empty here), without
	// looking the keys up per event.
	e.Set(fProviderGuid, d.providerGUID(r.Provider))
	e.Set(fExecProcessID, d.st.itoa(uint64(r.PID)))
	if r.TID != 0 {
		e.Set(fExecThreadID, d.st.itoa(uint64(r.TID)))
	}
	if d.opt.Host != "" {
		e.Set(event.FComputer, d.opt.Host)
	}
	return b
}

// The envelope fields start sets.
var (
	fProviderGuid  = event.MustField("Provider_Guid")
	fExecProcessID = event.MustField("Execution_ProcessID")
	fExecThreadID  = event.MustField("Execution_ThreadID")
)

// sysmon begins a Sysmon-schema event; UtcTime is the record time.
func (d *Decoder) sysmon(r *raw.Record, id uint16) builder {
	b := d.start(r, event.ChannelSysmon, d.providerName(r.Provider), id)
	b.Data("UtcTime", d.utcTime(r.UnixNano()))
	return b
}

// utcTime formats Sysmon's UtcTime, reusing the string of the last
// millisecond: bursts share it, and formatting allocates.
func (d *Decoder) utcTime(ns int64) string {
	ms := ns / 1e6
	if ns < 0 && ns%1e6 != 0 {
		ms--
	}
	if ms != d.lastMS || d.lastUtc == "" {
		d.lastMS, d.lastUtc = ms, d.st.utcTime(ns)
	}
	return d.lastUtc
}

func (d *Decoder) finish() Result {
	d.b.Finish()
	d.Stats.Emitted++
	d.emit(&d.ev)
	return Emitted
}

// providerGUID and providerName come from the provider table, rendered
// once: the hot path does not format GUIDs.
func (d *Decoder) providerGUID(p raw.ProviderID) string {
	if e := d.provider(p); e != nil {
		return e.guid
	}
	return "{" + p.String() + "}"
}

func (d *Decoder) providerName(p raw.ProviderID) string {
	if e := d.provider(p); e != nil {
		return e.name
	}
	return providerName(p)
}

// providerName is the name capture.Providers gives p ("" if none).
func providerName(p raw.ProviderID) string {
	for _, cp := range capture.Providers {
		if cp.GUID == p {
			return cp.Name
		}
	}
	return ""
}

// num sets a Data field from a numeric property, decimal; absent stays absent.
func (d *Decoder) num(b builder, r *raw.Record, prop, field string) {
	if v, ok := r.Uint(prop); ok {
		b.Data(field, d.st.itoa(v))
	}
}

// str sets a Data field from a textual property; absent stays absent.
func str(b builder, r *raw.Record, prop, field string) {
	if v, ok := r.Str(prop); ok {
		b.Data(field, v)
	}
}

func (d *Decoder) itoa32(v uint32) string { return d.st.itoa(uint64(v)) }

// Short names for the generated template table.
var (
	kernelProcess  = capture.KernelProcess
	kernelFile     = capture.KernelFile
	kernelRegistry = capture.KernelRegistry
	kernelNetwork  = capture.KernelNetwork
	dnsClient      = capture.DNSClient
	powerShell     = capture.PowerShell
	wmiActivity    = capture.WMIActivity
	taskScheduler  = capture.TaskScheduler
)

// Template returns the UserData layout of an event version the decoder
// routes, nil otherwise.
func Template(k Key) raw.Template {
	return templates[k]
}

// fld and bin build template fields for the generated table.
func fld(name string, t raw.InType) raw.Field { return raw.Field{Name: name, Type: t, LenFrom: -1} }

func bin(name string, lenFrom, fixed int) raw.Field {
	return raw.Field{Name: name, Type: raw.InBinary, LenFrom: lenFrom, FixedLen: fixed}
}

// Fill parses a live record's UserData into its property bag by the
// template of its event version. Records of templates the decoder does not
// route keep only their UserData (Decode then counts them); a payload
// shorter than its template keeps the fields before the cut, and the error
// says which field was cut (the record is still decoded).
// Its strings come from the decoder's string table: call it from the
// goroutine that runs Decode, like every Decoder method.
func (d *Decoder) Fill(r *raw.Record) error {
	if len(r.Props) > 0 || r.UserData == nil {
		return nil
	}
	t := templates[Key{r.Provider, r.EventID, r.Version}]
	if t == nil {
		return nil
	}
	if err := raw.ParseUserDataInterned(r, t, d.st); err != nil {
		d.Stats.ShortUserData++
		return fmt.Errorf("%s event %d v%d: %w", d.providerName(r.Provider), r.EventID, r.Version, err)
	}
	return nil
}
