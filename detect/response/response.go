// Package response is edr's active response ([response] in the config):
// on an alert at or above min_severity it terminates the acting process, or
// in dry-run mode (prevention_enabled = false) only logs what it would do.
//
// The decision logic is portable and tested on any OS against a fake
// Controller; the Windows Controller (build-tagged) is a thin layer over
// OpenProcess/GetProcessTimes/QueryFullProcessImageName/TerminateProcess.
// Before terminating, the process behind the PID is checked to be the one
// the alert is about (same start time and image), so PID reuse never kills
// an innocent process. Replayed alerts are never acted on.
package response

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edr-lab/edr/config"
	"github.com/edr-lab/edr/detect"
	"github.com/edr-lab/edr/detect/allowlist"
	"github.com/edr-lab/edr/event"
)

// Config is the [response] section, with allowlist_paths already resolved
// against the shared allowlist (allowlist.Effective).
type Config struct {
	Enabled         bool
	Prevention      bool            // false: dry-run, log only
	MinSeverity     detect.Severity // default critical
	ChannelCapacity int             // queue size, default 128
	AllowImages     []string
	AllowPaths      []string
	// StartTolerance is how far the live process's start time may be from
	// the one the alert recorded (event renderings have millisecond
	// precision). Default 10ms.
	StartTolerance time.Duration
}

// Identity names one process instance: PIDs are reused, the triple is not.
type Identity struct {
	PID   uint32
	Start time.Time // process creation time
	Image string    // full path of the executable
}

// Controller opens live processes. The Windows implementation is in
// controller_windows.go; tests use a fake.
type Controller interface {
	Open(pid uint32) (Handle, error)
	Self() uint32
}

// Handle is an open process: identity checks and termination go through
// the same handle, so the process cannot change between check and kill.
type Handle interface {
	Identity() (Identity, error)
	Terminate() error
	Close() error
}

// ErrUnsupported is returned by the Controller of platforms where edr
// cannot terminate processes.
var ErrUnsupported = errors.New("process termination not supported on this platform")

// Stats are the responder's counters.
type Stats struct {
	Considered    uint64 // alerts seen
	Replayed      uint64 // replayed alerts ignored
	BelowSeverity uint64
	NoTarget      uint64 // no PID/image/start time to identify the process
	Protected     uint64 // PID 0–4 or edr itself
	Allowlisted   uint64
	Queued        uint64
	Overflow      uint64 // dropped because the queue was full (counted, logged)
	DryRun        uint64 // actions logged but not taken
	Terminated    uint64
	Gone          uint64 // the process had already exited
	Mismatch      uint64 // the PID now belongs to another process (reuse)
	Failed        uint64
}

// Responder decides on alerts and runs actions from a bounded queue.
type Responder struct {
	cfg    Config
	ctl    Controller
	log    *slog.Logger
	images *allowlist.Images
	paths  *allowlist.Paths
	queue  chan action
	wg     sync.WaitGroup
	mu     sync.RWMutex // guards closed against a send on the closed queue
	closed bool
	stats  [13]atomic.Uint64
}

const (
	sConsidered = iota
	sReplayed
	sBelow
	sNoTarget
	sProtected
	sAllow
	sQueued
	sOverflow
	sDryRun
	sTerminated
	sGone
	sMismatch
	sFailed
)

type action struct {
	target Identity
	rule   string
	sev    detect.Severity
}

