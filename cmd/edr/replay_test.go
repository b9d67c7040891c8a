package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edr-lab/edr/detect/ecs"
	"github.com/edr-lab/edr/detect/ecs/ecstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReplayCommand(t *testing.T) {
	dir := t.TempDir()
	rec := filepath.Join(dir, "rec")
	out, code := edr(t, "generate", "--out", rec, "--events", "40000", "--seed", "5", "--scenario-every", "4000", "--quiet")
	require.Equal(t, 0, code, out)

	a, b := filepath.Join(dir, "a.json"), filepath.Join(dir, "b.json")
	out, code = edr(t, "replay", "--alerts", a, "--parallel", "1", "--match-debug", "full", rec)
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "replay: 40000 events")
	assert.Contains(t, out, "alerts by rule:")
	assert.Contains(t, out, "0 dropped, 0 failed")
	out, code = edr(t, "replay", "--alerts", b, "--parallel", "3", "--match-debug", "full", "--print", rec)
	require.Equal(t, 0, code, out)
	ab, err := os.ReadFile(a)
	require.NoError(t, err)
	bb, err := os.ReadFile(b)
	require.NoError(t, err)
	require.NotEmpty(t, ab, "the generated scenarios raise alerts")
	assert.True(t, bytes.Equal(ab, bb), "byte-identical for any --parallel")
	lines := bytes.Split(bytes.TrimSpace(ab), []byte("\n"))
	ecstest.Validate(t, ecs.CustomNamespaces, lines...)
	assert.Equal(t, len(lines), strings.Count(out, "(replayed)"), "--print: one text line per alert")

	// Host and time filters.
	out, code = edr(t, "replay", "--alerts", filepath.Join(dir, "c.json"), "--host", "nohost", rec)
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "replay: 0 events")
}

func TestReplayCommandErrors(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"replay"}, 2, "no recording given"},
		{[]string{"replay", "--match-debug", "loud", dir}, 2, "--match-debug"},
		{[]string{"replay", "--from", "yesterday", dir}, 2, "--from"},
		{[]string{"replay", "--from", "2026-01-02", "--to", "2026-01-01", dir}, 2, "--to must be after --from"},
		{[]string{"replay", "--print", dir}, 2, "--print needs --alerts FILE"},
		{[]string{"replay", "--config", filepath.Join(dir, "missing.toml"), dir}, 2, "missing.toml"},
		{[]string{"replay", "--sigma", filepath.Join(dir, "nosuchdir"), dir}, 1, "no Sigma rule loaded"},
	} {
		out, code := edr(t, c.args...)
		assert.Equal(t, c.code, code, "%v: %s", c.args, out)
		assert.Contains(t, out, c.msg, c.args)
	}
}

func TestReplayStrictCorruptSegment(t *testing.T) {
	dir := t.TempDir()
	rec := filepath.Join(dir, "rec")
	out, code := edr(t, "generate", "--out", rec, "--events", "5000", "--seed", "2", "--quiet")
	require.Equal(t, 0, code, out)
	segs := segments(t, rec)
	require.NoError(t, os.WriteFile(segs[0], []byte("PAR1 garbage PAR1"), 0o644))
	out, code = edr(t, "replay", "--alerts", filepath.Join(dir, "a.json"), rec)
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "1 skipped")
	out, code = edr(t, "replay", "--strict", "--alerts", filepath.Join(dir, "b.json"), rec)
	assert.Equal(t, 3, code, out)
}

// TestReplayFromMatchesFullReplay: edr generate writes segment-start
// snapshots and edr replay --from restores them, so the alerts of --from T
// are the full replay's alerts on events at or after T.
func TestReplayFromMatchesFullReplay(t *testing.T) {
	dir := t.TempDir()
	rec := filepath.Join(dir, "rec")
	out, code := edr(t, "generate", "--out", rec, "--events", "60000", "--seed", "8", "--scenario-every", "3000", "--quiet",
		"--set", "recording.max_segment_age=5s")
	require.Equal(t, 0, code, out)
	full, from := filepath.Join(dir, "full.json"), filepath.Join(dir, "from.json")
	out, code = edr(t, "replay", "--alerts", full, "--match-debug", "full", rec)
	require.Equal(t, 0, code, out)
	const T = "2026-01-05T08:00:17.5Z"
	out, code = edr(t, "replay", "--alerts", from, "--match-debug", "full", "--from", T, rec)
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "start state: 4 host snapshots restored")
	cut, err := time.Parse(time.RFC3339Nano, T)
	require.NoError(t, err)
	fb, err := os.ReadFile(full)
	require.NoError(t, err)
	var want []byte
	for _, line := range bytes.SplitAfter(fb, []byte("\n")) {
		var doc struct {
			EDR struct {
				Event struct {
					Time time.Time `json:"time"`
				} `json:"event"`
			} `json:"edr"`
		}
		if len(line) == 0 {
			continue
		}
		require.NoError(t, json.Unmarshal(line, &doc))
		if !doc.EDR.Event.Time.Before(cut) {
			want = append(want, line...)
		}
	}
	got, err := os.ReadFile(from)
	require.NoError(t, err)
	require.NotEmpty(t, want)
	assert.True(t, bytes.Equal(want, got), "replay --from %s differs from the full replay's alerts after it", T)
}

