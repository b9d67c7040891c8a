package live

import (
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/edr-lab/edr/pipeline"
)

// Snapshot is the run's counters at one moment. Once Run has returned,
// In = Recorded + RecordFailed (when recording) and
// In = Detected + ShedTotal() + DetectDropped, exactly.
type Snapshot struct {
	In           uint64 // events the source delivered
	DecodeFailed uint64 // documents the source could not decode (never in In)
	Recorded     uint64
	RecordFailed uint64 // events the recorder refused or failed (still detected)
	Detected     uint64 // events the engine processed
	// Shed are the events shed from detection, by shed_first entry.
	Shed          map[string]uint64
	DetectDropped uint64 // queued for detection but not processed (detection failed)
	Alerts        uint64
	CaptureQueue  int64 // events waiting for the recorder
	DetectQueue   int64 // events waiting for detection
	Recording     bool
}

// Snapshot reads the counters (safe while Run runs).
func (l *Live) Snapshot() Snapshot {
	c := &l.counts
	s := Snapshot{In: c.in.Load(), DecodeFailed: c.decodeFailed.Load(), Recorded: c.recorded.Load(), RecordFailed: c.recordFailed.Load(),
		Detected: l.obs.Stats()[pipeline.StageEngine].Events, DetectDropped: c.detectDropped.Load(), Alerts: c.alerts.Load(),
		CaptureQueue: c.captureQ.Load(), DetectQueue: c.detectQ.Load(), Recording: l.opts.Recorder != nil, Shed: map[string]uint64{}}
	c.shedMu.Lock()
	for k, v := range c.shed {
		s.Shed[k] = v
	}
	c.shedMu.Unlock()
	return s
}

// ShedTotal sums Shed.
func (s Snapshot) ShedTotal() uint64 {
	var n uint64
	for _, v := range s.Shed {
		n += v
	}
	return n
}

// Drops sums every event dropped before detection or recording (decode
// failures, record failures, shed, detection drops).
func (s Snapshot) Drops() uint64 {
	return s.DecodeFailed + s.RecordFailed + s.ShedTotal() + s.DetectDropped
}

// Line is the one-line terminal status: rates since prev (dt earlier).
func (s Snapshot) Line(prev Snapshot, dt time.Duration) string {
	rate := func(a, b uint64) float64 {
		if dt <= 0 {
			return 0
		}
		return float64(a-b) / dt.Seconds()
	}
	return fmt.Sprintf("in %.0f/s  detected %.0f/s  queues capture %d detect %d  alerts %d  shed %d  dropped %d",
		rate(s.In, prev.In), rate(s.Detected, prev.Detected), s.CaptureQueue, s.DetectQueue, s.Alerts, s.ShedTotal(),
		s.DecodeFailed+s.RecordFailed+s.DetectDropped)
}

// Attrs is the structured status record of the operational log: events in,
// recorded, detected, alerts, and every drop by stage and cause.
func (s Snapshot) Attrs() []slog.Attr {
	drops := []any{
		slog.Group("decode", "bad_document", s.DecodeFailed),
		slog.Group("record", "write_failed", s.RecordFailed),
		slog.Group("detect", "detection_failed", s.DetectDropped),
	}
	shed := make([]any, 0, len(s.Shed))
	for _, k := range sortedKeys(s.Shed) {
		shed = append(shed, slog.Uint64(k, s.Shed[k]))
	}
	return []slog.Attr{
		slog.Uint64("in", s.In), slog.Uint64("decoded", s.In), slog.Uint64("recorded", s.Recorded),
		slog.Uint64("detected", s.Detected), slog.Uint64("alerts", s.Alerts),
		slog.Int64("capture_queue", s.CaptureQueue), slog.Int64("detect_queue", s.DetectQueue),
		slog.Group("shed", shed...), slog.Group("dropped", drops...),
	}
}

// Summary is the exit summary for humans, with the accounting identities.
func (s Snapshot) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "live: %d events in, %d alerts\n", s.In, s.Alerts)
	if s.DecodeFailed > 0 {
		fmt.Fprintf(&b, "  decode: %d documents could not be decoded (skipped, named in the log)\n", s.DecodeFailed)
	}
	if s.Recording {
		fmt.Fprintf(&b, "  record: %d recorded + %d failed = %d\n", s.Recorded, s.RecordFailed, s.Recorded+s.RecordFailed)
	} else {
		fmt.Fprintf(&b, "  record: off\n")
	}
	fmt.Fprintf(&b, "  detect: %d detected + %d shed + %d dropped = %d\n", s.Detected, s.ShedTotal(), s.DetectDropped,
		s.Detected+s.ShedTotal()+s.DetectDropped)
	for _, k := range sortedKeys(s.Shed) {
		fmt.Fprintf(&b, "    shed %s: %d\n", k, s.Shed[k])
	}
	return b.String()
}

func sortedKeys(m map[string]uint64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
