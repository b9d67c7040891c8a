// Package regress runs SigmaHQ's regression tests (regression_data/) from a
// SigmaHQ checkout: every rule with regression_tests_path names an info.yml
// that names the sample EVTX files; a test passes when the rule fires at
// least match_count times (at least once when unset) on its sample.
package regress

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/edr-lab/edr/detect/sigma"
	"github.com/edr-lab/edr/event"
	"gopkg.in/yaml.v3"
)

// Test is one regression test of one rule.
type Test struct {
	RulePath   string
	RuleID     string
	Title      string
	Name       string // the test's name in info.yml
	InfoPath   string
	EvtxPath   string
	MatchCount int // 0: at least one
	Err        error
	Absent     bool // the info.yml or sample does not exist
	rule       *sigma.Rule
}

// Result is a test's outcome.
type Result struct {
	Test
	Hits   int
	Events int
	Source string // "evtx" or "json": what the events were read from
	Pass   bool
	// Skip is set when the regression data the rule names is absent (a
	// trimmed checkout); skipped tests neither pass nor fail.
	Skip   bool
	Reason string
}

// EventReader reads a regression sample (see Collect and JSONBeside).
type EventReader func(evtxPath string) (events []*event.Event, source string, err error)

// Collect turns a streaming reader (such as corpus/evtx's, which reuses its
// event) into an EventReader that keeps copies of the events.
func Collect(source string, read func(path string, fn func(*event.Event) error) error) EventReader {
	return func(path string) ([]*event.Event, string, error) {
		var evs []*event.Event
		err := read(path, func(e *event.Event) error {
			evs = append(evs, e.Clone())
			return nil
		})
		return evs, source, err
	}
}

// JSONBeside reads the evtx_dump JSON that SigmaHQ keeps beside each
// sample (<rule id>.json) with the given streaming reader.
func JSONBeside(read func(path string, fn func(*event.Event) error) error) EventReader {
	r := Collect("json", read)
	return func(evtxPath string) ([]*event.Event, string, error) {
		return r(strings.TrimSuffix(evtxPath, filepath.Ext(evtxPath)) + ".json")
	}
}

// RuleDirs returns the rule directories of a SigmaHQ checkout: every
// top-level directory named rules*; the directory itself when it has none.
func RuleDirs(root string) ([]string, error) {
	ents, err := os.ReadDir(root)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() && strings.HasPrefix(e.Name(), "rules") {
			out = append(out, filepath.Join(root, e.Name()))
		}
	}
	if len(out) == 0 {
		out = []string{root}
	}
	return out, nil
}

var regPathRE = regexp.MustCompile(`(?m)^regression_tests_path:\s*['"]?([^'"\s#]+)`)

// Discover lists the tests of every loaded rule with regression_tests_path,
// plus a failing test for every rule file that carries one but did not load.
// regressionRoot is where regression_data paths resolve (the checkout).
func Discover(rs *sigma.Ruleset, loadErrs []*sigma.LoadError, regressionRoot string) []Test {
	var tests []Test
	for _, r := range rs.Rules() {
		if r.RegressionTestsPath == "" {
			continue
		}
		tests = append(tests, testsOf(r, regressionRoot)...)
	}
	seen := map[string]bool{}
	for _, le := range loadErrs {
		if seen[le.Path] {
			continue
		}
		seen[le.Path] = true
		data, err := os.ReadFile(le.Path)
		if err != nil {
			continue
		}
		if m := regPathRE.FindSubmatch(data); m != nil {
			tests = append(tests, Test{RulePath: le.Path, RuleID: le.RuleID, Title: le.Title,
				InfoPath: resolve(regressionRoot, string(m[1])), Err: fmt.Errorf("rule did not load: %s", le.Reason())})
		}
	}
	sort.SliceStable(tests, func(i, j int) bool { return tests[i].RulePath < tests[j].RulePath })
	return tests
}

