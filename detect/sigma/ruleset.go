package sigma

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	sigmago "github.com/bradleyjkemp/sigma-go"
	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/internal/fsutil"
)

// Options configure Load.
type Options struct {
	// Ruleset names the rule set in alerts (rule.ruleset); empty: the base
	// name of the path argument a rule was found under.
	Ruleset string
	// Placeholders are the values of %name% placeholders for the expand
	// modifier (see LoadPlaceholders). A rule naming an undefined
	// placeholder fails to load, as the specification requires.
	Placeholders map[string][]string
	// SecurityAudit also runs process_creation rules on Security 4688,
	// registry_set/registry_event rules on Security 4657 and
	// network_connection rules on Security 5156, through a Sysmon-shaped
	// view of the audit event (audit.go), as Hayabusa does. Off by default.
	SecurityAudit bool
	// SecurityAuditAuto builds the same audit views but applies them only
	// to the hosts and categories a cover allows (Ruleset.WithAuditCover:
	// hosts without Sysmon events of the category); without a cover it
	// applies them nowhere (live capture: off). SecurityAudit wins when both
	// are set.
	SecurityAuditAuto bool
	// Debug fills Match.Fields (allocates per match).
	Debug bool
	// NoPrefilter evaluates every routed rule on every event (for tests and
	// benchmarks of the prefilter).
	NoPrefilter bool
	// MaxCorrelationGroups bounds the state of each correlation rule (groups
	// held at once); 0 means 100000. The oldest group is dropped first.
	MaxCorrelationGroups int
}

// Ruleset is a compiled set of Sigma rules: the program, immutable once
// Load returns and safe to share between goroutines. Evaluating it needs
// per-goroutine scratch and correlation state, which a Matcher holds
// (NewMatcher); the model is cel-go's Program and its per-evaluation
// activation.
type Ruleset struct {
	opts         Options
	rules        []*Rule
	res          *resolver
	fieldsUsed   []event.FieldID
	fieldUsedSet []bool
	router       *router
	corrs        []*correlation
	// cover gates audit views under SecurityAuditAuto (WithAuditCover);
	// coverSet says one was given.
	cover    map[string]AuditCategories
	coverSet bool
}

// Load reads Sigma rules from files and directories (recursively, *.yml and
// *.yaml, in lexical order) and compiles them. Rules that fail are reported
// as LoadErrors naming file, rule and construct; the others load. It never
// panics on bad rules.
func Load(paths []string, opts Options) (*Ruleset, []*LoadError) {
	rs := &Ruleset{opts: opts, res: &resolver{extraIdx: map[string]int32{}}}
	var docs []*rawDoc
	var errs []*LoadError
	type job struct {
		path, set string
		docs      []*rawDoc
		errs      []*LoadError
	}
	var jobs []*job
	for _, p := range paths {
		files, err := ruleFiles(p)
		if err != nil {
			errs = append(errs, &LoadError{Path: p, Construct: "path", Err: err})
			continue
		}
		set := opts.Ruleset
		if set == "" {
			set = filepath.Base(filepath.Clean(p))
		}
		for _, f := range files {
			jobs = append(jobs, &job{path: f, set: set})
		}
	}
	// read and parse files in parallel (YAML decoding is most of the load
	// time); results are used in file order, so the outcome is the same
	parallel(len(jobs), func(i int) {
		j := jobs[i]
		data, err := fsutil.ReadFile(j.path)
		if err != nil {
			j.errs = []*LoadError{{Path: j.path, Construct: "read", Err: err}}
			return
		}
		j.docs, j.errs = parseFile(j.path, data)
		for _, d := range j.docs {
			d.ruleset = j.set
		}
	})
	for _, j := range jobs {
		docs = append(docs, j.docs...)
		errs = append(errs, j.errs...)
	}
	errs = append(errs, rs.build(docs)...)
	return rs, errs
}

// LoadBytes compiles rules from memory (one YAML file's content); name is
// used as the path in errors and metadata.
func LoadBytes(name string, data []byte, opts Options) (*Ruleset, []*LoadError) {
	rs := &Ruleset{opts: opts, res: &resolver{extraIdx: map[string]int32{}}}
	docs, errs := parseFile(name, data)
	for _, d := range docs {
		d.ruleset = opts.Ruleset
	}
	errs = append(errs, rs.build(docs)...)
	return rs, errs
}

