package detect

import (
	"github.com/edr-lab/edr/detect/sigma"
	"github.com/edr-lab/edr/event"
)

// Hit is one rule of one engine that matched an event.
type Hit struct {
	Rule        *Rule
	Severity    Severity // overrides Rule.Severity when set (YARA critical, IOC default)
	Correlation bool     // a Sigma correlation rule fired on this event
	Group       string   // correlation group-by values ("\x1f"-joined)
	Count       int      // correlation count (events, values or rules)
	Value       float64  // metric correlation aggregate (sum, average, share in %)
	Fields      []MatchedField
	Indicator   *Indicator // IOC details
	YARA        *YARAMatch // YARA details
	// Feed is set on a correlation input of a tapped Sigma matcher
	// (SigmaMatcher.TapCorrelations): the Sigma rule that matched, to be
	// correlated later; it is not an alert.
	Feed     *sigma.Rule
	FeedView bool
}

// AlertSeverity is the severity the engine gives the hit's alert.
func (h *Hit) AlertSeverity() Severity {
	if s := h.severity(); s != SeverityNone {
		return s
	}
	return SeverityMedium
}

// severity is the hit's effective severity.
func (h *Hit) severity() Severity {
	if h.Severity != SeverityNone {
		return h.Severity
	}
	return h.Rule.Severity
}

// MatchedField is one selection item that matched, for match_debug.
type MatchedField struct {
	Selection string // selection name in the condition
	Field     string // event field name
	Modifier  string // e.g. "contains|all"
	Pattern   string // the rule's value (summary and full)
	Value     string // the event's value (full only)
	Absent    bool   // matched because the field is absent (null / exists: false)
	Negative  bool   // matched because none of the values did (a negated item)
}

// Indicator describes an atomic IOC hit; alerts carry it as an ECS
// threat.enrichments entry.
type Indicator struct {
	Type    string // ECS threat.indicator.type: file, ipv4-addr, ipv6-addr, domain-name, windows-registry-key …
	Field   string // the event field that matched (DestinationIp, Hashes, …)
	Atomic  string // the event value that matched
	Value   string // the indicator as written (hash, CIDR, *.domain, regex)
	Comment string // the ";comment" of the indicator line
	Source  string // file base name:line of the indicator
}

// YARAMatch describes a YARA rule match on a file.
type YARAMatch struct {
	Namespace string
	Tags      []string
	File      string // path scanned (the process image)
	SHA256    string // of the content scanned, when known
	Strings   []YARAString
}

// YARAString is one matched string (match_debug full).
type YARAString struct {
	Identifier string
	Offset     uint64
	Data       []byte
}

// Matcher is one rule engine plugged into the Engine: it appends a Hit for
// every rule that matches ev, in a stable order, and never retains ev.
// Sigma and IOC sets are adapted to it; tests can supply their own.
type Matcher interface {
	Name() string
	Match(ev *event.Event, out []Hit) []Hit
}

// Flusher is implemented by matchers that hold windows open (Sigma
// correlations): Flush decides them at the end of a stream.
type Flusher interface {
	Flush(out []Hit) []Hit
}

// FieldUser is implemented by matchers that can tell which event fields
// their rules read; the engine fills enrichment fields (GrandParentImage …)
// only when some rule reads them.
type FieldUser interface {
	UsesField(id event.FieldID) bool
}
