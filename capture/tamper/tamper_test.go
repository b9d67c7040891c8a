package tamper

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edr-lab/edr/capture/raw"
)

// fakeProbe is a scripted OS: sessions present or not, providers disabled
// (changed only between polls).
type fakeProbe struct {
	stopped  map[string]bool
	disabled map[raw.ProviderID]bool
	fail     map[string]error
}

func (f *fakeProbe) Query(session string, ids []raw.ProviderID) (State, error) {
	if err := f.fail[session]; err != nil {
		return State{}, err
	}
	if f.stopped[session] {
		return State{}, nil
	}
	st := State{Present: true, Enabled: map[raw.ProviderID]bool{}}
	for _, id := range ids {
		st.Enabled[id] = !f.disabled[id]
	}
	return st, nil
}

var (
	proc = Provider{"Microsoft-Windows-Kernel-Process", raw.MustGUID("22fb2cd6-0e7b-422b-a0c7-2fad1fd0e716")}
	file = Provider{"Microsoft-Windows-Kernel-File", raw.MustGUID("edd08927-9cc4-4e65-b970-c2560fb5c289")}
	reg  = Provider{"Microsoft-Windows-Kernel-Registry", raw.MustGUID("70eb4f03-c1de-4f73-a051-33d13d5413bd")}
	want = []Want{{"edr-process", []Provider{proc}}, {"edr-bulk", []Provider{file, reg}}}
)

// TestPollerReportsEachTransitionOnce: nothing while all runs; a disabled
// provider and a stopped session are reported once each however many
// polls see them, a stopped session's providers are not reported on their
// own, and each recovery is reported once.
func TestPollerReportsEachTransitionOnce(t *testing.T) {
	f := &fakeProbe{stopped: map[string]bool{}, disabled: map[raw.ProviderID]bool{}, fail: map[string]error{}}
	p := New(f, want)
	check := func() []Finding {
		fs, errs := p.Check()
		require.Empty(t, errs)
		return fs
	}
	assert.Empty(t, check())
	f.disabled[reg.GUID] = true
	assert.Equal(t, []Finding{{ProviderDisabled, "edr-bulk", reg}}, check())
	assert.Empty(t, check(), "reported once")
	f.stopped["edr-process"] = true
	f.disabled[proc.GUID] = true
	assert.Equal(t, []Finding{{Kind: SessionStopped, Session: "edr-process"}}, check())
	assert.Empty(t, check())
	f.stopped["edr-process"] = false
	assert.Equal(t, []Finding{{Kind: SessionRestored, Session: "edr-process"}, {ProviderDisabled, "edr-process", proc}}, check())
	f.disabled = map[raw.ProviderID]bool{}
	assert.Equal(t, []Finding{{ProviderRestored, "edr-process", proc}, {ProviderRestored, "edr-bulk", reg}}, check())
	assert.Empty(t, check())
	assert.True(t, SessionStopped.Tampered())
	assert.False(t, ProviderRestored.Tampered())
	assert.Equal(t, "provider_disabled: Microsoft-Windows-Kernel-Registry ({70eb4f03-c1de-4f73-a051-33d13d5413bd}) in ETW session edr-bulk",
		Finding{ProviderDisabled, "edr-bulk", reg}.String())
}

// TestPollerProbeErrorKeepsState: a session that cannot be queried is an
// error, not a finding, and keeps its last state.
func TestPollerProbeErrorKeepsState(t *testing.T) {
	f := &fakeProbe{stopped: map[string]bool{"edr-bulk": true}, disabled: map[raw.ProviderID]bool{}, fail: map[string]error{}}
	p := New(f, want)
	fs, errs := p.Check()
	assert.Empty(t, errs)
	assert.Equal(t, []Finding{{Kind: SessionStopped, Session: "edr-bulk"}}, fs)
	f.fail["edr-bulk"] = errors.New("access denied")
	fs, errs = p.Check()
	assert.Empty(t, fs)
	require.Len(t, errs, 1)
	assert.EqualError(t, errs[0], "ETW session edr-bulk: access denied")
	delete(f.fail, "edr-bulk")
	fs, _ = p.Check()
	assert.Empty(t, fs, "still stopped: not reported again")
}

// TestPollerRun: Run polls on its ticker and stops with ctx.
func TestPollerRun(t *testing.T) {
	f := &fakeProbe{stopped: map[string]bool{"edr-process": true}, disabled: map[raw.ProviderID]bool{}, fail: map[string]error{}}
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan Finding, 4)
	done := make(chan struct{})
	go func() {
		New(f, want).Run(ctx, time.Millisecond, func(f Finding) { got <- f }, func(error) {})
		close(done)
	}()
	select {
	case fd := <-got:
		assert.Equal(t, Finding{Kind: SessionStopped, Session: "edr-process"}, fd)
	case <-time.After(10 * time.Second):
		t.Fatal("no finding")
	}
	cancel()
	<-done
}
