// Package detecttest helps tests that produce alerts: a sink that checks
// every alert line against ECS (ecs_flat.yml from the shared material), and
// compact event builders.
package detecttest

import (
	"fmt"
	"testing"

	"github.com/edr-lab/edr/detect"
	"github.com/edr-lab/edr/detect/ecs"
	"github.com/edr-lab/edr/detect/ecs/ecstest"
	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/internal/testutil"
)

// Sink collects alert lines and fails the test on any line that is not
// valid ECS outside ecs.CustomNamespaces. When the shared ECS schema is
// absent it only collects (and says so once).
type Sink struct {
	t      testing.TB
	v      *ecs.Validator
	Lines  [][]byte
	Alerts []Summary
}

// Summary is what tests usually assert about an alert.
type Summary struct {
	Rule     string
	Engine   string
	Severity detect.Severity
	Host     string
	Seq      uint64
}

// NewSink makes a validating sink.
func NewSink(t testing.TB) *Sink {
	t.Helper()
	s := &Sink{t: t}
	if testutil.SharedDir() != "" {
		s.v = &ecs.Validator{Schema: ecstest.Schema(t), Custom: ecs.CustomNamespaces}
	} else {
		t.Log("shared ECS schema absent: alerts are collected but not validated")
	}
	return s
}

// Alert implements detect.AlertSink.
func (s *Sink) Alert(a *detect.Alert) error {
	line := ecs.AppendAlert(nil, a)
	if s.v != nil {
		if errs := s.v.ValidateLine(line); len(errs) > 0 {
			// Errorf, not Fatalf: sinks may run on other goroutines.
			s.t.Errorf("alert is not valid ECS: %v\n%s", errs, line)
			return fmt.Errorf("alert is not valid ECS: %v", errs)
		}
	}
	s.Lines = append(s.Lines, line)
	s.Alerts = append(s.Alerts, Summary{a.Hit.Rule.Name, a.Hit.Rule.Engine, a.Severity, a.Event.Host, a.Event.Seq})
	return nil
}

// Rules lists the rule names of the collected alerts in order.
func (s *Sink) Rules() []string {
	out := make([]string, len(s.Alerts))
	for i, a := range s.Alerts {
		out[i] = a.Rule
	}
	return out
}

// Event builds an event; kv are alternating field names and values (schema
// names go to fields, others to the key/value part).
func Event(channel string, id uint16, t int64, host string, kv ...string) *event.Event {
	ev := &event.Event{Time: t, Host: host, Channel: channel, EventID: id, Source: event.SourceSynthetic}
	if d := event.Lookup(channel, id); d != nil {
		ev.Provider = d.Provider
	}
	for i := 0; i+1 < len(kv); i += 2 {
		ev.SetByName(kv[i], kv[i+1])
	}
	return ev
}

// Sysmon builds a Sysmon event.
func Sysmon(id uint16, t int64, host string, kv ...string) *event.Event {
	return Event(event.ChannelSysmon, id, t, host, kv...)
}
