package sink

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edr-lab/edr/detect"
	"github.com/edr-lab/edr/detect/ecs"
)

// Policy says what the alert writer does when its queue is full.
type Policy uint8

const (
	// Block makes the engine wait for the writer (backpressure): no alert
	// is ever dropped. The default, and the only policy replay uses.
	Block Policy = iota
	// Drop discards the alert and counts it in Stats().Dropped (and logs
	// the first drop and every 1000th), for live capture where stalling
	// the event source would lose more than it saves. Never silent.
	Drop
)

// ParsePolicy parses "block" or "drop".
func ParsePolicy(s string) (Policy, error) {
	switch s {
	case "", "block":
		return Block, nil
	case "drop":
		return Drop, nil
	}
	return Block, fmt.Errorf("unknown alert queue policy %q (want block or drop)", s)
}

// dest is where encoded lines go: daily files or a stream. Each call
// reports the lines that reached the destination or were lost, so the
// writer counts lines in the file, not lines handed to a buffer.
type dest interface {
	writeLines(day string, p []byte) (lines, error)
	flushLines() (lines, error)
	closeLines() (lines, error)
	// setHeader makes every file (stream) start with h, uncounted.
	setHeader(h []byte)
}

// WriterOptions configure a Writer.
type WriterOptions struct {
	Queue  int    // queued alerts (default 1024)
	Policy Policy // Block or Drop
	Logger *slog.Logger
	// Encoder renders each alert; nil is ECS NDJSON (ecs.NDJSON), ecs.Text
	// is one human line per alert (console output). The writer's goroutine
	// is its only user.
	Encoder detect.Encoder
	// EncodeTimer, when set, times the encoding of each alert on the
	// writer's goroutine (pipeline.Observer.Timer(pipeline.StageEncode)).
	EncodeTimer StageTimer
}

// StageTimer times a stage of work; pipeline.Timer is one.
type StageTimer interface {
	Start() time.Time
	Done(n int, start time.Time)
}

// WriterStats are the writer's counters; edr reports them.
type WriterStats struct {
	Queued  uint64 // alerts accepted
	Written uint64 // alerts whose whole line reached the destination (after Close: the lines in the file)
	Dropped uint64 // alerts discarded because the queue was full (Drop policy)
	Failed  uint64 // alerts lost to a write error (the error is also returned)
	Bytes   uint64 // bytes of the alerts handed to the destination
}

// Writer is the alert sink that encodes each alert (as one ECS JSON line,
// unless WriterOptions.Encoder says otherwise) and writes it, both on a background goroutine: Alert only copies the alert
// (detect.AlertCopy) into a bounded queue, so encoding runs beside the
// engine. One goroutine encodes and writes in queue order, so the output is
// the order of the Alert calls, byte for byte. The alert's day (for daily
// files) is its event time's UTC day, so replay output is deterministic.
type Writer struct {
	dst   dest
	opts  WriterOptions
	ch    chan *detect.AlertCopy // queued alerts, in order
	free  chan *detect.AlertCopy // copies back from the encoder
	made  atomic.Int64           // copies allocated (at most Queue)
	done  chan struct{}
	stats struct {
		queued, written, dropped, failed, bytes atomic.Uint64
	}
	errMu  sync.Mutex
	err    error
	closed bool
}

// NewFileWriter writes alerts to <dir>/<name>.YYYY-MM-DD.
func NewFileWriter(dir, name string, opts WriterOptions) (*Writer, error) {
	d, err := NewDailyFile(dir, name, false)
	if err != nil {
		return nil, err
	}
	return newWriter(d, opts), nil
}

// NewStreamWriter writes alerts to w (stdout, a single file); Close does not
// close w.
func NewStreamWriter(w io.Writer, opts WriterOptions) *Writer {
	return newWriter(&stream{newLineBuffer(w)}, opts)
}

