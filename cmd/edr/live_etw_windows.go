//go:build windows

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"time"

	"github.com/edr-lab/edr/capture/enrich"
	"github.com/edr-lab/edr/capture/etw"
	"github.com/edr-lab/edr/capture/eventlog"
	"github.com/edr-lab/edr/capture/rawsource"
	"github.com/edr-lab/edr/capture/tamper"
	"github.com/edr-lab/edr/event"
)

// etwSource runs edr's ETW sessions (capture/etw) as the raw source's
// records. Every heartbeat it releases the reorder stage up to the clock
// and adds what the sessions lost since the last one to the recording's
// loss counters.
type etwSource struct {
	host    string
	loss    func(name string, n uint64)
	tamper  func(tamper.Finding)
	problem func(error)
	cap     atomic.Pointer[etw.Capture]
	el      atomic.Pointer[eventlog.Source]
	last    etw.Loss       // losses already added to the recording
	lastEL  eventlog.Stats // the Event Log's, likewise
}

// etwHeartbeat is how often a quiet session's events are released and
// its losses read.
const etwHeartbeat = 500 * time.Millisecond

// tamperPoll is how often the sessions and their providers are checked.
const tamperPoll = 10 * time.Second

func etwRecords(loss func(string, uint64), report func(tamper.Finding), problem func(error)) (rawsource.Records, func() []any, error) {
	host, err := os.Hostname()
	if err != nil {
		return nil, nil, err
	}
	s := &etwSource{host: host, loss: loss, tamper: report, problem: problem}
	return s, s.counters, nil
}

func (s *etwSource) Run(ctx context.Context, sink rawsource.Sink) error {
	c, err := etw.Start(context.Background(), etw.DefaultConfig)
	if err != nil {
		return err
	}
	s.cap.Store(c)
	for _, p := range c.Problems() {
		s.problem(p)
	}
	// Watch our own sessions until the capture stops: a session stopped or
	// a provider disabled by another process is an alert.
	watch, stopWatch := context.WithCancel(context.Background())
	defer stopWatch()
	report := func(f tamper.Finding) {
		if watch.Err() == nil { // a poll that saw our own Stop is not tampering
			s.tamper(f)
		}
	}
	go tamper.New(etw.Probe{}, c.Watched()).Run(watch, tamperPoll, report, s.problem)
	// The Event Log beside the sessions: what ETW does not deliver
	// (Security 4688/4697/4698, System 7045), normalized, into the same
	// reorder stage. Without it (the Security log needs administrator
	// rights) the ETW path still runs, and the log says why.
	var elEvents <-chan *event.Event
	el, err := eventlog.Start(context.Background(), eventlog.Config{Host: s.host, OnError: s.problem})
	if err != nil {
		s.problem(fmt.Errorf("Event Log source not started: %w", err))
		el = nil
	} else {
		s.el.Store(el)
		elEvents = el.Events()
	}
	stop := func() error {
		stopWatch()
		err := c.Stop()
		if el != nil {
			err = errors.Join(err, el.Stop())
		}
		return err
	}
	tick := time.NewTicker(etwHeartbeat)
	defer tick.Stop()
	for {
		select {
		case r := <-c.Records():
			if err := sink.Record(s.host, r); err != nil {
				_ = stop()
				return err
			}
		case e, ok := <-elEvents:
			if !ok {
				elEvents = nil
				continue
			}
			if err := sink.Event(e); err != nil {
				_ = stop()
				return err
			}
		case <-tick.C:
			s.addLoss(c.Loss())
			if err := sink.Record("", nil); err != nil {
				_ = stop()
				return err
			}
		case <-ctx.Done():
			// Stop closes Records once the consumer is done: what ETW
			// delivered until then is decoded and recorded.
			stopErr := stop()
			for r := range c.Records() {
				if err := sink.Record(s.host, r); err != nil {
					return err
				}
			}
			for e := range elEvents { // closed once its subscriptions returned
				if err := sink.Event(e); err != nil {
					return err
				}
			}
			s.addLoss(c.Loss())
			if stopErr != nil {
				return stopErr
			}
			return ctx.Err()
		}
	}
}

// addLoss adds the growth of each loss counter (the sessions' and the
// Event Log's) to the recording's.
func (s *etwSource) addLoss(l etw.Loss) {
	var els eventlog.Stats
	if el := s.el.Load(); el != nil {
		els = el.Stats()
	}
	for _, d := range []struct {
		name      string
		now, last uint64
	}{
		{"etw_events_lost", l.EventsLost, s.last.EventsLost},
		{"etw_realtime_buffers_lost", l.RealTimeBuffersLost, s.last.RealTimeBuffersLost},
		{"etw_lost_event_records", l.LostEventRecords, s.last.LostEventRecords},
		{"etw_queue_full", l.QueueFull, s.last.QueueFull},
		{"eventlog_render_errors", els.RenderErrors, s.lastEL.RenderErrors},
		{"eventlog_parse_errors", els.ParseErrors, s.lastEL.ParseErrors},
		{"eventlog_stale", els.Stale, s.lastEL.Stale},
	} {
		if d.now > d.last {
			s.loss(d.name, d.now-d.last)
		}
	}
	s.last, s.lastEL = l, els
}

// counters are the sessions' losses for the status record.
func (s *etwSource) counters() []any {
	c := s.cap.Load()
	if c == nil {
		return nil
	}
	l := c.Loss()
	out := []any{"etw_events_lost", l.EventsLost, "etw_realtime_buffers_lost", l.RealTimeBuffersLost,
		"etw_lost_event_records", l.LostEventRecords, "etw_queue_full", l.QueueFull}
	if el := s.el.Load(); el != nil {
		st := el.Stats()
		out = append(out, "eventlog_events", st.Events, "eventlog_render_errors", st.RenderErrors, "eventlog_parse_errors", st.ParseErrors,
			"eventlog_stale", st.Stale, "eventlog_subscribe_errors", st.SubscribeErrors)
	}
	return out
}

// enrichConfig is enrichment on Windows: DOS paths from the volume map,
// account names, version resources, and ProcessGuids under this machine's
// id (zero when it cannot be read: the GUIDs are then unique per boot only).
func enrichConfig() enrich.Config {
	m, _ := enrich.LocalMachineID()
	return enrich.Config{Machine: m, Volumes: enrich.DOSDevices{}, Accounts: enrich.LocalAccounts{}, PE: enrich.NewFilePEReader(4096)}
}
