package ioc

import (
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"github.com/edr-lab/edr/internal/fsutil"
)

// Load reads the configured indicator files. A malformed line is reported
// as a *LineError (file and line) and skipped; a missing or unreadable file
// is reported and the other files still load. File errors come first, then
// line errors in file and line order. The returned Set is never
// nil and is safe for concurrent use.
func Load(paths Paths, opts Options) (*Set, []error) {
	b := newBuilder(opts)
	var in []input
	add := func(path string, f format) {
		if path == "" {
			return
		}
		if len(in) >= 1<<16 {
			b.errs = append(b.errs, fmt.Errorf("ioc: %s: more than %d indicator files", path, 1<<16))
			return
		}
		data, err := fsutil.ReadFile(path)
		if err != nil {
			b.errs = append(b.errs, fmt.Errorf("ioc: %w", err))
			return
		}
		// data is never written again: the indicators are substrings of it,
		// so a large list costs one buffer, not a copy of it.
		in = append(in, input{path, unsafe.String(unsafe.SliceData(data), len(data)), f})
	}
	add(paths.Hashes, fmtHashes)
	add(paths.IPs, fmtIPs)
	add(paths.Domains, fmtDomains)
	add(paths.PathsRegex, fmtPaths)
	for _, p := range paths.Loki {
		f, ok := lokiFormat(p)
		if !ok {
			b.errs = append(b.errs, fmt.Errorf("ioc: %s: LOKI list kind unknown: the file name must contain \"hash\", \"filename\" or \"c2\"", p))
			continue
		}
		add(p, f)
	}
	b.presize(in)
	for _, x := range in {
		b.parse(x.path, x.data, x.f)
	}
	return b.finish()
}

// input is one indicator file read into memory.
type input struct {
	path, data string
	f          format
}

// presize sizes the indicator table and the hash sets from a quick count
// of the lines, so that a million indicators load without regrowing them.
func (b *builder) presize(in []input) {
	lines := 0
	var byLen [65]int
	for _, x := range in {
		lines += strings.Count(x.data, "\n") + 1
		if x.f != fmtHashes && x.f != fmtLokiHash {
			continue
		}
		for data := x.data; data != ""; {
			line, rest, _ := strings.Cut(data, "\n")
			data = rest
			v, _, _ := strings.Cut(line, ";")
			if n := len(strings.TrimSpace(v)); n < len(byLen) {
				byLen[n]++
			}
		}
	}
	b.set.ind = slices.Grow(b.set.ind, lines)
	if byLen[32]+byLen[40]+byLen[64] > 0 && b.set.hashes.len() == 0 {
		b.set.hashes = hashSet{md5: make(map[[16]byte]int32, byLen[32]), sha1: make(map[[20]byte]int32, byLen[40]),
			sha256: make(map[[32]byte]int32, byLen[64])}
	}
}

// lokiFormat decides a LOKI list's kind from its file name, as LOKI does.
func lokiFormat(path string) (format, bool) {
	name := strings.ToLower(filepath.Base(path))
	switch {
	case strings.Contains(name, "hash"):
		return fmtLokiHash, true
	case strings.Contains(name, "filename"):
		return fmtLokiFilename, true
	case strings.Contains(name, "c2"):
		return fmtLokiC2, true
	}
	return 0, false
}

// builder accumulates indicators; finish freezes them into a Set.
type builder struct {
	opts Options
	set  *Set
	errs []error
	pats []pathPattern
}

func newBuilder(opts Options) *builder {
	return &builder{opts: opts, set: &Set{
		hashes:  newHashSet(),
		ips:     newIPSet(),
		domains: newDomainSet(),
	}}
}

// parse adds every line of one file. Values are substrings of data, so a
// large list costs one copy of the file, not one string per line.
func (b *builder) parse(file, data string, f format) {
	b.set.files = append(b.set.files, file)
	fileIdx := uint16(len(b.set.files) - 1)
	data = strings.TrimPrefix(data, "\ufeff")
	section := ""
	for lineNo := 1; data != ""; lineNo++ {
		var line string
		if i := strings.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			line, data = data, ""
		}
		value, comment, isComment, skip := splitLine(line)
		if isComment && comment != "" {
			section = comment
		}
		if skip {
			continue
		}
		src := pos{file: fileIdx, line: uint32(lineNo)}
		if err := b.add(f, strings.TrimSpace(line), value, comment, section, src); err != nil {
			b.errs = append(b.errs, &LineError{File: file, Line: lineNo, Text: strings.TrimSpace(line), Err: err})
			b.set.stats.Errors++
		}
	}
}

func (b *builder) add(f format, line, value, comment, section string, src pos) error {
	if value == "" {
		return errEmptyValue
	}
	switch f {
	case fmtHashes:
		return b.addHash(value, comment, src)
	case fmtLokiHash:
		return b.addHash(value, lokiComment(comment, section), src)
	case fmtIPs:
		return b.addIP(value, comment, src)
	case fmtDomains:
		return b.addDomain(value, comment, src)
	case fmtPaths:
		return b.addPath(value, comment, "", true, src)
	case fmtLokiFilename:
		return b.addLokiFilename(line, section, src)
	case fmtLokiC2:
		return b.addLokiC2(value, comment, section, src)
	}
	return errors.New("unknown list format")
}

