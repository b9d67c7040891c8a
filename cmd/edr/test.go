package main

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/edr-lab/edr/corpus/evtx"
	"github.com/edr-lab/edr/corpus/jsonl"
	"github.com/edr-lab/edr/detect/sigma"
	"github.com/edr-lab/edr/detect/sigma/regress"
	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/internal/termsafe"
	"github.com/urfave/cli/v2"
)

// sigmaSampleReader reads a regression sample: the EVTX itself, with the
// importer's reader (--from-json reads the evtx_dump JSON beside it).
var sigmaSampleReader = regress.Collect("evtx", readEVTX)

// readJSON streams an evtx_dump JSON file; undecodable documents fail the
// test.
func readJSON(path string, fn func(*event.Event) error) error {
	st, err := jsonl.ReadFile(path, jsonl.Options{}, fn)
	if err == nil && st.Failed > 0 {
		err = fmt.Errorf("%s: %d documents could not be read (first: %s)", path, st.Failed, st.Failures[0])
	}
	return err
}

// readEVTX streams an EVTX file; undecodable records fail the test.
func readEVTX(path string, fn func(*event.Event) error) error {
	st, err := evtx.ReadFile(path, fn)
	if err == nil && st.Failed > 0 {
		err = fmt.Errorf("%s: %d records could not be decoded (first: %s)", path, st.Failed, st.Failures[0])
	}
	return err
}

func init() {
	register(&cli.Command{
		Name:        "test",
		Usage:       "run rule tests",
		Description: "Exit codes: 0 every test passed, 1 a test failed, 2 usage or load error (nothing to run, no tests found).",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "sigma-regression", Usage: "run SigmaHQ's regression tests of the SigmaHQ checkout `DIR`"},
			&cli.StringFlag{Name: "regression-root", Usage: "`DIR` where regression_data paths resolve (default: the checkout)"},
			&cli.StringFlag{Name: "format", Value: "text", Usage: "text, json or junit"},
			&cli.BoolFlag{Name: "from-json", Usage: "read the evtx_dump JSON beside each sample instead of the EVTX"},
			placeholdersFlag,
		}, configFlags()...),
		Action: func(c *cli.Context) error {
			opts, err := sigmaOptions(c)
			if err != nil {
				return err
			}
			dir := c.String("sigma-regression")
			if dir == "" {
				return exitf(2, "test: nothing to run (use --sigma-regression DIR)")
			}
			format := c.String("format")
			if format != "text" && format != "json" && format != "junit" {
				return exitf(2, "test: --format must be text, json or junit, not %q", format)
			}
			read := sigmaSampleReader
			if c.Bool("from-json") {
				read = regress.JSONBeside(readJSON)
			}
			return runSigmaRegression(c.App.Writer, dir, c.String("regression-root"), format, read, opts)
		},
	})
}

func runSigmaRegression(w io.Writer, dir, root, format string, read regress.EventReader, opts sigma.Options) error {
	if root == "" {
		root = dir
	}
	if st, err := os.Stat(root); err != nil || !st.IsDir() {
		return exitf(2, "test: regression root %s is not a directory", root)
	}
	dirs, err := regress.RuleDirs(dir)
	if err != nil {
		return exitf(2, "test: %v", err)
	}
	rs, errs := sigma.Load(dirs, opts)
	tests := regress.Discover(rs, errs, root)
	if len(tests) == 0 {
		return exitf(2, "test: %s: %v", dir, regress.ErrNoTests)
	}
	results := regress.Run(rs, tests, read)
	failed, err := printRegression(w, dir, results, format)
	if err != nil {
		return exitf(2, "test: %v", err)
	}
	if n := len(errs); n > 0 {
		fmt.Fprintf(os.Stderr, "edr: %d rule documents under %s did not load (edr rules validate lists them)\n", n, termsafe.String(dir))
	}
	if failed > 0 {
		return exitf(1, "")
	}
	return nil
}

type regressionLine struct {
	Rule   string `json:"rule"`
	RuleID string `json:"rule_id"`
	Title  string `json:"title"`
	Test   string `json:"test,omitempty"`
	Sample string `json:"sample,omitempty"`
	Source string `json:"source,omitempty"`
	Events int    `json:"events"`
	Hits   int    `json:"hits"`
	Want   int    `json:"want"`
	Status string `json:"status"` // pass, fail, skip
	Reason string `json:"reason,omitempty"`
}

func printRegression(w io.Writer, dir string, results []regress.Result, format string) (int, error) {
	var lines []regressionLine
	counts := map[string]int{}
	for _, r := range results {
		l := regressionLine{Rule: rel(dir, r.RulePath), RuleID: r.RuleID, Title: r.Title, Test: r.Name,
			Sample: rel(dir, r.EvtxPath), Source: r.Source, Events: r.Events, Hits: r.Hits,
			Want: max(r.MatchCount, 1), Status: "fail", Reason: r.Reason}
		switch {
		case r.Pass:
			l.Status = "pass"
		case r.Skip:
			l.Status = "skip"
		}
		counts[l.Status]++
		lines = append(lines, l)
	}
	var err error
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		for _, l := range lines {
			if err = enc.Encode(l); err != nil {
				return 0, err
			}
		}
		err = enc.Encode(map[string]int{"total": len(lines), "passed": counts["pass"], "failed": counts["fail"], "skipped": counts["skip"]})
	case "junit":
		err = writeJUnit(w, lines, counts)
	default:
		for _, l := range lines {
			s := fmt.Sprintf("%-4s %s %s hits=%d want>=%d", map[string]string{"pass": "PASS", "fail": "FAIL", "skip": "SKIP"}[l.Status], l.Rule, l.RuleID, l.Hits, l.Want)
			if l.Source != "" {
				s += " (" + l.Source + ")"
			}
			if l.Reason != "" && l.Status != "pass" {
				s += ": " + l.Reason
			}
			if _, err = fmt.Fprintln(w, termsafe.Text(s)); err != nil {
				return 0, err
			}
		}
		_, err = fmt.Fprintf(w, "%d passed, %d failed, %d skipped\n", counts["pass"], counts["fail"], counts["skip"])
	}
	return counts["fail"], err
}

func rel(base, p string) string {
	if p == "" {
		return ""
	}
	if r, err := filepath.Rel(base, p); err == nil {
		return filepath.ToSlash(r)
	}
	return p
}

type junitSuite struct {
	XMLName  xml.Name    `xml:"testsuite"`
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Class   string     `xml:"classname,attr"`
	Name    string     `xml:"name,attr"`
	Failure *junitText `xml:"failure,omitempty"`
	Skip    *junitText `xml:"skipped,omitempty"`
}

type junitText struct {
	Message string `xml:"message,attr"`
}

func writeJUnit(w io.Writer, lines []regressionLine, counts map[string]int) error {
	s := junitSuite{Name: "sigma-regression", Tests: len(lines), Failures: counts["fail"], Skipped: counts["skip"]}
	for _, l := range lines {
		c := junitCase{Class: l.Rule, Name: l.RuleID + " " + l.Title}
		switch l.Status {
		case "fail":
			c.Failure = &junitText{Message: l.Reason}
		case "skip":
			c.Skip = &junitText{Message: l.Reason}
		}
		s.Cases = append(s.Cases, c)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(s); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}
