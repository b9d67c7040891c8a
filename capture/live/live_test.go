package live

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/edr-lab/edr/capture"
	"github.com/edr-lab/edr/corpus/synth"
	"github.com/edr-lab/edr/detect"
	"github.com/edr-lab/edr/event"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeEngine processes events at most rate events/s (0: unthrottled) and
// counts them by channel:id.
type fakeEngine struct {
	rate    float64
	start   time.Time
	n       atomic.Uint64
	mu      sync.Mutex
	byKey   map[string]uint64
	seqs    []uint64
	failAt  uint64 // fail the batch that reaches this many events (0: never)
	flushed bool
}

func (f *fakeEngine) ProcessBatch(evs []event.Event) error {
	if f.start.IsZero() {
		f.start = time.Now()
	}
	f.mu.Lock()
	for i := range evs {
		f.byKey[evs[i].Channel+":"+strconv.Itoa(int(evs[i].EventID))]++
		f.seqs = append(f.seqs, evs[i].Seq)
	}
	f.mu.Unlock()
	n := f.n.Add(uint64(len(evs)))
	if f.failAt > 0 && n >= f.failAt {
		return errors.New("sink failed")
	}
	if f.rate > 0 {
		if d := time.Until(f.start.Add(time.Duration(float64(n) / f.rate * float64(time.Second)))); d > 0 {
			time.Sleep(d)
		}
	}
	return nil
}
func (f *fakeEngine) CanPrematch() bool                                          { return false }
func (f *fakeEngine) NewPrematcher() *detect.Prematcher                          { return nil }
func (f *fakeEngine) ProcessPrematched([]event.Event, []detect.Prematched) error { return nil }
func (f *fakeEngine) Flush() error                                               { f.flushed = true; return nil }

// fakeRecorder sets Seq like the recording writer and keeps loss notes.
type fakeRecorder struct {
	next  uint64
	byKey map[string]uint64
	loss  map[string]uint64
	fail  func(e *event.Event) bool
}

func (r *fakeRecorder) Write(e *event.Event) error {
	if r.fail != nil && r.fail(e) {
		return errors.New("disk full")
	}
	r.next++
	e.Seq = r.next
	r.byKey[e.Channel+":"+strconv.Itoa(int(e.EventID))]++
	return nil
}
func (r *fakeRecorder) AddLoss(name string, n uint64) { r.loss[name] += n }

func newFakes(rate float64) (*fakeEngine, *fakeRecorder) {
	return &fakeEngine{rate: rate, byKey: map[string]uint64{}}, &fakeRecorder{byKey: map[string]uint64{}, loss: map[string]uint64{}}
}

func TestBlockDetectsEverythingInRecordOrder(t *testing.T) {
	eng, rec := newFakes(0)
	src := capture.NewSynthetic(synth.Options{Seed: 3, Events: 20000}, 0)
	l := New(Options{Source: src, Recorder: rec, Queue: 512})
	require.NoError(t, l.Run(context.Background(), eng))
	s := l.Snapshot()
	assert.Equal(t, uint64(20000), s.In)
	assert.Equal(t, s.In, s.Recorded)
	assert.Equal(t, s.In, s.Detected)
	assert.Zero(t, s.ShedTotal()+s.DetectDropped+s.RecordFailed)
	assert.Equal(t, rec.byKey, eng.byKey, "detection saw what was recorded")
	assert.True(t, eng.flushed)
	// Detection sees the events in the order the recorder numbered them.
	for i, q := range eng.seqs {
		require.Equal(t, uint64(i+1), q)
	}
	assert.Zero(t, s.CaptureQueue+s.DetectQueue)
}

