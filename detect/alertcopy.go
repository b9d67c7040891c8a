package detect

import (
	"github.com/edr-lab/edr/detect/state"
	"github.com/edr-lab/edr/event"
)

// AlertCopy is an Alert that shares nothing the engine reuses or changes
// after AlertSink.Alert returns: its event, hit and processes are copies.
// A sink that encodes alerts on another goroutine (sink.Writer) keeps one
// per queued alert; CopyFrom reuses the storage of the previous alert.
type AlertCopy struct {
	alert  Alert
	ev     event.Event
	hit    Hit
	fields []MatchedField
	ind    Indicator
	yara   YARAMatch
	procs  [4]state.Process // Proc, Parent, Target, TargetPar
	anc    []state.Process
	ancP   []*state.Process
}

// CopyFrom makes c a copy of a. Strings are shared (they are immutable), and
// so are the rule's metadata and a YARA match's strings, which nothing
// writes after they are made.
func (c *AlertCopy) CopyFrom(a *Alert) {
	c.ev.CopyFrom(a.Event)
	c.hit = *a.Hit
	if a.Hit.Fields != nil {
		c.fields = append(c.fields[:0], a.Hit.Fields...)
		c.hit.Fields = c.fields
	}
	if a.Hit.Indicator != nil {
		c.ind = *a.Hit.Indicator
		c.hit.Indicator = &c.ind
	}
	if a.Hit.YARA != nil {
		c.yara = *a.Hit.YARA
		c.hit.YARA = &c.yara
	}
	c.alert = *a
	c.alert.Event, c.alert.Hit = &c.ev, &c.hit
	c.alert.Proc = c.copyProc(0, a.Proc)
	c.alert.Parent = c.copyProc(1, a.Parent)
	c.alert.Target = c.copyProc(2, a.Target)
	c.alert.TargetPar = c.copyProc(3, a.TargetPar)
	c.anc = c.anc[:0]
	for _, p := range a.Ancestors {
		c.anc = append(c.anc, *p)
	}
	c.ancP = c.ancP[:0]
	for i := range c.anc {
		c.ancP = append(c.ancP, &c.anc[i])
	}
	c.alert.Ancestors = c.ancP
}

func (c *AlertCopy) copyProc(i int, p *state.Process) *state.Process {
	if p == nil {
		return nil
	}
	c.procs[i] = *p
	return &c.procs[i]
}

// Alert returns the copy (valid until the next CopyFrom).
func (c *AlertCopy) Alert() *Alert { return &c.alert }
