package recording

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// walDir holds the write-ahead logs and unfinished segment files of open
// segments, mirroring the partition layout. Partition directories only ever
// hold finished segments, so a glob over *.parquet never sees a partial file.
const walDir = ".wal"

const segmentExt = ".parquet"

// Host names in partition directory names (host=<value>, in the recording
// and under .wal/). The policy, also in doc.go and the README:
//
//   - bytes outside [A-Za-z0-9._-] are percent-encoded (DuckDB and Spark
//     URL-decode Hive partition values, so they show the real name); "."
//     and ".." are encoded whole, an empty host is "_", and a trailing "."
//     is encoded (Windows drops trailing dots from file names, which would
//     merge "ws01." into "ws01");
//   - when that value is longer than maxHostValue bytes (a file name holds
//     255; a hostile or broken Computer can be any length), the directory
//     keeps a readable prefix of it, shortHostPrefix bytes at most and never
//     a cut %XX escape, then "~" and 16 hex digits of the SHA-256 of the
//     full name. "~" is always escaped in full values, so a shortened value
//     cannot equal a full one, and the hash keeps distinct names apart.
//
// A name's directory therefore always fits in a file name and is the same
// on every run. The full name is what segments hold (Host column and
// metadata) and what readers, --host filters and inspect use; a shortened
// directory value is never decoded into a host name. Names of at most
// maxHostValue encoded bytes keep the directory names they always had.
const (
	maxHostValue    = 200
	shortHostPrefix = 64
)

// encodeHost turns a host name into a partition directory value (see above).
func encodeHost(h string) string {
	enc := escapeHost(h)
	if len(enc) <= maxHostValue {
		return enc
	}
	cut := shortHostPrefix
	if i := strings.LastIndexByte(enc[cut-2:cut], '%'); i >= 0 {
		cut -= 2 - i // do not cut an escape in two
	}
	sum := sha256.Sum256([]byte(h))
	return enc[:cut] + shortHostMark + hex.EncodeToString(sum[:8])
}

// shortHostMark separates a shortened host value from its hash; escapeHost
// encodes it, so only shortened values contain it.
const shortHostMark = "~"

func escapeHost(h string) string {
	if h == "" {
		return "_"
	}
	if h == "." || h == ".." {
		return strings.Repeat("%2E", len(h))
	}
	if h == "_" {
		return "%5F" // "_" alone stands for the empty host
	}
	var b strings.Builder
	for i := 0; i < len(h); i++ {
		c := h[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.' && i < len(h)-1 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// dateOf is the UTC partition date of an event time.
func dateOf(ns int64) string { return time.Unix(0, ns).UTC().Format("2006-01-02") }

const nsPerDay = 24 * 3600 * 1_000_000_000

// dayOf is the UTC day number of an event time (floor division).
func dayOf(ns int64) int64 {
	d := ns / nsPerDay
	if ns%nsPerDay < 0 {
		d--
	}
	return d
}

// segmentName is "<first-time>-<first-seq>.parquet": fixed width so that
// names sort by time, and derived from the first event only so that the same
// input always yields the same names.
func segmentName(firstTime int64, firstSeq uint64) string {
	return time.Unix(0, firstTime).UTC().Format("20060102T150405.000000000Z") + fmt.Sprintf("-%012d", firstSeq) + segmentExt
}

// partitionDir is the directory of a segment relative to the recording.
func partitionDir(host, date string) string {
	return filepath.Join("host="+encodeHost(host), "date="+date)
}

// listSegments returns the finished segments of a recording, sorted by path.
func listSegments(dir string) ([]string, error) {
	paths, unreadable, err := listSegmentsSkipping(dir)
	if err == nil && len(unreadable) > 0 {
		err = unreadable[0]
	}
	if err != nil {
		return nil, fmt.Errorf("recording %s: %w", dir, err)
	}
	return paths, nil
}

// DirError names a directory inside a recording that could not be read;
// its segments are missing from the listing.
type DirError struct {
	Path string
	Err  error
}

func (e *DirError) Error() string {
	return fmt.Sprintf("directory %s unreadable, its segments skipped: %v", e.Path, e.Err)
}
func (e *DirError) Unwrap() error { return e.Err }

// listSegmentsSkipping lists the segments of the recording dir in path
// order. A directory below dir that cannot be read is not fatal: it is
// returned in unreadable (a *DirError) and the walk goes on, so one
// unreadable host does not hide the others.
func listSegmentsSkipping(dir string) (paths []string, unreadable []error, err error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, nil, err
	}
	if !st.IsDir() {
		return nil, nil, errors.New("not a directory")
	}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == dir {
				return err
			}
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err // the path is the DirError's
			}
			unreadable = append(unreadable, &DirError{Path: p, Err: err})
			if d != nil && d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			if p != dir && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			if filepath.Dir(p) == filepath.Clean(dir) && d.Name() == RawDir {
				return filepath.SkipDir // the raw layer is not part of the event table
			}
			return nil
		}
		if strings.HasSuffix(d.Name(), segmentExt) && !strings.HasPrefix(d.Name(), ".") {
			paths = append(paths, p)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	sort.Strings(paths)
	return paths, unreadable, nil
}

// partitionHost decodes the host=… directory of a segment path; false when
// the path has none or its value is a shortened one, which names no host
// (the segment's metadata does).
func partitionHost(path string) (string, bool) {
	for _, part := range strings.Split(filepath.ToSlash(path), "/") {
		if v, ok := strings.CutPrefix(part, "host="); ok {
			if strings.Contains(v, shortHostMark) {
				return "", false
			}
			return decodeHost(v), true
		}
	}
	return "", false
}

func decodeHost(v string) string {
	if v == "_" {
		return ""
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '%' && i+2 < len(v) {
			var c byte
			if _, err := fmt.Sscanf(v[i+1:i+3], "%02X", &c); err == nil {
				b.WriteByte(c)
				i += 2
				continue
			}
		}
		b.WriteByte(v[i])
	}
	return b.String()
}
