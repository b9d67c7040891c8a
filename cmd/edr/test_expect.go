package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/edr-lab/edr/detect"
	"github.com/edr-lab/edr/detect/ruleset"
	"github.com/edr-lab/edr/internal/fsutil"
	"github.com/edr-lab/edr/internal/termsafe"
	"github.com/edr-lab/edr/replay"
	"github.com/urfave/cli/v2"
	"gopkg.in/yaml.v3"
)

// An expectations file says, per recording, which alerts replaying it must
// raise: per rule its engine, title, level and count, and optionally the
// hosts and event record ids (checked only when listed). Recording paths
// are relative to the file's directory, so a corpus and its expectations
// move together.
type expectFile struct {
	Recordings []*expectRecording `yaml:"recordings"`
}

type expectRecording struct {
	Path   string         `yaml:"recording"`
	Alerts []*expectAlert `yaml:"alerts"`
	line   int
}

type expectAlert struct {
	Engine  string   `yaml:"engine" json:"engine"`
	Rule    string   `yaml:"rule" json:"rule"`
	Title   string   `yaml:"title" json:"title"`
	Level   string   `yaml:"level" json:"level"`
	Count   int      `yaml:"count" json:"count"`
	Hosts   []string `yaml:"hosts,omitempty,flow" json:"hosts,omitempty"`
	Records []uint64 `yaml:"records,omitempty,flow" json:"records,omitempty"`

	line int    // in the expectations file (0: not from the file)
	path string // the rule's file when a loaded rule raised it
}

func (a *expectAlert) key() string { return a.Engine + "\x00" + a.Rule }

const expectHeader = "# edr test expectations: the alerts each recording must raise when replayed.\n" +
	"# Written by `edr test --expect FILE --update`; hosts and records are checked only when listed.\n"

// loadExpect reads an expectations file; a missing file is empty (for
// --update), anything unreadable or malformed is an error naming the file
// and line.
func loadExpect(path string, mustExist bool) (*expectFile, error) {
	data, err := fsutil.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && !mustExist {
		return &expectFile{}, nil
	}
	if err != nil {
		return nil, err
	}
	var f expectFile
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	expectLines(&root, &f)
	seen := map[string]int{}
	for _, r := range f.Recordings {
		if r == nil || r.Path == "" {
			return nil, fmt.Errorf("%s:%d: a recordings entry without recording:", path, lineOf(r))
		}
		if l, dup := seen[r.Path]; dup {
			return nil, fmt.Errorf("%s:%d: recording %s is listed again (first at line %d)", path, r.line, r.Path, l)
		}
		seen[r.Path] = r.line
		rules := map[string]int{}
		for _, a := range r.Alerts {
			switch {
			case a == nil || a.Rule == "" || a.Engine == "":
				return nil, fmt.Errorf("%s:%d: an alert entry needs engine: and rule:", path, r.line)
			case a.Count < 1:
				return nil, fmt.Errorf("%s:%d: rule %s: count must be at least 1, not %d", path, a.line, a.Rule, a.Count)
			}
			if l, dup := rules[a.key()]; dup {
				return nil, fmt.Errorf("%s:%d: rule %s is listed again for %s (first at line %d)", path, a.line, a.Rule, r.Path, l)
			}
			rules[a.key()] = a.line
		}
	}
	return &f, nil
}

func lineOf(r *expectRecording) int {
	if r == nil {
		return 0
	}
	return r.line
}

