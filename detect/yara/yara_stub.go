//go:build !cgo || noyara

package yara

import (
	"context"
	"io"
)

// Available reports whether this build scans with libyara.
const Available = false

// Rules is never produced by this build.
type Rules struct{}

// Files lists nothing: YARA is compiled out.
func (r *Rules) Files() []string { return nil }

// NumRules is 0: YARA is compiled out.
func (r *Rules) NumRules() int { return 0 }

// Names lists nothing: YARA is compiled out.
func (r *Rules) Names() []string { return nil }

// Warnings lists nothing: YARA is compiled out.
func (r *Rules) Warnings() []string { return nil }

// Compile reports ErrCompiledOut.
func Compile(paths []string, opts CompileOptions) (*Rules, []error) {
	return nil, []error{ErrCompiledOut}
}

// CompileChecked reports ErrCompiledOut.
func CompileChecked(paths []string, opts CompileOptions) (*Rules, []FileCheck, []error) {
	return nil, nil, []error{ErrCompiledOut}
}

// Close does nothing.
func (r *Rules) Close() {}

// Scanner is never produced by this build.
type Scanner struct{}

// NewScanner reports ErrCompiledOut.
func NewScanner(r *Rules, opts ScannerOptions) (*Scanner, error) { return nil, ErrCompiledOut }

// Close does nothing.
func (s *Scanner) Close() {}

// ScanBytes reports ErrCompiledOut.
func (s *Scanner) ScanBytes(ctx context.Context, data []byte, ext Externals) ([]Match, error) {
	return nil, ErrCompiledOut
}

// ScanFile reports ErrCompiledOut.
func (s *Scanner) ScanFile(ctx context.Context, path string, ext Externals) ([]Match, error) {
	return nil, ErrCompiledOut
}

// ScanReader reports ErrCompiledOut.
func (s *Scanner) ScanReader(ctx context.Context, r io.Reader, name string, ext Externals) ([]Match, error) {
	return nil, ErrCompiledOut
}

// LibraryVersion is "" in builds without YARA.
func LibraryVersion() string { return "" }
