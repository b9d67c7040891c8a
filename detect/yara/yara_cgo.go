//go:build cgo && !noyara

package yara

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	yr "github.com/hillu/go-yara/v4"
)

// Available reports whether this build scans with libyara.
const Available = true

// yrScanTimeout is libyara's ERROR_SCAN_TIMEOUT (yara/error.h).
const yrScanTimeout = 26

// Rules is a compiled rule set; immutable and safe for concurrent use.
type Rules struct {
	rules    *yr.Rules
	files    []string
	names    []string
	warnings []string
}

// Files lists the rule files compiled in, in compile order.
func (r *Rules) Files() []string { return r.files }

// NumRules is the number of rules compiled.
func (r *Rules) NumRules() int { return len(r.names) }

// Names lists the rule identifiers in rule order.
func (r *Rules) Names() []string { return r.names }

// Close frees the compiled rules; r must not be used afterwards (nor a
// Scanner over it).
func (r *Rules) Close() {
	if r != nil && r.rules != nil {
		r.rules.Destroy()
		r.rules = nil
	}
}

// Warnings are libyara's compiler warnings ("file:line: text").
func (r *Rules) Warnings() []string { return r.warnings }

// Compile compiles the rule files found under paths (files or directories,
// see RuleFiles) into one rule set in the default namespace, with the
// externals of ExternalNames defined as "". A file that fails to compile
// (syntax, unknown module or identifier, a rule name that an earlier file
// already used, …) is reported as a *FileError and left out; the others
// compile. The returned Rules is nil only when nothing compiled.
func Compile(paths []string, opts CompileOptions) (*Rules, []error) {
	r, _, errs := CompileChecked(paths, opts)
	return r, errs
}

// CompileChecked is Compile that also returns the verdict of every file.
//
// Each file is compiled once on its own (the per-file check, which names
// its rules and its errors; its compiled rules are freed at once, so
// memory stays that of one file), then the files that passed are compiled
// once together. A rule name that two files define is found from the
// per-file names before that, so a bad file never restarts the compile
// of the files before it: loading N files compiles about 2N files, not N².
// An index file (one that includes files also being loaded) whose rules
// all come from those files is left out of the combined compile, with a
// note, instead of failing on every rule it repeats.
func CompileChecked(paths []string, opts CompileOptions) (*Rules, []FileCheck, []error) {
	files, errs := RuleFiles(paths)
	roots := opts.IncludeRoots
	if roots == nil {
		roots = paths
	}
	inc := newIncluder(roots)
	checks := make([]FileCheck, len(files))
	for i, f := range files {
		checks[i] = checkFile(f, opts, inc)
		if checks[i].Err != nil && errors.Is(checks[i].Err, errNoCompiler) {
			return nil, checks, append(errs, checks[i].Err)
		}
	}
	good := pickCombined(checks)
	for _, c := range checks {
		if c.Err != nil {
			errs = append(errs, c.Err)
		}
	}
	for {
		c, err := newCompiler(opts)
		if err != nil {
			return nil, checks, append(errs, err)
		}
		c.SetIncludeCallback(inc.include)
		names := make([]string, len(good))
		for i, g := range good {
			names[i] = checks[g].File
		}
		bad, ferr := addFiles(c, names, inc)
		if bad < 0 {
			r, err := finish(c, names)
			if err != nil {
				errs = append(errs, err)
			}
			return r, checks, errs
		}
		// Not expected once every file compiled alone and no name
		// repeats, but libyara may still refuse a combination: drop the
		// file and compile the rest again (once per such file).
		c.Destroy()
		checks[good[bad]].Err = ferr
		errs = append(errs, ferr)
		good = append(good[:bad:bad], good[bad+1:]...)
	}
}

// compileCalls counts the rule files handed to a libyara compiler; tests
// check that loading stays linear in the number of files.
var compileCalls atomic.Int64

var errNoCompiler = errors.New("yara: cannot create a compiler")

// checkFile compiles one file alone and keeps only its rule names.
func checkFile(file string, opts CompileOptions, inc *includer) FileCheck {
	fc := FileCheck{File: file}
	c, err := newCompiler(opts)
	if err != nil {
		fc.Err = fmt.Errorf("%w: %w", errNoCompiler, err)
		return fc
	}
	defer c.Destroy()
	c.SetIncludeCallback(inc.include)
	if _, ferr := addFiles(c, []string{file}, inc); ferr != nil {
		fc.Err = ferr
		return fc
	}
	fc.Includes = inc.included
	rules, err := c.GetRules()
	if err != nil {
		fc.Err = &FileError{File: file, Messages: []string{err.Error()}}
		return fc
	}
	for _, r := range rules.GetRules() {
		fc.Rules = append(fc.Rules, r.Identifier())
	}
	rules.Destroy() // libyara memory: freed now, not when a GC happens to run
	return fc
}

