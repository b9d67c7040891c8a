package recording

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edr-lab/edr/event"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hostileHosts are Computer values a damaged or hostile log can carry.
var hostileHosts = []string{
	strings.Repeat("h", 300), // longer than a file name
	strings.Repeat("ü", 150), // 300 bytes of UTF-8, 900 encoded
	"../../../../etc/passwd", // path traversal
	"a/../../b",              // traversal inside the name
	"..",                     // the parent directory itself
	"host\x00with\x01control\x1b[31mbytes\r\n", // NUL, control bytes, a terminal escape
	"CON", "NUL", "COM1", "LPT1.txt", // reserved names on Windows
	"ws01.", "ws01", // Windows drops a trailing dot
	strings.Repeat("%", 80) + strings.Repeat("x", 200), // escapes at the cut
	strings.Repeat("h", 299) + "i",                     // differs from the first at the end only
}

// TestHostDirectoryNames: every host name gives one stable directory name
// that is a single path element of at most 255 bytes, distinct names give
// distinct directories, and names that always fitted keep the directory
// they always had.
func TestHostDirectoryNames(t *testing.T) {
	seen := map[string]string{}
	for _, h := range hostileHosts {
		v := encodeHost(h)
		dir := "host=" + v
		assert.LessOrEqual(t, len(dir), 255, "%q", h)
		assert.NotContains(t, v, "/", "%q", h)
		assert.NotContains(t, v, `\`, "%q", h)
		assert.NotContains(t, v, "\x00", "%q", h)
		assert.False(t, strings.HasSuffix(v, "."), "%q: a trailing dot", h)
		for _, c := range []byte(v) {
			assert.True(t, c > 0x20 && c < 0x7f, "%q: byte %#x in %q", h, c, v)
		}
		assert.Equal(t, v, encodeHost(h), "stable")
		if prev, dup := seen[v]; dup {
			t.Errorf("%q and %q share the directory %q", prev, h, v)
		}
		seen[v] = h
		if len(escapeHost(h)) > maxHostValue {
			assert.LessOrEqual(t, len(dir), 5+shortHostPrefix+1+16, "%q: shortened", h)
			assert.Contains(t, v, "~", "%q", h)
			_, ok := partitionHost(filepath.Join(dir, "date=2026-01-01", "x.parquet"))
			assert.False(t, ok, "%q: a shortened value names no host", h)
		} else {
			got, ok := partitionHost(filepath.Join(dir, "date=2026-01-01", "x.parquet"))
			assert.True(t, ok)
			assert.Equal(t, h, got)
		}
	}
	long := encodeHost(strings.Repeat("h", 300))
	assert.Equal(t, strings.Repeat("h", 64)+"~", long[:65], "a readable prefix")
	// Names that fitted before keep their directory names exactly.
	for h, want := range map[string]string{
		"ws03.corp.example.com": "ws03.corp.example.com", "DOM\\host": "DOM%5Chost", "a/b c": "a%2Fb%20c",
		"..": "%2E%2E", "": "_", "_": "%5F", "CON": "CON", strings.Repeat("a", 200): strings.Repeat("a", 200),
	} {
		assert.Equal(t, want, encodeHost(h), "%q", h)
	}
}

// TestHostileHostNamesRoundTrip: events of hostile hosts are written inside
// the recording, read back with their full names, selected by a host filter
// with the full name, and a second writer puts the same hosts in the same
// directories.
func TestHostileHostNamesRoundTrip(t *testing.T) {
	dir := t.TempDir()
	base := synthEvents(3, 1, 2*len(hostileHosts), t0)
	var in []*event.Event
	for i, e := range base {
		c := e.Clone()
		c.Host = hostileHosts[i%len(hostileHosts)]
		in = append(in, c)
	}
	half := len(in) / 2
	want := writeAll(t, dir, WriterOptions{}, in[:half])
	first := treeDigest(t, dir)
	want = append(want, writeAll(t, dir, WriterOptions{}, in[half:])...)

	// Nothing outside the recording, and every host has one directory.
	parent := filepath.Dir(dir)
	ents, err := os.ReadDir(parent)
	require.NoError(t, err)
	assert.Len(t, ents, 1, "nothing written beside the recording")
	parts, err := filepath.Glob(filepath.Join(dir, "host=*"))
	require.NoError(t, err)
	assert.Len(t, parts, len(hostileHosts))
	for rel := range first {
		_, err := os.Stat(filepath.Join(dir, rel))
		assert.NoError(t, err, "the second writer kept %s", rel)
	}

	sortKey(want)
	got, st := readAll(t, dir, ReaderOptions{})
	assert.Empty(t, st.Errors)
	requireSame(t, want, got)
	for _, h := range hostileHosts {
		got, _ := readAll(t, dir, ReaderOptions{Hosts: []string{h}})
		require.Len(t, got, 2, "--host %q", h)
		for _, e := range got {
			assert.Equal(t, h, e.Host)
		}
	}
	sum, err := Inspect(dir)
	require.NoError(t, err)
	assert.ElementsMatch(t, hostileHosts, sum.Hosts, "inspect lists the full names")
}

// TestUnwritablePartitionRejectsOnlyItsEvents: when a host's partition
// directory cannot be created (a file is in the way), Write refuses that
// host's events with ErrEventRejected and the writer goes on with the others.
func TestUnwritablePartitionRejectsOnlyItsEvents(t *testing.T) {
	dir := t.TempDir()
	w, err := OpenWriter(dir, WriterOptions{})
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, walDir, "host=blocked"), nil, 0o644))
	require.NoError(t, w.BeginSource("sha256:src"))
	var want []*event.Event
	for i, e := range synthEvents(4, 1, 40, t0) {
		c := e.Clone()
		if i%4 == 0 {
			c.Host = "blocked"
			err := w.Write(c)
			require.ErrorIs(t, err, ErrEventRejected)
			assert.Contains(t, err.Error(), `host "blocked"`)
			continue
		}
		require.NoError(t, w.Write(c))
		want = append(want, c)
	}
	// Rejected events keep their places in the source's order, so that a
	// resumed import, which skips decoded events, stays aligned.
	n, complete := w.SourceProgress("sha256:src")
	assert.Equal(t, int64(40), n)
	assert.False(t, complete)
	require.NoError(t, w.Close())
	sortKey(want)
	got, _ := readAll(t, dir, ReaderOptions{})
	requireSame(t, want, got)
}

// TestHostileHostNamesRecovered: the WALs of hostile hosts (under
// .wal/host=<shortened or escaped>) are recovered after a crash into
// segments that carry the full names.
func TestHostileHostNamesRecovered(t *testing.T) {
	dir := t.TempDir()
	w, err := OpenWriter(dir, WriterOptions{})
	require.NoError(t, err)
	var want []*event.Event
	for i, e := range synthEvents(6, 1, 3*len(hostileHosts), t0) {
		c := e.Clone()
		c.Host = hostileHosts[i%len(hostileHosts)]
		require.NoError(t, w.Write(c))
		want = append(want, c.Clone())
	}
	w.abandon(t)
	w, err = OpenWriter(dir, WriterOptions{})
	require.NoError(t, err)
	require.NoError(t, w.Close())
	sortKey(want)
	got, st := readAll(t, dir, ReaderOptions{})
	assert.Empty(t, st.Errors)
	requireSame(t, want, got)
	got, _ = readAll(t, dir, ReaderOptions{Hosts: []string{hostileHosts[0]}})
	assert.Len(t, got, 3)
}
