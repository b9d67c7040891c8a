package main

import (
	"log/slog"
	"os"
	"time"

	"github.com/edr-lab/edr/capture/tamper"
	"github.com/edr-lab/edr/detect"
	"github.com/edr-lab/edr/event"
)

// Self-protection alerts: edr's own ETW sessions stopped or a provider
// disabled in them by another process (capture/tamper polls for it). They
// go through the normal alert path (alert files, console, counters) but
// not to response: there is no process to act on.
const (
	tamperEngine   = "edr"
	tamperChannel  = "edr"
	tamperProvider = "edr-self-protection"
)

var tamperRules = map[tamper.Kind]*detect.Rule{
	tamper.SessionStopped: {Engine: tamperEngine, ID: "edr-tamper-etw-session-stopped", Name: "edr ETW session stopped by another process",
		Description: "One of edr's real-time ETW sessions no longer exists while edr runs: something stopped it (logman stop, ControlTrace STOP), which blinds edr to what that session delivered.",
		Ruleset:     "edr/self", Category: "tamper", Tags: []string{"attack.defense-evasion", "attack.t1562.006"}, Severity: detect.SeverityHigh},
	tamper.ProviderDisabled: {Engine: tamperEngine, ID: "edr-tamper-etw-provider-disabled", Name: "edr ETW provider disabled by another process",
		Description: "A provider edr enabled in its ETW session is no longer enabled there while the session runs: something disabled it (EnableTraceEx2 DISABLE_PROVIDER), which blinds edr to that provider's events.",
		Ruleset:     "edr/self", Category: "tamper", Tags: []string{"attack.defense-evasion", "attack.t1562.006"}, Severity: detect.SeverityHigh},
}

// tamperAlert is the alert of a tampering finding (nil for a recovery,
// which is only logged). Its event is edr's own: channel "edr", event id
// 1 (session stopped) or 2 (provider disabled), the session and provider in
// its fields, at the time the poll saw it.
func tamperAlert(f tamper.Finding, host string, now time.Time) *detect.Alert {
	rule := tamperRules[f.Kind]
	if rule == nil {
		return nil
	}
	e := &event.Event{Time: now.UnixNano(), Host: host, Channel: tamperChannel, Provider: tamperProvider, EventID: uint16(f.Kind)}
	e.AddExtra("SessionName", f.Session)
	if f.Kind == tamper.ProviderDisabled {
		e.AddExtra("ProviderName", f.Provider.Name)
		e.AddExtra("ProviderGuid", "{"+f.Provider.GUID.String()+"}")
	}
	return &detect.Alert{Event: e, Hit: &detect.Hit{Rule: rule}, Severity: rule.Severity}
}

// reportTamper logs a finding (an error for tampering, info for a
// recovery) and raises the alert of tampering on to.
func reportTamper(log *slog.Logger, to detect.AlertSink, f tamper.Finding) {
	if !f.Kind.Tampered() {
		log.Info("ETW session watch: restored", "finding", f.String())
		return
	}
	log.Error("ETW session tampered with", "finding", f.String())
	host, _ := os.Hostname()
	if err := to.Alert(tamperAlert(f, host, time.Now().UTC())); err != nil {
		log.Error("tamper alert not written", "finding", f.String(), "err", err)
	}
}
