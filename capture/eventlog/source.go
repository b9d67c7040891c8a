package eventlog

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"unsafe"

	"github.com/edr-lab/edr/capture/raw"
	"github.com/edr-lab/edr/event"
)

// ErrUnsupported is Start's error outside Windows.
var ErrUnsupported = errors.New("eventlog: Event Log subscriptions need Windows")

// Config configures the Event Log source.
type Config struct {
	// Subscriptions to open (default: Subscriptions).
	Subscriptions []Subscription
	// Host is the partition host of the events (edr live gives the name its
	// ETW events carry); empty keeps each event's Computer.
	Host string
	// Queue is how many parsed events may wait for the reader (default
	// 1024). A full queue makes the subscription wait, not drop: the Event
	// Log itself holds the records until they are read.
	Queue int
	// OnError, when set, is called with every record that failed to render
	// or parse and every subscription error, as they happen (the counts
	// are in Stats either way).
	OnError func(error)
}

// Stats counts what the Event Log source did, per the recording's loss
// counters.
type Stats struct {
	Events       uint64 // events delivered
	RenderErrors uint64 // records EvtRender failed on (lost)
	ParseErrors  uint64 // rendered records the parser refused (lost)
	// Stale counts the times the Event Log overwrote records before they
	// were read (ERROR_EVT_QUERY_RESULT_STALE): how many were lost is not
	// known; the subscription is reopened at the newest record.
	Stale uint64
	// SubscribeErrors counts failed EvtSubscribe/EvtNext calls.
	SubscribeErrors uint64
}

type counters struct {
	events, renderErrors, parseErrors, stale, subscribeErrors atomic.Uint64
}

func (c *counters) stats() Stats {
	return Stats{Events: c.events.Load(), RenderErrors: c.renderErrors.Load(), ParseErrors: c.parseErrors.Load(),
		Stale: c.stale.Load(), SubscribeErrors: c.subscribeErrors.Load()}
}

// sink parses rendered records of one subscription and delivers them; the
// platform part only renders.
type sink struct {
	channel string
	p       Parser
	ev      event.Event
	out     chan<- *event.Event
	c       *counters
	onError func(error)
}

func newSink(cfg *Config, channel string, out chan<- *event.Event, c *counters) *sink {
	s := &sink{channel: channel, out: out, c: c, onError: cfg.OnError}
	s.p.Host = cfg.Host
	return s
}

// handle parses one rendered record and delivers it; false when ctx ended
// first.
func (s *sink) handle(ctx context.Context, doc []byte) bool {
	if err := s.p.Parse(doc, &s.ev); err != nil {
		s.c.parseErrors.Add(1)
		s.fail(fmt.Errorf("eventlog %s: %w", s.channel, err))
		return true
	}
	select {
	case s.out <- s.ev.Clone():
		s.c.events.Add(1)
		return true
	case <-ctx.Done():
		return false
	}
}

func (s *sink) fail(err error) {
	if s.onError != nil {
		s.onError(err)
	}
}

func (cfg *Config) defaults() {
	if cfg.Subscriptions == nil {
		cfg.Subscriptions = Subscriptions
	}
	if cfg.Queue <= 0 {
		cfg.Queue = 1024
	}
}

// appendUTF16 appends the UTF-8 form of UTF-16 text (EvtRender's output);
// an unpaired surrogate becomes U+FFFD, as Windows' own conversions do.
// The units are read in place as UTF-16LE bytes by the raw decoder's
// converter: Windows is little-endian on every architecture Go supports.
func appendUTF16(dst []byte, u []uint16) []byte {
	if len(u) == 0 {
		return dst
	}
	return raw.AppendUTF16LE(dst, unsafe.Slice((*byte)(unsafe.Pointer(&u[0])), 2*len(u)))
}