// expectLines copies the line of each recording and alert entry from the
// YAML tree into the decoded file (annotations point at them).
func expectLines(root *yaml.Node, f *expectFile) {
	if root.Kind != yaml.DocumentNode || len(root.Content) == 0 {
		return
	}
	recs := mapValue(root.Content[0], "recordings")
	if recs == nil || recs.Kind != yaml.SequenceNode {
		return
	}
	for i, rn := range recs.Content {
		if i >= len(f.Recordings) || f.Recordings[i] == nil {
			break
		}
		r := f.Recordings[i]
		r.line = rn.Line
		if an := mapValue(rn, "alerts"); an != nil && an.Kind == yaml.SequenceNode {
			for j, n := range an.Content {
				if j < len(r.Alerts) && r.Alerts[j] != nil {
					r.Alerts[j].line = n.Line
				}
			}
		}
	}
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// encode renders the file deterministically: recordings by path, alerts by
// engine then rule id, hosts and records sorted, two-space indentation.
func (f *expectFile) encode() ([]byte, error) {
	sort.Slice(f.Recordings, func(i, j int) bool { return f.Recordings[i].Path < f.Recordings[j].Path })
	for _, r := range f.Recordings {
		if r.Alerts == nil {
			r.Alerts = []*expectAlert{}
		}
		sort.Slice(r.Alerts, func(i, j int) bool { return r.Alerts[i].key() < r.Alerts[j].key() })
	}
	var buf bytes.Buffer
	buf.WriteString(expectHeader)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(f); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// alertTally collects what a replay raised, per rule.
type alertTally struct {
	mu     sync.Mutex
	byRule map[string]*tallyRule
	total  int
}

type tallyRule struct {
	alert   expectAlert
	hosts   map[string]bool
	records map[uint64]bool
}

// Alert implements detect.AlertSink.
func (t *alertTally) Alert(a *detect.Alert) error {
	r := a.Hit.Rule
	t.mu.Lock()
	defer t.mu.Unlock()
	k := r.Engine + "\x00" + r.ID
	tr := t.byRule[k]
	if tr == nil {
		tr = &tallyRule{alert: expectAlert{Engine: r.Engine, Rule: r.ID, Title: r.Name, Level: a.Severity.String(), path: r.Path},
			hosts: map[string]bool{}, records: map[uint64]bool{}}
		t.byRule[k] = tr
	}
	tr.alert.Count++
	tr.hosts[a.Event.Host] = true
	tr.records[a.Event.RecordID] = true
	t.total++
	return nil
}

// entries are the tallied rules as expectation entries with hosts and
// records filled.
func (t *alertTally) entries() map[string]*expectAlert {
	out := make(map[string]*expectAlert, len(t.byRule))
	for k, tr := range t.byRule {
		a := tr.alert
		for h := range tr.hosts {
			a.Hosts = append(a.Hosts, h)
		}
		slices.Sort(a.Hosts)
		for id := range tr.records {
			a.Records = append(a.Records, id)
		}
		slices.Sort(a.Records)
		out[k] = &a
	}
	return out
}

// expectOutcome is the comparison of one rule of one recording.
type expectOutcome struct {
	Recording string       `json:"recording"`
	Engine    string       `json:"engine"`
	Rule      string       `json:"rule"`
	Title     string       `json:"title"`
	Status    string       `json:"status"` // pass, new, missing, changed
	Changes   []string     `json:"changes,omitempty"`
	Want      *expectAlert `json:"want,omitempty"`
	Got       *expectAlert `json:"got,omitempty"`

	file string // annotation file and line
	line int
}

// compareRecording compares what a recording raised with its entry (nil:
// the recording is not in the file).
func compareRecording(name string, want *expectRecording, got map[string]*expectAlert) []expectOutcome {
	wantBy := map[string]*expectAlert{}
	if want != nil {
		for _, a := range want.Alerts {
			wantBy[a.key()] = a
		}
	}
	keys := make([]string, 0, len(wantBy)+len(got))
	for k := range wantBy {
		keys = append(keys, k)
	}
	for k := range got {
		if _, ok := wantBy[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var out []expectOutcome
	for _, k := range keys {
		w, g := wantBy[k], got[k]
		o := expectOutcome{Recording: name, Want: w, Got: g}
		ref := w
		if ref == nil {
			ref = g
		}
		o.Engine, o.Rule, o.Title = ref.Engine, ref.Rule, ref.Title
		switch {
		case w == nil:
			o.Status = "new"
		case g == nil:
			o.Status = "missing"
		default:
			o.Changes = expectChanges(w, g)
			o.Status = "pass"
			if len(o.Changes) > 0 {
				o.Status = "changed"
			}
		}
		out = append(out, o)
	}
	return out
}

// expectChanges lists how got differs from want, in the fields want checks.
func expectChanges(w, g *expectAlert) []string {
	var ch []string
	if w.Count != g.Count {
		ch = append(ch, fmt.Sprintf("count %d -> %d", w.Count, g.Count))
	}
	if w.Level != g.Level {
		ch = append(ch, fmt.Sprintf("level %s -> %s", w.Level, g.Level))
	}
	if w.Title != g.Title {
		ch = append(ch, fmt.Sprintf("title %q -> %q", w.Title, g.Title))
	}
	if w.Hosts != nil && !slices.Equal(sortedCopy(w.Hosts), g.Hosts) {
		ch = append(ch, fmt.Sprintf("hosts %v -> %v", w.Hosts, g.Hosts))
	}
	if w.Records != nil && !slices.Equal(sortedCopy(w.Records), g.Records) {
		ch = append(ch, fmt.Sprintf("records %s", setDiff(sortedCopy(w.Records), g.Records)))
	}
	return ch
}

func sortedCopy[T string | uint64](s []T) []T {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}

// setDiff describes two sorted id lists' difference briefly: the ids
// missing and the ids new, at most 10 of each.
func setDiff(want, got []uint64) string {
	var miss, add []uint64
	i, j := 0, 0
	for i < len(want) || j < len(got) {
		switch {
		case j == len(got) || i < len(want) && want[i] < got[j]:
			miss = append(miss, want[i])
			i++
		case i == len(want) || got[j] < want[i]:
			add = append(add, got[j])
			j++
		default:
			i++
			j++
		}
	}
	return fmt.Sprintf("-%s +%s", idList(miss), idList(add))
}

func idList(ids []uint64) string {
	var parts []string
	for i, id := range ids {
		if i == 10 {
			parts = append(parts, fmt.Sprintf("… %d more", len(ids)-10))
			break
		}
		parts = append(parts, fmt.Sprint(id))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// expectRun is `edr test --expect`.
func expectRun(c *cli.Context, format string) error {
	file := c.String("expect")
	update := c.Bool("update")
	f, err := loadExpect(file, !update)
	if err != nil {
		return exitf(2, "test: --expect: %v", err)
	}
	base := filepath.Dir(file)
	var names []string // entry names (relative to base)
	var dirs []string
	if c.NArg() == 0 {
		for _, r := range f.Recordings {
			names = append(names, r.Path)
			dirs = append(dirs, filepath.Join(base, filepath.FromSlash(r.Path)))
		}
	}
	for _, a := range c.Args().Slice() {
		names = append(names, expectName(base, a))
		dirs = append(dirs, a)
	}
	if len(names) == 0 {
		return exitf(2, "test: --expect %s: no recording given and none in the file", file)
	}
	set, err := replaySettingsFrom(c)
	if err != nil {
		return exitf(2, "test: %v", err)
	}
	defer set.cleanup()
	rules, err := ruleset.Load(set.ruleOpts)
	if err != nil {
		return exitf(2, "test: %v", err)
	}
	defer rules.Close()
	if n := len(rules.Errors); n > 0 {
		printSafe(c.App.ErrWriter, func(w io.Writer) {
			fmt.Fprintf(w, "edr: %d rules did not load (edr rules validate lists them): %v\n", n, errors.Join(rules.Errors...))
		})
	}
	byPath := map[string]*expectRecording{}
	for _, r := range f.Recordings {
		byPath[r.Path] = r
	}
	ruleFiles := sigmaRuleFiles(rules)
	var outcomes []expectOutcome
	var missingRecs []string
	for i, name := range names {
		got, err := replayTally(c, dirs[i], set, rules)
		if err != nil {
			return exitf(2, "test: %s: %v", dirs[i], err)
		}
		want := byPath[name]
		if want == nil && !update {
			missingRecs = append(missingRecs, name)
		}
		rec := compareRecording(name, want, got)
		for j := range rec {
			annotate(&rec[j], file, ruleFiles)
		}
		outcomes = append(outcomes, rec...)
		if update {
			byPath[name] = updatedRecording(name, want, got)
		}
	}
	if update {
		return writeExpectUpdate(c.App.Writer, file, byPath, outcomes)
	}
	failed, err := printExpect(c.App.Writer, format, file, outcomes, missingRecs, len(names))
	if err != nil {
		return exitf(2, "test: %v", err)
	}
	if failed > 0 {
		return exitf(1, "")
	}
	return nil
}

// expectName is a recording's name in the expectations file: its path
// relative to the file's directory, with forward slashes.
func expectName(base, rec string) string {
	if ab, err := filepath.Abs(base); err == nil {
		if ar, err := filepath.Abs(rec); err == nil {
			if r, err := filepath.Rel(ab, ar); err == nil {
				return filepath.ToSlash(r)
			}
		}
	}
	return filepath.ToSlash(filepath.Clean(rec))
}

// replayTally replays one recording (its own engine: nothing carries over
// from the recording before) and tallies its alerts by rule.
func replayTally(c *cli.Context, dir string, set *replaySettings, rules *ruleset.Set) (map[string]*expectAlert, error) {
	recs, err := replay.Open([]string{dir}, set.read)
	if err != nil {
		return nil, err
	}
	defer recs.Close()
	start, err := recs.Start()
	if err != nil {
		return nil, err
	}
	t := &alertTally{byRule: map[string]*tallyRule{}}
	opts := replay.Options{Rules: rules, Sink: t, MatchDebug: set.debug, Start: start}
	if st := recs.Store(); st != nil {
		opts.Store = st
	}
	if _, err := replay.Run(c.Context, recs.Source(), opts); err != nil {
		return nil, err
	}
	return t.entries(), nil
}

// sigmaRuleFiles maps each loaded Sigma rule's key to its file, so that a
// rule that stopped firing is annotated on its own line.
func sigmaRuleFiles(r *ruleset.Set) map[string]string {
	out := map[string]string{}
	if r.Sigma == nil {
		return out
	}
	for _, sr := range r.Sigma.Rules() {
		out[detect.EngineSigma+"\x00"+sr.ID] = sr.Path
	}
	return out
}

// annotate points an outcome at the rule's line in its file when the rule
// is loaded from one, else at the entry's line in the expectations file.
func annotate(o *expectOutcome, file string, ruleFiles map[string]string) {
	path := ruleFiles[o.Engine+"\x00"+o.Rule]
	if o.Got != nil && o.Got.path != "" {
		path = o.Got.path
	}
	if path != "" {
		o.file, o.line = filepath.ToSlash(path), ruleLine(path, o.Rule)
		return
	}
	o.file = filepath.ToSlash(file)
	if o.Want != nil {
		o.line = o.Want.line
	}
}

// updatedRecording is the entry --update writes: what the recording
// raised, with hosts always and record ids where the old entry listed them
// (an entry with `records: []` asks for them).
func updatedRecording(name string, old *expectRecording, got map[string]*expectAlert) *expectRecording {
	r := &expectRecording{Path: name, Alerts: []*expectAlert{}}
	oldBy := map[string]*expectAlert{}
	if old != nil {
		for _, a := range old.Alerts {
			oldBy[a.key()] = a
		}
	}
	for k, g := range got {
		a := *g
		if o := oldBy[k]; o == nil || o.Records == nil {
			a.Records = nil
		}
		r.Alerts = append(r.Alerts, &a)
	}
	return r
}

func writeExpectUpdate(w io.Writer, file string, byPath map[string]*expectRecording, outcomes []expectOutcome) error {
	f := &expectFile{}
	for _, r := range byPath {
		f.Recordings = append(f.Recordings, r)
	}
	data, err := f.encode()
	if err != nil {
		return exitf(2, "test: --update: %v", err)
	}
	if dir := filepath.Dir(file); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return exitf(2, "test: --update: %v", err)
		}
	}
	if err := writeFileAtomic(file, data); err != nil {
		return exitf(2, "test: --update: %v", err)
	}
	changed := 0
	for _, o := range outcomes {
		if o.Status != "pass" {
			changed++
		}
	}
	fmt.Fprintf(w, "%s: updated (%d recordings, %d rule entries changed)\n", termsafe.String(file), len(f.Recordings), changed)
	return nil
}

// writeFileAtomic replaces path with data through a temporary file beside
// it, so an interrupted update never leaves half a file.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	err = errors.Join(err, tmp.Close())
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// printExpect reports the comparison in the chosen format and returns the
// number of failed entries (and recordings missing from the file).
func printExpect(w io.Writer, format, file string, outcomes []expectOutcome, missingRecs []string, recordings int) (int, error) {
	counts := map[string]int{}
	for _, o := range outcomes {
		counts[o.Status]++
	}
	failed := counts["new"] + counts["missing"] + counts["changed"] + len(missingRecs)
	summary := fmt.Sprintf("%d recordings, %d rules as expected, %d new, %d missing, %d changed", recordings,
		counts["pass"], counts["new"], counts["missing"], counts["changed"])
	if len(missingRecs) > 0 {
		summary += fmt.Sprintf(", %d recordings not in %s", len(missingRecs), file)
	}
	if failed > 0 {
		summary = "FAIL: " + summary + " (edr test --expect FILE --update accepts the alerts as they are)"
	} else {
		summary = "PASS: " + summary
	}
	var cases []testCase
	for _, r := range missingRecs {
		cases = append(cases, testCase{Suite: r, Class: r, Name: "recording in " + file, Status: "fail",
			Message: fmt.Sprintf("recording %s is not in %s", r, file), File: filepath.ToSlash(file), Title: "edr test: recording not in the expectations"})
	}
	for _, o := range outcomes {
		cases = append(cases, o.testCase())
	}
	var err error
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		for _, r := range missingRecs {
			if err = enc.Encode(map[string]string{"recording": r, "status": "not_in_file"}); err != nil {
				return 0, err
			}
		}
		for _, o := range outcomes {
			if err = enc.Encode(o); err != nil {
				return 0, err
			}
		}
		err = enc.Encode(map[string]int{"recordings": recordings, "passed": counts["pass"], "new": counts["new"],
			"missing": counts["missing"], "changed": counts["changed"], "recordings_not_in_file": len(missingRecs), "failed": failed})
	case "junit":
		err = writeJUnit(w, "edr-expectations", cases)
	case "github":
		err = writeGitHub(w, cases, summary)
	default:
		err = writeExpectText(w, file, outcomes, missingRecs, summary)
	}
	return failed, err
}

func (o expectOutcome) testCase() testCase {
	c := testCase{Suite: o.Recording, Class: o.Recording, Name: o.Engine + " " + o.Rule + " " + o.Title,
		Status: "pass", File: o.file, Line: o.line}
	if o.Status == "pass" {
		return c
	}
	c.Status = "fail"
	c.Message = o.describe()
	c.Title = fmt.Sprintf("edr test: %s alert: %s", o.Status, o.Title)
	return c
}

// describe is the outcome as one line of the diff.
func (o expectOutcome) describe() string {
	head := fmt.Sprintf("%s %s %q", o.Engine, o.Rule, o.Title)
	switch o.Status {
	case "new":
		return fmt.Sprintf("%s: %s: new: %d alerts (level %s) on %s, none expected", o.Recording, head, o.Got.Count, o.Got.Level, strings.Join(o.Got.Hosts, ", "))
	case "missing":
		return fmt.Sprintf("%s: %s: missing: expected %d alerts (level %s), none raised", o.Recording, head, o.Want.Count, o.Want.Level)
	case "changed":
		return fmt.Sprintf("%s: %s: changed: %s", o.Recording, head, strings.Join(o.Changes, "; "))
	}
	return fmt.Sprintf("%s: %s: %d alerts as expected", o.Recording, head, o.Got.Count)
}

// writeExpectText prints a diff per recording: "+" new, "-" missing, "~"
// changed; passing rules are counted, not listed.
func writeExpectText(w io.Writer, file string, outcomes []expectOutcome, missingRecs []string, summary string) error {
	var b strings.Builder
	for _, r := range missingRecs {
		fmt.Fprintf(&b, "recording %s: not in %s\n", r, file)
	}
	for i := 0; i < len(outcomes); {
		j := i
		pass := 0
		for ; j < len(outcomes) && outcomes[j].Recording == outcomes[i].Recording; j++ {
			if outcomes[j].Status == "pass" {
				pass++
			}
		}
		fmt.Fprintf(&b, "recording %s: %d rules as expected, %d differ\n", outcomes[i].Recording, pass, j-i-pass)
		for _, o := range outcomes[i:j] {
			mark := map[string]string{"new": "+", "missing": "-", "changed": "~"}[o.Status]
			if mark == "" {
				continue
			}
			where := ""
			if o.file != "" && o.line > 0 {
				where = fmt.Sprintf("  (%s:%d)", o.file, o.line)
			}
			fmt.Fprintf(&b, "  %s %s%s\n", mark, strings.TrimPrefix(o.describe(), o.Recording+": "), where)
		}
		i = j
	}
	b.WriteString(summary + "\n")
	_, err := io.WriteString(w, termsafe.Text(b.String()))
	return err
}
