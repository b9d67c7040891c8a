package main

import (
	"encoding/json"
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
		Name:      "test",
		Usage:     "run rule tests: SigmaHQ regression tests, or golden alert expectations of recordings",
		ArgsUsage: "[REC…] (with --expect)",
		Description: "--sigma-regression DIR runs the regression tests of a SigmaHQ checkout. --expect FILE replays each\n" +
			"recording (REC…, else every recording the file lists) with replay's rules and compares the alerts, per\n" +
			"rule, with the file: new, missing and changed entries are printed as a diff; --update rewrites the file.\n" +
			"Exit codes: 0 every test passed, 1 a test failed, 2 usage or load error (nothing to run, no tests found).",
		// --sigma/--yara/--ioc are replay's rule flags (used with --expect)
		Flags: append(append(ruleFlags(),
			&cli.StringFlag{Name: "expect", Usage: "expectations `FILE` (YAML): the alerts each recording must raise"},
			&cli.BoolFlag{Name: "update", Usage: "with --expect: rewrite FILE with the alerts raised now"},
			&cli.StringFlag{Name: "sigma-regression", Usage: "run SigmaHQ's regression tests of the SigmaHQ checkout `DIR`"},
			&cli.StringFlag{Name: "regression-root", Usage: "`DIR` where regression_data paths resolve (default: the checkout)"},
			&cli.StringFlag{Name: "format", Value: "text", Usage: "text, json, junit or github (workflow annotations on the rule's line)"},
			&cli.BoolFlag{Name: "from-json", Usage: "read the evtx_dump JSON beside each sample instead of the EVTX"},
			placeholdersFlag,
		), configFlags()...),
		Action: func(c *cli.Context) error {
			format := c.String("format")
			if err := checkTestFormat(format); err != nil {
				return err
			}
			dir := c.String("sigma-regression")
			switch {
			case dir != "" && c.IsSet("expect"):
				return exitf(2, "test: --sigma-regression and --expect are separate runs: give one")
			case c.IsSet("expect"):
				if c.String("expect") == "" {
					return exitf(2, "test: --expect needs a FILE")
				}
				return expectRun(c, format)
			case dir == "":
				return exitf(2, "test: nothing to run (use --sigma-regression DIR or --expect FILE)")
			case c.Bool("update"):
				return exitf(2, "test: --update goes with --expect")
			}
			opts, err := sigmaOptions(c)
			if err != nil {
				return err
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

	path string // the rule file as loaded (annotations)
}

// regressionCases are the regression results as JUnit/GitHub cases: a
// failure annotates the rule's id line in its file.
func regressionCases(dir string, lines []regressionLine) []testCase {
	cases := make([]testCase, 0, len(lines))
	for _, l := range lines {
		file := l.path
		if file == "" {
			file = filepath.Join(dir, l.Rule)
		}
		msg := fmt.Sprintf("%s: %d hits, want at least %d", l.RuleID, l.Hits, l.Want)
		if l.Reason != "" {
			msg += ": " + l.Reason
		}
		if l.Status == "skip" {
			msg = l.Reason
		}
		cases = append(cases, testCase{Suite: "sigma-regression", Class: l.Rule, Name: l.RuleID + " " + l.Title,
			Status: l.Status, Message: msg, File: filepath.ToSlash(file), Line: ruleLine(file, l.RuleID),
			Title: "Sigma regression test failed: " + l.Title})
	}
	return cases
}

func printRegression(w io.Writer, dir string, results []regress.Result, format string) (int, error) {
	var lines []regressionLine
	counts := map[string]int{}
	for _, r := range results {
		l := regressionLine{Rule: rel(dir, r.RulePath), RuleID: r.RuleID, Title: r.Title, Test: r.Name,
			Sample: rel(dir, r.EvtxPath), Source: r.Source, Events: r.Events, Hits: r.Hits,
			Want: max(r.MatchCount, 1), Status: "fail", Reason: r.Reason, path: r.RulePath}
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
		err = writeJUnit(w, "sigma-regression", regressionCases(dir, lines))
	case "github":
		err = writeGitHub(w, regressionCases(dir, lines), fmt.Sprintf("%d passed, %d failed, %d skipped", counts["pass"], counts["fail"], counts["skip"]))
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