// resolve finds a regression_data path under root, also when root is the
// regression_data directory itself (--regression-root pointing inside).
func resolve(root, rel string) string {
	p := filepath.Join(root, filepath.FromSlash(rel))
	if _, err := os.Stat(p); err == nil {
		return p
	}
	if rest, ok := strings.CutPrefix(rel, "regression_data/"); ok {
		q := filepath.Join(root, filepath.FromSlash(rest))
		if _, err := os.Stat(q); err == nil {
			return q
		}
	}
	return p
}

type infoFile struct {
	RuleMetadata []struct {
		ID    string `yaml:"id"`
		Title string `yaml:"title"`
	} `yaml:"rule_metadata"`
	Tests []struct {
		Name       string `yaml:"name"`
		Type       string `yaml:"type"`
		Path       string `yaml:"path"`
		MatchCount int    `yaml:"match_count"`
	} `yaml:"regression_tests_info"`
}

func testsOf(r *sigma.Rule, root string) []Test {
	base := Test{RulePath: r.Path, RuleID: r.ID, Title: r.Title, InfoPath: resolve(root, r.RegressionTestsPath), rule: r}
	fail := func(err error) []Test { t := base; t.Err = err; return []Test{t} }
	data, err := os.ReadFile(base.InfoPath)
	if err != nil {
		t := fail(err)
		t[0].Absent = errors.Is(err, os.ErrNotExist)
		return t
	}
	var info infoFile
	if err := yaml.Unmarshal(data, &info); err != nil {
		return fail(fmt.Errorf("%s: %w", base.InfoPath, err))
	}
	if len(info.RuleMetadata) == 0 || info.RuleMetadata[0].ID != r.ID {
		return fail(fmt.Errorf("%s: rule_metadata id does not name rule %s", base.InfoPath, r.ID))
	}
	if len(info.Tests) == 0 {
		return fail(fmt.Errorf("%s: no regression_tests_info", base.InfoPath))
	}
	var out []Test
	for _, ti := range info.Tests {
		t := base
		t.Name, t.MatchCount = ti.Name, ti.MatchCount
		t.EvtxPath = resolve(root, ti.Path)
		switch {
		case ti.Type != "evtx":
			t.Err = fmt.Errorf("test type %q is unsupported (evtx only)", ti.Type)
		case filepath.Base(ti.Path) != r.ID+".evtx":
			t.Err = fmt.Errorf("sample %s is not named <rule id>.evtx", ti.Path)
		}
		out = append(out, t)
	}
	return out
}

// Run runs each test: the whole ruleset over the sample's events, counting
// the matches of the test's rule.
func Run(rs *sigma.Ruleset, tests []Test, read EventReader) []Result {
	out := make([]Result, 0, len(tests))
	var ms []sigma.Match
	for _, t := range tests {
		res := Result{Test: t}
		if t.Err != nil {
			res.Reason, res.Skip = t.Err.Error(), t.Absent
			out = append(out, res)
			continue
		}
		if _, err := os.Stat(t.EvtxPath); err != nil {
			res.Reason, res.Skip = err.Error(), errors.Is(err, os.ErrNotExist)
			out = append(out, res)
			continue
		}
		if t.rule.Unsupported != "" {
			res.Reason = "logsource unsupported: " + t.rule.Unsupported
			out = append(out, res)
			continue
		}
		evs, src, err := read(t.EvtxPath)
		res.Source, res.Events = src, len(evs)
		if err != nil {
			res.Reason = err.Error()
			out = append(out, res)
			continue
		}
		m := rs.NewMatcher() // fresh correlation state per sample
		for _, ev := range evs {
			ms = m.Match(ev, ms[:0])
			for _, x := range ms {
				if x.Rule == t.rule {
					res.Hits++
				}
			}
		}
		for _, x := range m.Flush(ms[:0]) {
			if x.Rule == t.rule {
				res.Hits++
			}
		}
		want := max(t.MatchCount, 1)
		res.Pass = res.Hits >= want
		if !res.Pass {
			res.Reason = fmt.Sprintf("rule fired %d times, want at least %d", res.Hits, want)
		}
		out = append(out, res)
	}
	return out
}

// ErrNoTests is returned when a checkout holds no regression tests.
var ErrNoTests = errors.New("no rule with regression_tests_path found")
