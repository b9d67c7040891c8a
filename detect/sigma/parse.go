package sigma

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"

	sigmago "github.com/bradleyjkemp/sigma-go"
	"gopkg.in/yaml.v3"
)

// Parsing. sigma-go v0.6.6 decodes the search identifiers of a detection
// (sigmago.Search: keyword lists, maps and lists of maps, field|modifier
// splitting, source positions). Everything around it is edr's own, because
// sigma-go reads only the first YAML document, turns correlation and filter
// documents into empty rules that never match, fails on `timeframe`, and its
// condition grammar has no `N of`, `any of`, patterns with digits before
// '*', identifiers with '-' or '.', nor the rule that `them` skips
// identifiers starting with '_'. Conditions therefore go through edr's own
// parser (condition.go); sigma-go's participle grammar is never invoked.

// docKind says which of the three Sigma document types a YAML document is.
type docKind uint8

const (
	kindRule docKind = iota
	kindCorrelation
	kindFilter
)

// strList accepts a YAML scalar or a sequence of scalars.
type strList []string

func (l *strList) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag == "!!null" {
			*l = nil
			return nil
		}
		*l = strList{n.Value}
		return nil
	case yaml.SequenceNode:
		out := make(strList, 0, len(n.Content))
		for _, c := range n.Content {
			if c.Kind != yaml.ScalarNode {
				return fmt.Errorf("line %d: expected a string in the list", c.Line)
			}
			out = append(out, c.Value)
		}
		*l = out
		return nil
	}
	return fmt.Errorf("line %d: expected a string or a list of strings", n.Line)
}

// docMeta is the metadata shared by rules, correlations and filters.
type docMeta struct {
	Title               string                `yaml:"title"`
	ID                  string                `yaml:"id"`
	Name                string                `yaml:"name"`
	Status              string                `yaml:"status"`
	Description         string                `yaml:"description"`
	License             string                `yaml:"license"`
	Author              string                `yaml:"author"`
	Date                string                `yaml:"date"`
	Modified            string                `yaml:"modified"`
	Level               string                `yaml:"level"`
	References          strList               `yaml:"references"`
	Tags                strList               `yaml:"tags"`
	FalsePositives      strList               `yaml:"falsepositives"`
	Fields              strList               `yaml:"fields"`
	Related             []sigmago.RelatedRule `yaml:"related"`
	Logsource           sigmago.Logsource     `yaml:"logsource"`
	RegressionTestsPath string                `yaml:"regression_tests_path"`
	Taxonomy            string                `yaml:"taxonomy"`
}

// rawDoc is one parsed YAML document before compilation.
type rawDoc struct {
	path    string
	index   int // 1-based document number within the file
	ruleset string
	line    int
	kind    docKind
	meta    docMeta

	// rule
	searches   []namedSearch
	conditions []string
	condLine   int

	// correlation
	corr *corrSpec

	// filter
	filterRules []string
}

type namedSearch struct {
	name   string
	line   int
	search sigmago.Search
}

type corrSpec struct {
	Type      string                       `yaml:"type"`
	Rules     strList                      `yaml:"rules"`
	GroupBy   strList                      `yaml:"group-by"`
	Timespan  string                       `yaml:"timespan"`
	Condition map[string]yaml.Node         `yaml:"condition"`
	Aliases   map[string]map[string]string `yaml:"aliases"`
	Generate  bool                         `yaml:"generate"`
}

// parseFile splits a file into YAML documents and parses each. Errors carry
// the file, document number and line.
func parseFile(path string, data []byte) ([]*rawDoc, []*LoadError) {
	var docs []*rawDoc
	var errs []*LoadError
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for i := 1; ; i++ {
		var n yaml.Node
		err := dec.Decode(&n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			errs = append(errs, &LoadError{Path: path, Doc: i, Construct: "yaml", Err: err})
			break // the decoder cannot resynchronise after a syntax error
		}
		if len(n.Content) == 0 {
			continue // empty document ("---" at the end of a file)
		}
		d, err := parseDoc(path, i, n.Content[0])
		if err != nil {
			le := asLoadError(err)
			le.Path, le.Doc = path, i
			if d != nil {
				le.RuleID, le.Title = d.meta.ID, d.meta.Title
			}
			errs = append(errs, le)
			continue
		}
		docs = append(docs, d)
	}
	return docs, errs
}

func asLoadError(err error) *LoadError {
	var le *LoadError
	if errors.As(err, &le) {
		return le
	}
	return &LoadError{Construct: "document", Err: err}
}

