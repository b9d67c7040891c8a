// Package live runs edr's live pipeline: a capture source, the recorder,
// detection (package pipeline and one detect.Engine) and the alert sinks,
// as goroutines joined by bounded queues:
//
//	source ─▶ [capture queue] ─▶ recorder ─▶ [detection queue] ─▶ pipeline (prematch ▶ engine ▶ sinks)
//
// The recorder comes first: it is the cheaper stage, it gives each event its
// Seq (so live alerts name the recorded event), and what detection sheds
// under overload is still recorded for a later replay. A full queue stops
// the stage before it (backpressure), except that with the shed policy the
// recorder drops events matching live.shed_first from detection instead of
// waiting, counts them by rule and notes the count in the recording (a loss
// counter of the segment), never process creations.
//
// Every event is accounted for: in = recorded + record failures, and
// in = detected + shed + detection drops, exactly, once Run has returned.
package live

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/edr-lab/edr/detect"
	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/pipeline"
)

// Policy is live.overload: what happens when detection falls behind.
type Policy uint8

const (
	// Block makes the recorder wait for detection, and the source for the
	// recorder (backpressure to capture; ETW then counts its own losses).
	Block Policy = iota
	// Shed drops events matching the shed rules from detection (they are
	// still recorded) while detection's queue is full.
	Shed
)

// ParsePolicy parses "block" or "shed".
func ParsePolicy(s string) (Policy, error) {
	switch s {
	case "", "block":
		return Block, nil
	case "shed":
		return Shed, nil
	}
	return Block, fmt.Errorf("live.overload %q: want block or shed", s)
}

func (p Policy) String() string {
	if p == Shed {
		return "shed"
	}
	return "block"
}

// Recorder is where events are recorded; *recording.Writer and
// *recording.Ingest are recorders. Write sets e.Seq.
type Recorder interface {
	Write(e *event.Event) error
	AddLoss(name string, n uint64)
}

// Options configure a live run.
type Options struct {
	Source pipeline.Source
	// Recorder, when set, records every event before detection sees it.
	Recorder Recorder
	// Queue is the capacity, in events, of each of the two queues
	// (capture → recorder, recorder → detection), in slots of
	// batchSize events; default 8192.
	Queue    int
	Overload Policy
	Shed     []ShedRule // the order of live.shed_first
	// Workers is the pipeline's prematch goroutines (0: one per CPU).
	Workers int
	Logger  *slog.Logger
}

// ShedLossPrefix names the recording's loss counters of events shed from
// detection: "detection_shed:" + the shed_first entry. edr inspect shows
// them; edr replay of the recording runs those events.
const ShedLossPrefix = "detection_shed:"

// Live is one live run. Its counters may be read (Snapshot) while it runs.
type Live struct {
	opts   Options
	obs    *pipeline.Observer
	slots  int
	level  int // shed_first entries being shed (recorder goroutine only)
	counts counters
}

type counters struct {
	in, recorded, recordFailed, queuedDetect, detectDropped atomic.Uint64
	alerts                                                  atomic.Uint64
	captureQ, detectQ                                       atomic.Int64 // events waiting
	shedMu                                                  sync.Mutex
	shed                                                    map[string]uint64
	decodeFailed                                            atomic.Uint64
}

// New prepares a live run.
func New(o Options) *Live {
	if o.Queue <= 0 {
		o.Queue = 8192
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	l := &Live{opts: o, obs: pipeline.NewObserver(nil), slots: max(2, (o.Queue+batchSize-1)/batchSize)}
	l.counts.shed = map[string]uint64{}
	return l
}

// batchSize is the events of one queue slot: small, so that a queue's
// capacity (Options.Queue) is spread over enough slots for the stages on
// either side to work at once.
const batchSize = 64

// pipelineDepth is the detection pipeline's chunks in flight
// (pipeline.Config.Depth): one each for its enrichment stage, a prematch
// worker per CPU and the engine. The detection queue before it absorbs
// bursts; each chunk more would only hold 256 more events (~1.7 MB).
func pipelineDepth(workers int) int {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	return workers + 2
}

// Observer counts the pipeline's stages (the engine's processed events).
func (l *Live) Observer() *pipeline.Observer { return l.obs }

// AlertSink wraps the run's alert sink so that alerts are counted (and
// timed as the sink stage). Build the engine on it.
func (l *Live) AlertSink(s detect.AlertSink) detect.AlertSink {
	return &countingSink{s: l.obs.Sink(s), n: &l.counts.alerts}
}

type countingSink struct {
	s detect.AlertSink
	n *atomic.Uint64
}

func (c *countingSink) Alert(a *detect.Alert) error {
	c.n.Add(1)
	return c.s.Alert(a)
}

// DecodeFailed counts a document the source could not decode (the source
// reports it; it never reaches the pipeline).
func (l *Live) DecodeFailed() { l.counts.decodeFailed.Add(1) }

type slot struct{ evs []event.Event }

// Run runs the stages until the source ends or ctx is done, then drains:
// every event the source delivered is recorded and detected (or counted as
// shed or dropped), the engine is flushed, and Run returns. Cancelling ctx
// stops only the source. The first error of a stage is returned (a
// cancelled source is not an error).
func (l *Live) Run(ctx context.Context, eng pipeline.Engine) error {
	capFree, capQ := newQueue(l.slots)
	detFree, detQ := newQueue(l.slots)
	detCtx, stopDetect := context.WithCancel(context.Background())
	defer stopDetect()

	srcErr := make(chan error, 1)
	go func() {
		defer close(capQ)
		srcErr <- l.opts.Source.Run(ctx, func(batch []event.Event) error {
			// No select on ctx: a source that drains after ctx is done (the
			// raw source's reorder buffer and held writes) still hands
			// everything on; the recorder frees slots until capQ closes.
			// A batch goes on in slots of at most batchSize events: a
			// slot keeps the storage of the most events it ever held, so
			// the queue's memory is its capacity in events, whatever the
			// source's batch size.
			for len(batch) > 0 {
				n := min(len(batch), batchSize)
				s := <-capFree
				s.evs = swapInto(s.evs, batch[:n])
				batch = batch[n:]
				l.counts.in.Add(uint64(n))
				l.counts.captureQ.Add(int64(n))
				capQ <- s
			}
			return nil
		})
	}()

	recDone := make(chan struct{})
	go func() {
		defer close(recDone)
		defer close(detQ)
		for s := range capQ {
			l.counts.captureQ.Add(-int64(len(s.evs)))
			l.record(s.evs)
			l.toDetection(s, detFree, detQ, detCtx)
			capFree <- s
		}
	}()

	detErr := pipeline.Run(detCtx, pipeline.Config{Source: &queueSource{q: detQ, free: detFree, n: &l.counts.detectQ},
		Engine: eng, Workers: l.opts.Workers, Observer: l.obs, Depth: pipelineDepth(l.opts.Workers)})
	if detErr != nil {
		// Detection stopped: what is still queued for it is counted as
		// dropped, and recording goes on until the source stops.
		stopDetect()
		for s := range detQ {
			l.counts.detectQ.Add(-int64(len(s.evs)))
			detFree <- s
		}
	}
	<-recDone
	// What was queued for detection and not processed (detection failed)
	// is dropped, counted exactly.
	l.counts.detectDropped.Add(l.counts.queuedDetect.Load() - l.obs.Stats()[pipeline.StageEngine].Events)
	err := <-srcErr
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		err = nil
	}
	if detErr != nil {
		return fmt.Errorf("detection: %w", detErr)
	}
	if err != nil {
		return fmt.Errorf("source: %w", err)
	}
	return nil
}