func newWriter(d dest, opts WriterOptions) *Writer {
	if opts.Queue <= 0 {
		opts.Queue = 1024
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Encoder == nil {
		opts.Encoder = &ecs.NDJSON{}
	}
	if he, ok := opts.Encoder.(detect.HeaderEncoder); ok {
		d.setHeader(he.Header())
	}
	w := &Writer{dst: d, opts: opts, ch: make(chan *detect.AlertCopy, opts.Queue),
		free: make(chan *detect.AlertCopy, opts.Queue+1), done: make(chan struct{})}
	go w.run()
	return w
}

// Alert copies a and queues it. With the Block policy it waits for room;
// with Drop it counts the alert as dropped when the queue is full. It
// returns the writer's first write error, if any.
// Alert must not be called concurrently with Close.
func (w *Writer) Alert(a *detect.Alert) error {
	w.errMu.Lock()
	closed, err := w.closed, w.err
	w.errMu.Unlock()
	if closed {
		return errors.New("alert writer closed")
	}
	if err != nil {
		return err
	}
	c := w.copySlot()
	if c == nil { // Drop policy, queue full
		n := w.stats.dropped.Add(1)
		if n == 1 || n%1000 == 0 {
			w.opts.Logger.Warn("alert queue full: alert dropped", "rule", a.Hit.Rule.Name, "dropped_total", n)
		}
		return nil
	}
	c.CopyFrom(a)
	w.ch <- c // never blocks: at most Queue copies are out, and ch holds Queue
	w.stats.queued.Add(1)
	return nil
}

// copySlot returns storage for one queued alert: a free copy, a new one
// while fewer than Queue exist, else (Block) waits for the encoder to hand
// one back, or (Drop) returns nil.
func (w *Writer) copySlot() *detect.AlertCopy {
	select {
	case c := <-w.free:
		return c
	default:
	}
	for n := w.made.Load(); n < int64(w.opts.Queue); n = w.made.Load() {
		if w.made.CompareAndSwap(n, n+1) {
			return &detect.AlertCopy{}
		}
	}
	if w.opts.Policy == Drop {
		return nil
	}
	return <-w.free // backpressure: the engine waits for the encoder
}

func (w *Writer) run() {
	defer close(w.done)
	var buf []byte
	var day string
	var dayNum int64 = -1
	for c := range w.ch {
		a := c.Alert()
		if d := floorDiv(a.Event.Time, dayNanos); d != dayNum {
			dayNum, day = d, Day(time.Unix(0, a.Event.Time))
		}
		var t0 time.Time
		if w.opts.EncodeTimer != nil {
			t0 = w.opts.EncodeTimer.Start()
		}
		buf = w.opts.Encoder.Append(buf[:0], a)
		if w.opts.EncodeTimer != nil {
			w.opts.EncodeTimer.Done(1, t0)
		}
		w.free <- c
		w.stats.bytes.Add(uint64(len(buf)))
		w.count(w.dst.writeLines(day, buf))
		if len(w.ch) == 0 { // idle: make what we have visible
			w.count(w.dst.flushLines())
		}
	}
}

// count adds what the destination reports to the counters.
func (w *Writer) count(l lines, err error) {
	w.stats.written.Add(uint64(l.written))
	w.stats.failed.Add(uint64(l.lost))
	if err != nil {
		w.fail(err)
	}
}

const dayNanos = int64(24 * time.Hour)

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b < 0 {
		q--
	}
	return q
}

func (w *Writer) fail(err error) {
	w.errMu.Lock()
	defer w.errMu.Unlock()
	if w.err == nil {
		w.err = err
		w.opts.Logger.Error("alert write failed", "err", err)
	}
}

// Err returns the first write error.
func (w *Writer) Err() error {
	w.errMu.Lock()
	defer w.errMu.Unlock()
	return w.err
}

// Close drains the queue, flushes and closes the destination. It returns
// the first error met, and an error when alerts were dropped or lost, so
// no caller can miss them.
func (w *Writer) Close() error {
	w.errMu.Lock()
	if w.closed {
		w.errMu.Unlock()
		return nil
	}
	w.closed = true
	w.errMu.Unlock()
	close(w.ch)
	<-w.done
	w.count(w.dst.closeLines())
	err := w.Err()
	s := w.Stats()
	if s.Dropped > 0 || s.Failed > 0 {
		err = errors.Join(err, fmt.Errorf("alert writer: %d alerts dropped (queue full), %d lost to write errors", s.Dropped, s.Failed))
	}
	return err
}

// Stats returns the counters.
func (w *Writer) Stats() WriterStats {
	return WriterStats{
		Queued: w.stats.queued.Load(), Written: w.stats.written.Load(), Dropped: w.stats.dropped.Load(),
		Failed: w.stats.failed.Load(), Bytes: w.stats.bytes.Load(),
	}
}

// stream is one writer for every day; closing it does not close the writer.
type stream struct{ b *lineBuffer }

func (s *stream) writeLines(_ string, p []byte) (lines, error) { return s.b.write(p) }
func (s *stream) flushLines() (lines, error)                   { return s.b.flush() }
func (s *stream) closeLines() (lines, error)                   { return s.b.flush() }

// setHeader writes h first: a stream is one file, and a header row says
// what the columns are even when no alert follows.
func (s *stream) setHeader(h []byte) { s.b.writeHeader(h) }

// Memory collects encoded alerts (tests, `edr test`).
type Memory struct {
	mu    sync.Mutex
	Lines [][]byte
}

// Alert implements detect.AlertSink.
func (m *Memory) Alert(a *detect.Alert) error {
	b := ecs.AppendAlert(nil, a)
	m.mu.Lock()
	m.Lines = append(m.Lines, b)
	m.mu.Unlock()
	return nil
}

// Multi sends every alert to each sink in order, stopping at the first
// error.
type Multi []detect.AlertSink

// Alert implements detect.AlertSink.
func (m Multi) Alert(a *detect.Alert) error {
	for _, s := range m {
		if err := s.Alert(a); err != nil {
			return err
		}
	}
	return nil
}
