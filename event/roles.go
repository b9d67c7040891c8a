package event

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// Event roles: which events start or end a process, and which fields name
// the process that acted, its parent and the process it acted on. The
// process table, the engine's context and enrichment, the ECS mapping, the
// file checks and the responder all read them here, so an event kind that
// a new source adds is taught once, in its Def.

// Lifecycle says what an event does to the lifetime of its actor.
type Lifecycle uint8

const (
	NoLifecycle  Lifecycle = iota
	ProcessStart           // the event starts its actor (Sysmon 1, Security 4688)
	ProcessEnd             // the event ends its actor (Sysmon 5, Security 4689)
)

// NoField is the FieldID of a role field an event type does not have. No
// event ever holds it: Has and Get report it absent.
const NoField FieldID = math.MaxUint16

// ProcessRef names the fields of an event type that identify and describe
// one process; NoField where the event does not say.
type ProcessRef struct {
	GUID FieldID
	// AltGUID is the other spelling of the GUID field (Sysmon 8 writes
	// SourceProcessGuid, Sysmon 10 SourceProcessGUID), read when GUID is
	// empty.
	AltGUID     FieldID
	PID         FieldID
	HexPID      bool // the PID is rendered in hex ("0x1a2c"), as Security renders it
	ThreadID    FieldID
	Image       FieldID
	CommandLine FieldID
	User        FieldID // DOMAIN\name
}

// Roles are the process roles of one event type.
type Roles struct {
	Lifecycle Lifecycle
	Actor     ProcessRef // the process that acted; the one started or ended for a Lifecycle event
	Parent    ProcessRef // the actor's parent, as the event names it
	Target    ProcessRef // the process acted on (Sysmon 8, 10)
	Loads     FieldID    // the image file the event loads (Sysmon 6, 7)
}

// Named reports whether the event names the process at all.
func (r *ProcessRef) Named() bool { return r.GUID != NoField || r.PID != NoField }

// IDs returns the process's GUID ("" when the event has none) and its PID
// in decimal, as the event renders them.
func (r *ProcessRef) IDs(ev *Event) (guid, pid string) {
	guid = ev.Value(r.GUID)
	if guid == "" {
		guid = ev.Value(r.AltGUID)
	}
	return guid, r.DecimalPID(ev)
}

// DecimalPID returns the process's PID in decimal ("0x1a2c" becomes
// "6700"); a value that does not parse is returned as written.
func (r *ProcessRef) DecimalPID(ev *Event) string {
	pid := ev.Value(r.PID)
	if r.HexPID {
		pid = hexToDec(pid)
	}
	return pid
}

// hexToDec turns a "0x1a2c" PID into decimal.
func hexToDec(s string) string {
	if !strings.HasPrefix(s, "0x") && !strings.HasPrefix(s, "0X") {
		return s
	}
	n, err := strconv.ParseUint(s[2:], 16, 64)
	if err != nil {
		return s
	}
	return strconv.FormatUint(n, 10)
}

// Roles returns the roles of the event type.
func (d *Def) Roles() *Roles { return &d.roles }

// RolesOf returns the roles of ev's event type: its Def's, else (an event
// the schema does not know) its channel's.
func RolesOf(ev *Event) *Roles {
	// A short scan with exact channel comparisons, cheaper than the Def map:
	// it runs several times per event.
	for i := range sch.roleChannels {
		c := &sch.roleChannels[i]
		if c.channel != ev.Channel {
			continue
		}
		for j := range c.events {
			if c.events[j].id == ev.EventID {
				return c.events[j].roles
			}
		}
		return c.dflt
	}
	return &sch.defaultRoles
}

// refSpec is a ProcessRef as the schema table writes it: field names, ""
// where the event does not say.
type refSpec struct {
	guid, altGUID, pid string
	hexPID             bool
	tid, image, cmd    string
	user               string
}

// roleSpec is a Def's roles as the schema table writes them; nil refs take
// the channel's default actor and parent, and no target.
type roleSpec struct {
	lifecycle             Lifecycle
	actor, parent, target *refSpec
	loads                 string
}

// channelRoles are the roles of a channel's events where their Def does not
// say otherwise.
type channelRoles struct {
	actor, parent *refSpec
}

var (
	// Most events name their actor the Sysmon way, and its parent with
	// Parent* fields.
	defaultRoles = channelRoles{
		actor:  &refSpec{guid: "ProcessGuid", pid: "ProcessId", image: "Image", cmd: "CommandLine", user: "User"},
		parent: &refSpec{guid: "ParentProcessGuid", pid: "ParentProcessId", image: "ParentImage", cmd: "ParentCommandLine", user: "ParentUser"},
	}
	// Security audit events name the acting process by ProcessId (hex) and
	// ProcessName, and no parent.
	securityRoles = channelRoles{actor: &refSpec{pid: "ProcessId", hexPID: true, image: "ProcessName"}}

	rolesByChannel = map[string]channelRoles{ChannelSecurity: securityRoles}

	// The source and target of Sysmon's process access (10) and remote
	// thread (8); the GUID spellings differ between the two.
	sysmonSource = func(guid, alt, tid string) *refSpec {
		return &refSpec{guid: guid, altGUID: alt, pid: "SourceProcessId", tid: tid, image: "SourceImage", user: "SourceUser"}
	}
	sysmonTarget = func(guid, alt string) *refSpec {
		return &refSpec{guid: guid, altGUID: alt, pid: "TargetProcessId", image: "TargetImage", user: "TargetUser"}
	}
)

