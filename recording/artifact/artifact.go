// Package artifact is a recording's content-addressed file store: every
// file worth keeping (executed images, …) is stored once, zstd-compressed,
// under artifacts/sha256/<aa>/<sha256>.zst, so that YARA and hash IOCs can
// run again on replay.
//
// Entries are written atomically (temporary file, fsync, hard link into
// place) and never rewritten; a read decompresses and checks the SHA-256,
// so a corrupt entry is reported (ErrCorrupt), never served. Small alias
// files under artifacts/sha1/ and artifacts/md5/ map those digests to the
// SHA-256, so an event that carries only SHA1 or MD5 still finds its file;
// link files under artifacts/link/ tie a process start to its file for
// events recorded without Hashes.
//
// A Store is safe for concurrent use; several processes may share a
// directory (the link step is the arbiter of who wrote an entry first).
package artifact

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/edr-lab/edr/internal/fsutil"
	"github.com/edr-lab/edr/recording/internal/dirsync"
	"github.com/klauspost/compress/zstd"
)

// Dir is the store's directory inside a recording.
const Dir = "artifacts"

var (
	// ErrTooLarge: the file is over Options.MaxFileBytes.
	ErrTooLarge = errors.New("artifact: file over the per-file size cap")
	// ErrFull: storing the file would pass Options.MaxTotalBytes.
	ErrFull = errors.New("artifact: store over its total size cap")
	// ErrNotFound: no entry for the digest (it wraps fs.ErrNotExist).
	ErrNotFound = fmt.Errorf("artifact: not in the store: %w", fs.ErrNotExist)
	// ErrCorrupt: an entry does not decompress to data of its digest.
	ErrCorrupt = errors.New("artifact: corrupt entry")
)

// Options cap the store.
type Options struct {
	MaxFileBytes  int64 // uncompressed size cap per file; 0 = 64 MiB, <0 = none
	MaxTotalBytes int64 // cap on the compressed bytes of all entries; 0 = none
}

// Digests are the hex digests (lower case) of one stored file.
type Digests struct {
	MD5, SHA1, SHA256 string
}

// Sum computes the digests of data.
func Sum(data []byte) Digests {
	m, s1, s256 := md5.Sum(data), sha1.Sum(data), sha256.Sum256(data)
	return Digests{MD5: hex.EncodeToString(m[:]), SHA1: hex.EncodeToString(s1[:]), SHA256: hex.EncodeToString(s256[:])}
}

// Stats describe the store.
type Stats struct {
	Entries      int
	StoredBytes  int64 // compressed, on disk
	Puts, Dedups int   // this process: new entries written, puts of known content
	Refused      int   // this process: puts refused by a cap
}

// Store is an open artifact store.
type Store struct {
	root string
	opts Options
	enc  *zstd.Encoder
	dec  *zstd.Decoder

	mu    sync.Mutex
	stats Stats
}

// Open opens (creating if needed) the store of the recording at dir and
// counts what it holds.
func Open(recordingDir string, opts Options) (*Store, error) {
	if opts.MaxFileBytes == 0 {
		opts.MaxFileBytes = 64 << 20
	}
	root := filepath.Join(recordingDir, Dir)
	if err := os.MkdirAll(filepath.Join(root, "sha256"), 0o755); err != nil {
		return nil, fmt.Errorf("artifact: %w", err)
	}
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(1))
	if err != nil {
		return nil, fmt.Errorf("artifact: zstd encoder: %w", err)
	}
	dopts := []zstd.DOption{zstd.WithDecoderConcurrency(1)}
	if opts.MaxFileBytes > 0 {
		// A corrupt frame claiming a huge size must not exhaust memory.
		dopts = append(dopts, zstd.WithDecoderMaxMemory(uint64(opts.MaxFileBytes)+1))
	}
	dec, err := zstd.NewReader(nil, dopts...)
	if err != nil {
		return nil, fmt.Errorf("artifact: zstd decoder: %w", err)
	}
	s := &Store{root: root, opts: opts, enc: enc, dec: dec}
	if err := s.count(); err != nil {
		return nil, err
	}
	return s, nil
}

// Close releases the codecs.
func (s *Store) Close() error {
	s.dec.Close()
	return s.enc.Close()
}

// Root is the store's directory.
func (s *Store) Root() string { return s.root }

// Stats reports the store's size and this process's activity.
func (s *Store) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

func (s *Store) count() error {
	return filepath.WalkDir(filepath.Join(s.root, "sha256"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("artifact: %w", err)
		}
		if d.IsDir() || !strings.HasSuffix(p, ".zst") {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return fmt.Errorf("artifact: %w", err)
		}
		s.stats.Entries++
		s.stats.StoredBytes += info.Size()
		return nil
	})
}

