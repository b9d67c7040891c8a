package detect

import (
	"strings"

	"github.com/edr-lab/edr/detect/state"
	"github.com/edr-lab/edr/event"
)

// MatchDebug selects how much match detail alerts carry (alerts.match_debug).
type MatchDebug uint8

const (
	MatchDebugOff     MatchDebug = iota // no match details
	MatchDebugSummary                   // condition, matched fields and patterns
	MatchDebugFull                      // plus matched values and YARA string snippets
)

// ParseMatchDebug parses off/summary/full.
func ParseMatchDebug(s string) (MatchDebug, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "off":
		return MatchDebugOff, true
	case "summary":
		return MatchDebugSummary, true
	case "full":
		return MatchDebugFull, true
	}
	return MatchDebugOff, false
}

// Alert is one hit on one event with the context the engine attached.
type Alert struct {
	Event    *event.Event
	Hit      *Hit
	Severity Severity

	Proc      *state.Process   // the acting process (from the table), may be nil
	Parent    *state.Process   // its parent, may be nil
	Ancestors []*state.Process // grandparent first, then further up
	Target    *state.Process   // target process of EIDs 8/10, may be nil
	TargetPar *state.Process   // its parent
	DestName  string           // destination.domain from the DNS cache

	Replayed   bool
	MatchDebug MatchDebug
}

// Encoder renders alerts for a sink, one alert per call: ECS NDJSON
// (ecs.NDJSON), a console line (ecs.Text), and whatever format comes next.
// Append appends a's encoding, with its line end, to dst. An encoder may
// reuse storage from one call to the next, so one value serves one
// goroutine.
type Encoder interface {
	Append(dst []byte, a *Alert) []byte
}

// HeaderEncoder is an Encoder whose files start with a header (the CSV
// timeline's column names): the alert writer writes Header once at the
// start of each file (and of a stream), and does not count it as an alert.
type HeaderEncoder interface {
	Encoder
	Header() []byte
}
