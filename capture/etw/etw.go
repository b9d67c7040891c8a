//go:build windows

// Package etw runs edr's two real-time ETW sessions (capture.Providers):
// a low-latency one for process events and a burst-tolerant one for the
// rest, with explicit buffer sizes, counts and flush timers. The callback
// only copies the record (header + UserData) into a pooled raw.Record and
// hands it on; parsing (raw.ParseUserData), decoding, enrichment and
// detection run on the reader's goroutines.
package etw

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"github.com/0xrawsec/golang-etw/etw"

	"github.com/edr-lab/edr/capture"
	"github.com/edr-lab/edr/capture/raw"
)

// Buffers sizes one session.
type Buffers struct {
	SizeKB   uint32 // per buffer; an event must fit in one (≤ 64 KB)
	Min, Max uint32 // buffer counts
	FlushSec uint32 // flush timer: a quiet session still delivers within this
}

// Config configures the capture.
type Config struct {
	Name string // session name prefix ("edr" → "edr-process", "edr-bulk")
	// Process is the low-latency session: small buffers flushed every
	// second so a short-lived process is seen before it exits.
	Process Buffers
	// Bulk takes bursts of file/registry/network events: large buffers,
	// many of them.
	Bulk Buffers
	// Queue is how many copied records may wait for the reader; a full
	// queue drops (and counts) rather than stalling ETW's delivery thread.
	Queue int
	// PollLoss is how often the sessions' loss counters are read.
	PollLoss time.Duration
}

// DefaultConfig follows the sizing of rustinel-notes §10.4 (256 KB ×
// 64–128 for the bulk session, a separate fast-flush process session).
var DefaultConfig = Config{
	Name:     "edr",
	Process:  Buffers{SizeKB: 64, Min: 16, Max: 64, FlushSec: 1},
	Bulk:     Buffers{SizeKB: 256, Min: 64, Max: 128, FlushSec: 1},
	Queue:    1 << 16,
	PollLoss: 5 * time.Second,
}

// Loss counts what did not reach the reader.
type Loss struct {
	EventsLost          uint64 // ETW: events the sessions could not buffer
	RealTimeBuffersLost uint64 // ETW: buffers not delivered in real time
	LostEventRecords    uint64 // RT_LostEvent records seen by the consumer
	QueueFull           uint64 // records dropped because the reader lagged
}

// session is one real-time trace session (implements etw.Session).
type session struct {
	name      string
	buffers   Buffers
	handle    syscall.Handle
	props     *etw.EventTraceProperties
	providers []etw.Provider
	// capturedData[i]: providers[i] is asked for registry value data
	capturedData []bool
	// problems met while enabling that did not stop the session (the
	// value-data request refused: SetValueKey then carries no data)
	problems []error
	lost     [2]uint32 // last EventsLost, RealTimeBuffersLost
}

func (s *session) TraceName() string         { return s.name }
func (s *session) Providers() []etw.Provider { return s.providers }
func (s *session) namePtr() (*uint16, error) { return syscall.UTF16PtrFromString(s.name) }
func newProps(name string) *etw.EventTraceProperties {
	return etw.NewRealTimeEventTraceSessionProperties(name)
}

func (s *session) start() error {
	name, err := s.namePtr()
	if err != nil {
		return err
	}
	s.props = newProps(s.name)
	s.props.BufferSize = s.buffers.SizeKB
	s.props.MinimumBuffers = s.buffers.Min
	s.props.MaximumBuffers = s.buffers.Max
	s.props.FlushTimer = s.buffers.FlushSec
	err = etw.StartTrace(&s.handle, name, s.props)
	if errors.Is(err, etw.ERROR_ALREADY_EXISTS) {
		// A session of ours left over by a crash: stop it and start anew.
		_ = etw.ControlTrace(0, name, newProps(s.name), etw.EVENT_TRACE_CONTROL_STOP)
		s.props = newProps(s.name)
		s.props.BufferSize, s.props.MinimumBuffers = s.buffers.SizeKB, s.buffers.Min
		s.props.MaximumBuffers, s.props.FlushTimer = s.buffers.Max, s.buffers.FlushSec
		err = etw.StartTrace(&s.handle, name, s.props)
	}
	if err != nil {
		return fmt.Errorf("etw: start session %s: %w", s.name, err)
	}
	for i := range s.providers {
		if err := s.enable(&s.providers[i], s.capturedData[i]); err != nil {
			return err
		}
	}
	return nil
}

