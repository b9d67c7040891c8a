// Package filescan checks the files that process starts execute: it hashes
// the image (MD5, SHA1, SHA256), fills the event's Hashes where missing,
// checks hash IOCs, runs YARA, and keeps the file in a content-addressed
// artifact store. On replay the same checks run on the stored file, found by
// the event's Hashes, so they give the same verdicts as live.
//
// The package never reads the clock. Live, it reads the files an Opener
// gives (the real path on Windows, a fixture directory in tests); on replay
// it reads only the artifact store.
package filescan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"

	"github.com/edr-lab/edr/detect/allowlist"
	"github.com/edr-lab/edr/detect/ioc"
	"github.com/edr-lab/edr/detect/yara"
	"github.com/edr-lab/edr/event"
)

// Store is the artifact store (recording/artifact.Store satisfies it).
type Store interface {
	// Put stores data once and returns its SHA-256 and whether this call
	// wrote it.
	Put(data []byte) (string, bool, error)
	// Lookup returns the stored, checked file of a Sysmon Hashes value.
	Lookup(hashes string) ([]byte, string, error)
}

// LinkStore is a Store that also ties process starts to stored files
// (recording/artifact.Store is one). With it, Live links each check to its
// event and Replay finds the file of an event recorded without Hashes.
type LinkStore interface {
	Store
	// Get returns the stored, checked file of a SHA-256.
	Get(sha256 string) ([]byte, error)
	// Link ties a key to a stored SHA-256 (write-once); Linked reads it.
	Link(key, sha256 string) error
	Linked(key string) (string, error)
}

// YARA is the scanner interface (*yara.Scanner satisfies it).
type YARA interface {
	ScanBytes(ctx context.Context, data []byte, ext yara.Externals) ([]yara.Match, error)
}

// Options configure a Scanner. Allowlists are the effective prefixes
// (allowlist.Effective applies the seed's precedence); nil IOC, YARA or
// Store leave that part out.
type Options struct {
	Opener        Opener // live file access; nil = OSOpener
	Store         Store
	IOC           *ioc.Set
	YARA          YARA
	HashAllowlist []string // ioc.hash_allowlist_paths (or the shared allowlist.paths)
	YARAAllowlist []string // scanner.yara_allowlist_paths (or the shared allowlist.paths)
	MaxFileBytes  int64    // ioc.max_file_size_mb in bytes; 0 = no limit
	ImageLoads    bool     // also check Sysmon 6/7 ImageLoaded, not only process starts
}

// Outcome says what happened to a file.
type Outcome uint8

const (
	NotApplicable Outcome = iota // not a process start (or no path)
	Scanned                      // read and checked
	Allowlisted                  // under an allowlisted prefix for both hashing and YARA
	TooLarge                     // over MaxFileBytes
	Missing                      // the file (live) or the artifact (replay) is not there
	Failed                       // an I/O or store error (Result.Err)
)

var outcomeNames = [...]string{"n/a", "scanned", "allowlisted", "too-large", "missing", "failed"}

func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "unknown"
}

// Result is what one file check found.
type Result struct {
	Path    string // as the event names it
	Field   string // the event field the path came from ("Image", …)
	Outcome Outcome
	Err     error

	MD5, SHA1, SHA256 string // lower-case hex, when hashed
	Hashes            string // Sysmon rendering of the digests
	Filled            bool   // the event had no Hashes and this check filled them

	IOC         []ioc.Hit    // hash indicators matching the file's digests (hash allowlist permitting)
	YARA        []yara.Match // YARA allowlist permitting
	YARAErr     error        // e.g. yara.ErrTimeout
	YARASkipped bool         // allowlisted for YARA, or no YARA configured

	Stored   bool // this check wrote a new artifact
	StoreErr error
}

// Scanner runs the checks; it is safe for concurrent use when its Opener,
// Store and YARA are (the package's own are).
type Scanner struct {
	opts      Options
	hashAllow *allowlist.Paths
	yaraAllow *allowlist.Paths
}

// New builds a Scanner.
func New(opts Options) *Scanner {
	if opts.Opener == nil {
		opts.Opener = OSOpener{}
	}
	return &Scanner{opts: opts, hashAllow: allowlist.NewPaths(opts.HashAllowlist), yaraAllow: allowlist.NewPaths(opts.YARAAllowlist)}
}

// Target returns the file a check applies to: the image of the process a
// process creation starts (Image of Sysmon 1, NewProcessName of Security
// 4688), and with ImageLoads the image an event loads (ImageLoaded of
// Sysmon 6 and 7).
func (s *Scanner) Target(ev *event.Event) (path string, field event.FieldID, ok bool) {
	switch roles := event.RolesOf(ev); {
	case roles.Lifecycle == event.ProcessStart:
		field = roles.Actor.Image
	case s.opts.ImageLoads && roles.Loads != event.NoField:
		field = roles.Loads
	default:
		return "", 0, false
	}
	path = ev.Value(field)
	return path, field, path != "" && path != "-"
}

// Live checks the file of ev from the live filesystem (through the
// Opener), stores it, and fills ev's Hashes when the event type has them
// and they are missing. The caller owns ev.
func (s *Scanner) Live(ctx context.Context, ev *event.Event) Result {
	r, ok := s.prepare(ev)
	if !ok {
		return r
	}
	data, err := s.read(r.Path)
	switch {
	case errors.Is(err, errTooLarge):
		r.Outcome = TooLarge
		return r
	case errors.Is(err, errNotFound):
		r.Outcome, r.Err = Missing, err
		return r
	case err != nil:
		r.Outcome, r.Err = Failed, err
		return r
	}
	if s.opts.Store != nil {
		var sha string
		sha, r.Stored, r.StoreErr = s.opts.Store.Put(data)
		if ls, ok := s.opts.Store.(LinkStore); ok && r.StoreErr == nil {
			r.StoreErr = ls.Link(linkKey(ev, r.Path), sha)
		}
	}
	s.check(ctx, ev, &r, data)
	s.fill(ev, &r)
	return r
}

