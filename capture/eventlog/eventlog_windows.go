//go:build windows

package eventlog

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/edr-lab/edr/event"
)

// golang.org/x/sys/windows does not wrap the Windows Event Log API
// (wevtapi.dll); these are its four calls edr needs.
var (
	wevtapi          = windows.NewLazySystemDLL("wevtapi.dll")
	procEvtSubscribe = wevtapi.NewProc("EvtSubscribe")
	procEvtNext      = wevtapi.NewProc("EvtNext")
	procEvtRender    = wevtapi.NewProc("EvtRender")
	procEvtClose     = wevtapi.NewProc("EvtClose")
)

const (
	evtSubscribeToFutureEvents = 1
	// evtSubscribeStrict makes EvtNext fail with ERROR_EVT_QUERY_RESULT_STALE
	// when the log overwrote records the subscription had not read yet,
	// instead of skipping them silently.
	evtSubscribeStrict = 0x10000
	evtRenderEventXML  = 1

	errEvtQueryResultStale = windows.Errno(15011)
	batch                  = 64
)

type evtHandle uintptr

func evtClose(h evtHandle) { _, _, _ = procEvtClose.Call(uintptr(h)) }

// Source is the running Event Log subscriptions.
type Source struct {
	cfg    Config
	out    chan *event.Event
	c      counters
	cancel context.CancelFunc
	stop   windows.Handle // manual-reset event set by Stop
	wg     sync.WaitGroup
}

// Start opens every subscription (to future events) and starts delivering.
// A channel that cannot be opened (the Security log needs administrator
// rights) fails Start with its name.
func Start(ctx context.Context, cfg Config) (*Source, error) {
	cfg.defaults()
	stop, err := windows.CreateEvent(nil, 1, 0, nil)
	if err != nil {
		return nil, fmt.Errorf("eventlog: %w", err)
	}
	s := &Source{cfg: cfg, out: make(chan *event.Event, cfg.Queue), stop: stop}
	ctx, s.cancel = context.WithCancel(ctx)
	subs := make([]*subscription, 0, len(cfg.Subscriptions))
	for _, sub := range cfg.Subscriptions {
		w, err := s.open(sub)
		if err != nil {
			for _, o := range subs {
				o.close()
			}
			windows.CloseHandle(stop)
			return nil, err
		}
		subs = append(subs, w)
	}
	for _, w := range subs {
		s.wg.Add(1)
		go s.run(ctx, w)
	}
	go func() {
		s.wg.Wait()
		close(s.out)
	}()
	return s, nil
}

// Events delivers the parsed events; closed after Stop.
func (s *Source) Events() <-chan *event.Event { return s.out }

// Stats returns the counters so far.
func (s *Source) Stats() Stats { return s.c.stats() }

// Stop ends the subscriptions; Events is closed once they have returned.
func (s *Source) Stop() error {
	s.cancel()
	err := windows.SetEvent(s.stop)
	s.wg.Wait()
	windows.CloseHandle(s.stop)
	return err
}

// subscription is one pull subscription: the Event Log sets signal when
// records are waiting, EvtNext takes them.
type subscription struct {
	sub    Subscription
	query  []uint16
	path   []uint16
	signal windows.Handle
	h      evtHandle
}

func (s *Source) open(sub Subscription) (*subscription, error) {
	path, err := windows.UTF16FromString(sub.Channel)
	if err != nil {
		return nil, err
	}
	query, err := windows.UTF16FromString(sub.Query())
	if err != nil {
		return nil, err
	}
	signal, err := windows.CreateEvent(nil, 1, 1, nil)
	if err != nil {
		return nil, fmt.Errorf("eventlog %s: %w", sub.Channel, err)
	}
	w := &subscription{sub: sub, query: query, path: path, signal: signal}
	if err := w.subscribe(); err != nil {
		windows.CloseHandle(signal)
		return nil, err
	}
	return w, nil
}

func (w *subscription) subscribe() error {
	r, _, err := procEvtSubscribe.Call(0, uintptr(w.signal), uintptr(unsafe.Pointer(&w.path[0])),
		uintptr(unsafe.Pointer(&w.query[0])), 0, 0, 0, evtSubscribeToFutureEvents|evtSubscribeStrict)
	if r == 0 {
		return fmt.Errorf("eventlog: subscribe to %s (%s): %w", w.sub.Channel, w.sub.Query(), err)
	}
	w.h = evtHandle(r)
	return nil
}

