package importer

import (
	"context"
	"crypto/sha256"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/internal/testutil"
	"github.com/edr-lab/edr/recording"
)

// replayAll reads a recording back into independent events.
func replayAll(t testing.TB, dir string) []*event.Event {
	t.Helper()
	r, err := recording.OpenReader(dir, recording.ReaderOptions{})
	require.NoError(t, err)
	var out []*event.Event
	require.NoError(t, r.Run(func(batch []event.Event) error {
		for i := range batch {
			out = append(out, batch[i].Clone())
		}
		return nil
	}))
	require.Empty(t, r.Stats().Errors)
	return out
}

// treeDigest hashes every file of a directory tree (relative path and
// bytes), so two recordings can be compared byte for byte.
func treeDigest(t *testing.T, dir string) map[string][32]byte {
	t.Helper()
	out := map[string][32]byte{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out[rel] = sha256.Sum256(b)
		return nil
	}))
	return out
}

func smallSet(t *testing.T) []string {
	root := testutil.Corpus(t, "evtx-attack-samples")
	var files []string
	for _, rel := range []string{"Defense Evasion", "Credential Access"} {
		files = append(files, filepath.Join(root, rel))
	}
	return files
}

func TestImportIsIdempotent(t *testing.T) {
	srcs := smallSet(t)
	zipped := testutil.Corpus(t, "security-datasets/datasets/atomic/windows/discovery/host/cmd_seatbelt_group_user.zip")
	srcs = append(srcs, zipped)
	a, b := t.TempDir(), t.TempDir()
	sumA, err := Run(context.Background(), srcs, Options{Out: a})
	require.NoError(t, err)
	require.Zero(t, sumA.ExitCode(), "%+v", sumA.Files)
	require.Greater(t, sumA.Records, int64(1000))
	_, err = Run(context.Background(), srcs, Options{Out: b})
	require.NoError(t, err)
	digestA := treeDigest(t, a)
	assert.Equal(t, digestA, treeDigest(t, b), "same input, same recording bytes")

	// Importing the same files again adds nothing.
	again, err := Run(context.Background(), srcs, Options{Out: a})
	require.NoError(t, err)
	assert.Zero(t, again.Records)
	for _, f := range again.Files {
		assert.Equal(t, AlreadyImported, f.Status, f.Path)
	}
	assert.Equal(t, digestA, treeDigest(t, a), "re-import leaves the recording as it was")
	assert.Len(t, replayAll(t, a), int(sumA.Records))

	// A copy of an imported file under another name is the same source.
	dup := filepath.Join(t.TempDir(), "copy.zip")
	data, err := os.ReadFile(zipped)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(dup, data, 0o644))
	res, err := Run(context.Background(), []string{dup}, Options{Out: a})
	require.NoError(t, err)
	assert.Equal(t, AlreadyImported, res.Files[0].Status)
}

func TestImportSourcesRecorded(t *testing.T) {
	out := t.TempDir()
	src := testutil.Corpus(t, "evtx-parser-samples/samples/sample-with-zero-data-size-event.evtx")
	sum, err := Run(context.Background(), []string{src}, Options{Out: out})
	require.NoError(t, err)
	require.Len(t, sum.Files, 1)
	f := sum.Files[0]
	assert.Equal(t, Imported, f.Status)
	assert.EqualValues(t, 449, f.Records)
	assert.EqualValues(t, 1, f.Failed)
	assert.Contains(t, f.Failures[0], "record 3")
	assert.Equal(t, 3, sum.ExitCode(), "some records failed")
	data, err := os.ReadFile(src)
	require.NoError(t, err)
	w, err := recording.OpenWriter(out, recording.WriterOptions{})
	require.NoError(t, err)
	defer w.Close()
	assert.True(t, w.HasSource(f.Hash))
	assert.Equal(t, "sha256:", f.Hash[:7])
	sum256 := sha256.Sum256(data)
	assert.Contains(t, f.Hash, strings.ToLower(string(hexEncode(sum256[:]))))
}

func hexEncode(b []byte) []byte {
	const digits = "0123456789abcdef"
	out := make([]byte, 2*len(b))
	for i, c := range b {
		out[2*i], out[2*i+1] = digits[c>>4], digits[c&15]
	}
	return out
}