// fill puts the computed Hashes into an event type that has the field and
// lacks them.
func (s *Scanner) fill(ev *event.Event, r *Result) {
	if r.Hashes != "" && s.fillable(ev) {
		ev.Set(event.FHashes, r.Hashes)
		r.Filled = true
	}
}

// linkKey names the process start (or image load) an event records: the
// same on the live event and on its recording.
func linkKey(ev *event.Event, path string) string {
	return ev.Host + "|" + ev.Channel + "|" + event.Itoa(uint64(ev.EventID)) + "|" + strconv.FormatInt(ev.Time, 10) + "|" + path
}

// Replay runs the same checks on the file the artifact store holds for
// ev's Hashes (or, when the event was recorded without Hashes, for the
// process start the live check linked to it) and fills missing Hashes as
// Live does. Decisions that depend on the path (allowlists) and on the size
// are taken exactly as Live takes them, so a file checked live gives the
// same Result on replay (Stored aside).
func (s *Scanner) Replay(ctx context.Context, ev *event.Event) Result {
	r, ok := s.prepare(ev)
	if !ok {
		return r
	}
	if s.opts.Store == nil {
		r.Outcome = Missing
		return r
	}
	data, err := s.stored(ev, r.Path)
	if err != nil {
		// Not stored live (too large, unreadable, store full) or corrupt.
		r.Outcome, r.Err = Missing, err
		if !isNotFound(err) {
			r.Outcome = Failed
		}
		return r
	}
	if s.opts.MaxFileBytes > 0 && int64(len(data)) > s.opts.MaxFileBytes {
		r.Outcome = TooLarge
		return r
	}
	s.check(ctx, ev, &r, data)
	s.fill(ev, &r)
	return r
}

// stored finds an event's file in the store: by its Hashes, or, for an
// event recorded without them, by the link the live check made.
func (s *Scanner) stored(ev *event.Event, path string) ([]byte, error) {
	if hashes := ev.Value(event.FHashes); hashes != "" {
		data, _, err := s.opts.Store.Lookup(hashes)
		return data, err
	}
	ls, ok := s.opts.Store.(LinkStore)
	if !ok {
		return nil, fmt.Errorf("%w: the event has no Hashes and the store keeps no links", errNotFound)
	}
	sha, err := ls.Linked(linkKey(ev, path))
	if err != nil {
		return nil, err
	}
	return ls.Get(sha)
}

// prepare finds the target and applies the allowlists.
func (s *Scanner) prepare(ev *event.Event) (Result, bool) {
	path, field, ok := s.Target(ev)
	if !ok {
		return Result{}, false
	}
	r := Result{Path: path, Field: field.Name()}
	if s.opts.YARA == nil || s.yaraAllow.Match(cleanPath(path)) {
		r.YARASkipped = true
	}
	if s.hashAllow.Match(cleanPath(path)) && r.YARASkipped {
		r.Outcome = Allowlisted
		return r, false
	}
	return r, true
}

// check hashes data, matches hash IOCs and runs YARA.
func (s *Scanner) check(ctx context.Context, ev *event.Event, r *Result, data []byte) {
	r.Outcome = Scanned
	d := sum(data)
	if !s.hashAllow.Match(cleanPath(r.Path)) {
		r.MD5, r.SHA1, r.SHA256 = d.md5, d.sha1, d.sha256
		r.Hashes = event.FormatHashes(d.sha1, d.md5, d.sha256, "")
		if s.opts.IOC != nil {
			r.IOC = s.opts.IOC.MatchHashes(r.Hashes, "Hashes", nil)
		}
	}
	if !r.YARASkipped {
		r.YARA, r.YARAErr = s.opts.YARA.ScanBytes(ctx, data, yara.ExternalsFor(cleanPath(r.Path), data, ""))
	}
}

func (s *Scanner) fillable(ev *event.Event) bool {
	if ev.Has(event.FHashes) && ev.Value(event.FHashes) != "" {
		return false
	}
	d := ev.Def()
	return d != nil && d.Has(event.FHashes)
}

var (
	errTooLarge = errors.New("filescan: file over the size limit")
	errNotFound = fmt.Errorf("filescan: file not found: %w", fs.ErrNotExist)
)

func (s *Scanner) read(path string) ([]byte, error) {
	f, err := s.opts.Opener.Open(path)
	if err != nil {
		if isNotFound(err) {
			return nil, fmt.Errorf("%w: %s: %v", errNotFound, path, err)
		}
		return nil, fmt.Errorf("filescan: open %s: %w", path, err)
	}
	defer f.Close()
	r := io.Reader(f)
	if s.opts.MaxFileBytes > 0 {
		r = io.LimitReader(f, s.opts.MaxFileBytes+1)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("filescan: read %s: %w", path, err)
	}
	if s.opts.MaxFileBytes > 0 && int64(len(data)) > s.opts.MaxFileBytes {
		return nil, errTooLarge
	}
	return data, nil
}

// cleanPath drops the NT prefixes ETW and some Sysmon events carry.
func cleanPath(p string) string {
	for _, pre := range []string{`\??\`, `\\?\`} {
		if strings.HasPrefix(p, pre) {
			return p[len(pre):]
		}
	}
	return p
}

func isNotFound(err error) bool { return errors.Is(err, fs.ErrNotExist) }