// ruleLine is the line of the file declaring rule name, 0 when the rule
// is not declared in the file itself (an include).
func ruleLine(file, name string) int {
	b, err := os.ReadFile(file)
	if err != nil {
		return 0
	}
	re := regexp.MustCompile(`(?m)^[ \t]*(?:(?:private|global)[ \t]+)*rule[ \t]+` + regexp.QuoteMeta(name) + `\b`)
	loc := re.FindIndex(b)
	if loc == nil {
		return 0
	}
	return bytes.Count(b[:loc[0]], []byte("\n")) + 1
}

// pickCombined chooses the files of the combined compile (indexes into
// checks, in order): every file that compiled alone, except a file
// defining a rule name that an earlier file defines (an error naming
// both) and an index file whose rules all come from other files (a note).
func pickCombined(checks []FileCheck) []int {
	listed := map[string]bool{}
	for _, c := range checks {
		if real, err := realPath(c.File); err == nil {
			listed[real] = true
		}
	}
	isIndex := func(c FileCheck) bool {
		for _, f := range c.Includes {
			if listed[f] {
				return true
			}
		}
		return false
	}
	owner := map[string]string{} // rule name → file defining it
	keep := make([]bool, len(checks))
	claim := func(i int) {
		c := &checks[i]
		for _, n := range c.Rules {
			if o, ok := owner[n]; ok {
				c.Err = &FileError{File: c.File, Line: ruleLine(c.File, n),
					Messages: []string{fmt.Sprintf("duplicated identifier %q (also defined in %s)", n, o)}}
				return
			}
		}
		for _, n := range c.Rules {
			owner[n] = c.File
		}
		keep[i] = true
	}
	// Plain files first, so that a file's rules are owned by the file,
	// not by an index that lists it and sorts before it.
	for i, c := range checks {
		if c.Err == nil && !isIndex(c) {
			claim(i)
		}
	}
	for i, c := range checks {
		if c.Err != nil || !isIndex(c) {
			continue
		}
		covered := true
		for _, n := range c.Rules {
			if _, ok := owner[n]; !ok {
				covered = false
				break
			}
		}
		if covered {
			checks[i].Note = fmt.Sprintf("index file: its %d rules are loaded from the files it includes", len(c.Rules))
			continue
		}
		claim(i)
	}
	var good []int
	for i, k := range keep {
		if k {
			good = append(good, i)
		}
	}
	return good
}

func newCompiler(opts CompileOptions) (*yr.Compiler, error) {
	c, err := yr.NewCompiler()
	if err != nil {
		return nil, fmt.Errorf("yara: new compiler: %w", err)
	}
	for _, n := range ExternalNames {
		if err := c.DefineVariable(n, ""); err != nil {
			return nil, fmt.Errorf("yara: define external %s: %w", n, err)
		}
	}
	for n, v := range opts.Externals {
		if err := c.DefineVariable(n, v); err != nil {
			return nil, fmt.Errorf("yara: define external %s: %w", n, err)
		}
	}
	return c, nil
}

// addFiles adds files in order; on the first failure it returns the
// index of the failing file and its error.
func addFiles(c *yr.Compiler, files []string, inc *includer) (int, error) {
	for i, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			return i, &FileError{File: f, Messages: []string{err.Error()}}
		}
		inc.refused, inc.nRefused, inc.included = nil, 0, nil
		compileCalls.Add(1)
		err = c.AddFile(fh, "")
		fh.Close()
		if err != nil {
			return i, compileError(f, c, err, inc)
		}
	}
	return -1, nil
}

// compileError names the file and line of a compile error, once per file:
// repeated messages and failed includes are counted, not repeated; the
// includer says why an include was refused, when one was (libyara only
// says it could not open it).
func compileError(file string, c *yr.Compiler, err error, inc *includer) *FileError {
	fe := &FileError{File: file}
	seen := map[string]bool{}
	includeErrs := 0
	for _, m := range c.Errors {
		if fe.Line == 0 {
			fe.Line = m.Line
		}
		// An index whose includes are missing gets one line, not one per
		// include.
		if strings.HasPrefix(m.Text, "can't open include file") {
			includeErrs++
			if includeErrs > 1 {
				continue
			}
		}
		if !seen[m.Text] {
			seen[m.Text] = true
			fe.Messages = append(fe.Messages, m.Text)
		}
	}
	if includeErrs > 1 {
		fe.Messages = append(fe.Messages, fmt.Sprintf("and %d more include files could not be opened", includeErrs-1))
	}
	if inc.refused != nil {
		msg := inc.refused.Error()
		if inc.nRefused > 1 {
			msg += fmt.Sprintf(" (and %d more includes refused)", inc.nRefused-1)
		}
		fe.Messages = append(fe.Messages, msg)
	}
	if len(fe.Messages) > maxFileMessages {
		n := len(fe.Messages) - maxFileMessages
		fe.Messages = append(fe.Messages[:maxFileMessages], fmt.Sprintf("and %d more errors", n))
	}
	if len(fe.Messages) == 0 {
		fe.Messages = []string{err.Error()}
	}
	return fe
}

