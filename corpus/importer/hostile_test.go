package importer

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edr-lab/edr/corpus/evtx"
	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/internal/testutil"
	"github.com/edr-lab/edr/recording"
)

// jsonEvents writes n Sysmon process starts as JSON lines, with the
// Computer of event i given by host(i).
func jsonEvents(t *testing.T, path string, n int, host func(int) string) {
	t.Helper()
	var b strings.Builder
	for i := 0; i < n; i++ {
		c, err := jsonString(host(i))
		require.NoError(t, err)
		fmt.Fprintf(&b, `{"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","Computer":%s,"EventRecordID":%d,"TimeCreated":"2021-01-01T00:00:%02dZ","Image":"C:\\a%d.exe"}`+"\n", c, i+1, i, i)
	}
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
}

func jsonString(s string) (string, error) {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String(), nil
}

// hostileEVTX copies an EVTX sample with its Computer name ("temporal",
// stored once in a template) overwritten in place by a name of the same
// length holding a path traversal and control bytes, and returns the copy
// and the host name edr's decoder reads from it.
func hostileEVTX(t *testing.T, dir string) (string, string) {
	b, err := os.ReadFile(testutil.Corpus(t, "evtx-parser-samples/samples/Security_short_selected.evtx"))
	require.NoError(t, err)
	u16 := func(s string) []byte {
		var out []byte
		for _, r := range utf16.Encode([]rune(s)) {
			out = append(out, byte(r), byte(r>>8))
		}
		return out
	}
	require.Equal(t, 1, bytes.Count(b, u16("temporal")))
	b = bytes.Replace(b, u16("temporal"), u16("../..\x1b\x07z"), 1)
	p := filepath.Join(dir, "hostile.evtx")
	require.NoError(t, os.WriteFile(p, b, 0o644))
	evs, _, err := evtx.ReadAll(p)
	require.NoError(t, err)
	require.NotEmpty(t, evs)
	return p, evs[0].Host
}

// TestImportHostileComputerNames: events whose Computer is 300 characters
// long, a path traversal or full of control bytes are imported like any
// other (the partition directory is shortened or escaped), readable with
// their full names and selectable by them, and importing again is stable.
func TestImportHostileComputerNames(t *testing.T) {
	dir := t.TempDir()
	long := strings.Repeat("h", 300)
	hosts := []string{"ws1", long, "../../../../tmp/x", "a\x00b\x1b[2Jc\r\n"}
	js := filepath.Join(dir, "a.json")
	jsonEvents(t, js, 25, func(i int) string { return hosts[i%len(hosts)] })
	ev, evHost := hostileEVTX(t, dir)
	assert.Contains(t, evHost, "../..", "the EVTX's Computer is a traversal")

	rec := filepath.Join(dir, "rec")
	sum, err := Run(context.Background(), []string{js, ev}, Options{Out: rec})
	require.NoError(t, err)
	assert.Equal(t, 0, sum.ExitCode(), "%+v", sum.Files)
	require.Len(t, sum.Files, 2)
	for _, f := range sum.Files {
		assert.Equal(t, Imported, f.Status, f.Path)
	}
	evs := replayAll(t, rec)
	assert.EqualValues(t, len(evs), sum.Records)
	byHost := map[string]int{}
	for _, e := range evs {
		byHost[e.Host]++
	}
	assert.Equal(t, 6, byHost[long])
	assert.Equal(t, 6, byHost["a\x00b\x1b[2Jc\r\n"])
	assert.Greater(t, byHost[evHost], 0)
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, ents, 3, "nothing written outside the recording")

	// The full name selects the host's events.
	for _, h := range append(hosts, evHost) {
		r, err := recording.OpenReader(rec, recording.ReaderOptions{Hosts: []string{h}})
		require.NoError(t, err)
		n := 0
		require.NoError(t, r.Run(func(b []event.Event) error {
			for i := range b {
				assert.Equal(t, h, b[i].Host)
			}
			n += len(b)
			return nil
		}))
		assert.Equal(t, byHost[h], n, "host %q", h)
	}

	// Again: already imported; into a new recording: the same bytes.
	again, err := Run(context.Background(), []string{js, ev}, Options{Out: rec})
	require.NoError(t, err)
	assert.Equal(t, 0, again.ExitCode())
	for _, f := range again.Files {
		assert.Equal(t, AlreadyImported, f.Status, f.Path)
	}
	rec2 := filepath.Join(t.TempDir(), "rec")
	_, err = Run(context.Background(), []string{js, ev}, Options{Out: rec2})
	require.NoError(t, err)
	assert.Equal(t, treeDigest(t, rec), treeDigest(t, rec2))
}

