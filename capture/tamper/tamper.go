// Package tamper watches edr's own ETW sessions for tampering: a process
// with administrator rights can stop a session (logman stop edr-bulk) or
// disable one provider in it (EnableTraceEx2 with DISABLE_PROVIDER) and so
// blind edr without killing it. A Poller asks a Probe every interval and
// reports each session that disappeared and each provider no longer
// enabled in its session, once per transition, and again when it is back.
//
// The Windows probe (capture/etw: ControlTrace QUERY and
// EnumerateTraceGuidsEx) is behind the Probe interface, so the logic is
// tested here with a fake.
package tamper

import (
	"context"
	"fmt"
	"time"

	"github.com/edr-lab/edr/capture/raw"
)

// Provider is one provider edr enabled in a session.
type Provider struct {
	Name string
	GUID raw.ProviderID
}

// Want is one session edr started and the providers it enabled there.
type Want struct {
	Session   string
	Providers []Provider
}

// State is what a probe sees of one session now.
type State struct {
	Present bool
	// Enabled says, per provider asked about, whether it is enabled in the
	// session (meaningless when the session is not present).
	Enabled map[raw.ProviderID]bool
}

// Probe reads a session's state from the OS.
type Probe interface {
	Query(session string, providers []raw.ProviderID) (State, error)
}

// Kind is what a Finding reports.
type Kind uint8

const (
	SessionStopped   Kind = iota + 1 // the session is gone
	ProviderDisabled                 // the session runs but a provider is no longer enabled in it
	SessionRestored                  // a stopped session is back
	ProviderRestored                 // a disabled provider is enabled again
)

var kindNames = [...]string{"", "session_stopped", "provider_disabled", "session_restored", "provider_restored"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind?"
}

// Tampered reports whether the finding is an attack (not a recovery).
func (k Kind) Tampered() bool { return k == SessionStopped || k == ProviderDisabled }

// Finding is one transition.
type Finding struct {
	Kind     Kind
	Session  string
	Provider Provider // ProviderDisabled, ProviderRestored
}

func (f Finding) String() string {
	if f.Kind == ProviderDisabled || f.Kind == ProviderRestored {
		return fmt.Sprintf("%s: %s ({%s}) in ETW session %s", f.Kind, f.Provider.Name, f.Provider.GUID, f.Session)
	}
	return fmt.Sprintf("%s: ETW session %s", f.Kind, f.Session)
}

// Poller compares each poll with the last one. Not safe for concurrent
// use; Run polls from one goroutine.
type Poller struct {
	probe Probe
	want  []Want
	// down is what was found stopped or disabled at the last poll:
	// sessions by name, providers by session and GUID.
	downSession  map[string]bool
	downProvider map[[2]string]bool
}

// New starts from everything running (the sessions were just started).
func New(p Probe, want []Want) *Poller {
	return &Poller{probe: p, want: want, downSession: map[string]bool{}, downProvider: map[[2]string]bool{}}
}

// Check polls once and returns the transitions since the last poll, in
// the order of want (sessions, then their providers), and the probe errors
// (a session that could not be queried keeps its last state).
func (p *Poller) Check() ([]Finding, []error) {
	var out []Finding
	var errs []error
	for _, w := range p.want {
		ids := make([]raw.ProviderID, len(w.Providers))
		for i, pr := range w.Providers {
			ids[i] = pr.GUID
		}
		st, err := p.probe.Query(w.Session, ids)
		if err != nil {
			errs = append(errs, fmt.Errorf("ETW session %s: %w", w.Session, err))
			continue
		}
		was := p.downSession[w.Session]
		switch {
		case !st.Present && !was:
			out = append(out, Finding{Kind: SessionStopped, Session: w.Session})
		case st.Present && was:
			out = append(out, Finding{Kind: SessionRestored, Session: w.Session})
		}
		p.downSession[w.Session] = !st.Present
		if !st.Present {
			continue // its providers are reported with the session
		}
		for _, pr := range w.Providers {
			k := [2]string{w.Session, pr.GUID.String()}
			on, was := st.Enabled[pr.GUID], p.downProvider[k]
			switch {
			case !on && !was:
				out = append(out, Finding{Kind: ProviderDisabled, Session: w.Session, Provider: pr})
			case on && was:
				out = append(out, Finding{Kind: ProviderRestored, Session: w.Session, Provider: pr})
			}
			p.downProvider[k] = !on
		}
	}
	return out, errs
}

// Run polls every interval until ctx is done, handing findings and probe
// errors to report and fail.
func (p *Poller) Run(ctx context.Context, every time.Duration, report func(Finding), fail func(error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fs, errs := p.Check()
			for _, f := range fs {
				report(f)
			}
			for _, e := range errs {
				fail(e)
			}
		}
	}
}
