package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/edr-lab/edr/detect/sigma"
	"github.com/edr-lab/edr/internal/termsafe"
	"github.com/urfave/cli/v2"
)

// ruleReport is one rule's verdict in `edr rules validate`.
type ruleReport struct {
	Engine string `json:"engine"`
	Path   string `json:"path"`
	Doc    int    `json:"doc,omitempty"`
	Line   int    `json:"line,omitempty"`
	ID     string `json:"id"`
	Title  string `json:"title"`
	Status string `json:"status"` // compiled, unsupported, error; YARA files: empty (no rule), index (rules loaded from its includes)
	Reason string `json:"reason"`
}

// ruleValidator validates the rules of one engine found under paths (files
// or directories; each validator picks the files it understands). YARA and
// IOC validation plug in by appending to ruleValidators from their own file
// (and may add flags to rulesValidateFlags).
type ruleValidator struct {
	engine   string
	validate func(paths []string) []ruleReport
	// validateCtx, when set, is used instead and reads the command's flags
	validateCtx func(c *cli.Context, paths []string) ([]ruleReport, error)
}

var ruleValidators = []ruleValidator{{engine: "sigma", validateCtx: validateSigma}}

// placeholdersFlag is shared by the commands that load Sigma rules.
var placeholdersFlag = &cli.StringFlag{Name: "placeholders", Usage: "YAML `FILE` with the values of %name% placeholders (expand modifier; sets scanner.sigma_placeholders_path)"}

// rulesValidateFlags are the flags of `edr rules validate`.
var rulesValidateFlags = append([]cli.Flag{
	&cli.BoolFlag{Name: "json", Usage: "print one JSON object per rule"},
	placeholdersFlag,
}, configFlags()...)

// sigmaOptions reads the Sigma load options from the configuration
// (scanner.sigma_security_audit, scanner.sigma_placeholders_path) with
// --placeholders setting the latter.
func sigmaOptions(c *cli.Context) (sigma.Options, error) {
	cfg, err := loadConfig(c, map[string]string{"placeholders": "scanner.sigma_placeholders_path"})
	if err != nil {
		return sigma.Options{}, exitf(2, "%v", err)
	}
	o, err := sigmaConfig(cfg)
	if err != nil {
		return o, exitf(2, "%v", err)
	}
	return o, nil
}

// defaultRulePaths are validated when no PATH is given.
var defaultRulePaths = []string{"rules"}

func validateSigma(c *cli.Context, paths []string) ([]ruleReport, error) {
	opts, err := sigmaOptions(c)
	if err != nil {
		return nil, err
	}
	var sigmaPaths []string
	for _, p := range paths { // a YARA file named directly is YARA's, never YAML
		if !isYARAFile(p) {
			sigmaPaths = append(sigmaPaths, p)
		}
	}
	if len(sigmaPaths) == 0 {
		return nil, nil
	}
	rs, errs := sigma.Load(sigmaPaths, opts)
	var out []ruleReport
	for _, r := range rs.Rules() {
		rep := ruleReport{Engine: "sigma", Path: r.Path, Doc: r.Doc, ID: r.ID, Title: r.Title, Status: "compiled"}
		if r.Unsupported != "" {
			rep.Status, rep.Reason = "unsupported", "logsource: "+r.Unsupported
		}
		out = append(out, rep)
	}
	for _, e := range errs {
		out = append(out, ruleReport{Engine: "sigma", Path: e.Path, Doc: e.Doc, Line: e.Line, ID: e.RuleID,
			Title: e.Title, Status: "error", Reason: e.Reason()})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Path != out[j].Path {
			return out[i].Path < out[j].Path
		}
		return out[i].Doc < out[j].Doc
	})
	return out, nil
}

func init() {
	register(&cli.Command{
		Name:  "rules",
		Usage: "work with detection rules",
		Subcommands: []*cli.Command{{
			Name:      "validate",
			Usage:     "load and compile rules; report each as compiled, unsupported (logsource) or error",
			ArgsUsage: "[PATH…] (default: rules)",
			Description: "Exit codes: 0 every rule compiled or is unsupported, 1 some rules have errors (listed),\n" +
				"2 a path does not exist or the configuration is invalid.",
			Flags: rulesValidateFlags,
			Action: func(c *cli.Context) error {
				paths := c.Args().Slice()
				if len(paths) == 0 {
					paths = defaultRulePaths
				}
				for _, p := range paths {
					if _, err := os.Stat(p); err != nil {
						return exitf(2, "rules validate: %v", err)
					}
				}
				var reports []ruleReport
				for _, v := range ruleValidators {
					if v.validateCtx == nil {
						reports = append(reports, v.validate(paths)...)
						continue
					}
					r, err := v.validateCtx(c, paths)
					if err != nil {
						return err
					}
					reports = append(reports, r...)
				}
				errs, err := printRuleReports(c.App.Writer, reports, c.Bool("json"))
				if err != nil {
					return exitf(2, "rules validate: %v", err)
				}
				if errs > 0 {
					return exitf(1, "")
				}
				return nil
			},
		}},
	})
}

func printRuleReports(w io.Writer, reports []ruleReport, asJSON bool) (errors int, err error) {
	counts := map[string]int{}
	enc := json.NewEncoder(w)
	for _, r := range reports {
		counts[r.Status]++
		if asJSON {
			if err := enc.Encode(r); err != nil {
				return 0, err
			}
			continue
		}
		loc := r.Path
		if r.Line > 0 {
			loc = fmt.Sprintf("%s:%d", r.Path, r.Line)
		}
		line := fmt.Sprintf("%-11s %s %s %q", r.Status, loc, orDash(r.ID), r.Title)
		if r.Reason != "" {
			line += ": " + r.Reason
		}
		line = termsafe.Text(line) // rule files are untrusted
		if _, err := fmt.Fprintln(w, line); err != nil {
			return 0, err
		}
	}
	if !asJSON {
		files := ""
		if n := counts["empty"] + counts["index"]; n > 0 {
			files = fmt.Sprintf(" (and %d files without rules of their own: %d empty, %d index)", n, counts["empty"], counts["index"])
		}
		rules := len(reports) - counts["empty"] - counts["index"]
		_, err = fmt.Fprintf(w, "%d rules: %d compiled, %d unsupported, %d errors%s\n",
			rules, counts["compiled"], counts["unsupported"], counts["error"], files)
	}
	return counts["error"], err
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