func newQueue(n int) (free, q chan *slot) {
	free, q = make(chan *slot, n), make(chan *slot, n)
	for i := 0; i < n; i++ {
		free <- &slot{evs: make([]event.Event, 0, batchSize)}
	}
	return free, q
}

// swapInto takes batch's events into dst by exchanging them (see
// pipeline.Source: every slot of a batch is filled wholly, so the source may
// get other storage back).
func swapInto(dst, batch []event.Event) []event.Event {
	if cap(dst) < len(batch) {
		dst = make([]event.Event, len(batch))
	}
	dst = dst[:len(batch)]
	for i := range batch {
		dst[i], batch[i] = batch[i], dst[i]
	}
	return dst
}

// record writes every event (setting its Seq). A failed write is counted
// and logged; the event still goes to detection.
func (l *Live) record(evs []event.Event) {
	r := l.opts.Recorder
	if r == nil {
		return
	}
	for i := range evs {
		if err := r.Write(&evs[i]); err != nil {
			if n := l.counts.recordFailed.Add(1); n == 1 || n%10000 == 0 {
				l.opts.Logger.Error("recording failed: event not recorded", "component", "live", "err", err, "failed_total", n)
			}
			continue
		}
		l.counts.recorded.Add(1)
	}
}

// toDetection hands the events of s to detection. With the shed policy and
// detection's queue full, the events matching the first l.level shed rules
// (one more entry each time the queue is found full, one fewer each time it
// has room) are shed, counted and noted in the recording; the rest wait.
func (l *Live) toDetection(s *slot, free, q chan *slot, ctx context.Context) {
	var d *slot
	select {
	case d = <-free:
		if l.level > 0 {
			l.level--
		}
	default:
		if l.opts.Overload == Shed && len(l.opts.Shed) > 0 {
			l.level = min(l.level+1, len(l.opts.Shed))
			s.evs = l.shed(s.evs)
			if len(s.evs) == 0 {
				return
			}
		}
		select {
		case d = <-free:
		case <-ctx.Done():
			l.counts.detectDropped.Add(uint64(len(s.evs)))
			return
		}
	}
	d.evs = swapInto(d.evs, s.evs)
	l.counts.queuedDetect.Add(uint64(len(d.evs)))
	l.counts.detectQ.Add(int64(len(d.evs)))
	q <- d
}

// shed removes from evs the events matching the first l.level shed rules,
// keeping the order of the rest.
func (l *Live) shed(evs []event.Event) []event.Event {
	rules := l.opts.Shed[:l.level]
	var by map[string]uint64
	kept := 0
	for i := range evs {
		j := 0
		for j < len(rules) && !rules[j].Match(&evs[i]) {
			j++
		}
		if j == len(rules) {
			evs[kept], evs[i] = evs[i], evs[kept]
			kept++
			continue
		}
		if by == nil {
			by = map[string]uint64{}
		}
		by[rules[j].Key]++
	}
	if by == nil {
		return evs
	}
	l.counts.shedMu.Lock()
	for _, r := range rules { // rule order: deterministic loss records
		if n := by[r.Key]; n > 0 {
			l.counts.shed[r.Key] += n
			if l.opts.Recorder != nil {
				l.opts.Recorder.AddLoss(ShedLossPrefix+r.Key, n)
			}
		}
	}
	l.counts.shedMu.Unlock()
	return evs[:kept]
}

// queueSource is the detection queue as the pipeline's source.
type queueSource struct {
	q    chan *slot
	free chan *slot
	n    *atomic.Int64
}

func (s *queueSource) Run(ctx context.Context, fn func([]event.Event) error) error {
	for d := range s.q {
		s.n.Add(-int64(len(d.evs)))
		err := fn(d.evs)
		s.free <- d
		if err != nil {
			return err
		}
	}
	return nil
}