// maxFileMessages caps the messages of one file's error.
const maxFileMessages = 5

func finish(c *yr.Compiler, files []string) (*Rules, error) {
	defer c.Destroy()
	r := &Rules{files: files}
	for _, w := range c.Warnings {
		r.warnings = append(r.warnings, fmt.Sprintf("%s:%d: %s", w.Filename, w.Line, w.Text))
	}
	rules, err := c.GetRules()
	if err != nil {
		return nil, fmt.Errorf("yara: get rules: %w", err)
	}
	r.rules = rules
	for _, rule := range rules.GetRules() {
		r.names = append(r.names, rule.Identifier())
	}
	return r, nil
}

// Scanner scans with a rule set, at most Workers scans at a time.
type Scanner struct {
	rules *Rules
	opts  ScannerOptions
	slots chan *yr.Scanner
}

// NewScanner prepares opts.Workers libyara scanners over r.
func NewScanner(r *Rules, opts ScannerOptions) (*Scanner, error) {
	if r == nil || r.rules == nil {
		return nil, errors.New("yara: no rules")
	}
	opts = opts.withDefaults()
	s := &Scanner{rules: r, opts: opts, slots: make(chan *yr.Scanner, opts.Workers)}
	timeout := (opts.Timeout + time.Second - 1) / time.Second * time.Second
	for i := 0; i < opts.Workers; i++ {
		ys, err := yr.NewScanner(r.rules)
		if err != nil {
			s.opts.Workers = i
			s.Close()
			return nil, fmt.Errorf("yara: new scanner: %w", err)
		}
		ys.SetTimeout(timeout)
		s.slots <- ys
	}
	return s, nil
}

// Close waits for scans in progress and releases the libyara scanners.
// The Scanner must not be used afterwards.
func (s *Scanner) Close() {
	for i := 0; i < s.opts.Workers; i++ {
		(<-s.slots).Destroy()
	}
}

// ScanBytes scans a buffer. It waits for a free worker or ctx.
func (s *Scanner) ScanBytes(ctx context.Context, data []byte, ext Externals) ([]Match, error) {
	var ys *yr.Scanner
	select {
	case ys = <-s.slots:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { s.slots <- ys }()
	for i, v := range ext.values() {
		if err := ys.DefineVariable(ExternalNames[i], v); err != nil {
			return nil, fmt.Errorf("yara: external %s: %w", ExternalNames[i], err)
		}
	}
	col := &collector{opts: s.opts}
	ys.SetCallback(col)
	err := ys.ScanMem(data)
	ys.SetCallback(nil)
	var ye yr.Error
	if errors.As(err, &ye) && ye == yr.Error(yrScanTimeout) {
		return col.matches, ErrTimeout
	}
	if err != nil {
		return col.matches, fmt.Errorf("yara: scan: %w", err)
	}
	return col.matches, nil
}

// ScanFile reads and scans a local file (size-checked first). Empty
// externals are derived from the path and the file's first bytes.
func (s *Scanner) ScanFile(ctx context.Context, path string, ext Externals) ([]Match, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("yara: %w", err)
	}
	defer f.Close()
	return s.ScanReader(ctx, f, path, ext)
}

// ScanReader reads r to its end (refusing more than MaxFileBytes) and scans
// the bytes; name is the path used for derived externals and errors.
func (s *Scanner) ScanReader(ctx context.Context, r io.Reader, name string, ext Externals) ([]Match, error) {
	data, err := readCapped(r, s.opts.MaxFileBytes)
	if err != nil {
		return nil, fmt.Errorf("yara: %s: %w", name, err)
	}
	if ext == (Externals{}) {
		ext = ExternalsFor(name, data, "")
	}
	return s.ScanBytes(ctx, data, ext)
}

// collector gathers matches during one scan.
type collector struct {
	opts    ScannerOptions
	matches []Match
}

func (c *collector) RuleMatching(sc *yr.ScanContext, r *yr.Rule) (bool, error) {
	m := Match{Rule: r.Identifier(), Namespace: r.Namespace(), Tags: r.Tags()}
	for _, meta := range r.Metas() {
		v := meta.Value
		if n, ok := v.(int); ok {
			v = int64(n)
		}
		m.Meta = append(m.Meta, Meta{Key: meta.Identifier, Value: v})
	}
	if c.opts.MaxStrings > 0 {
	strings:
		for _, str := range r.Strings() {
			for _, sm := range str.Matches(sc) {
				if len(m.Strings) >= c.opts.MaxStrings {
					break strings
				}
				data := sm.Data()
				if len(data) > c.opts.SnippetBytes {
					data = data[:c.opts.SnippetBytes]
				}
				m.Strings = append(m.Strings, StringMatch{Name: str.Identifier(), Offset: uint64(sm.Base() + sm.Offset()), Data: data})
			}
		}
	}
	c.matches = append(c.matches, m)
	return false, nil
}
