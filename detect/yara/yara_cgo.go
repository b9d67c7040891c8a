//go:build cgo && !noyara

package yara

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
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

// Warnings are libyara's compiler warnings ("file:line: text").
func (r *Rules) Warnings() []string { return r.warnings }

// Compile compiles the rule files found under paths (files or directories,
// see RuleFiles) into one rule set in the default namespace, with the
// externals of ExternalNames defined as "". A file that fails to compile
// (syntax, unknown module or identifier, a rule name that an earlier file
// already used, …) is reported as a *FileError and left out; the others
// compile. The returned Rules is nil only when nothing compiled.
func Compile(paths []string, opts CompileOptions) (*Rules, []error) {
	files, errs := RuleFiles(paths)
	roots := opts.IncludeRoots
	if roots == nil {
		roots = paths
	}
	inc := newIncluder(roots)
	good := files
	for {
		c, err := newCompiler(opts)
		if err != nil {
			return nil, append(errs, err)
		}
		c.SetIncludeCallback(inc.include)
		bad, ferr := addFiles(c, good, inc)
		if ferr != nil {
			errs = append(errs, ferr)
		}
		if bad < 0 {
			r, err := finish(c, good)
			if err != nil {
				errs = append(errs, err)
			}
			return r, errs
		}
		// A failed add leaves the compiler unusable: start again without
		// the file (every earlier file compiled fine).
		c.Destroy()
		good = append(good[:bad:bad], good[bad+1:]...)
	}
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
		inc.refused = nil
		err = c.AddFile(fh, "")
		fh.Close()
		if err != nil {
			return i, compileError(f, c, err, inc.refused)
		}
	}
	return -1, nil
}

// compileError names the file and line of a compile error; refused is
// why an include was refused, when one was (libyara only says it could
// not open it).
func compileError(file string, c *yr.Compiler, err, refused error) *FileError {
	fe := &FileError{File: file}
	for _, m := range c.Errors {
		if fe.Line == 0 {
			fe.Line = m.Line
		}
		fe.Messages = append(fe.Messages, m.Text)
	}
	if refused != nil {
		fe.Messages = append(fe.Messages, refused.Error())
	}
	if len(fe.Messages) == 0 {
		fe.Messages = []string{err.Error()}
	}
	return fe
}

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