// TestImportEventRefusedByTheRecording: an event the recording cannot take
// (its host's partition directory is blocked by a file) fails alone: it is
// named and counted as failed, the other events of its file and the other
// files are imported, and the counts are what the recording holds.
func TestImportEventRefusedByTheRecording(t *testing.T) {
	dir := t.TempDir()
	rec := filepath.Join(dir, "rec")
	require.NoError(t, os.MkdirAll(filepath.Join(rec, ".wal"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(rec, ".wal", "host=blocked"), nil, 0o644))
	a, b := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json")
	jsonEvents(t, a, 26, func(i int) string {
		if i == 9 {
			return "blocked"
		}
		return "ws1"
	})
	jsonEvents(t, b, 5, func(int) string { return "ws2" })

	sum, err := Run(context.Background(), []string{a, b}, Options{Out: rec})
	require.NoError(t, err)
	assert.Equal(t, 3, sum.ExitCode(), "one record failed")
	assert.EqualValues(t, 30, sum.Records)
	assert.EqualValues(t, 1, sum.Failed)
	require.Len(t, sum.Files, 2)
	fa := sum.Files[0]
	assert.Equal(t, Imported, fa.Status)
	assert.EqualValues(t, 25, fa.Records)
	assert.EqualValues(t, 1, fa.Failed)
	require.Len(t, fa.Failures, 1)
	assert.Contains(t, fa.Failures[0], a+": record 10: not written: ")
	assert.Contains(t, fa.Failures[0], `host "blocked"`)
	assert.Equal(t, Imported, sum.Files[1].Status)
	assert.EqualValues(t, 5, sum.Files[1].Records)
	assert.Len(t, replayAll(t, rec), 30)
	assert.Equal(t, map[string]int64{event.ChannelSysmon: 30}, sum.PerChannel)
}

// TestImportRecordingFailureCountsWhatWasWritten: when the recording fails
// in the middle of a file (here the WAL of its second host cannot be
// created), the import stops with the error, and the summary counts the
// events of the file that were written instead of none.
func TestImportRecordingFailureCountsWhatWasWritten(t *testing.T) {
	dir := t.TempDir()
	rec := filepath.Join(dir, "rec")
	// A directory where the WAL of host ws2's first segment (its first
	// event is the file's 11th, at 00:00:10) belongs.
	require.NoError(t, os.MkdirAll(filepath.Join(rec, ".wal", "host=ws2", "date=2021-01-01", "20210101T000010.000000000Z-000000000011.parquet.wal"), 0o755))
	a := filepath.Join(dir, "a.json")
	jsonEvents(t, a, 25, func(i int) string {
		if i < 10 {
			return "ws1"
		}
		return "ws2"
	})
	sum, err := Run(context.Background(), []string{a}, Options{Out: rec})
	require.Error(t, err)
	require.NotNil(t, sum)
	assert.EqualValues(t, 10, sum.Records, "the events written before the failure")
	require.Len(t, sum.Files, 1)
	f := sum.Files[0]
	assert.Equal(t, a, f.Path)
	assert.EqualValues(t, 10, f.Records)
	require.NotEmpty(t, f.Failures)
	assert.Contains(t, f.Failures[len(f.Failures)-1], a+": not finished: ")
	assert.Contains(t, f.Failures[len(f.Failures)-1], "10 events of it were written")
	assert.NotEqual(t, 0, sum.ExitCode())

	// Once the obstacle is gone, importing again adds the other 15, as the
	// summary said.
	require.NoError(t, os.RemoveAll(filepath.Join(rec, ".wal", "host=ws2")))
	sum, err = Run(context.Background(), []string{a}, Options{Out: rec})
	require.NoError(t, err)
	assert.EqualValues(t, 15, sum.Records)
	assert.EqualValues(t, 10, sum.Resumed)
	assert.Len(t, replayAll(t, rec), 25)
}
