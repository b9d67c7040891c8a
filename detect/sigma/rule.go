package sigma

import (
	"github.com/edr-lab/edr/event"
)

// Logsource is a rule's logsource section.
type Logsource struct {
	Product, Category, Service, Definition string
}

// Related is an entry of a rule's related list (derived, obsolete, merged,
// renamed, similar).
type Related struct{ ID, Type string }

// Rule is a loaded Sigma rule or correlation rule with its metadata. It is
// immutable once loaded and shared by every Matcher of its Ruleset.
type Rule struct {
	ID, Name, Title, Description, Status, Level, Author, License string
	Date, Modified                                               string
	Tags, References, FalsePositives, Fields                     []string
	Related                                                      []Related
	Logsource                                                    Logsource
	Path                                                         string // file the rule came from
	Doc                                                          int    // 1-based YAML document in the file
	Ruleset                                                      string // name of the rule set (Options.Ruleset or the top path)
	RegressionTestsPath                                          string // SigmaHQ regression_tests_path, if any
	Conditions                                                   []string

	// Correlation is the correlation type (event_count, value_count,
	// temporal, temporal_ordered) for correlation rules, "" otherwise.
	Correlation string
	// Unsupported is non-empty when the rule compiled but its logsource maps
	// to no Windows event edr reads; such a rule never matches.
	Unsupported string
	// Standalone is false for rules that are only referenced by correlation
	// rules (Sigma correlation `generate: false`, the default): their single
	// matches are not reported.
	Standalone bool

	index       int
	searchNames []string
	searches    []*search
	conds       []*condNode // OR of the condition list
	filters     []*filterProg
	corr        *correlation
	corrRefs    []*correlation // correlations this rule feeds
	eventIDs    []uint16       // EventIDs the detection requires (nil: any)
	referenced  bool           // named by a correlation
	generate    bool           // ... with generate: true
}

// search is one search identifier: an OR of AND-ed matchers.
type search struct {
	name string
	alts [][]*matcher
	// eval holds alts in evaluation order (evalOrder); alts keeps the
	// rule's order for match_debug, needles and routing
	eval [][]*matcher
}

// filterProg is a Sigma filter applied to a rule: the rule matches only if
// the filter condition does not.
type filterProg struct {
	id, title   string
	searchNames []string
	searches    []*search
	conds       []*condNode
}

// Match is one rule that matched an event.
type Match struct {
	Rule *Rule
	// Correlation is true for a correlation rule's match; the event is the
	// one that completed it.
	Correlation bool
	// Group is the correlation's group-by values (joined with "\x1f"), Count
	// the number of events or distinct values or rules that satisfied it.
	Group string
	Count int
	// Value is a metric correlation's aggregate: the sum (value_sum), the
	// average (value_avg) of the numeric values, or the value's share of
	// the window's events in percent (value_percentile, whose Group ends
	// with "\x1f" and the value). Count is then the events that went in.
	Value float64
	// Fields explains the match for match_debug; filled only when the
	// ruleset was loaded with Options.Debug (it allocates).
	Fields []MatchedField
	// Feed marks a correlation input reported by a tapped matcher
	// (Matcher.SetCorrelationTap): Rule matched and the correlations that
	// reference it were not fed. FeedView: it matched the audit view.
	Feed, FeedView bool
}

// MatchedField is one matcher that held, for match_debug.
type MatchedField struct {
	Search   string // search identifier
	Field    string // field|modifiers as written
	Pattern  string // the value (after modifiers) that matched
	Value    string // the event's value
	Absent   bool   // matched because the field is absent (null / exists: false)
	Negative bool   // neq: none of the values matched
}

// ReferencedFields lists every schema field the ruleset's rules read, in
// FieldID order, so producers can skip enrichment nobody needs.
func (rs *Ruleset) ReferencedFields() []event.FieldID { return rs.fieldsUsed }

// References reports whether any rule reads the field.
func (rs *Ruleset) References(id event.FieldID) bool {
	return int(id) < len(rs.fieldUsedSet) && rs.fieldUsedSet[id]
}

// ReferencedExtra lists field names rules read that the schema lacks (they
// are looked up in Event.Extra()).
func (rs *Ruleset) ReferencedExtra() []string { return rs.res.extraNames }

// Rules lists every compiled rule (including unsupported logsources and
// correlation rules) in load order.
func (rs *Ruleset) Rules() []*Rule { return rs.rules }
