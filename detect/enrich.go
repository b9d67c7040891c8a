package detect

import (
	"github.com/edr-lab/edr/detect/state"
	"github.com/edr-lab/edr/event"
)

// Enrichment fields are names no Windows event renders but that SigmaHQ
// rules read (Aurora add-ons). While the rules run, the engine fills them
// from the process table, then removes them again: the event stays as
// recorded, and the values reach alerts as process context instead.
type enrichField struct {
	id   event.FieldID
	of   enrichOf                      // the process the value comes from
	fill func(p *state.Process) string // its value there
}

// enrichOf names the process an enrichment field describes.
type enrichOf uint8

const (
	ofGrandparent enrichOf = iota // of the process a process creation starts
	ofSource                      // the acting process of an access event
	ofTarget                      // the process it acts on
	numEnrichOf
)

var enrichFields = []enrichField{
	{event.FGrandParentImage, ofGrandparent, func(p *state.Process) string { return p.Image }},
	{event.MustField("GrandparentCommandLine"), ofGrandparent, func(p *state.Process) string { return p.CommandLine }},
	{event.MustField("SourceCommandLine"), ofSource, func(p *state.Process) string { return p.CommandLine }},
	{event.MustField("SourceParentImage"), ofSource, func(p *state.Process) string { return p.ParentImage }},
	{event.MustField("SourceParentProcessId"), ofSource, func(p *state.Process) string { return p.ParentPID }},
	{event.MustField("SourceParentCommandLine"), ofSource, func(p *state.Process) string { return p.ParentCommand }},
	{event.MustField("TargetCommandLine"), ofTarget, func(p *state.Process) string { return p.CommandLine }},
	{event.MustField("TargetParentProcessId"), ofTarget, func(p *state.Process) string { return p.ParentPID }},
	{event.MustField("TargetParentImage"), ofTarget, func(p *state.Process) string { return p.ParentImage }},
	{event.MustField("TargetParentCommandLine"), ofTarget, func(p *state.Process) string { return p.ParentCommand }},
}

// neededEnrichment keeps the enrichment fields some matcher reads (all of
// them for matchers that cannot tell).
func neededEnrichment(ms []Matcher) []enrichField {
	var out []enrichField
	for _, f := range enrichFields {
		for _, m := range ms {
			if fu, ok := m.(FieldUser); !ok || fu.UsesField(f.id) {
				out = append(out, f)
				break
			}
		}
	}
	return out
}

var noProcess = &state.Process{}

// enricher fills enrichment fields from a state: the engine's own (Process)
// or, ahead of the prematch workers, a mirror of it (Enricher).
type enricher struct {
	st        *state.State
	fields    []enrichField   // the engine's (neededEnrichment)
	filled    []event.FieldID // set by the last fill
	mask      uint16          // the same, as bits of fields
	partialGP state.Process   // grandparent's scratch
}

// grandparent of the process a process-creation event starts.
func (n *enricher) grandparent(ev *event.Event) *state.Process {
	guid, pid := event.RolesOf(ev).Parent.IDs(ev)
	parent := n.st.Procs.Find(ev.Host, guid, pid, ev.Time)
	if parent == nil {
		return noProcess
	}
	if gp := n.st.Procs.Parent(parent); gp != nil {
		return gp
	}
	// A parent the table knows only partially still recorded its parent.
	// (Scratch: the caller reads the two strings before the next call.)
	n.partialGP = state.Process{Image: parent.ParentImage, CommandLine: parent.ParentCommand}
	return &n.partialGP
}

// side returns the source (or target) process of a process-access or
// remote-thread event.
func (n *enricher) side(ev *event.Event, source bool) *state.Process {
	roles := event.RolesOf(ev)
	ref := &roles.Target
	if source {
		ref = &roles.Actor
	}
	guid, pid := ref.IDs(ev)
	if guid == "" && pid == "" {
		return noProcess
	}
	if p := n.st.Procs.Find(ev.Host, guid, pid, ev.Time); p != nil {
		return p
	}
	return noProcess
}

// enrichApplies: grandparent fields go to process creations, source and
// target fields to events that act on another process.
func enrichApplies(ev *event.Event) (procCreate, access bool) {
	roles := event.RolesOf(ev)
	return roles.Lifecycle == event.ProcessStart, roles.Target.Named()
}

// fill sets the enrichment fields the event lacks, remembering which it
// set (filled, mask).
func (n *enricher) fill(ev *event.Event) {
	n.filled, n.mask = n.filled[:0], 0
	if len(n.fields) == 0 {
		return
	}
	create, access := enrichApplies(ev)
	if !create && !access {
		return
	}
	// Each process is looked up once per event, for all its fields.
	var procs [numEnrichOf]*state.Process
	for i, f := range n.fields {
		if (f.of == ofGrandparent) != create || ev.Has(f.id) {
			continue
		}
		p := procs[f.of]
		if p == nil {
			switch f.of {
			case ofGrandparent:
				p = n.grandparent(ev)
			default:
				p = n.side(ev, f.of == ofSource)
			}
			procs[f.of] = p
		}
		if v := f.fill(p); v != "" {
			ev.Set(f.id, v)
			n.filled = append(n.filled, f.id)
			n.mask |= 1 << i
		}
	}
}

// filledBy sets filled and mask to the fields of mask (an earlier fill's,
// by an enricher of the same fields).
func (n *enricher) filledBy(mask uint16) {
	n.filled, n.mask = n.filled[:0], mask
	for i, f := range n.fields {
		if mask&(1<<i) != 0 {
			n.filled = append(n.filled, f.id)
		}
	}
}

// restore removes the fields the last fill set.
func (n *enricher) restore(ev *event.Event) {
	for _, id := range n.filled {
		ev.Del(id)
	}
	n.filled, n.mask = n.filled[:0], 0
}
