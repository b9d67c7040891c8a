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
	fill func(e *Engine, ev *event.Event) string
}

var enrichFields = []enrichField{
	{event.FGrandParentImage, func(e *Engine, ev *event.Event) string { return e.grandparent(ev).Image }},
	{event.MustField("GrandparentCommandLine"), func(e *Engine, ev *event.Event) string { return e.grandparent(ev).CommandLine }},
	{event.MustField("SourceCommandLine"), func(e *Engine, ev *event.Event) string { return e.side(ev, true).CommandLine }},
	{event.MustField("SourceParentImage"), func(e *Engine, ev *event.Event) string { return e.side(ev, true).ParentImage }},
	{event.MustField("SourceParentProcessId"), func(e *Engine, ev *event.Event) string { return e.side(ev, true).ParentPID }},
	{event.MustField("SourceParentCommandLine"), func(e *Engine, ev *event.Event) string { return e.side(ev, true).ParentCommand }},
	{event.MustField("TargetCommandLine"), func(e *Engine, ev *event.Event) string { return e.side(ev, false).CommandLine }},
	{event.MustField("TargetParentProcessId"), func(e *Engine, ev *event.Event) string { return e.side(ev, false).ParentPID }},
	{event.MustField("TargetParentImage"), func(e *Engine, ev *event.Event) string { return e.side(ev, false).ParentImage }},
	{event.MustField("TargetParentCommandLine"), func(e *Engine, ev *event.Event) string { return e.side(ev, false).ParentCommand }},
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

// grandparent of the process a process-creation event starts.
func (e *Engine) grandparent(ev *event.Event) *state.Process {
	guid, pid := event.RolesOf(ev).Parent.IDs(ev)
	parent := e.st.Procs.Find(ev.Host, guid, pid, ev.Time)
	if parent == nil {
		return noProcess
	}
	if gp := e.st.Procs.Parent(parent); gp != nil {
		return gp
	}
	// A parent the table knows only partially still recorded its parent.
	// (Scratch: the caller reads the two strings before the next call.)
	e.partialGP = state.Process{Image: parent.ParentImage, CommandLine: parent.ParentCommand}
	return &e.partialGP
}

// side returns the source (or target) process of a process-access or
// remote-thread event.
func (e *Engine) side(ev *event.Event, source bool) *state.Process {
	roles := event.RolesOf(ev)
	ref := &roles.Target
	if source {
		ref = &roles.Actor
	}
	guid, pid := ref.IDs(ev)
	if guid == "" && pid == "" {
		return noProcess
	}
	if p := e.st.Procs.Find(ev.Host, guid, pid, ev.Time); p != nil {
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

// fillEnrichment sets the enrichment fields the event lacks, remembering
// which it set.
func (e *Engine) fillEnrichment(ev *event.Event) {
	e.filled = e.filled[:0]
	if len(e.enrich) == 0 {
		return
	}
	create, access := enrichApplies(ev)
	if !create && !access {
		return
	}
	for _, f := range e.enrich {
		isGrand := f.id == enrichFields[0].id || f.id == enrichFields[1].id
		if isGrand != create || ev.Has(f.id) {
			continue
		}
		if v := f.fill(e, ev); v != "" {
			ev.Set(f.id, v)
			e.filled = append(e.filled, f.id)
		}
	}
	if len(e.filled) > 0 {
		e.stats.EnrichedEvents++
	}
}

func (e *Engine) restoreEnrichment(ev *event.Event) {
	for _, id := range e.filled {
		ev.Del(id)
	}
	e.filled = e.filled[:0]
}