// enable enables one provider with its event-ID scope and, for
// Kernel-Registry, the value-data request. The request is undocumented: a
// refusal enables the provider without it (SetValueKey events then have no
// CapturedData and Details falls back as the decoder documents), recorded
// in s.problems rather than failing the capture.
func (s *session) enable(p *etw.Provider, capturedData bool) error {
	guid, err := etw.ParseGUID(p.GUID)
	if err != nil {
		return err
	}
	err = s.enableWith(guid, p, enableFilters(p.Filter, capturedData), etw.EVENT_CONTROL_CODE_ENABLE_PROVIDER)
	if err != nil && capturedData {
		s.problems = append(s.problems, fmt.Errorf("etw: %s in %s: registry value data not available (enabled without it): %w", p.Name, s.name, err))
		err = s.enableWith(guid, p, enableFilters(p.Filter, false), etw.EVENT_CONTROL_CODE_ENABLE_PROVIDER)
	}
	if err != nil {
		return fmt.Errorf("etw: enable %s in %s: %w", p.Name, s.name, err)
	}
	if p.GUID == rundownGUID {
		// Kernel-Process 15 (ProcessRundown) for every process already
		// running, so the process table starts complete.
		err = s.enableWith(guid, p, enableFilters(p.Filter, false), etw.EVENT_CONTROL_CODE_CAPTURE_STATE)
		if err != nil {
			return fmt.Errorf("etw: rundown %s: %w", p.Name, err)
		}
	}
	return nil
}

// enableWith calls EnableTraceEx2 with descriptors pointing at the
// payloads, which stay referenced until the call has returned.
func (s *session) enableWith(guid *etw.GUID, p *etw.Provider, fs []filterPayload, code uint32) error {
	params := etw.EnableTraceParameters{Version: 2}
	fds := make([]etw.EventFilterDescriptor, len(fs))
	for i, f := range fs {
		fds[i] = etw.EventFilterDescriptor{Ptr: uint64(uintptr(unsafe.Pointer(&f.data[0]))), Size: uint32(len(f.data)), Type: f.typ}
	}
	if len(fds) > 0 {
		params.EnableFilterDesc = &fds[0]
		params.FilterDescCount = uint32(len(fds))
	}
	err := etw.EnableTraceEx2(s.handle, guid, code, p.EnableLevel, p.MatchAnyKeyword, p.MatchAllKeyword, 0, &params)
	runtime.KeepAlive(fs)
	runtime.KeepAlive(fds)
	return err
}

var rundownGUID = "{" + capture.KernelProcess.String() + "}"

// query reads the session's loss counters and returns what grew since
// the last query.
func (s *session) query() (events, buffers uint64, err error) {
	name, err := s.namePtr()
	if err != nil {
		return 0, 0, err
	}
	q := newProps(s.name)
	if err := etw.ControlTrace(0, name, q, etw.EVENT_TRACE_CONTROL_QUERY); err != nil {
		return 0, 0, err
	}
	events = uint64(q.EventsLost - s.lost[0])
	buffers = uint64(q.RealTimeBuffersLost - s.lost[1])
	s.lost = [2]uint32{q.EventsLost, q.RealTimeBuffersLost}
	return events, buffers, nil
}

func (s *session) stop() error {
	if s.props == nil {
		return nil
	}
	return etw.ControlTrace(s.handle, nil, s.props, etw.EVENT_TRACE_CONTROL_STOP)
}

// Capture owns the sessions and the consumer.
type Capture struct {
	cfg      Config
	sessions []*session
	consumer *etw.Consumer
	records  chan *raw.Record
	cancel   context.CancelFunc
	done     chan struct{}

	eventsLost, buffersLost, queueFull atomic.Uint64
}

