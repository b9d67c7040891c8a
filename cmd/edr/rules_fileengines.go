package main

import (
	"errors"
	"io/fs"
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

// validateYARA compiles each rule file on its own (so every rule is
// reported with its file), then all together, as edr loads them, which
// also catches a rule name that two files define.
func validateYARA(paths []string) []ruleReport {
	found, errs := yara.RuleFiles(paths)
	var files []string
	for _, f := range found { // explicit files of other engines are theirs
		if ext := strings.ToLower(filepath.Ext(f)); ext == ".yar" || ext == ".yara" {
			files = append(files, f)
		}
	}
	var out []ruleReport
	for _, e := range errs {
		out = append(out, ruleReport{Engine: "yara", Status: "error", Reason: e.Error()})
	}
	// includes may read anywhere in the trees being validated
	opts := yara.CompileOptions{IncludeRoots: paths}
	var compiled []string
	for _, f := range files {
		r, errs := yara.Compile([]string{f}, opts)
		if len(errs) > 0 {
			out = append(out, yaraErrorReport(f, errs[0]))
			continue
		}
		compiled = append(compiled, f)
		for _, name := range r.Names() {
			out = append(out, ruleReport{Engine: "yara", Path: f, ID: name, Title: name, Status: "compiled"})
		}
	}
	// Together, only the files that compiled alone: a file with its own
	// error is reported (and counted) once.
	if len(compiled) > 1 && yara.Available {
		_, errs := yara.Compile(compiled, opts)
		for _, e := range errs {
			var fe *yara.FileError
			if errors.As(e, &fe) {
				rep := yaraErrorReport(fe.File, e)
				rep.Reason = "with the other files: " + rep.Reason
				out = append(out, rep)
			}
		}
	}
	return out
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