// starts marks the event as starting its actor.
func (d Def) starts() Def { d.rs.lifecycle = ProcessStart; return d }

// ends marks the event as ending its actor.
func (d Def) ends() Def { d.rs.lifecycle = ProcessEnd; return d }

// loads names the field holding the image file the event loads.
func (d Def) loads(field string) Def { d.rs.loads = field; return d }

// names sets the actor, parent and target fields (nil: no such process).
func (d Def) names(actor, parent, target *refSpec) Def {
	none := &refSpec{}
	d.rs.actor, d.rs.parent, d.rs.target = actor, parent, target
	if parent == nil {
		d.rs.parent = none
	}
	if target == nil {
		d.rs.target = none
	}
	return d
}

// roleChannel indexes the roles of one channel's events for RolesOf.
type roleChannel struct {
	channel string
	dflt    *Roles
	events  []roleEvent // events whose roles differ from dflt
}

type roleEvent struct {
	id    uint16
	roles *Roles
}

// resolveRoles turns the table's role specs into Roles and the RolesOf
// index. A role field that the event does not declare is a schema bug.
func (sch *schema) resolveRoles() {
	sch.defaultRoles = sch.channelDefault(defaultRoles)
	byChannel := map[string]*roleChannel{}
	for i := range sch.defs {
		d := &sch.defs[i]
		cr, ok := rolesByChannel[d.Channel]
		if !ok {
			cr = defaultRoles
		}
		r := sch.channelDefault(cr)
		check := func(name string) FieldID {
			id := sch.ref(name)
			if id != NoField && !d.Has(id) {
				panic(fmt.Sprintf("event: role field %s is not a field of %s/%d", name, d.Channel, d.EventID))
			}
			return id
		}
		r.Lifecycle = d.rs.lifecycle
		r.Loads = check(d.rs.loads)
		for _, x := range []struct {
			spec *refSpec
			ref  *ProcessRef
		}{{d.rs.actor, &r.Actor}, {d.rs.parent, &r.Parent}, {d.rs.target, &r.Target}} {
			if x.spec != nil {
				*x.ref = sch.processRef(x.spec, check)
			}
		}
		d.roles = r
		dflt := sch.channelDefault(cr)
		if r == dflt {
			continue
		}
		c := byChannel[d.Channel]
		if c == nil {
			c = &roleChannel{channel: d.Channel, dflt: &dflt}
			byChannel[d.Channel] = c
		}
		c.events = append(c.events, roleEvent{d.EventID, &d.roles})
	}
	for ch, cr := range rolesByChannel {
		if byChannel[ch] == nil {
			dflt := sch.channelDefault(cr)
			byChannel[ch] = &roleChannel{channel: ch, dflt: &dflt}
		}
	}
	// Sysmon first (it carries most events), then by name.
	for _, c := range byChannel {
		sch.roleChannels = append(sch.roleChannels, *c)
	}
	sort.Slice(sch.roleChannels, func(i, j int) bool {
		a, b := sch.roleChannels[i].channel, sch.roleChannels[j].channel
		if (a == ChannelSysmon) != (b == ChannelSysmon) {
			return a == ChannelSysmon
		}
		return a < b
	})
}

// channelDefault resolves a channel's default roles.
func (sch *schema) channelDefault(cr channelRoles) Roles {
	r := Roles{Loads: NoField}
	r.Actor = sch.processRef(cr.actor, sch.ref)
	r.Parent = sch.processRef(cr.parent, sch.ref)
	r.Target = sch.processRef(&refSpec{}, sch.ref)
	return r
}

func (sch *schema) processRef(s *refSpec, resolve func(string) FieldID) ProcessRef {
	if s == nil {
		s = &refSpec{}
	}
	return ProcessRef{GUID: resolve(s.guid), AltGUID: sch.ref(s.altGUID), PID: resolve(s.pid), HexPID: s.hexPID,
		ThreadID: resolve(s.tid), Image: resolve(s.image), CommandLine: resolve(s.cmd), User: resolve(s.user)}
}

// ref resolves a role field name; "" is NoField.
func (sch *schema) ref(name string) FieldID {
	if name == "" {
		return NoField
	}
	id, ok := sch.fieldByName[name]
	if !ok {
		panic("event: no schema field " + name + " for a role")
	}
	return id
}
