//go:build cgo && !noyara

package yara

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// includer resolves YARA include statements for the compiler: a relative
// name against the directory of the file that includes it, and only to
// files inside the roots (the rules being loaded), so that a rule file
// cannot pull in (and echo in error messages) any file of the machine.
type includer struct {
	roots []string // absolute, symlinks resolved
	// real maps an include name, as libyara later reports it as the
	// including file, to the file it was resolved to (nested includes).
	real     map[string]string
	refused  error // why the first refused include of a file was refused
	nRefused int   // includes refused in the file
	// included are the files read for includes since the caller reset it.
	included []string
}

func newIncluder(roots []string) *includer {
	in := &includer{real: map[string]string{}}
	for _, r := range roots {
		if st, err := os.Stat(r); err == nil && !st.IsDir() {
			r = filepath.Dir(r)
		}
		if abs, err := realPath(r); err == nil {
			in.roots = append(in.roots, abs)
		}
	}
	return in
}

func realPath(p string) (string, error) {
	p, err := filepath.EvalSymlinks(p)
	if err != nil {
		return "", err
	}
	return filepath.Abs(p)
}

// include is the compiler's include callback: the content of the file, or
// nil (libyara then fails the include) with the reason kept in refused.
func (in *includer) include(name, from, _ string) []byte {
	b, err := in.read(name, from)
	if err != nil {
		if in.refused == nil {
			in.refused = err
		}
		in.nRefused++
		return nil
	}
	return b
}

func (in *includer) read(name, from string) ([]byte, error) {
	if r, ok := in.real[from]; ok {
		from = r
	}
	p := name
	if !filepath.IsAbs(p) {
		p = filepath.Join(filepath.Dir(from), p)
	}
	real, err := realPath(p)
	if err != nil {
		return nil, fmt.Errorf("include %q: %w", name, err)
	}
	if !in.inside(real) {
		return nil, fmt.Errorf("include %q is outside the rules being loaded (%s)", name, strings.Join(in.roots, ", "))
	}
	b, err := os.ReadFile(real)
	if err != nil {
		return nil, fmt.Errorf("include %q: %w", name, err)
	}
	in.real[name] = real
	in.included = append(in.included, real)
	if b == nil {
		b = []byte{} // nil means failure to libyara
	}
	return b, nil
}

func (in *includer) inside(p string) bool {
	for _, r := range in.roots {
		rel, err := filepath.Rel(r, p)
		if err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
			return true
		}
	}
	return false
}
