package replay

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/edr-lab/edr/detect"
	"github.com/edr-lab/edr/detect/detecttest"
	"github.com/edr-lab/edr/detect/filescan"
	"github.com/edr-lab/edr/detect/ioc"
	"github.com/edr-lab/edr/detect/ruleset"
	"github.com/edr-lab/edr/detect/sink"
	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/recording"
	"github.com/edr-lab/edr/recording/artifact"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// writeRecording records events (several hosts, several segments).
func writeRecording(t *testing.T, dir string, evs ...[]*event.Event) {
	t.Helper()
	w, err := recording.OpenWriter(dir, recording.WriterOptions{Source: event.SourceSynthetic, Producer: "replay test", MaxSegmentAge: 200 * time.Millisecond})
	require.NoError(t, err)
	for _, list := range evs {
		for _, ev := range list {
			require.NoError(t, w.Write(ev))
		}
	}
	require.NoError(t, w.Close())
}

func replayRecordings(t *testing.T, rules *ruleset.Set, ro ReadOptions, dirs ...string) ([]byte, *Summary) {
	recs, err := Open(dirs, ro)
	require.NoError(t, err)
	defer recs.Close()
	var out bytes.Buffer
	w := sink.NewStreamWriter(&out, sink.WriterOptions{})
	s, err := Run(context.Background(), recs.Source(), Options{Rules: rules, Sink: sink.Multi{w, detecttest.NewSink(t)}, MatchDebug: detect.MatchDebugSummary})
	require.NoError(t, err)
	require.NoError(t, w.Close())
	recs.Fill(s)
	return out.Bytes(), s
}

func TestReplayRecordingsDeterministicForAnyParallelism(t *testing.T) {
	rules := shippedRules(t)
	dir1, dir2 := t.TempDir(), t.TempDir()
	writeRecording(t, dir1, scenario("WS-A", 1, 800), scenario("WS-B", 2, 800))
	writeRecording(t, dir2, scenario("WS-C", 3, 500))
	ref, sum := replayRecordings(t, rules, ReadOptions{Parallel: 1}, dir1, dir2)
	assert.Equal(t, uint64(2100), sum.Events)
	assert.Greater(t, sum.Segments, 6, "several segments per host")
	assert.Zero(t, sum.SegmentsSkipped)
	for _, p := range []int{2, 4, 0} {
		got, _ := replayRecordings(t, rules, ReadOptions{Parallel: p}, dir1, dir2)
		assert.True(t, bytes.Equal(ref, got), "parallel %d differs", p)
	}
	// Host filter and time range.
	_, s := replayRecordings(t, rules, ReadOptions{Hosts: []string{"WS-C"}}, dir1, dir2)
	assert.Equal(t, uint64(500), s.Events)
	evs := scenario("WS-A", 1, 800)
	from, to := evs[100].Time, evs[200].Time
	_, s = replayRecordings(t, rules, ReadOptions{Hosts: []string{"WS-A"}, From: from, To: to}, dir1)
	var want uint64
	for _, ev := range evs {
		if ev.Time >= from && ev.Time < to {
			want++
		}
	}
	assert.Equal(t, want, s.Events)
}

func TestReplaySkipsCorruptSegmentUnlessStrict(t *testing.T) {
	rules := shippedRules(t)
	dir := t.TempDir()
	writeRecording(t, dir, scenario("WS-A", 1, 800))
	var segs []string
	require.NoError(t, filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err == nil && filepath.Ext(p) == ".parquet" {
			segs = append(segs, p)
		}
		return err
	}))
	require.Greater(t, len(segs), 1)
	require.NoError(t, os.WriteFile(segs[0], []byte("PAR1 not really parquet PAR1"), 0o644))
	_, s := replayRecordings(t, rules, ReadOptions{}, dir)
	assert.Equal(t, 1, s.SegmentsSkipped)
	assert.Equal(t, s.Segments-s.SegmentsSkipped, s.SegmentsRead, "a segment skipped for its footer is selected too")
	assert.NotEmpty(t, s.ReadErrors)
	assert.Less(t, s.Events, uint64(800))
	var text bytes.Buffer
	s.Write(&text)
	assert.Contains(t, text.String(), "1 skipped")

	_, err := Open([]string{dir}, ReadOptions{Strict: true})
	if err == nil {
		recs, _ := Open([]string{dir}, ReadOptions{Strict: true})
		defer recs.Close()
		_, err = Run(context.Background(), recs.Source(), Options{Rules: rules, Sink: &sink.Memory{}})
	}
	require.Error(t, err)
	assert.ErrorIs(t, err, recording.ErrCorrupt)
}