// TestReplaySameRecordingTwice: naming one recording several times (the
// same path, with a trailing slash, through a symbolic link) replays it
// once, with a warning, instead of doubling every alert.
func TestReplaySameRecordingTwice(t *testing.T) {
	dir := t.TempDir()
	rec := filepath.Join(dir, "rec")
	out, code := edr(t, "generate", "--out", rec, "--events", "40000", "--seed", "5", "--scenario-every", "4000", "--quiet")
	require.Equal(t, 0, code, out)
	link := filepath.Join(dir, "link")
	require.NoError(t, os.Symlink(rec, link))

	once, twice := filepath.Join(dir, "once.json"), filepath.Join(dir, "twice.json")
	out, code = edr(t, "replay", "--alerts", once, rec)
	require.Equal(t, 0, code, out)
	assert.NotContains(t, out, "warning")
	out, code = edr(t, "replay", "--alerts", twice, rec, rec, rec+string(filepath.Separator), link)
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "replay: 40000 events")
	assert.Equal(t, 3, strings.Count(out, "is the recording "+rec+" again; it is replayed once"), out)
	a, err := os.ReadFile(once)
	require.NoError(t, err)
	b, err := os.ReadFile(twice)
	require.NoError(t, err)
	require.NotEmpty(t, a, "the scenarios raise alerts")
	assert.True(t, bytes.Equal(a, b), "the same alerts, not each one twice: %d lines vs %d", bytes.Count(a, []byte("\n")), bytes.Count(b, []byte("\n")))
}

// A replay's read error names the recording once.
func TestReplayMissingRecordingNamedOnce(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nope")
	out, code := edr(t, "replay", dir)
	assert.Equal(t, 1, code)
	assert.Equal(t, 1, strings.Count(out, "recording "+dir), out)
}

// The summary says what loaded (Sigma by status, YARA, indicators by kind)
// and, without an artifact store, that YARA and hashes checked no image;
// flags after the recording are read as flags.
func TestReplaySummaryListsLoadedRulesAndUncheckedImages(t *testing.T) {
	dir := t.TempDir()
	rec := filepath.Join(dir, "rec")
	out, code := edr(t, "generate", "--out", rec, "--events", "1000", "--seed", "5", "--quiet")
	require.Equal(t, 0, code, out)
	out, code = edr(t, "replay", rec, "--alerts", filepath.Join(dir, "a.json"))
	require.Equal(t, 0, code, out)
	assert.Regexp(t, `(?m)^loaded: Sigma \d+ rules \((\w[\w ]* \d+)(, \w[\w ]* \d+)*\); YARA \d+ rules from \d+ files; indicators md5 \d+, sha1 \d+, sha256 \d+, ip \d+, domain \d+, path regex \d+$`, out)
	assert.Contains(t, out, "not checked: the recordings have no artifact store", out)

	exe := filepath.Join(dir, "x.exe")
	writeFile(t, exe, "MZ")
	out, code = edr(t, "artifacts", "add", rec, exe)
	require.Equal(t, 0, code, out)
	out, code = edr(t, "replay", rec, "--alerts", filepath.Join(dir, "b.json"))
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "loaded: Sigma", out)
	assert.NotContains(t, out, "not checked", out)
}

// --format csv writes the timeline (header once, a row per alert);
// --min-level keeps lower alerts out and the summary says how many; the
// summary lists hosts by alert count and the first and last alert time.
func TestReplayTimelineAndMinLevel(t *testing.T) {
	dir := t.TempDir()
	rec := generated(t, dir, "20000", "--scenario-every", "4000")

	all, csvAll := filepath.Join(dir, "all.json"), filepath.Join(dir, "all.csv")
	out, code := edr(t, "replay", "--alerts", all, rec)
	require.Equal(t, 0, code, out)
	assert.Regexp(t, `(?m)^alerts by host \(1 hosts\):\n\s+3  ws03\.corp\.example\.com$`, out)
	assert.NotContains(t, out, "min level")
	summary := out

	out, code = edr(t, "replay", "--format", "csv", "--alerts", csvAll, rec)
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "alert writer: 3 written")
	b, err := os.ReadFile(csvAll)
	require.NoError(t, err)
	rows, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 4, "header and three alerts")
	assert.Equal(t, ecs.CSVColumns, rows[0])
	j, err := os.ReadFile(all)
	require.NoError(t, err)
	var times []string
	for i, line := range bytes.Split(bytes.TrimSpace(j), []byte("\n")) {
		var doc struct {
			Timestamp string `json:"@timestamp"`
			Message   string `json:"message"`
			Winlog    struct {
				RecordID string `json:"record_id"`
			} `json:"winlog"`
		}
		require.NoError(t, json.Unmarshal(line, &doc))
		assert.Equal(t, []string{doc.Timestamp, doc.Message, doc.Winlog.RecordID}, []string{rows[i+1][0], rows[i+1][3], rows[i+1][10]},
			"row %d is the alert of line %d", i+1, i)
		times = append(times, doc.Timestamp)
	}
	slices.Sort(times)
	assert.Contains(t, summary, "alert time: first "+times[0]+", last "+times[len(times)-1]+"\n")

	out, code = edr(t, "replay", "--format", "csv", "--min-level", "high", rec)
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "min level high: 1 alerts below it not written")
	assert.Contains(t, out, "alert writer: 2 written")
	assert.Equal(t, 2, strings.Count(out, ",critical,"))
	assert.NotContains(t, out, ",medium,")

	out, code = edr(t, "replay", "--format", "text", "--min-level", "critical", rec)
	require.Equal(t, 0, code, out)
	assert.Equal(t, 2, strings.Count(out, "(replayed)"))

	for _, c := range [][]string{{"--format", "xml"}, {"--min-level", "severe"}} {
		out, code = edr(t, append(append([]string{"replay"}, c...), rec)...)
		assert.Equal(t, 2, code, out)
		assert.Contains(t, out, c[0])
	}
}
