package event

import (
	"fmt"
	"sort"
	"strings"
)

// SchemaVersion is written into every recording. Bump it when a field is
// renamed or removed, or the column layout changes (adding fields or events
// keeps old recordings readable). Version 2 stores the schema names that
// differ only in case (ProcessId/ProcessID/processid) in one column; see
// FieldID.Fold.
const SchemaVersion = 2

// FieldID is the compact address of a schema field, resolved once from a
// name. IDs are assigned from the schema table at init in table order; they
// are stable within a build but are never persisted (recordings use names).
type FieldID uint16

// Virtual fields live in the event header, not in the field store. Their IDs
// are fixed so that hot paths can switch on them.
const (
	FieldEventID       FieldID = iota // header EventID, rendered decimal
	FieldChannel                      // header Channel
	FieldProviderName                 // header Provider (Sigma's Provider_Name)
	FieldEventRecordID                // header RecordID, rendered decimal
	numVirtual
)

// envelope is the System part of an event (beyond the virtual fields) that
// SigmaHQ rules or ECS alerts read. Names follow Sigma's convention
// (Provider_Name, Security_UserID); EventVersion avoids the clash with
// Sysmon 4's data field Version.
const envelope = "Computer Security_UserID:sid Provider_Guid:guid EventVersion:uint Level:uint Task:uint Opcode:uint Keywords:hex Execution_ProcessID:uint Execution_ThreadID:uint ActivityID:guid RelatedActivityID:guid"

// enrichment names are not rendered by any Windows event but are read by
// SigmaHQ rules (Aurora add-ons, tests/logsource.json "addon"); the detection
// engine fills them from its process table when a rule needs them.
const enrichment = "GrandParentImage GrandparentCommandLine SourceCommandLine SourceParentImage SourceParentProcessId:uint SourceParentCommandLine TargetCommandLine TargetParentProcessId:uint TargetParentImage TargetParentCommandLine"

// maxFields bounds the schema so that the presence bitmap is a fixed array.
const (
	fieldWords = 8
	maxFields  = fieldWords * 64
)

// Def describes one event type: where it comes from and its fields in
// manifest order.
type Def struct {
	Channel  string
	Provider string
	EventID  uint16
	Version  uint8
	Name     string
	Fields   []DefField
	spec     string
	rs       roleSpec // roles as the table writes them (roles.go)
	roles    Roles
	// spellings are the declared fields whose name another field spells
	// in another case (Spelling reads only these).
	spellings []FieldID
}

// DefField is one field of a Def with the type it has in that event.
type DefField struct {
	ID   FieldID
	Type Type
}

// FieldInfo describes a field of the union of all events.
type FieldInfo struct {
	ID      FieldID
	Name    string
	Fold    FieldID // first declared field whose name equals Name ignoring case (ID itself when none before)
	Type    Type    // type of its first declaration
	Virtual bool    // held in the event header
	Enrich  bool    // filled by enrichment, never by a Windows event
}

type defKey struct {
	channel string
	id      uint16
}

// The schema tables are built by a variable initializer (not init) so that
// package-level variables such as FImage can resolve names during
// initialization.
type schema struct {
	fieldTable  []FieldInfo
	fieldByName map[string]FieldID
	fieldByFold map[string]FieldID
	folded      []bool // by FieldID: another field's name differs only in case
	defs        []Def
	defByKey    map[defKey]*Def

	defaultRoles Roles         // of events of channels without roles of their own
	roleChannels []roleChannel // RolesOf's index
}

var sch = buildSchema()

func buildSchema() *schema {
	sch := &schema{fieldByName: map[string]FieldID{}, fieldByFold: map[string]FieldID{}, defByKey: map[defKey]*Def{}}
	for _, v := range []struct {
		name string
		t    Type
	}{{"EventID", UInt}, {"Channel", String}, {"Provider_Name", String}, {"EventRecordID", UInt}} {
		sch.addField(v.name, v.t).Virtual = true
	}
	sch.parseSpec(envelope, false)
	all := [][]Def{sysmonDefs, securityDefs, systemDefs, otherDefs}
	for _, group := range all {
		for _, d := range group {
			d.Fields = sch.parseSpec(d.spec, false)
			sch.defs = append(sch.defs, d)
		}
	}
	sch.parseSpec(enrichment, true)
	for i := range sch.defs {
		k := defKey{sch.defs[i].Channel, sch.defs[i].EventID}
		if _, dup := sch.defByKey[k]; dup {
			panic(fmt.Sprintf("event: duplicate schema def %s/%d", k.channel, k.id))
		}
		sch.defByKey[k] = &sch.defs[i]
		seen := map[FieldID]FieldID{}
		for _, f := range sch.defs[i].Fields {
			fold := sch.fieldTable[f.ID].Fold
			if o, dup := seen[fold]; dup {
				// Spelling (one column per name ignoring case) needs each
				// event to use one spelling of a name.
				panic(fmt.Sprintf("event: %s/%d declares both %s and %s", k.channel, k.id, sch.fieldTable[o].Name, sch.fieldTable[f.ID].Name))
			}
			seen[fold] = f.ID
		}
	}
	sch.folded = make([]bool, len(sch.fieldTable))
	for _, f := range sch.fieldTable {
		if f.Fold != f.ID {
			sch.folded[f.ID], sch.folded[f.Fold] = true, true
		}
	}
	for i := range sch.defs {
		for _, f := range sch.defs[i].Fields {
			if sch.folded[f.ID] {
				sch.defs[i].spellings = append(sch.defs[i].spellings, f.ID)
			}
		}
	}
	sch.resolveRoles()
	if len(sch.fieldTable) > maxFields {
		panic(fmt.Sprintf("event: %d fields exceed the %d the presence bitmap holds", len(sch.fieldTable), maxFields))
	}
	return sch
}