// Path is where the entry of a SHA-256 lives (whether or not it exists).
func (s *Store) Path(sha256hex string) string {
	return filepath.Join(s.root, "sha256", sha256hex[:2], sha256hex+".zst")
}

func (s *Store) aliasPath(kind, digest string) string {
	return filepath.Join(s.root, kind, digest[:2], digest)
}

// Has reports whether an entry exists for the SHA-256.
func (s *Store) Has(sha256hex string) bool {
	if !validHex(sha256hex, 64) {
		return false
	}
	_, err := os.Stat(s.Path(strings.ToLower(sha256hex)))
	return err == nil
}

// Put stores data once. It returns the SHA-256 (lower-case hex) and
// whether this call wrote the entry (false: it was already there). Caps are
// checked before anything is written.
func (s *Store) Put(data []byte) (string, bool, error) {
	d, wrote, err := s.put(data)
	return d.SHA256, wrote, err
}

func (s *Store) put(data []byte) (Digests, bool, error) {
	d := Sum(data)
	if s.opts.MaxFileBytes > 0 && int64(len(data)) > s.opts.MaxFileBytes {
		s.refuse()
		return d, false, ErrTooLarge
	}
	final := s.Path(d.SHA256)
	if _, err := os.Stat(final); err == nil {
		s.mu.Lock()
		s.stats.Dedups++
		s.mu.Unlock()
		return d, false, s.writeAliases(d)
	}
	comp := s.enc.EncodeAll(data, make([]byte, 0, len(data)/2+64))
	if err := s.reserve(int64(len(comp))); err != nil {
		return d, false, err
	}
	wrote, err := writeOnce(final, comp)
	if err != nil {
		if !wrote { // else the entry is there, only not known durable
			s.release(int64(len(comp)))
		}
		return d, wrote, err
	}
	if !wrote {
		s.release(int64(len(comp)))
		s.mu.Lock()
		s.stats.Dedups++
		s.mu.Unlock()
		return d, false, s.writeAliases(d)
	}
	return d, true, s.writeAliases(d)
}

func (s *Store) refuse() {
	s.mu.Lock()
	s.stats.Refused++
	s.mu.Unlock()
}

// reserve accounts n compressed bytes against the total cap.
func (s *Store) reserve(n int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.opts.MaxTotalBytes > 0 && s.stats.StoredBytes+n > s.opts.MaxTotalBytes {
		s.stats.Refused++
		return ErrFull
	}
	s.stats.StoredBytes += n
	s.stats.Entries++
	s.stats.Puts++
	return nil
}

// release undoes a reservation whose entry this call did not write
// (another writer linked it first, or writing failed).
func (s *Store) release(n int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stats.StoredBytes -= n
	s.stats.Entries--
	s.stats.Puts--
}

func (s *Store) writeAliases(d Digests) error {
	for _, a := range []struct{ kind, digest string }{{"sha1", d.SHA1}, {"md5", d.MD5}} {
		p := s.aliasPath(a.kind, a.digest)
		if _, err := os.Stat(p); err == nil {
			continue
		}
		if _, err := writeOnce(p, []byte(d.SHA256+"\n")); err != nil {
			return err
		}
	}
	return nil
}

// writeOnce writes data to path atomically unless path exists: a
// temporary file in the same directory, synced, then hard-linked into
// place (link fails on an existing name, so nothing is ever rewritten).
// It reports whether this call created path.
func writeOnce(path string, data []byte) (bool, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, fmt.Errorf("artifact: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return false, fmt.Errorf("artifact: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return false, fmt.Errorf("artifact: write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return false, fmt.Errorf("artifact: sync %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return false, fmt.Errorf("artifact: close %s: %w", tmp.Name(), err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return false, nil
		}
		return false, fmt.Errorf("artifact: link %s: %w", path, err)
	}
	if err := syncDir(dir); err != nil {
		// The entry is complete (linked atomically); only its durability
		// across a machine crash is in doubt.
		return true, fmt.Errorf("artifact: %w", err)
	}
	return true, nil
}

// syncDir makes a new directory entry durable where the OS allows it (a
// variable so that tests can make it fail).
var syncDir = dirsync.Sync

// Get returns the content of the entry for a SHA-256, checked against it.
func (s *Store) Get(sha256hex string) ([]byte, error) {
	if !validHex(sha256hex, 64) {
		return nil, fmt.Errorf("artifact: %q is not a SHA-256", sha256hex)
	}
	sha256hex = strings.ToLower(sha256hex)
	p := s.Path(sha256hex)
	comp, err := fsutil.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: sha256 %s", ErrNotFound, sha256hex)
	}
	if err != nil {
		return nil, fmt.Errorf("artifact: %w", err)
	}
	data, err := s.dec.DecodeAll(comp, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, p, err)
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != sha256hex {
		return nil, fmt.Errorf("%w: %s: content hashes to %x", ErrCorrupt, p, sum)
	}
	return data, nil
}

