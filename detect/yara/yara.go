// Package yara compiles YARA rule sets and scans files and buffers with
// them through libyara (github.com/hillu/go-yara/v4 against libyara 4.2).
//
// Builds without cgo, or with the noyara tag, get a stub whose Compile
// reports ErrCompiledOut; Available tells which one was built.
//
// Concurrency: *Rules is immutable once compiled. A *Scanner runs at most
// Workers scans at a time (each on its own libyara scanner) and is safe for
// concurrent use; callers beyond Workers wait for a free slot or for their
// context.
package yara

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// ErrCompiledOut is returned by every entry point of a build without YARA.
var ErrCompiledOut = errors.New("YARA compiled out (built without cgo or with the noyara tag)")

// ErrTimeout marks a scan stopped by ScannerOptions.Timeout; the matches
// found before the deadline are still returned.
var ErrTimeout = errors.New("yara: scan timed out")

// ErrTooLarge marks a file over ScannerOptions.MaxFileBytes; it is not scanned.
var ErrTooLarge = errors.New("yara: file over the size limit")

// ExternalNames are the external variables every rule set is compiled with
// (LOKI's and signature-base's convention); all are strings.
var ExternalNames = []string{"filename", "filepath", "extension", "filetype", "owner"}

// Externals are the per-scan values of ExternalNames.
type Externals struct {
	Filename  string // base name ("evil.exe")
	Filepath  string // directory ("C:\\Users\\x"), as LOKI defines it
	Extension string // lower-case, with the dot (".exe")
	Filetype  string // from magic bytes: "EXE", "ELF", "PDF", … (see FileType)
	Owner     string // file owner when known ("" off Windows)
}

func (e Externals) values() [5]string {
	return [5]string{e.Filename, e.Filepath, e.Extension, e.Filetype, e.Owner}
}

// ExternalsFor derives the externals of a file from its path as the event
// spells it (Windows paths are split on '\', others on '/') and its first
// bytes.
func ExternalsFor(path string, head []byte, owner string) Externals {
	sep := "/"
	if strings.Contains(path, `\`) {
		sep = `\`
	}
	dir, name := "", path
	if i := strings.LastIndex(path, sep); i >= 0 {
		dir, name = path[:i], path[i+1:]
	}
	ext := ""
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		ext = strings.ToLower(name[i:])
	}
	return Externals{Filename: name, Filepath: dir, Extension: ext, Filetype: FileType(head), Owner: owner}
}

// fileMagic is the subset of LOKI's file-type signatures that the
// signature-base rules compare filetype against.
var fileMagic = []struct {
	magic []byte
	name  string
}{
	{[]byte("MZ"), "EXE"},
	{[]byte("\x7fELF"), "ELF"},
	{[]byte("\xfe\xed\xfa\xce"), "MACH-O"},
	{[]byte("\xfe\xed\xfa\xcf"), "MACH-O"},
	{[]byte("\xce\xfa\xed\xfe"), "MACH-O"},
	{[]byte("\xcf\xfa\xed\xfe"), "MACH-O"},
	{[]byte("%PDF"), "PDF"},
	{[]byte("GIF8"), "GIF"},
	{[]byte("{\\rt"), "RTF"},
	{[]byte("MDMP"), "MDMP"},
	{[]byte("PK\x03\x04"), "ZIP"},
	{[]byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"), "MS-OFFICE"},
	{[]byte("ElfFile\x00"), "EVTX"},
}

// FileType names a file type from its first bytes, "" when unknown.
func FileType(head []byte) string {
	for _, m := range fileMagic {
		if bytes.HasPrefix(head, m.magic) {
			return m.name
		}
	}
	return ""
}

// Match is one rule that matched.
type Match struct {
	Rule      string
	Namespace string
	Tags      []string
	Meta      []Meta
	Strings   []StringMatch // capped by ScannerOptions.MaxStrings
}

// Meta is one metadata entry of a rule, in declaration order.
type Meta struct {
	Key   string
	Value any // string, int64 or bool
}

// StringMatch is one string of a rule found in the data.
type StringMatch struct {
	Name   string // "$s1"
	Offset uint64
	Data   []byte // the matched bytes, capped at ScannerOptions.SnippetBytes
}

// CompileOptions tune Compile.
type CompileOptions struct {
	// Externals are extra external variables (name → string, int64, bool
	// or float64) beyond ExternalNames, which are always defined as "".
	Externals map[string]any
	// IncludeRoots are the directories (or files: their directory) that
	// include statements may read from; nil: the paths given to Compile.
	// A rule file cannot read files outside the rules being loaded.
	IncludeRoots []string
}

// FileError is a rule file that did not compile; the others still do.
type FileError struct {
	File     string
	Line     int
	Messages []string
}

func (e *FileError) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc = fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	return fmt.Sprintf("yara: %s: %s", loc, strings.Join(e.Messages, "; "))
}

// FileCheck is the verdict of one rule file in CompileChecked.
type FileCheck struct {
	File  string
	Rules []string // rules the file defines, with those of its includes, in order
	// Includes are the files it included (resolved paths).
	Includes []string
	// Err is a *FileError when the file did not compile on its own or
	// with the others; it is then left out.
	Err error
	// Note says why a file that compiled is not in the combined set (an
	// index file whose rules other files define).
	Note string
}

// ScannerOptions tune a Scanner.
type ScannerOptions struct {
	Workers      int           // concurrent scans (libyara scanners); default 1
	Timeout      time.Duration // per scan; libyara counts whole seconds (rounded up); default 10s
	MaxFileBytes int64         // ScanFile refuses larger files with ErrTooLarge; 0 = no limit
	MaxStrings   int           // string matches kept per rule; default 8, <0 = none
	SnippetBytes int           // bytes kept per string match; default 80
}

func (o ScannerOptions) withDefaults() ScannerOptions {
	if o.Workers <= 0 {
		o.Workers = 1
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.MaxStrings == 0 {
		o.MaxStrings = 8
	}
	if o.SnippetBytes <= 0 {
		o.SnippetBytes = 80
	}
	return o
}

// RuleFiles expands files and directories into the rule files to compile:
// directories are searched recursively for *.yar and *.yara in lexical
// order, paths in the order given, so that rule order (and so match order)
// is stable.
func RuleFiles(paths []string) ([]string, []error) {
	var files []string
	var errs []error
	seen := map[string]bool{}
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("yara: %w", err))
			continue
		}
		if !st.IsDir() {
			if !seen[p] {
				seen[p] = true
				files = append(files, p)
			}
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				errs = append(errs, fmt.Errorf("yara: %w", err))
				return nil
			}
			ext := strings.ToLower(filepath.Ext(path))
			if !d.IsDir() && (ext == ".yar" || ext == ".yara") && !seen[path] {
				seen[path] = true
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("yara: %s: %w", p, err))
		}
	}
	return files, errs
}

// readCapped reads r to its end, failing with ErrTooLarge past max bytes
// (max ≤ 0: no limit).
func readCapped(r io.Reader, max int64) ([]byte, error) {
	if max <= 0 {
		return io.ReadAll(r)
	}
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, ErrTooLarge
	}
	return data, nil
}