func (w *subscription) close() {
	if w.h != 0 {
		evtClose(w.h)
		w.h = 0
	}
	windows.CloseHandle(w.signal)
}

// run waits for records and delivers them until Stop.
func (s *Source) run(ctx context.Context, w *subscription) {
	defer s.wg.Done()
	defer w.close()
	snk := newSink(&s.cfg, w.sub.Channel, s.out, &s.c)
	var handles [batch]evtHandle
	var buf []uint16
	var utf8 []byte
	for {
		ev, err := windows.WaitForMultipleObjects([]windows.Handle{w.signal, s.stop}, false, windows.INFINITE)
		if err != nil || ev != windows.WAIT_OBJECT_0 || ctx.Err() != nil {
			return
		}
		reset := false
		for {
			var n uint32
			// INFINITE as in Microsoft's pull-subscription sample: on a
			// subscription EvtNext does not wait, it reports
			// ERROR_NO_MORE_ITEMS once drained.
			r, _, err := procEvtNext.Call(uintptr(w.h), batch, uintptr(unsafe.Pointer(&handles[0])),
				uintptr(windows.INFINITE), 0, uintptr(unsafe.Pointer(&n)))
			if r == 0 {
				if errors.Is(err, windows.ERROR_NO_MORE_ITEMS) || errors.Is(err, windows.ERROR_TIMEOUT) {
					// Drained. Reset the signal, then look once more: a
					// record that arrived between the two would otherwise
					// wait for the next one to be signalled.
					if reset {
						break
					}
					_ = windows.ResetEvent(w.signal)
					reset = true
					continue
				}
				if !s.resubscribe(w, err) {
					return
				}
				break
			}
			reset = false
			for i := uint32(0); i < n; i++ {
				var doc []byte
				doc, buf, utf8, err = render(handles[i], buf, utf8)
				evtClose(handles[i])
				if err != nil {
					s.c.renderErrors.Add(1)
					snk.fail(fmt.Errorf("eventlog %s: render: %w", w.sub.Channel, err))
					continue
				}
				if !snk.handle(ctx, doc) {
					for _, h := range handles[i+1 : n] {
						evtClose(h)
					}
					return
				}
			}
		}
	}
}

// resubscribe reopens a subscription after EvtNext failed (the log was
// cleared, or overwrote unread records): counted, reported, and resumed at
// the newest record. False when reopening failed too.
func (s *Source) resubscribe(w *subscription, cause error) bool {
	if errors.Is(cause, errEvtQueryResultStale) {
		s.c.stale.Add(1)
	} else {
		s.c.subscribeErrors.Add(1)
	}
	if s.cfg.OnError != nil {
		s.cfg.OnError(fmt.Errorf("eventlog %s: %w (resubscribing)", w.sub.Channel, cause))
	}
	evtClose(w.h)
	w.h = 0
	if err := w.subscribe(); err != nil {
		s.c.subscribeErrors.Add(1)
		if s.cfg.OnError != nil {
			s.cfg.OnError(err)
		}
		return false
	}
	return true
}

// render returns the event's XML in UTF-8, growing the buffers as needed.
func render(h evtHandle, buf []uint16, out []byte) ([]byte, []uint16, []byte, error) {
	if len(buf) == 0 {
		buf = make([]uint16, 4096)
	}
	for {
		var used, props uint32
		r, _, err := procEvtRender.Call(0, uintptr(h), evtRenderEventXML, uintptr(len(buf)*2),
			uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&used)), uintptr(unsafe.Pointer(&props)))
		if r != 0 {
			n := int(used / 2)
			for n > 0 && buf[n-1] == 0 {
				n--
			}
			out = appendUTF16(out[:0], buf[:n])
			return out, buf, out, nil
		}
		if !errors.Is(err, windows.ERROR_INSUFFICIENT_BUFFER) || int(used/2) <= len(buf) || used > 2*MaxXML {
			return nil, buf, out, err
		}
		buf = make([]uint16, used/2)
	}
}