// parseSpec turns "Name Name:type …" into DefFields, registering new names.
func (sch *schema) parseSpec(spec string, enrich bool) []DefField {
	var out []DefField
	for _, tok := range strings.Fields(spec) {
		name, tname, _ := strings.Cut(tok, ":")
		t := String
		if tname != "" {
			t = typeByName(tname)
		}
		id, ok := sch.fieldByName[name]
		if !ok {
			fi := sch.addField(name, t)
			fi.Enrich = enrich
			id = fi.ID
		}
		out = append(out, DefField{ID: id, Type: t})
	}
	return out
}

func (sch *schema) addField(name string, t Type) *FieldInfo {
	id := FieldID(len(sch.fieldTable))
	sch.fieldTable = append(sch.fieldTable, FieldInfo{ID: id, Name: name, Type: t})
	sch.fieldByName[name] = id
	fold := strings.ToLower(name)
	first, clash := sch.fieldByFold[fold]
	if !clash {
		sch.fieldByFold[fold] = id
		first = id
	}
	sch.fieldTable[id].Fold = first
	return &sch.fieldTable[id]
}

func typeByName(s string) Type {
	for i, n := range typeNames {
		if n == s {
			return Type(i)
		}
	}
	panic("event: unknown type in schema: " + s)
}

// NumFields is the number of fields in the union of all events.
func NumFields() int { return len(sch.fieldTable) }

// Fields lists every field in ID order.
func Fields() []FieldInfo { return sch.fieldTable }

// FieldByName resolves an exact (case-sensitive) field name.
func FieldByName(name string) (FieldID, bool) {
	id, ok := sch.fieldByName[name]
	return id, ok
}

// FieldByNameFold resolves a field name ignoring case. Where two schema names
// differ only in case (SourceProcessGuid / SourceProcessGUID) the one declared
// first wins; callers that care use FieldByName first.
func FieldByNameFold(name string) (FieldID, bool) {
	id, ok := sch.fieldByFold[strings.ToLower(name)]
	return id, ok
}

// MustField resolves a name that the schema is known to have.
func MustField(name string) FieldID {
	id, ok := sch.fieldByName[name]
	if !ok {
		panic("event: no schema field " + name)
	}
	return id
}

// Name returns the field's schema name.
func (id FieldID) Name() string {
	if int(id) < len(sch.fieldTable) {
		return sch.fieldTable[id].Name
	}
	return fmt.Sprintf("field#%d", id)
}

// Type returns the field's type at its first declaration; use
// Def.TypeOf for the type it has in a given event.
func (id FieldID) Type() Type { return sch.fieldTable[id].Type }

// Fold returns the first declared field whose name equals id's ignoring
// case: the field itself unless the schema spells its name another way in
// another event (Sysmon's ProcessId, Security 5156's ProcessID, WMI's
// processid). Recordings store such a group of fields in one column, named
// after Fold, since case-insensitive readers (DuckDB, Spark) cannot tell
// the spellings apart; the event's definition says which spelling a value
// is (Def.Spelling).
func (id FieldID) Fold() FieldID { return sch.fieldTable[id].Fold }

// Folded reports whether another schema field differs from id only in case.
func (id FieldID) Folded() bool { return sch.folded[id] }

// Virtual reports whether the field lives in the event header.
func (id FieldID) Virtual() bool { return id < numVirtual }

// Defs lists every event type the schema knows, in table order.
func Defs() []Def { return sch.defs }

// Lookup returns the Def for a channel and event ID, or nil.
func Lookup(channel string, eventID uint16) *Def {
	return sch.defByKey[defKey{channel, eventID}]
}

// TypeOf returns the type a field has in this event type (its union type
// when the event does not declare it).
func (d *Def) TypeOf(id FieldID) Type {
	if d != nil {
		for _, f := range d.Fields {
			if f.ID == id {
				return f.Type
			}
		}
	}
	return id.Type()
}

// Spelling returns the field of id's case-insensitive group (FieldID.Fold)
// that this event type declares, or the group's first field when it
// declares none (and for a nil Def): the spelling a value stored in the
// group's column has in this event, unless the recording says otherwise.
func (d *Def) Spelling(id FieldID) FieldID {
	fold := id.Fold()
	if d != nil {
		for _, f := range d.spellings {
			if sch.fieldTable[f].Fold == fold {
				return f
			}
		}
	}
	return fold
}

// Has reports whether the event type declares the field.
func (d *Def) Has(id FieldID) bool {
	for _, f := range d.Fields {
		if f.ID == id {
			return true
		}
	}
	return false
}

// Channels lists the distinct channels of the schema, sorted.
func Channels() []string {
	seen := map[string]bool{}
	var out []string
	for _, d := range sch.defs {
		if !seen[d.Channel] {
			seen[d.Channel] = true
			out = append(out, d.Channel)
		}
	}
	sort.Strings(out)
	return out
}