// New starts a responder. ctl may be nil in dry-run mode.
func New(cfg Config, ctl Controller, log *slog.Logger) (*Responder, error) {
	if cfg.Prevention && ctl == nil {
		return nil, errors.New("response: prevention enabled without a process controller")
	}
	if cfg.MinSeverity == detect.SeverityNone {
		cfg.MinSeverity = detect.SeverityCritical
	}
	if cfg.ChannelCapacity <= 0 {
		cfg.ChannelCapacity = 128
	}
	if cfg.StartTolerance <= 0 {
		cfg.StartTolerance = 10 * time.Millisecond
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	r := &Responder{
		cfg: cfg, ctl: ctl, log: log.With("component", "response"),
		images: allowlist.NewImages(cfg.AllowImages), paths: allowlist.NewPaths(cfg.AllowPaths),
		queue: make(chan action, cfg.ChannelCapacity),
	}
	r.wg.Add(1)
	go r.run()
	return r, nil
}

// Alert implements detect.AlertSink: it decides whether the alert calls
// for an action and queues it without blocking the engine. It never fails.
func (r *Responder) Alert(a *detect.Alert) error {
	r.stats[sConsidered].Add(1)
	if !r.cfg.Enabled {
		return nil
	}
	if a.Replayed {
		r.stats[sReplayed].Add(1)
		return nil
	}
	sev := a.Severity
	if a.Hit.Rule.Engine == detect.EngineYARA {
		sev = detect.SeverityCritical
	}
	if sev < r.cfg.MinSeverity {
		r.stats[sBelow].Add(1)
		return nil
	}
	target, ok := Target(a)
	if !ok {
		r.stats[sNoTarget].Add(1)
		r.log.Info("no process to act on", "rule", a.Hit.Rule.Name)
		return nil
	}
	if reason := r.skipReason(target); reason != "" {
		r.log.Info("response skipped", "reason", reason, "pid", target.PID, "image", target.Image, "rule", a.Hit.Rule.Name)
		return nil
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.closed {
		return nil
	}
	select {
	case r.queue <- action{target, a.Hit.Rule.Name, sev}:
		r.stats[sQueued].Add(1)
	default:
		n := r.stats[sOverflow].Add(1)
		r.log.Warn("response queue full: action dropped", "pid", target.PID, "image", target.Image, "rule", a.Hit.Rule.Name, "dropped_total", n)
	}
	return nil
}

func (r *Responder) skipReason(t Identity) string {
	self := uint32(os.Getpid())
	if r.ctl != nil {
		self = r.ctl.Self()
	}
	switch {
	case t.PID <= 4 || t.PID == self:
		r.stats[sProtected].Add(1)
		return "protected process"
	case r.images.Match(t.Image):
		r.stats[sAllow].Add(1)
		return "allowlisted image"
	case r.paths.Match(t.Image):
		r.stats[sAllow].Add(1)
		return "allowlisted path"
	}
	return ""
}

// Target identifies the process an alert is about: the started process for
// process creations, else the acting process, with the start time the
// process table recorded. ok is false when PID, image or start time is
// unknown (the identity could not be verified).
func Target(a *detect.Alert) (Identity, bool) {
	ev := a.Event
	var pid, image string
	var start int64
	if p := a.Proc; p != nil {
		pid, image, start = p.PID, p.Image, p.Start
	}
	if roles := event.RolesOf(ev); roles.Lifecycle == event.ProcessStart {
		pid, image, start = roles.Actor.DecimalPID(ev), ev.Value(roles.Actor.Image), ev.Time
	}
	n, err := strconv.ParseUint(pid, 10, 32)
	if err != nil || image == "" || start == 0 {
		return Identity{}, false
	}
	return Identity{PID: uint32(n), Start: time.Unix(0, start).UTC(), Image: image}, true
}

func (r *Responder) run() {
	defer r.wg.Done()
	for act := range r.queue {
		r.execute(act)
	}
}

func (r *Responder) execute(act action) {
	t := act.target
	attrs := []any{"pid", t.PID, "image", t.Image, "start", t.Start.Format(time.RFC3339Nano), "rule", act.rule, "severity", act.sev.String()}
	if !r.cfg.Prevention {
		r.stats[sDryRun].Add(1)
		r.log.Warn("dry-run: would terminate process", attrs...)
		return
	}
	switch err := r.terminate(t); {
	case err == nil:
		r.stats[sTerminated].Add(1)
		r.log.Warn("terminated process", attrs...)
	case errors.Is(err, errGone):
		r.stats[sGone].Add(1)
		r.log.Info("process already exited", attrs...)
	case errors.Is(err, errMismatch):
		r.stats[sMismatch].Add(1)
		r.log.Warn("PID reused by another process: not terminated", append(attrs, "err", err)...)
	default:
		r.stats[sFailed].Add(1)
		r.log.Error("terminate failed", append(attrs, "err", err)...)
	}
}

var (
	errGone     = errors.New("process not found")
	errMismatch = errors.New("process identity changed")
)

// ErrNotFound is what a Controller's Open returns for a PID with no process.
var ErrNotFound = errGone

func (r *Responder) terminate(want Identity) error {
	h, err := r.ctl.Open(want.PID)
	if err != nil {
		return err
	}
	defer h.Close()
	got, err := h.Identity()
	if err != nil {
		return fmt.Errorf("query identity: %w", err)
	}
	if err := SameProcess(want, got, r.cfg.StartTolerance); err != nil {
		return err
	}
	return h.Terminate()
}

// SameProcess checks that a live process is the one an alert recorded:
// same PID, start times within tol, and the same image (case-insensitive).
func SameProcess(want, got Identity, tol time.Duration) error {
	d := want.Start.Sub(got.Start)
	if d < 0 {
		d = -d
	}
	switch {
	case want.PID != got.PID:
		return fmt.Errorf("%w: pid %d is now %d", errMismatch, want.PID, got.PID)
	case d > tol:
		return fmt.Errorf("%w: start %s, live process started %s", errMismatch, want.Start.Format(time.RFC3339Nano), got.Start.Format(time.RFC3339Nano))
	case !(allowlist.HasPrefixFold(want.Image, got.Image) && allowlist.HasPrefixFold(got.Image, want.Image)):
		return fmt.Errorf("%w: image %s, live process runs %s", errMismatch, want.Image, got.Image)
	}
	return nil
}

// Close stops accepting alerts and waits for queued actions.
func (r *Responder) Close() {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.closed = true
	close(r.queue)
	r.mu.Unlock()
	r.wg.Wait()
}

// Stats returns the counters.
func (r *Responder) Stats() Stats {
	g := func(i int) uint64 { return r.stats[i].Load() }
	return Stats{
		Considered: g(sConsidered), Replayed: g(sReplayed), BelowSeverity: g(sBelow), NoTarget: g(sNoTarget),
		Protected: g(sProtected), Allowlisted: g(sAllow), Queued: g(sQueued), Overflow: g(sOverflow),
		DryRun: g(sDryRun), Terminated: g(sTerminated), Gone: g(sGone), Mismatch: g(sMismatch), Failed: g(sFailed),
	}
}

// FromConfig maps the [response] section (allowlist_paths already
// inherits allowlist.paths there) to a responder Config.
func FromConfig(c config.Response) (Config, error) {
	sev, err := detect.ParseSeverity(c.MinSeverity)
	if err != nil {
		return Config{}, fmt.Errorf("response.min_severity: %w", err)
	}
	return Config{Enabled: c.Enabled, Prevention: c.PreventionEnabled, MinSeverity: sev, ChannelCapacity: c.ChannelCapacity,
		AllowImages: c.AllowlistImages, AllowPaths: c.AllowlistPaths}, nil
}