// parallel runs fn(0..n-1) on GOMAXPROCS goroutines.
func parallel(n int, fn func(i int)) {
	workers := min(runtime.GOMAXPROCS(0), n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				fn(i)
			}
		}()
	}
	wg.Wait()
}

func ruleFiles(p string) ([]string, error) {
	st, err := os.Stat(p)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return []string{p}, nil
	}
	var out []string
	err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && (strings.HasSuffix(path, ".yml") || strings.HasSuffix(path, ".yaml")) {
			out = append(out, path)
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

// build compiles parsed documents: rules first, then filters and
// correlations (which refer to rules by id or name), then routing.
func (rs *Ruleset) build(docs []*rawDoc) []*LoadError {
	var errs []*LoadError
	routes, err := loadRoutes()
	if err != nil {
		return []*LoadError{{Path: "thor.yml", Construct: "logsource table", Err: err}}
	}
	cc := &compileCtx{res: rs.res, placeholders: rs.opts.Placeholders}
	byRef := map[string]*Rule{}
	var filters, corrs []*rawDoc
	for _, d := range docs {
		switch d.kind {
		case kindFilter:
			filters = append(filters, d)
			continue
		case kindCorrelation:
			corrs = append(corrs, d)
			continue
		}
		r, err := rs.compileRule(cc, d)
		if err != nil {
			errs = append(errs, docError(d, err))
			continue
		}
		if _, reason := routes.targets(r.Logsource); reason != "" {
			r.Unsupported = reason
		}
		if err := rs.addRule(r, byRef); err != nil {
			errs = append(errs, docError(d, err))
		}
	}
	errs = append(errs, rs.compileCorrelations(corrs, byRef)...)
	for _, d := range filters {
		if err := rs.compileFilter(cc, d, byRef); err != nil {
			errs = append(errs, docError(d, err))
		}
	}
	rs.finishCorrelations()
	rs.collectFields()
	rs.router = buildRouter(rs, routes)
	return errs
}

// compileCorrelations compiles correlations in dependency order (a
// correlation may come before the rules it names, as in the specification's
// own example); what never resolves is an unknown reference or a cycle.
func (rs *Ruleset) compileCorrelations(pending []*rawDoc, byRef map[string]*Rule) []*LoadError {
	var errs []*LoadError
	for len(pending) > 0 {
		var next []*rawDoc
		for _, d := range pending {
			if !refsLoaded(d, byRef) {
				next = append(next, d)
				continue
			}
			err := unique(d.meta.ID, d.meta.Name, byRef)
			var r *Rule
			if err == nil {
				r, err = rs.compileCorrelation(d, byRef)
			}
			if err == nil {
				err = rs.addRule(r, byRef)
			}
			if err != nil {
				errs = append(errs, docError(d, err))
			}
		}
		if len(next) == len(pending) {
			names := map[string]bool{}
			for _, d := range next {
				names[d.meta.ID], names[d.meta.Name] = true, true
			}
			for _, d := range next {
				for _, ref := range d.corr.Rules {
					if _, ok := byRef[ref]; ok {
						continue
					}
					err := fmt.Errorf("no loaded rule has id or name %q", ref)
					if names[ref] {
						err = fmt.Errorf("correlation %q cannot be resolved (a cycle of correlations, or it failed to load)", ref)
					}
					errs = append(errs, docError(d, &LoadError{Construct: "correlation rules", Err: err}))
					break
				}
			}
			break
		}
		pending = next
	}
	return errs
}

func refsLoaded(d *rawDoc, byRef map[string]*Rule) bool {
	for _, ref := range d.corr.Rules {
		if _, ok := byRef[ref]; !ok {
			return false
		}
	}
	return true
}

func docError(d *rawDoc, err error) *LoadError {
	le := asLoadError(err)
	le.Path, le.Doc = d.path, d.index
	le.RuleID, le.Title = d.meta.ID, d.meta.Title
	if le.Line == 0 {
		le.Line = d.line
	}
	return le
}

// addRule registers a compiled rule. A second rule with the same id or
// name is an error: correlations and filters refer to rules by them.
func (rs *Ruleset) addRule(r *Rule, byRef map[string]*Rule) error {
	if err := unique(r.ID, r.Name, byRef); err != nil {
		return err
	}
	r.index = len(rs.rules)
	rs.rules = append(rs.rules, r)
	if r.ID != "" {
		byRef[r.ID] = r
	}
	if r.Name != "" {
		byRef[r.Name] = r
	}
	return nil
}

func unique(id, name string, byRef map[string]*Rule) error {
	for _, ref := range []string{id, name} {
		if prev, ok := byRef[ref]; ok && ref != "" {
			return &LoadError{Construct: "id", Err: fmt.Errorf("id or name %q is already used by %s (document %d)", ref, prev.Path, prev.Doc)}
		}
	}
	return nil
}

func newRule(d *rawDoc) *Rule {
	m := d.meta
	return &Rule{
		ID: m.ID, Name: m.Name, Title: m.Title, Description: m.Description, Status: m.Status,
		Level: m.Level, Author: m.Author, License: m.License, Date: m.Date, Modified: m.Modified,
		Tags: m.Tags, References: m.References, FalsePositives: m.FalsePositives, Fields: m.Fields,
		Logsource: Logsource{Product: m.Logsource.Product, Category: m.Logsource.Category,
			Service: m.Logsource.Service, Definition: m.Logsource.Definition},
		Path: d.path, Doc: d.index, Ruleset: d.ruleset, RegressionTestsPath: m.RegressionTestsPath,
		Conditions: d.conditions, Standalone: true, Related: related(m.Related),
	}
}

func related(rs []sigmago.RelatedRule) []Related {
	var out []Related
	for _, r := range rs {
		out = append(out, Related{ID: r.ID, Type: r.Type})
	}
	return out
}

func (rs *Ruleset) compileRule(cc *compileCtx, d *rawDoc) (*Rule, error) {
	if d.meta.Title == "" {
		return nil, &LoadError{Construct: "title", Err: errors.New("rule has no title")}
	}
	if d.meta.Taxonomy != "" && d.meta.Taxonomy != "sigma" {
		return nil, &LoadError{Construct: "taxonomy", Err: fmt.Errorf("taxonomy %q is unsupported (edr reads the sigma taxonomy)", d.meta.Taxonomy)}
	}
	r := newRule(d)
	names, searches, conds, err := compileDetection(cc, d, rs.fieldMapFor(r.Logsource))
	if err != nil {
		return nil, err
	}
	r.searchNames, r.searches, r.conds = names, searches, conds
	r.eventIDs = requiredEventIDs(conds, searches)
	return r, nil
}

// fieldMapFor returns thor.yml's field renames for a logsource whose events
// use other names than the Sigma taxonomy (antivirus → Defender).
func (rs *Ruleset) fieldMapFor(ls Logsource) map[string]string {
	routes, _ := loadRoutes()
	if routes == nil || ls.Category == "" {
		return nil
	}
	for _, t := range routes.categories[ls.Category] {
		if t.fieldMap != nil && !(len(t.eids) == 1 && t.eids[0] == 4688) {
			return t.fieldMap
		}
	}
	return nil
}

// compileDetection compiles the searches and conditions of a rule or filter.
func compileDetection(cc *compileCtx, d *rawDoc, fieldMap map[string]string) ([]string, []*search, []*condNode, error) {
	names := make([]string, len(d.searches))
	searches := make([]*search, len(d.searches))
	for i, ns := range d.searches {
		names[i] = ns.name
		s := &search{name: ns.name}
		if ns.search.Keywords != nil {
			m, err := cc.compileKeywords(ns.search.Keywords)
			if err != nil {
				return nil, nil, nil, &LoadError{Line: ns.line, Construct: "search " + ns.name, Err: err}
			}
			s.alts = [][]*matcher{{m}}
		}
		for _, em := range ns.search.EventMatchers {
			var alt []*matcher
			for _, fm := range em {
				if to, ok := fieldMap[fm.Field]; ok {
					fm.Field = to
				}
				m, err := cc.compileMatcher(fm)
				if err != nil {
					line, _ := fm.Position()
					return nil, nil, nil, &LoadError{Line: line + 1, Construct: "search " + ns.name, Err: err}
				}
				alt = append(alt, m)
			}
			if len(alt) == 0 {
				return nil, nil, nil, &LoadError{Line: ns.line, Construct: "search " + ns.name, Err: errors.New("empty map")}
			}
			s.alts = append(s.alts, alt)
		}
		if len(s.alts) == 0 {
			return nil, nil, nil, &LoadError{Line: ns.line, Construct: "search " + ns.name, Err: errors.New("empty search")}
		}
		s.eval = evalOrder(s.alts)
		searches[i] = s
	}
	conds := make([]*condNode, 0, len(d.conditions))
	for _, c := range d.conditions {
		n, err := parseCondition(c, names)
		if err != nil {
			return nil, nil, nil, &LoadError{Line: d.condLine, Construct: fmt.Sprintf("condition %q", c), Err: err}
		}
		conds = append(conds, n)
	}
	return names, searches, conds, nil
}

func (cc *compileCtx) compileKeywords(kw []string) (*matcher, error) {
	m := &matcher{field: fieldRef{kind: fkKeyword, name: "keywords"}, exists: -1, src: "keywords"}
	for _, k := range kw {
		tests, err := cc.compileValue(k, modSet{}, true, false)
		if err != nil {
			return nil, err
		}
		if len(m.groups) == 0 {
			m.groups = [][]test{nil}
		}
		m.groups[0] = append(m.groups[0], tests...)
	}
	return m, nil
}

// requiredEventIDs returns the EventIDs a rule can match at all (nil: no
// restriction), read from EventID equality matchers that the condition
// requires. Routing uses it so that a Security rule for 4688 is never
// evaluated on a 4624.
func requiredEventIDs(conds []*condNode, searches []*search) []uint16 {
	var out []uint16
	for _, c := range conds {
		ids, ok := nodeEventIDs(c, searches)
		if !ok {
			return nil
		}
		out = append(out, ids...)
	}
	return dedupIDs(out)
}

// nodeEventIDs: ok=false means "any EventID".
func nodeEventIDs(n *condNode, searches []*search) ([]uint16, bool) {
	switch n.op {
	case opSearch:
		return searchEventIDs(searches[n.search])
	case opAnd:
		var best []uint16
		found := false
		for _, k := range n.kids {
			if ids, ok := nodeEventIDs(k, searches); ok && (!found || len(ids) < len(best)) {
				best, found = ids, true
			}
		}
		return best, found
	case opOr:
		var all []uint16
		for _, k := range n.kids {
			ids, ok := nodeEventIDs(k, searches)
			if !ok {
				return nil, false
			}
			all = append(all, ids...)
		}
		return all, true
	case opOf:
		if n.n == len(n.kids) { // all of: like and
			return nodeEventIDs(&condNode{op: opAnd, kids: n.kids}, searches)
		}
		return nodeEventIDs(&condNode{op: opOr, kids: n.kids}, searches)
	}
	return nil, false
}

func searchEventIDs(s *search) ([]uint16, bool) {
	var all []uint16
	for _, alt := range s.alts {
		found := false
		for _, m := range alt {
			if ids, ok := matcherEventIDs(m); ok {
				all, found = append(all, ids...), true
				break
			}
		}
		if !found {
			return nil, false
		}
	}
	return all, true
}

func matcherEventIDs(m *matcher) ([]uint16, bool) {
	if m.field.kind != fkSchema || m.field.id != event.FieldEventID || m.neq || m.null || m.exists >= 0 || len(m.groups) == 0 {
		return nil, false
	}
	var ids []uint16
	tests := m.groups[0]
	if m.acTests != nil { // every value, also those in anyAC or affix
		tests = m.acTests
	}
	for _, t := range tests {
		var n float64
		switch {
		case t.kind == tNumEq:
			n = t.num
		case t.kind == tPattern && t.pat.kind == patExact:
			f, ok := parseNum(t.pat.lit)
			if !ok || strings.ContainsAny(t.pat.lit, "xX.-+eE") {
				return nil, false
			}
			n = f
		default:
			return nil, false
		}
		if n < 0 || n > 65535 || n != float64(uint16(n)) {
			continue // can never equal a uint16 EventID
		}
		ids = append(ids, uint16(n))
	}
	if m.all && len(m.groups) > 1 {
		return nil, false
	}
	return ids, true
}

func dedupIDs(ids []uint16) []uint16 {
	if ids == nil {
		return nil
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	out := ids[:0]
	for i, id := range ids {
		if i == 0 || id != ids[i-1] {
			out = append(out, id)
		}
	}
	return out
}

// collectFields records every schema field the rules read.
func (rs *Ruleset) collectFields() {
	rs.fieldUsedSet = make([]bool, event.NumFields())
	for _, r := range rs.rules {
		r.visitFields(func(f fieldRef) {
			if f.kind == fkSchema {
				rs.fieldUsedSet[f.id] = true
			}
		})
	}
	rs.fieldsUsed = nil
	for id, used := range rs.fieldUsedSet {
		if used && !event.FieldID(id).Virtual() {
			rs.fieldsUsed = append(rs.fieldsUsed, event.FieldID(id))
		}
	}
}

// visitFields calls fn for every field the rule reads: its searches
// (fieldref targets included), its filters' and, for a correlation, its
// group-by and value fields. A keyword search shows as an fkKeyword ref.
func (r *Rule) visitFields(fn func(fieldRef)) {
	visit := func(searches []*search) {
		for _, s := range searches {
			for _, alt := range s.alts {
				for _, m := range alt {
					m.visitFields(fn)
				}
			}
		}
	}
	visit(r.searches)
	for _, f := range r.filters {
		visit(f.searches)
	}
	if r.corr != nil {
		for _, g := range r.corr.groupFields {
			for _, f := range g {
				fn(f)
			}
		}
		for _, f := range r.corr.valueFields {
			for _, ff := range f {
				fn(ff)
			}
		}
	}
}

// visitFields calls fn for the matcher's field and its fieldref targets.
func (m *matcher) visitFields(fn func(fieldRef)) {
	fn(m.field)
	for _, g := range m.groups {
		for _, t := range g {
			if t.kind == tFieldRef {
				fn(t.ref)
			}
		}
	}
}

// compileFilter attaches a Sigma filter to the rules it names
// (sigma-filters-specification.md): each rule then matches only when its
// own condition holds and the filter's does not.
func (rs *Ruleset) compileFilter(cc *compileCtx, d *rawDoc, byRef map[string]*Rule) error {
	ls := Logsource{Product: d.meta.Logsource.Product, Category: d.meta.Logsource.Category, Service: d.meta.Logsource.Service}
	names, searches, conds, err := compileDetection(cc, d, rs.fieldMapFor(ls))
	if err != nil {
		return err
	}
	fp := &filterProg{id: d.meta.ID, title: d.meta.Title, searchNames: names, searches: searches, conds: conds}
	var targets []*Rule
	for _, ref := range d.filterRules {
		r, ok := byRef[ref]
		if !ok {
			return &LoadError{Construct: "filter rules", Err: fmt.Errorf("no loaded rule has id or name %q", ref)}
		}
		if r.Correlation != "" {
			return &LoadError{Construct: "filter rules", Err: fmt.Errorf("%q is a correlation rule; filters apply to detection rules", ref)}
		}
		if !logsourceCovers(ls, r.Logsource) {
			return &LoadError{Construct: "filter logsource", Err: fmt.Errorf("filter logsource %+v does not cover rule %s (%+v)", ls, ref, r.Logsource)}
		}
		targets = append(targets, r)
	}
	for _, r := range targets {
		r.filters = append(r.filters, fp)
	}
	return nil
}

// logsourceCovers: every attribute the filter sets equals the rule's.
func logsourceCovers(f, r Logsource) bool {
	return (f.Product == "" || f.Product == r.Product) &&
		(f.Category == "" || f.Category == r.Category) &&
		(f.Service == "" || f.Service == r.Service)
}