// Start starts the sessions from the provider table and the consumer.
func Start(ctx context.Context, cfg Config) (*Capture, error) {
	c := &Capture{cfg: cfg, records: make(chan *raw.Record, cfg.Queue), done: make(chan struct{})}
	proc := &session{name: cfg.Name + "-process", buffers: cfg.Process}
	bulk := &session{name: cfg.Name + "-bulk", buffers: cfg.Bulk}
	for _, p := range capture.Providers {
		ep := etw.Provider{Name: p.Name, GUID: "{" + p.GUID.String() + "}", EnableLevel: p.Level,
			MatchAnyKeyword: p.Keywords, Filter: p.EventIDs}
		s := bulk
		if p.Session == capture.SessionProcess {
			s = proc
		}
		s.providers = append(s.providers, ep)
		s.capturedData = append(s.capturedData, p.RegistryCapturedData)
	}
	c.sessions = []*session{proc, bulk}
	for _, s := range c.sessions {
		if err := s.start(); err != nil {
			c.stopSessions()
			return nil, err
		}
	}
	ctx, c.cancel = context.WithCancel(ctx)
	c.consumer = etw.NewRealTimeConsumer(ctx)
	c.consumer.FromSessions(proc, bulk)
	c.consumer.EventRecordCallback = c.copyRecord
	if err := c.consumer.Start(); err != nil {
		c.stopSessions()
		return nil, fmt.Errorf("etw: consumer: %w", err)
	}
	go c.pollLoss(ctx)
	return c, nil
}

// Problems are what went wrong while enabling without stopping the
// capture (e.g. Kernel-Registry refused the value-data request).
func (c *Capture) Problems() []error {
	var ps []error
	for _, s := range c.sessions {
		ps = append(ps, s.problems...)
	}
	return ps
}

// copyRecord runs on ETW's delivery thread: copy, hand on, return false so
// golang-etw does no TDH work.
func (c *Capture) copyRecord(er *etw.EventRecord) bool {
	h := &er.EventHeader
	r := raw.Get()
	r.Provider = guidID(&h.ProviderId)
	d := &h.EventDescriptor
	r.EventID, r.Version, r.Opcode, r.Level, r.Keywords = d.Id, d.Version, d.Opcode, d.Level, d.Keyword
	r.PID, r.TID, r.Timestamp, r.HeaderFlags = h.ProcessId, h.ThreadId, h.TimeStamp, h.Flags
	if er.UserDataLength > 0 && er.UserData != 0 {
		// UserData is a uintptr into ETW's buffer, valid during the
		// callback only: read the field as a pointer and copy.
		p := *(*unsafe.Pointer)(unsafe.Pointer(&er.UserData))
		r.SetUserData(unsafe.Slice((*byte)(p), er.UserDataLength))
	}
	select {
	case c.records <- r:
	default:
		c.queueFull.Add(1)
		raw.Put(r)
	}
	return false
}

// guidID converts golang-etw's GUID (Windows layout) to text order.
func guidID(g *etw.GUID) raw.ProviderID {
	var id raw.ProviderID
	id[0], id[1], id[2], id[3] = byte(g.Data1>>24), byte(g.Data1>>16), byte(g.Data1>>8), byte(g.Data1)
	id[4], id[5] = byte(g.Data2>>8), byte(g.Data2)
	id[6], id[7] = byte(g.Data3>>8), byte(g.Data3)
	copy(id[8:], g.Data4[:])
	return id
}

func (c *Capture) pollLoss(ctx context.Context) {
	defer close(c.done)
	t := time.NewTicker(c.cfg.PollLoss)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			c.readLoss()
			return
		case <-t.C:
			c.readLoss()
		}
	}
}

func (c *Capture) readLoss() {
	for _, s := range c.sessions {
		if ev, buf, err := s.query(); err == nil {
			c.eventsLost.Add(ev)
			c.buffersLost.Add(buf)
		}
	}
}

// Records delivers copied records; the reader parses them with
// raw.ParseUserData and the decoder's template, then returns them with
// raw.Put. The channel is closed by Stop.
func (c *Capture) Records() <-chan *raw.Record { return c.records }

// Loss returns the loss counters so far (for the recording's manifest).
func (c *Capture) Loss() Loss {
	return Loss{EventsLost: c.eventsLost.Load(), RealTimeBuffersLost: c.buffersLost.Load(),
		LostEventRecords: atomic.LoadUint64(&c.consumer.LostEvents), QueueFull: c.queueFull.Load()}
}

// Stop stops the consumer first, then the sessions (the reverse order
// crashes, etw-notes B1), and closes Records.
func (c *Capture) Stop() error {
	c.cancel()
	err := c.consumer.Stop()
	<-c.done
	c.stopSessions()
	close(c.records)
	return err
}

func (c *Capture) stopSessions() {
	for _, s := range c.sessions {
		_ = s.stop()
	}
}
