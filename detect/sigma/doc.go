// Package sigma is edr's Sigma engine: it loads Sigma rules (specification
// v2.1: detection rules, correlation rules and filters, several per YAML
// file), compiles each once and matches events against them.
//
// Load and compile: sigma-go v0.6.6 decodes the search identifiers; edr
// parses conditions itself (N of, any of, patterns with digits, `them`
// without _-prefixed identifiers), resolves field names to event.FieldIDs
// (exact, spaces stripped, case-insensitive; unknown names are looked up in
// Event.Extra()), applies value modifiers in the order written, folds
// needles with Unicode simple case folding, compiles regexes and types
// numbers. Anything it does not support is a LoadError naming the file,
// rule and construct; nothing is silently ignored.
//
// Match: an event meets only the rules of its logsource (routing by
// channel and EventID from SigmaHQ's tests/thor.yml, embedded, narrowed by
// the EventIDs a rule's own detection requires). Within that set a literal
// prefilter (per field, a hashed 4- and 8-byte gram index over the literals
// each rule requires, gram.go) selects the rules that can match; only those are
// evaluated. Within a rule, a regex runs only when the value holds one of
// the literals every match contains or, for a regex without such a
// literal, a run of bytes every match contains (regate.go). Every matching
// rule is reported, in load order; correlation rules follow in the order
// they fire, in event time. The hot path allocates nothing.
//
// Concurrency: a Ruleset is the compiled program, immutable and shared by
// every goroutine; NewMatcher gives a goroutine its evaluator, with its own
// scratch and correlation state (cel-go's Program and activation). Split
// matching (split.go) spreads one ordered stream over several goroutines:
// Matcher.Pre evaluates the rules on any goroutine's Matcher, and
// Matcher.Finish reports in event order what Match would, re-evaluating the
// rules over the late fields of a LatePlan that the caller sets in between
// (the engine's enrichment). SetObserver attaches a RuleObserver to a
// Matcher's evaluation loop for per-rule cost (off, and free, by default).
package sigma
