package recording

import (
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

// encodeHost turns a host name into a partition directory value: bytes
// outside [A-Za-z0-9._-] are percent-encoded (DuckDB and Spark URL-decode
// Hive partition values, so they show the real name), "." and ".." are
// encoded whole, and an empty host becomes "_".
func encodeHost(h string) string {
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
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-' {
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
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("recording %s: %w", dir, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("recording %s: not a directory", dir)
	}
	var out []string
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
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
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("recording %s: %w", dir, err)
	}
	sort.Strings(out)
	return out, nil
}

// partitionHost decodes the host=… directory of a segment path ("" when the
// path has none).
func partitionHost(path string) (string, bool) {
	for _, part := range strings.Split(filepath.ToSlash(path), "/") {
		if v, ok := strings.CutPrefix(part, "host="); ok {
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