// Resolve maps an MD5, SHA1 or SHA256 hex digest (told apart by length) to
// the SHA-256 of a stored entry.
func (s *Store) Resolve(digest string) (string, error) {
	digest = strings.ToLower(digest)
	switch {
	case validHex(digest, 64):
		if s.Has(digest) {
			return digest, nil
		}
	case validHex(digest, 40), validHex(digest, 32):
		kind := "sha1"
		if len(digest) == 32 {
			kind = "md5"
		}
		return readRef(s.aliasPath(kind, digest), digest)
	default:
		return "", fmt.Errorf("artifact: %q is not an MD5, SHA1 or SHA256", clip(digest))
	}
	return "", fmt.Errorf("%w: %s", ErrNotFound, digest)
}

// readRef reads a small file naming a SHA-256 (an alias or a link).
func readRef(path, what string) (string, error) {
	b, err := fsutil.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("%w: %s", ErrNotFound, what)
	}
	if err != nil {
		return "", fmt.Errorf("artifact: %w", err)
	}
	sha := strings.TrimSpace(string(b))
	if !validHex(sha, 64) {
		return "", fmt.Errorf("%w: %s holds %q", ErrCorrupt, path, clip(sha))
	}
	return sha, nil
}

// Link records that the file of the entry sha256hex belongs to key (a
// process start: host and ProcessGuid, say), so that replay finds the file
// of an event recorded without its Hashes. The first link of a key stands.
func (s *Store) Link(key, sha256hex string) error {
	if !validHex(sha256hex, 64) {
		return fmt.Errorf("artifact: link %q: %q is not a SHA-256", clip(key), clip(sha256hex))
	}
	_, err := writeOnce(s.linkPath(key), []byte(strings.ToLower(sha256hex)+"\n"))
	return err
}

// Linked returns the SHA-256 linked to key.
func (s *Store) Linked(key string) (string, error) {
	return readRef(s.linkPath(key), "link "+clip(key))
}

// linkPath names a link by the SHA-256 of its key (keys hold any bytes).
func (s *Store) linkPath(key string) string {
	sum := sha256.Sum256([]byte(key))
	h := hex.EncodeToString(sum[:])
	return filepath.Join(s.root, "link", h[:2], h)
}

// Lookup finds the stored file of a Sysmon Hashes value ("SHA1=…,MD5=…,
// SHA256=…"), trying SHA256, then SHA1, then MD5, and returns its checked
// content and digests.
func (s *Store) Lookup(hashes string) ([]byte, string, error) {
	var cands [3]string
	for _, part := range strings.Split(hashes, ",") {
		alg, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch strings.ToUpper(strings.TrimSpace(alg)) {
		case "SHA256":
			cands[0] = strings.TrimSpace(v)
		case "SHA1":
			cands[1] = strings.TrimSpace(v)
		case "MD5":
			cands[2] = strings.TrimSpace(v)
		}
	}
	var firstErr error
	for _, c := range cands {
		if c == "" {
			continue
		}
		sha, err := s.Resolve(c)
		if err == nil {
			data, err := s.Get(sha)
			return data, sha, err
		}
		if firstErr == nil || !errors.Is(err, ErrNotFound) {
			firstErr = err
		}
	}
	if firstErr == nil {
		firstErr = fmt.Errorf("%w: no MD5/SHA1/SHA256 in %q", ErrNotFound, clip(hashes))
	}
	return nil, "", firstErr
}

// Verify reads every entry and reports each corrupt one (by path); it
// returns the number of entries checked.
func (s *Store) Verify() (int, []error) {
	n := 0
	var errs []error
	_ = filepath.WalkDir(filepath.Join(s.root, "sha256"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			errs = append(errs, fmt.Errorf("artifact: %w", err))
			return nil
		}
		name := d.Name()
		if d.IsDir() || !strings.HasSuffix(name, ".zst") {
			return nil
		}
		n++
		sha := strings.TrimSuffix(name, ".zst")
		if !validHex(sha, 64) {
			errs = append(errs, fmt.Errorf("%w: %s: name is not a SHA-256", ErrCorrupt, p))
			return nil
		}
		if _, err := s.Get(sha); err != nil {
			errs = append(errs, err)
		}
		return nil
	})
	return n, errs
}

func validHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}

func clip(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}