// TestShedUnderOverload: a source 5× faster than detection with the shed
// policy: everything is recorded, every event is detected or shed (exactly),
// process creations are never shed, and the recording notes each shed.
func TestShedUnderOverload(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for seconds")
	}
	const detectRate = 20000
	eng, rec := newFakes(detectRate)
	src := capture.NewSynthetic(synth.Options{Seed: 4}, 5*detectRate)
	rules, err := ParseShedRules([]string{"Microsoft-Windows-Sysmon/Operational:3", ":7", "Microsoft-Windows-Sysmon/Operational"})
	require.NoError(t, err)
	l := New(Options{Source: src, Recorder: rec, Queue: 1024, Overload: Shed, Shed: rules})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var peakHeap, peakRSS uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { // sample memory while it runs
		defer close(done)
		for {
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			peakHeap = max(peakHeap, ms.HeapInuse)
			peakRSS = max(peakRSS, rss())
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	require.NoError(t, l.Run(ctx, eng))
	close(stop)
	<-done
	s := l.Snapshot()
	t.Logf("in %d, detected %d, shed %v, peak heap %.1f MiB, peak RSS %.1f MiB", s.In, s.Detected, s.Shed, float64(peakHeap)/(1<<20), float64(peakRSS)/(1<<20))
	assert.Equal(t, s.In, s.Recorded, "the recorder keeps recording")
	assert.Equal(t, s.In, s.Detected+s.ShedTotal()+s.DetectDropped, "every event accounted for")
	assert.Zero(t, s.DetectDropped)
	require.NotZero(t, s.ShedTotal(), "detection at a fifth of the source's rate sheds")
	assert.NotZero(t, eng.byKey["Microsoft-Windows-Sysmon/Operational:1"])
	assert.Equal(t, rec.byKey["Microsoft-Windows-Sysmon/Operational:1"], eng.byKey["Microsoft-Windows-Sysmon/Operational:1"], "process creation is never shed")
	for k, n := range s.Shed {
		assert.Equal(t, n, rec.loss[ShedLossPrefix+k], "loss note of %s", k)
	}
	// Per channel:id: detected + shed = recorded (Sysmon 3 is shed only
	// by its own entry, the first).
	k3 := "Microsoft-Windows-Sysmon/Operational:3"
	assert.Equal(t, rec.byKey[k3], eng.byKey[k3]+s.Shed[k3])
	// Bounded: two queues of 1024 events and the pipeline's slots, not the
	// 5× backlog (the source would be ~300k events ahead by now).
	assert.Less(t, peakHeap, uint64(256<<20))
}

func rss() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// TestBlockUnderOverloadSlowsTheSource: with the block policy nothing is
// shed; the source is held back to detection's pace.
func TestBlockUnderOverloadSlowsTheSource(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for seconds")
	}
	eng, rec := newFakes(20000)
	src := capture.NewSynthetic(synth.Options{Seed: 4}, 100000)
	rules, err := ParseShedRules([]string{":3"})
	require.NoError(t, err)
	l := New(Options{Source: src, Recorder: rec, Queue: 1024, Overload: Block, Shed: rules})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	require.NoError(t, l.Run(ctx, eng))
	s := l.Snapshot()
	assert.Zero(t, s.ShedTotal())
	assert.Equal(t, s.In, s.Detected)
	assert.Equal(t, s.In, s.Recorded)
	assert.Less(t, s.In, uint64(100000), "the source waited for detection")
	assert.Empty(t, rec.loss)
}

// TestDetectionFailureCountsDropsAndRecordingGoesOn: an engine error ends
// the run with the error; what detection did not process is counted as
// dropped, and every event the source delivered is recorded.
func TestDetectionFailureCountsDropsAndRecordingGoesOn(t *testing.T) {
	eng, rec := newFakes(0)
	eng.failAt = 3000
	src := capture.NewSynthetic(synth.Options{Seed: 3, Events: 20000}, 0)
	l := New(Options{Source: src, Recorder: rec, Queue: 512})
	err := l.Run(context.Background(), eng)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "sink failed")
	s := l.Snapshot()
	assert.Equal(t, uint64(20000), s.In)
	assert.Equal(t, s.In, s.Recorded)
	assert.NotZero(t, s.DetectDropped)
	assert.Equal(t, s.In, s.Detected+s.DetectDropped)
}

// TestRecordFailureStillDetects: an event the recorder refuses is counted
// and still detected.
func TestRecordFailureStillDetects(t *testing.T) {
	eng, rec := newFakes(0)
	rec.fail = func(e *event.Event) bool { return e.EventID == 11 }
	src := capture.NewSynthetic(synth.Options{Seed: 3, Events: 5000}, 0)
	l := New(Options{Source: src, Recorder: rec, Queue: 512})
	require.NoError(t, l.Run(context.Background(), eng))
	s := l.Snapshot()
	assert.NotZero(t, s.RecordFailed)
	assert.Equal(t, s.In, s.Recorded+s.RecordFailed)
	assert.Equal(t, s.In, s.Detected)
	assert.Contains(t, s.Summary(), "record: "+strconv.FormatUint(s.Recorded, 10)+" recorded + "+strconv.FormatUint(s.RecordFailed, 10)+" failed")
}

func TestParseShedRules(t *testing.T) {
	rs, err := ParseShedRules([]string{"microsoft-windows-sysmon/operational:3", ":7", "Security", " System : 7036 "})
	require.NoError(t, err)
	require.Len(t, rs, 4)
	assert.Equal(t, ShedRule{Channel: event.ChannelSysmon, EventID: 3, Key: "Microsoft-Windows-Sysmon/Operational:3"}, rs[0])
	assert.Equal(t, ShedRule{EventID: 7, Key: ":7"}, rs[1])
	assert.Equal(t, ShedRule{Channel: "Security", AnyID: true, Key: "Security"}, rs[2])
	assert.Equal(t, ShedRule{Channel: "System", EventID: 7036, Key: "System:7036"}, rs[3])
	for _, bad := range []struct{ in, msg string }{
		{"Microsoft-Windows-Sysmon/Operational:1", "process creation is never shed"},
		{"Security:4688", "process creation is never shed"},
		{":1", "process creation is never shed"},
		{"", "empty entry"},
		{"Sysmon:x", "must be an event ID"},
		{"Sysmon:70000", "must be an event ID"},
	} {
		_, err := ParseShedRules([]string{"Security:4624", bad.in})
		require.Error(t, err, bad.in)
		assert.Contains(t, err.Error(), bad.msg, bad.in)
		assert.Contains(t, err.Error(), "live.shed_first[1]", bad.in)
	}
	// Channel-wide and ID-wide rules never shed a process creation.
	sec := ShedRule{Channel: "Security", AnyID: true}
	assert.False(t, sec.Match(&event.Event{Channel: "Security", EventID: 4688}))
	assert.True(t, sec.Match(&event.Event{Channel: "Security", EventID: 4624}))
	sys := ShedRule{Channel: event.ChannelSysmon, AnyID: true}
	assert.False(t, sys.Match(&event.Event{Channel: event.ChannelSysmon, EventID: 1}))
	assert.True(t, sys.Match(&event.Event{Channel: event.ChannelSysmon, EventID: 3}))
	assert.False(t, rs[1].Match(&event.Event{Channel: event.ChannelSysmon, EventID: 3}))
	assert.True(t, rs[1].Match(&event.Event{Channel: event.ChannelSysmon, EventID: 7}))
}