func mapGet(n *yaml.Node, key string) *yaml.Node {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

func parseDoc(path string, index int, n *yaml.Node) (*rawDoc, error) {
	d := &rawDoc{path: path, index: index, line: n.Line}
	if n.Kind != yaml.MappingNode {
		return nil, &LoadError{Line: n.Line, Construct: "document", Err: errors.New("not a YAML mapping")}
	}
	if err := n.Decode(&d.meta); err != nil {
		return nil, &LoadError{Line: n.Line, Construct: "metadata", Err: err}
	}
	det, corr, filt := mapGet(n, "detection"), mapGet(n, "correlation"), mapGet(n, "filter")
	switch {
	case det != nil && corr == nil && filt == nil:
		d.kind = kindRule
		return d, parseDetection(d, det)
	case corr != nil && det == nil && filt == nil:
		d.kind = kindCorrelation
		d.corr = &corrSpec{}
		if err := knownKeys(corr, "correlation", "type", "rules", "aliases", "group-by", "timespan", "condition", "generate"); err != nil {
			return d, err
		}
		if err := corr.Decode(d.corr); err != nil {
			return d, &LoadError{Line: corr.Line, Construct: "correlation", Err: err}
		}
		// generate is a top-level attribute in the v2.1 schema; pySigma also
		// reads it inside correlation
		if g := mapGet(n, "generate"); g != nil {
			if err := g.Decode(&d.corr.Generate); err != nil {
				return d, &LoadError{Line: g.Line, Construct: "generate", Err: err}
			}
		}
		return d, nil
	case filt != nil && det == nil && corr == nil:
		d.kind = kindFilter
		return d, parseFilter(d, filt)
	case det == nil && corr == nil && filt == nil:
		return d, &LoadError{Line: n.Line, Construct: "document", Err: errors.New("no detection, correlation or filter section")}
	default:
		return d, &LoadError{Line: n.Line, Construct: "document", Err: errors.New("more than one of detection, correlation and filter")}
	}
}

// knownKeys rejects keys a section does not define (a misspelt group-by
// must not be ignored silently).
func knownKeys(n *yaml.Node, section string, keys ...string) error {
	if n.Kind != yaml.MappingNode {
		return &LoadError{Line: n.Line, Construct: section, Err: errors.New("not a mapping")}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; indexOf(keys, k.Value) < 0 {
			return &LoadError{Line: k.Line, Construct: section, Err: fmt.Errorf("unknown key %q (want one of %s)", k.Value, strings.Join(keys, ", "))}
		}
	}
	return nil
}

func parseDetection(d *rawDoc, det *yaml.Node) error {
	return parseSearchMap(d, det, "detection", func(k, v *yaml.Node) error {
		if k.Value == "timeframe" {
			return &LoadError{Line: k.Line, Construct: "timeframe", Err: errors.New("Sigma v1 aggregation window is unsupported; write a v2 correlation rule")}
		}
		return errNotSpecial
	})
}

var errNotSpecial = errors.New("not a special key")

// parseSearchMap reads a detection-like mapping: `condition`, the keys
// special handles (it returns errNotSpecial for the others), and search
// identifiers.
func parseSearchMap(d *rawDoc, n *yaml.Node, construct string, special func(k, v *yaml.Node) error) error {
	if n.Kind != yaml.MappingNode {
		return &LoadError{Line: n.Line, Construct: construct, Err: errors.New("not a mapping")}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Value == "condition" {
			conds, err := conditionStrings(v)
			if err != nil {
				return err
			}
			d.conditions, d.condLine = conds, v.Line
			continue
		}
		if err := special(k, v); err != errNotSpecial {
			if err != nil {
				return err
			}
			continue
		}
		s, err := decodeSearch(k, v)
		if err != nil {
			return err
		}
		d.searches = append(d.searches, s)
	}
	if d.conditions == nil {
		return &LoadError{Line: n.Line, Construct: construct + " condition", Err: fmt.Errorf("%s has no condition", construct)}
	}
	return nil
}

func decodeSearch(k, v *yaml.Node) (namedSearch, error) {
	var s sigmago.Search
	if err := s.UnmarshalYAML(v); err != nil {
		return namedSearch{}, &LoadError{Line: v.Line, Construct: "search " + k.Value, Err: err}
	}
	return namedSearch{name: k.Value, line: k.Line, search: s}, nil
}

func conditionStrings(v *yaml.Node) ([]string, error) {
	switch v.Kind {
	case yaml.ScalarNode:
		return []string{v.Value}, nil
	case yaml.SequenceNode:
		var out []string
		for _, c := range v.Content {
			if c.Kind != yaml.ScalarNode {
				return nil, &LoadError{Line: c.Line, Construct: "condition", Err: errors.New("condition list entries must be strings")}
			}
			out = append(out, c.Value)
		}
		if len(out) == 0 {
			return nil, &LoadError{Line: v.Line, Construct: "condition", Err: errors.New("empty condition list")}
		}
		return out, nil
	}
	return nil, &LoadError{Line: v.Line, Construct: "condition", Err: errors.New("condition must be a string or a list of strings")}
}

// parseFilter reads a Sigma filter document: `filter: {rules, condition,
// <search identifiers>}` (sigma-filters-specification.md).
func parseFilter(d *rawDoc, f *yaml.Node) error {
	err := parseSearchMap(d, f, "filter", func(k, v *yaml.Node) error {
		if k.Value != "rules" {
			return errNotSpecial
		}
		var l strList
		if err := v.Decode(&l); err != nil {
			return &LoadError{Line: v.Line, Construct: "filter rules", Err: err}
		}
		d.filterRules = l
		return nil
	})
	if err == nil && len(d.filterRules) == 0 {
		err = &LoadError{Line: f.Line, Construct: "filter rules", Err: errors.New("filter names no rules")}
	}
	return err
}

// LoadError is a rule that could not be loaded: the file, document, line,
// rule id/title when known, and the construct that failed.
type LoadError struct {
	Path      string
	Doc       int // 1-based YAML document in the file
	Line      int // 1-based, 0 when unknown
	RuleID    string
	Title     string
	Construct string // e.g. "modifier windash", "condition", "logsource"
	Err       error
}

func (e *LoadError) Error() string {
	var b strings.Builder
	b.WriteString(e.Path)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Doc > 1 {
		fmt.Fprintf(&b, " (document %d)", e.Doc)
	}
	if e.RuleID != "" {
		fmt.Fprintf(&b, ": rule %s", e.RuleID)
	}
	if e.Construct != "" {
		fmt.Fprintf(&b, ": %s", e.Construct)
	}
	fmt.Fprintf(&b, ": %v", e.Err)
	return b.String()
}

func (e *LoadError) Unwrap() error { return e.Err }

// Reason is the error without the location, for reports.
func (e *LoadError) Reason() string {
	if e.Construct != "" {
		return e.Construct + ": " + e.Err.Error()
	}
	return e.Err.Error()
}
