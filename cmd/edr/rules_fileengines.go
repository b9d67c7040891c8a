package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/edr-lab/edr/detect/ioc"
	"github.com/edr-lab/edr/detect/yara"
)

// YARA and IOC validation for `edr rules validate`.
func init() {
	ruleValidators = append(ruleValidators,
		ruleValidator{engine: "yara", validate: validateYARA},
		ruleValidator{engine: "ioc", validate: validateIOC})
}

// validateYARA checks each rule file on its own (so every rule is
// reported with its file), then compiles the good ones once together, as
// edr loads them, which also catches a rule name that two files define.
// Only one file's compiled rules are held at a time, and the combined set
// is freed before returning, so memory stays bounded on large sets.
func validateYARA(paths []string) []ruleReport {
	var yaraPaths []string
	for _, p := range paths { // explicit files of other engines are theirs
		if st, err := os.Stat(p); err == nil && !st.IsDir() && !isYARAFile(p) {
			continue
		}
		yaraPaths = append(yaraPaths, p)
	}
	if len(yaraPaths) == 0 {
		return nil
	}
	if !yara.Available {
		files, errs := yara.RuleFiles(yaraPaths)
		out := make([]ruleReport, 0, len(files)+len(errs))
		for _, e := range errs {
			out = append(out, yaraErrorReport("", e))
		}
		for _, f := range files {
			out = append(out, yaraErrorReport(f, yara.ErrCompiledOut))
		}
		return out
	}
	// includes may read anywhere in the trees being validated
	r, checks, errs := yara.CompileChecked(yaraPaths, yara.CompileOptions{IncludeRoots: paths})
	r.Close()
	var out []ruleReport
	for _, e := range errs {
		var fe *yara.FileError
		if !errors.As(e, &fe) { // file errors are reported with their file below
			out = append(out, yaraErrorReport("", e))
		}
	}
	for _, c := range checks {
		switch {
		case c.Err != nil && len(c.Rules) > 0: // compiled alone, not with the others
			rep := yaraErrorReport(c.File, c.Err)
			rep.Reason = "with the other files: " + rep.Reason
			out = append(out, rep)
		case c.Err != nil:
			out = append(out, yaraErrorReport(c.File, c.Err))
		case len(c.Rules) == 0:
			out = append(out, ruleReport{Engine: "yara", Path: c.File, Title: "(no rules)", Status: "empty", Reason: "the file defines no rule"})
		case c.Note != "":
			out = append(out, ruleReport{Engine: "yara", Path: c.File, Title: fmt.Sprintf("(%d rules)", len(c.Rules)), Status: "index", Reason: c.Note})
		default:
			for _, name := range c.Rules {
				out = append(out, ruleReport{Engine: "yara", Path: c.File, ID: name, Title: name, Status: "compiled"})
			}
		}
	}
	return out
}

// isYARAFile tells YARA rule files by their extension, as RuleFiles does
// in directories.
func isYARAFile(p string) bool {
	ext := strings.ToLower(filepath.Ext(p))
	return ext == ".yar" || ext == ".yara"
}

func yaraErrorReport(file string, err error) ruleReport {
	rep := ruleReport{Engine: "yara", Path: file, Status: "error", Reason: err.Error()}
	var fe *yara.FileError
	if errors.As(err, &fe) {
		rep.Line, rep.Reason = fe.Line, strings.Join(fe.Messages, "; ")
	}
	if errors.Is(err, yara.ErrCompiledOut) {
		rep.Status = "unsupported"
	}
	return rep
}

// iocListKinds maps the seed's IOC file names to their kind; other .txt
// files are read as LOKI lists when LOKI would (name contains hash,
// filename or c2) and are otherwise not IOC lists.
var iocListKinds = map[string]func(p *ioc.Paths, file string){
	"hashes.txt":      func(p *ioc.Paths, f string) { p.Hashes = f },
	"ips.txt":         func(p *ioc.Paths, f string) { p.IPs = f },
	"domains.txt":     func(p *ioc.Paths, f string) { p.Domains = f },
	"paths_regex.txt": func(p *ioc.Paths, f string) { p.PathsRegex = f },
}

// validateIOC loads every indicator list under paths, one file at a time:
// a list is one "rule" (compiled with its indicator count), each malformed
// line an error with its line number.
func validateIOC(paths []string) []ruleReport {
	var out []ruleReport
	for _, f := range iocFiles(paths) {
		var p ioc.Paths
		if set := iocListKinds[filepath.Base(f)]; set != nil {
			set(&p, f)
		} else {
			p.Loki = []string{f}
		}
		s, errs := ioc.Load(p, ioc.Options{})
		for _, e := range errs {
			rep := ruleReport{Engine: "ioc", Path: f, Status: "error", Reason: e.Error()}
			var le *ioc.LineError
			if errors.As(e, &le) {
				rep.Line, rep.Reason = le.Line, le.Err.Error()+": "+strconv.Quote(le.Text)
			}
			out = append(out, rep)
		}
		out = append(out, ruleReport{Engine: "ioc", Path: f, ID: filepath.Base(f),
			Title: strconv.Itoa(s.Len()) + " indicators", Status: "compiled"})
	}
	return out
}

// iocFiles finds indicator lists under paths: the seed's file names, and
// .txt files LOKI would read (name containing hash, filename or c2).
func iocFiles(paths []string) []string {
	var out []string
	for _, root := range paths {
		_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".txt") {
				return nil
			}
			base := filepath.Base(p)
			lower := strings.ToLower(base)
			lokiName := strings.Contains(lower, "hash") || strings.Contains(lower, "filename") || strings.Contains(lower, "c2")
			if iocListKinds[base] != nil || lokiName {
				out = append(out, p)
			}
			return nil
		})
	}
	return out
}