// TestMultiStoreFindsLinkedImagesAcrossRecordings: a process start recorded
// without Hashes is found through the link the live check made, in the
// second of two recordings' artifact stores, and its hash IOC fires.
func TestMultiStoreFindsLinkedImagesAcrossRecordings(t *testing.T) {
	root, dir1, dir2 := t.TempDir(), t.TempDir(), t.TempDir()
	payload := []byte("not really a PE, but the store does not mind " + t.Name())
	require.NoError(t, os.MkdirAll(filepath.Join(root, "C", "Users", "bob"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "C", "Users", "bob", "tool.exe"), payload, 0o644))
	sum := artifact.Sum(payload)
	iocs := filepath.Join(t.TempDir(), "hashes.txt")
	require.NoError(t, os.WriteFile(iocs, []byte(sum.SHA256+";test tool\n"), 0o644))

	// Recording 1: an unrelated process and an artifact store without the file.
	writeRecording(t, dir1, scenario("WS-A", 1, 5))
	s1, err := artifact.Open(dir1, artifact.Options{})
	require.NoError(t, err)
	_, _, err = s1.Put([]byte("some other file"))
	require.NoError(t, err)
	require.NoError(t, s1.Close())

	// Recording 2: the live check stored and linked the image; the event
	// was recorded as the ETW source delivered it, without Hashes.
	start := detecttest.Sysmon(1, 1_715_000_000_000_000_000, "WS-B", "ProcessGuid", "{b0000000-0000-0000-0000-000000000001}",
		"ProcessId", "4242", "Image", `C:\Users\bob\tool.exe`, "CommandLine", "tool.exe")
	recorded := start.Clone()
	s2, err := artifact.Open(dir2, artifact.Options{})
	require.NoError(t, err)
	res := filescan.New(filescan.Options{Opener: filescan.DirOpener{Root: root}, Store: s2}).Live(context.Background(), start)
	require.Equal(t, filescan.Scanned, res.Outcome, "%v", res.Err)
	require.NoError(t, res.StoreErr)
	require.NoError(t, s2.Close())
	require.False(t, recorded.Has(event.FHashes))
	writeRecording(t, dir2, []*event.Event{recorded})

	rules, err := ruleset.Load(ruleset.Options{IOC: ioc.Paths{Hashes: iocs}})
	require.NoError(t, err)
	defer rules.Close()
	recs, err := Open([]string{dir1, dir2}, ReadOptions{})
	require.NoError(t, err)
	defer recs.Close()
	var got sink.Memory
	sum2, err := Run(context.Background(), recs.Source(), Options{Rules: rules, Store: recs.Store(), Sink: sink.Multi{&got, detecttest.NewSink(t)}})
	require.NoError(t, err)
	assert.Equal(t, uint64(1), sum2.Files["scanned"], "the linked image was found: %v", sum2.Files)
	require.Len(t, got.Lines, 1)
	assert.Contains(t, string(got.Lines[0]), sum.SHA256)
	assert.Contains(t, string(got.Lines[0]), `"pid":4242`)

	// The store errors: a link nobody has is "not found".
	_, err = recs.Store().Linked("no such key")
	assert.ErrorIs(t, err, artifact.ErrNotFound)
	assert.Error(t, recs.Store().Link("k", sum.SHA256), "read-only")
}