func FuzzParseShedRules(f *testing.F) {
	for _, s := range []string{"Microsoft-Windows-Sysmon/Operational:3", ":7", "Security", "a:b:3", ":", "x:1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rs, err := ParseShedRules([]string{s})
		if err != nil {
			return
		}
		// The key parses back to the same rule.
		back, err := ParseShedRules([]string{rs[0].Key})
		require.NoError(t, err)
		require.Equal(t, rs, back)
	})
}

func TestParsePolicy(t *testing.T) {
	for in, want := range map[string]Policy{"": Block, "block": Block, "shed": Shed} {
		p, err := ParsePolicy(in)
		require.NoError(t, err)
		assert.Equal(t, want, p)
	}
	_, err := ParsePolicy("drop")
	assert.ErrorContains(t, err, "want block or shed")
}

func TestSnapshotLineAndAttrs(t *testing.T) {
	prev := Snapshot{In: 1000, Detected: 900}
	cur := Snapshot{In: 3000, Detected: 2400, CaptureQueue: 12, DetectQueue: 256, Alerts: 7, DecodeFailed: 1, RecordFailed: 2, DetectDropped: 3,
		Shed: map[string]uint64{":7": 5, "Microsoft-Windows-Sysmon/Operational:3": 10}, Recording: true}
	assert.Equal(t, "in 1000/s  detected 750/s  queues capture 12 detect 256  alerts 7  shed 15  dropped 6", cur.Line(prev, 2*time.Second))
	assert.Equal(t, uint64(21), cur.Drops())
	var b strings.Builder
	h := slog.New(slog.NewJSONHandler(&b, nil))
	h.LogAttrs(context.Background(), slog.LevelInfo, "live status", cur.Attrs()...)
	assert.Contains(t, b.String(), `"in":3000,"decoded":3000,"recorded":0,"detected":2400,"alerts":7,"capture_queue":12,"detect_queue":256,`+
		`"shed":{":7":5,"Microsoft-Windows-Sysmon/Operational:3":10},"dropped":{"decode":{"bad_document":1},"record":{"write_failed":2},"detect":{"detection_failed":3}}`)
}

// bigBatches delivers n batches of size events each.
type bigBatches struct{ n, size int }

func (b bigBatches) Run(ctx context.Context, fn func([]event.Event) error) error {
	batch := make([]event.Event, b.size)
	for i := 0; i < b.n; i++ {
		for j := range batch {
			batch[j] = event.Event{Channel: "c", EventID: 1}
		}
		if err := fn(batch); err != nil {
			return err
		}
	}
	return nil
}

// gatedEngine waits for gate before its first batch.
type gatedEngine struct {
	*fakeEngine
	gate chan struct{}
}

func (g *gatedEngine) ProcessBatch(evs []event.Event) error {
	<-g.gate
	return g.fakeEngine.ProcessBatch(evs)
}

// TestQueuesBoundEventsInFlight: a source's large batches go on in the
// queues' small slots, so that what waits for a stalled detection is
// bounded by the queues' capacity in events (and the pipeline's chunks),
// not by the source's batch size times the number of slots.
func TestQueuesBoundEventsInFlight(t *testing.T) {
	eng, rec := newFakes(0)
	g := &gatedEngine{fakeEngine: eng, gate: make(chan struct{})}
	const queue, batches, size = 256, 8, 4096
	l := New(Options{Source: bigBatches{n: batches, size: size}, Recorder: rec, Queue: queue, Workers: 1})
	done := make(chan error, 1)
	go func() { done <- l.Run(context.Background(), g) }()
	// Wait until the source is stopped by backpressure: In stays put.
	last, still := uint64(0), 0
	for deadline := time.Now().Add(10 * time.Second); still < 10 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		if n := l.Snapshot().In; n == last && n > 0 {
			still++
		} else {
			last, still = n, 0
		}
	}
	inFlight := l.Snapshot().In
	close(g.gate)
	require.NoError(t, <-done)
	assert.LessOrEqual(t, inFlight, uint64(2*queue+pipelineDepth(1)*256), "events between the source and the stalled engine")
	assert.Equal(t, uint64(batches*size), l.Snapshot().Detected)
}