// pos is where a line is: file index and line number.
type pos struct {
	file uint16
	line uint32
}

func (b *builder) push(k Kind, value, comment string, src pos) int32 {
	b.set.ind = append(b.set.ind, indicator{kind: k, value: value, comment: comment, file: src.file, line: src.line, next: -1})
	return int32(len(b.set.ind) - 1)
}

// chain appends idx to the duplicate chain starting at head, keeping load
// order, so that every line of a duplicated indicator is reported.
func (b *builder) chain(head, idx int32) {
	for b.set.ind[head].next >= 0 {
		head = b.set.ind[head].next
	}
	b.set.ind[head].next = idx
	b.set.stats.Duplicates++
}

func (b *builder) addHash(value, comment string, src pos) error {
	var sum [32]byte
	k, norm, err := parseHash(value, &sum)
	if err != nil {
		return err
	}
	idx := b.push(k, norm, comment, src)
	if head, dup := b.set.hashes.insert(k, &sum, idx); dup {
		b.chain(head, idx)
	}
	switch k {
	case KindMD5:
		b.set.stats.MD5++
	case KindSHA1:
		b.set.stats.SHA1++
	default:
		b.set.stats.SHA256++
	}
	return nil
}

func (b *builder) addIP(value, comment string, src pos) error {
	p, exact, err := parseIPIndicator(value)
	if err != nil {
		return err
	}
	b.insertIP(p, exact, value, comment, src)
	return nil
}

func (b *builder) insertIP(p netip.Prefix, exact bool, value, comment string, src pos) {
	idx := b.push(KindIP, value, comment, src)
	if head, dup := b.set.ips.insert(p, exact, idx); dup {
		b.chain(head, idx)
	}
	if exact {
		b.set.stats.IPs++
	} else {
		b.set.stats.CIDRs++
	}
}

func (b *builder) addDomain(value, comment string, src pos) error {
	d, suffix, err := parseDomain(value)
	if err != nil {
		return err
	}
	b.insertDomain(d, suffix, value, comment, src)
	return nil
}

func (b *builder) insertDomain(d string, suffix bool, value, comment string, src pos) {
	idx := b.push(KindDomain, strings.ToLower(value), comment, src)
	if head, dup := b.set.domains.insert(d, suffix, idx); dup {
		b.chain(head, idx)
	}
	if suffix {
		b.set.stats.Suffixes++
	} else {
		b.set.stats.Domains++
	}
}

func (b *builder) addPath(expr, comment, fp string, foldCase bool, src pos) error {
	re, err := compilePath(expr, foldCase)
	if err != nil {
		return err
	}
	pat := pathPattern{re: re, expr: expr, foldCase: foldCase}
	if fp != "" {
		if pat.exclude, err = compilePath(fp, false); err != nil {
			return fmt.Errorf("false-positive regex: %w", err)
		}
	}
	pat.ind = b.push(KindPath, expr, comment, src)
	b.pats = append(b.pats, pat)
	b.set.stats.Regexes++
	return nil
}

// addLokiFilename adds "REGEX;SCORE[;FP-REGEX]"; indicators scored below
// Options.LokiMinScore are left out (not an error).
func (b *builder) addLokiFilename(line, section string, src pos) error {
	expr, score, fp, err := lokiFilename(line)
	if err != nil {
		return err
	}
	if expr == "" {
		return errEmptyValue
	}
	if score < b.opts.LokiMinScore {
		b.set.stats.BelowScore++
		return nil
	}
	comment := "score " + strconv.Itoa(score)
	if section != "" {
		comment = section + " (" + comment + ")"
	}
	return b.addPath(expr, comment, strings.TrimSpace(fp), false, src)
}

// lokiComment reads what follows a LOKI value: "SCORE;COMMENT" (newer
// lists), "SCORE", "COMMENT" or nothing; the section title stands in for a
// missing comment.
func lokiComment(comment, section string) string {
	score, rest, _ := strings.Cut(comment, ";")
	if _, err := strconv.Atoi(strings.TrimSpace(score)); err != nil {
		score, rest = "", comment
	}
	text := strings.TrimSpace(rest)
	if text == "" {
		text = section
	}
	if score = strings.TrimSpace(score); score != "" {
		text = strings.TrimSpace(text + " (score " + score + ")")
	}
	return text
}

// addLokiC2 adds a C2 server: an address, a range or a domain.
func (b *builder) addLokiC2(value, comment, section string, src pos) error {
	comment = lokiComment(comment, section)
	if p, exact, err := parseIPIndicator(value); err == nil {
		b.insertIP(p, exact, value, comment, src)
		return nil
	}
	return b.addDomain(value, comment, src)
}

func (b *builder) finish() (*Set, []error) {
	b.set.paths = buildPathSet(b.pats)
	if n := b.opts.PathCache; n >= 0 && len(b.pats) > 0 {
		if n == 0 {
			n = 4096
		}
		b.set.cache = newPathCache(n, true)
	}
	if n := b.opts.PathCache; n >= 0 {
		b.set.memoN = memoEntries(n)
	}
	b.set.buildFilters()
	b.set.fields = b.set.matchedFields()
	b.set.stats.RegexesNoLiteral = len(b.set.paths.always)
	return b.set, b.errs
}