func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk.bin")
	require.NoError(t, os.WriteFile(junk, []byte("this is not an event log\n"), 0o644))
	badJSON := filepath.Join(dir, "bad.json")
	require.NoError(t, os.WriteFile(badJSON, []byte("{\"broken\": \n{also broken\n"), 0o644))

	sum, err := Run(context.Background(), []string{junk, badJSON}, Options{Out: t.TempDir()})
	require.NoError(t, err)
	assert.Equal(t, 1, sum.ExitCode(), "nothing readable")
	for _, f := range sum.Files {
		assert.Equal(t, Unreadable, f.Status, f.Path)
		assert.NotEmpty(t, f.Err)
	}

	good := testutil.Corpus(t, "evtx-parser-samples/samples/Security_short_selected.evtx")
	sum, err = Run(context.Background(), []string{good}, Options{Out: t.TempDir()})
	require.NoError(t, err)
	assert.Equal(t, 0, sum.ExitCode())

	sum, err = Run(context.Background(), []string{good, junk}, Options{Out: t.TempDir()})
	require.NoError(t, err)
	assert.Equal(t, 3, sum.ExitCode(), "one file unreadable, the other imported")
}

// A source without a single event is "nothing readable" (1), not success:
// an empty JSON file, an empty directory, an EVTX file cut after its header.
func TestExitCodeNothingReadable(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.json")
	require.NoError(t, os.WriteFile(empty, nil, 0o644))
	emptyDir := filepath.Join(dir, "nothing")
	require.NoError(t, os.Mkdir(emptyDir, 0o755))
	evtx, err := os.ReadFile(testutil.Corpus(t, "evtx-parser-samples/samples/Security_short_selected.evtx"))
	require.NoError(t, err)
	header := filepath.Join(dir, "header.evtx")
	require.NoError(t, os.WriteFile(header, evtx[:4096], 0o644))
	for _, src := range []string{empty, emptyDir, header} {
		sum, err := Run(context.Background(), []string{src}, Options{Out: t.TempDir()})
		require.NoError(t, err, src)
		assert.Zero(t, sum.Records, src)
		assert.Equal(t, 1, sum.ExitCode(), "%s: %+v", src, sum.Files)
	}
}

func TestStdinAndHostOverride(t *testing.T) {
	lines := `{"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","Computer":"ws1","TimeCreated":"2021-01-01T00:00:00Z","Image":"C:\\a.exe"}
{"EventID":4624,"Channel":"security","Computer":"dc1","TimeCreated":"2021-01-01T00:00:01Z","LogonType":3}
`
	out := t.TempDir()
	sum, err := Run(context.Background(), []string{"-"}, Options{Out: out, Host: "case-42", Stdin: strings.NewReader(lines)})
	require.NoError(t, err)
	require.Equal(t, 0, sum.ExitCode(), "%+v", sum.Files)
	assert.EqualValues(t, 2, sum.Records)
	evs := replayAll(t, out)
	require.Len(t, evs, 2)
	for _, e := range evs {
		assert.Equal(t, "case-42", e.Host)
		assert.Equal(t, event.SourceJSON, e.Source)
	}
	assert.Equal(t, "Security", evs[1].Channel)
	assert.Equal(t, "dc1", evs[1].Value(event.FComputer))
	assert.Equal(t, map[string]int64{"Security": 1, event.ChannelSysmon: 1}, sum.PerChannel)

	// The same stream again is the same source.
	again, err := Run(context.Background(), []string{"-"}, Options{Out: out, Stdin: strings.NewReader(lines)})
	require.NoError(t, err)
	assert.Equal(t, AlreadyImported, again.Files[0].Status)
}

func TestDirectoriesAndFormats(t *testing.T) {
	dir := testutil.Corpus(t, "evtx-parser-samples")
	inputs, skipped, err := expand([]string{dir}, FormatAuto)
	require.NoError(t, err)
	var names []string
	for _, in := range inputs {
		names = append(names, filepath.Base(in.path))
		assert.Equal(t, kindEVTX, in.kind, in.path)
	}
	assert.True(t, sort.StringsAreSorted(names))
	assert.Len(t, inputs, 23)
	assert.NotEmpty(t, skipped, "snapshots, TSV and licences are not events")

	inputs, _, err = expand([]string{dir}, FormatJSON)
	require.NoError(t, err)
	assert.Empty(t, inputs, "no JSON in the EVTX samples")
	_, err = ParseFormat("xml")
	assert.Error(t, err)
	f, err := ParseFormat("Mordor")
	require.NoError(t, err)
	assert.Equal(t, FormatMordor, f)
}

func TestProgressReports(t *testing.T) {
	var last Progress
	n := 0
	_, err := Run(context.Background(), smallSet(t), Options{Out: t.TempDir(), Progress: func(p Progress) {
		n++
		last = p
	}})
	require.NoError(t, err)
	require.Greater(t, n, 0)
	assert.True(t, last.Done)
	assert.Equal(t, last.Files, last.FilesDone)
	assert.Equal(t, last.Bytes, last.BytesDone)
	assert.Greater(t, last.Records, int64(0))
}

func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Run(ctx, smallSet(t), Options{Out: t.TempDir()})
	assert.ErrorIs(t, err, context.Canceled)
}
