// Package ioc matches atomic indicators of compromise — file hashes, IP
// addresses and CIDR ranges, domains, and path regexes — against events.
//
// A Set is loaded once (Load) and is then immutable: Match is safe for
// concurrent use by any number of goroutines and does not allocate.
// Every structure is built to stay fast at a million indicators: hashes in
// hash sets keyed by the raw digest, exact IPs in a hash set and CIDR ranges
// in a binary prefix trie, domains in two hash sets (exact and suffix) probed
// once per label, each set behind a one-hash bit filter that turns most
// misses away without touching the map, and path regexes behind an Aho-Corasick prefilter over the
// literals each regex requires, so a path is read once whatever the number
// of regexes and only the few regexes whose literal occurs are run; when
// every regex is anchored at the end, a path's last bytes first rule out
// most written file names (tails.go).
// Field values repeat heavily in telemetry, so a goroutine that matches
// many events (MatchWith, with a Cache of its own) remembers the hits of
// recent values of every kind, keyed by the value's bytes: a repeat then
// costs one hash and one comparison.
package ioc

import (
	"fmt"
	"strconv"

	"github.com/edr-lab/edr/event"
)

// Kind is the type of an indicator.
type Kind uint8

const (
	KindMD5 Kind = iota + 1
	KindSHA1
	KindSHA256
	KindIP     // an address or a CIDR range
	KindDomain // an exact domain or a suffix (".x" / "*.x")
	KindPath   // a regex over file paths
)

var kindNames = [...]string{"", "md5", "sha1", "sha256", "ip", "domain", "path_regex"}

// String names the kind as the seed's alert rule names do (ioc:<kind>:…).
func (k Kind) String() string {
	if int(k) < len(kindNames) && k != 0 {
		return kindNames[k]
	}
	return "unknown"
}

// Source is where an indicator was defined.
type Source struct {
	File string
	Line int
}

func (s Source) String() string { return s.File + ":" + strconv.Itoa(s.Line) }

// Hit is one indicator matching one value of an event.
type Hit struct {
	Kind      Kind
	Indicator string // the indicator as loaded (lower-case hash, "10.0.0.0/8", ".evil.com", the regex)
	Field     string // event field the value came from ("Hashes", "DestinationIp", …)
	Value     string // the observed value (one hash, one address of QueryResults, the path)
	Comment   string // the text after ';' on the indicator's line, or its section comment
	Source    Source
}

// Paths names the indicator files; an empty path means "not configured".
type Paths struct {
	Hashes     string // MD5/SHA1/SHA256, told apart by length
	IPs        string // addresses and CIDR ranges, IPv4 and IPv6
	Domains    string // exact, or "*.x" / ".x" for x and every subdomain
	PathsRegex string // case-insensitive RE2 regexes over file paths
	// Loki lists files in the LOKI / signature-base format; the kind comes
	// from the file name as LOKI decides it: "hash" → hashes, "filename" →
	// path regexes ("REGEX;SCORE[;FALSE-POSITIVE-REGEX]", case-sensitive),
	// "c2" → domains and IPs. Other files are reported as errors.
	Loki []string
}

// Options tune loading.
type Options struct {
	// LokiMinScore drops LOKI filename indicators scored below it (0 keeps all).
	LokiMinScore int
	// PathCache is the number of paths whose regex verdicts Match
	// remembers (0: 4096; negative: no cache), and the size of the caches
	// NewCache makes, which remember the verdicts of every kind of value
	// (0: 16384, else rounded up to a power of two). It saves time only:
	// results are the same with or without it.
	PathCache int
}

// LineError is a malformed indicator line; the line is skipped, the rest of
// the file loads.
type LineError struct {
	File string
	Line int
	Text string
	Err  error
}

func (e *LineError) Error() string {
	return fmt.Sprintf("%s:%d: %v: %q", e.File, e.Line, e.Err, clip(e.Text, 120))
}

func (e *LineError) Unwrap() error { return e.Err }

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Stats counts what a Set holds.
type Stats struct {
	MD5, SHA1, SHA256  int
	IPs, CIDRs         int
	Domains, Suffixes  int
	Regexes            int
	RegexesNoLiteral   int // regexes the literal prefilter cannot cover; run on every path
	BelowScore         int // LOKI lines left out by Options.LokiMinScore
	Duplicates, Errors int
}

// Total is the number of indicators loaded.
func (s Stats) Total() int {
	return s.MD5 + s.SHA1 + s.SHA256 + s.IPs + s.CIDRs + s.Domains + s.Suffixes + s.Regexes
}

// indicator is one loaded line (kept small: a million of them is common).
type indicator struct {
	value   string
	comment string
	line    uint32
	next    int32  // next indicator with the same key (duplicates), -1 if none
	file    uint16 // index into Set.files
	kind    Kind
}

// Set is an immutable, loaded indicator set.
type Set struct {
	files   []string
	ind     []indicator
	hashes  hashSet
	ips     ipSet
	domains domainSet
	paths   pathSet
	fields  event.FieldMask // the fields of every class with indicators
	cache   *pathCache      // shared by every caller of Match (locked)
	memoN   int             // entries of NewCache's memo; 0: none
	stats   Stats
}

// Stats reports what was loaded.
func (s *Set) Stats() Stats { return s.stats }

// Len is the number of indicators loaded.
func (s *Set) Len() int { return len(s.ind) }

// Empty reports whether nothing was loaded.
func (s *Set) Empty() bool { return s == nil || len(s.ind) == 0 }

// hit1 appends the hit of one indicator.
func (s *Set) hit1(out []Hit, idx int32, field, value string) []Hit {
	in := &s.ind[idx]
	return append(out, Hit{Kind: in.kind, Indicator: in.value, Field: field, Value: value, Comment: in.comment,
		Source: Source{File: s.files[in.file], Line: int(in.line)}})
}
