package detect

import (
	"fmt"
	"strings"
)

// Severity is an alert's severity on Elastic's risk-score scale, so edr's
// alerts sort alongside Kibana's: informational 1, low 21, medium 47,
// high 73, critical 99.
type Severity uint8

const (
	SeverityNone          Severity = 0
	SeverityInformational Severity = 1
	SeverityLow           Severity = 21
	SeverityMedium        Severity = 47
	SeverityHigh          Severity = 73
	SeverityCritical      Severity = 99
)

var severityNames = []struct {
	s    Severity
	name string
}{
	{SeverityInformational, "informational"},
	{SeverityLow, "low"},
	{SeverityMedium, "medium"},
	{SeverityHigh, "high"},
	{SeverityCritical, "critical"},
}

func (s Severity) String() string {
	for _, n := range severityNames {
		if n.s == s {
			return n.name
		}
	}
	return fmt.Sprintf("severity(%d)", uint8(s))
}

// ParseSeverity parses a Sigma level / config severity name (case-insensitive;
// "info" is accepted for informational).
func ParseSeverity(name string) (Severity, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if n == "info" {
		n = "informational"
	}
	for _, s := range severityNames {
		if s.name == n {
			return s.s, nil
		}
	}
	return SeverityNone, fmt.Errorf("unknown severity %q (want informational, low, medium, high or critical)", name)
}

// Engine names as they appear in alerts (edr.engine) and counters.
const (
	EngineSigma = "sigma"
	EngineIOC   = "ioc"
	EngineYARA  = "yara"
)

// Rule is the metadata of one detection rule of any engine, as alerts carry
// it. Adapters build a Rule once per loaded rule; hits point at it.
type Rule struct {
	Engine      string // EngineSigma, EngineIOC, EngineYARA
	ID          string // Sigma id (UUID); YARA namespace:name; IOC edr-ioc-<kind>
	Name        string // Sigma title, YARA rule name, IOC rule name
	Description string
	Authors     []string
	References  []string
	License     string
	Ruleset     string // source pack, e.g. "edr/rules" or "sigmahq/rules"
	Version     string // Sigma modified, else date
	Category    string // Sigma logsource category, else service
	Tags        []string
	Severity    Severity

	// Sigma-only metadata, kept under sigma.* in alerts.
	Level          string
	Status         string
	Product        string
	Service        string
	FalsePositives []string
	Condition      string
	Path           string
	Correlation    string // correlation type (event_count, …) of correlation rules
}

// SplitAuthors splits a Sigma author string on commas (ECS rule.author is an
// array; the DRL licence of SigmaHQ rules asks that authors are kept).
func SplitAuthors(s string) []string {
	var out []string
	for _, a := range strings.Split(s, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}
