package response

import (
	"bytes"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/edr-lab/edr/config"
	"github.com/edr-lab/edr/detect"
	"github.com/edr-lab/edr/detect/detecttest"
	"github.com/edr-lab/edr/detect/state"
	"github.com/edr-lab/edr/event"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeOS is a process table standing in for the live OS.
type fakeOS struct {
	mu         sync.Mutex
	procs      map[uint32]Identity
	terminated []uint32
	gate       chan struct{} // when set, Open waits on it
}

func (f *fakeOS) Self() uint32 { return 9999 }

func (f *fakeOS) Open(pid uint32) (Handle, error) {
	if f.gate != nil {
		<-f.gate
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	id, ok := f.procs[pid]
	if !ok {
		return nil, ErrNotFound
	}
	return &fakeHandle{f, id}, nil
}

type fakeHandle struct {
	os *fakeOS
	id Identity
}

func (h *fakeHandle) Identity() (Identity, error) { return h.id, nil }
func (h *fakeHandle) Terminate() error {
	h.os.mu.Lock()
	defer h.os.mu.Unlock()
	h.os.terminated = append(h.os.terminated, h.id.PID)
	delete(h.os.procs, h.id.PID)
	return nil
}
func (h *fakeHandle) Close() error { return nil }

var start = time.Date(2024, 5, 20, 15, 31, 0, 456_000_000, time.UTC)

func procAlert(pid, image string, sev detect.Severity, engine string) *detect.Alert {
	ev := detecttest.Sysmon(1, start.UnixNano(), "H", "ProcessId", pid, "Image", image)
	return &detect.Alert{Event: ev, Hit: &detect.Hit{Rule: &detect.Rule{Engine: engine, Name: "R"}}, Severity: sev}
}

func newResponder(t *testing.T, cfg Config, ctl Controller) (*Responder, *bytes.Buffer) {
	var logs bytes.Buffer
	r, err := New(cfg, ctl, slog.New(slog.NewTextHandler(&logs, nil)))
	require.NoError(t, err)
	return r, &logs
}

func TestPreventionTerminatesOnlyTheSameProcess(t *testing.T) {
	os := &fakeOS{procs: map[uint32]Identity{
		100: {100, start.Add(300 * time.Microsecond), `C:\Users\x\evil.exe`}, // the alerted process (100ns clock vs ms rendering)
		200: {200, start.Add(5 * time.Second), `C:\Users\x\evil.exe`},        // PID reused later by another instance
		300: {300, start, `C:\Windows\notepad.exe`},                          // PID reused by another image
	}}
	r, logs := newResponder(t, Config{Enabled: true, Prevention: true}, os)
	for _, a := range []*detect.Alert{
		procAlert("100", `C:\Users\x\EVIL.exe`, detect.SeverityCritical, detect.EngineSigma),
		procAlert("200", `C:\Users\x\evil.exe`, detect.SeverityCritical, detect.EngineSigma),
		procAlert("300", `C:\Users\x\evil.exe`, detect.SeverityCritical, detect.EngineSigma),
		procAlert("400", `C:\Users\x\gone.exe`, detect.SeverityCritical, detect.EngineSigma),
	} {
		require.NoError(t, r.Alert(a))
	}
	r.Close()
	assert.Equal(t, []uint32{100}, os.terminated)
	s := r.Stats()
	assert.Equal(t, uint64(1), s.Terminated)
	assert.Equal(t, uint64(2), s.Mismatch)
	assert.Equal(t, uint64(1), s.Gone)
	assert.Contains(t, logs.String(), "PID reused")
}

func TestDecisionFilters(t *testing.T) {
	os := &fakeOS{procs: map[uint32]Identity{}}
	r, logs := newResponder(t, Config{Enabled: true, MinSeverity: detect.SeverityHigh,
		AllowImages: []string{"lsass.exe"}, AllowPaths: []string{`C:\Trusted\`}}, os)
	replayed := procAlert("100", `C:\x\a.exe`, detect.SeverityCritical, detect.EngineSigma)
	replayed.Replayed = true
	noPID := procAlert("", `C:\x\a.exe`, detect.SeverityCritical, detect.EngineSigma)
	for _, a := range []*detect.Alert{
		replayed,
		procAlert("100", `C:\x\a.exe`, detect.SeverityMedium, detect.EngineSigma), // below
		procAlert("100", `C:\x\a.exe`, detect.SeverityLow, detect.EngineYARA),     // YARA is always critical → dry-run
		procAlert("4", `C:\Windows\System32\ntoskrnl.exe`, detect.SeverityCritical, detect.EngineSigma),
		procAlert("9999", `C:\edr\edr.exe`, detect.SeverityCritical, detect.EngineSigma),
		procAlert("101", `C:\Windows\System32\LSASS.EXE`, detect.SeverityCritical, detect.EngineSigma),
		procAlert("102", `c:\trusted\tool.exe`, detect.SeverityCritical, detect.EngineSigma),
		noPID,
		procAlert("103", `C:\x\b.exe`, detect.SeverityHigh, detect.EngineSigma), // dry-run
	} {
		require.NoError(t, r.Alert(a))
	}
	r.Close()
	s := r.Stats()
	assert.Equal(t, Stats{Considered: 9, Replayed: 1, BelowSeverity: 1, Protected: 2, Allowlisted: 2, NoTarget: 1, Queued: 2, DryRun: 2}, s)
	assert.Empty(t, os.terminated, "dry-run never acts")
	assert.Contains(t, logs.String(), "dry-run: would terminate process")
}

func TestQueueOverflowIsCounted(t *testing.T) {
	os := &fakeOS{procs: map[uint32]Identity{}, gate: make(chan struct{})}
	r, logs := newResponder(t, Config{Enabled: true, Prevention: true, ChannelCapacity: 2}, os)
	for i := 0; i < 10; i++ {
		require.NoError(t, r.Alert(procAlert(event.Itoa(uint64(100+i)), `C:\x\a.exe`, detect.SeverityCritical, detect.EngineSigma)))
	}
	close(os.gate)
	r.Close()
	s := r.Stats()
	assert.Equal(t, uint64(10), s.Queued+s.Overflow)
	assert.GreaterOrEqual(t, s.Overflow, uint64(7))
	assert.Equal(t, s.Queued, s.Gone)
	assert.Contains(t, logs.String(), "response queue full")
	require.NoError(t, r.Alert(procAlert("100", `C:\x\a.exe`, detect.SeverityCritical, detect.EngineSigma)), "alerts after Close are ignored, not a panic")
}

func TestDisabledAndConfigErrors(t *testing.T) {
	r, _ := newResponder(t, Config{}, nil)
	require.NoError(t, r.Alert(procAlert("100", `C:\x\a.exe`, detect.SeverityCritical, detect.EngineSigma)))
	r.Close()
	assert.Zero(t, r.Stats().Queued)
	_, err := New(Config{Enabled: true, Prevention: true}, nil, nil)
	assert.Error(t, err)
}

func TestTargetUsesProcessTableForOtherEvents(t *testing.T) {
	ev := detecttest.Sysmon(11, start.Add(time.Minute).UnixNano(), "H", "ProcessId", "100", "Image", `C:\x\a.exe`, "TargetFilename", `C:\x\y`)
	a := &detect.Alert{Event: ev, Hit: &detect.Hit{Rule: &detect.Rule{}}}
	_, ok := Target(a)
	assert.False(t, ok, "no start time known: identity cannot be verified")
	a.Proc = &state.Process{PID: "100", Image: `C:\x\a.exe`, Start: start.UnixNano()}
	id, ok := Target(a)
	require.True(t, ok)
	assert.Equal(t, Identity{100, start, `C:\x\a.exe`}, id)
}

// TestTargetOfSecurity4688: a Security process creation names the started
// process itself (hex NewProcessId, NewProcessName), as Sysmon 1 does, so
// its identity does not depend on the process table.
func TestTargetOfSecurity4688(t *testing.T) {
	ev := detecttest.Event(event.ChannelSecurity, 4688, start.UnixNano(), "H", "NewProcessId", "0x1f4", "NewProcessName", `C:\x\b.exe`, "ProcessId", "0x4")
	id, ok := Target(&detect.Alert{Event: ev, Hit: &detect.Hit{Rule: &detect.Rule{}}})
	require.True(t, ok)
	assert.Equal(t, Identity{500, start, `C:\x\b.exe`}, id)
}

func TestDefaultControllerOutsideWindows(t *testing.T) {
	c := DefaultController()
	assert.NotZero(t, c.Self())
	if _, err := c.Open(1); err != nil {
		assert.ErrorIs(t, err, ErrUnsupported)
	}
}

func TestFromConfigInheritsSharedAllowlist(t *testing.T) {
	c, err := config.Parse("t.toml", []byte("[allowlist]\npaths = ['D:\\Trusted\\']\n[response]\nenabled = true\nmin_severity = \"high\"\n"))
	require.NoError(t, err)
	rc, err := FromConfig(c.Response)
	require.NoError(t, err)
	assert.True(t, rc.Enabled)
	assert.False(t, rc.Prevention)
	assert.Equal(t, detect.SeverityHigh, rc.MinSeverity)
	assert.Equal(t, 128, rc.ChannelCapacity)
	assert.Equal(t, []string{`D:\Trusted\`}, rc.AllowPaths, "response.allowlist_paths inherits allowlist.paths")
	c, err = config.Parse("t.toml", []byte("[allowlist]\npaths = ['D:\\Trusted\\']\n[response]\nallowlist_paths = []\n"))
	require.NoError(t, err)
	rc, err = FromConfig(c.Response)
	require.NoError(t, err)
	assert.Empty(t, rc.AllowPaths, "an explicit module list overrides the shared one")
}
