package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/edr-lab/edr/detect/filescan"
	"github.com/edr-lab/edr/detect/yara"
	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/recording"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A file collected after the fact (a KAPE-style folder) reaches replay: the
// process starts recorded without Hashes (Security 4688) whose image is the
// collected file raise the YARA alert the file deserves.
func TestArtifactsAddThenReplayRunsYARA(t *testing.T) {
	if !yara.Available {
		t.Skip("YARA compiled out")
	}
	dir := t.TempDir()
	rec := filepath.Join(dir, "rec")
	out, code := edr(t, "generate", "--out", rec, "--events", "20000", "--seed", "5", "--quiet")
	require.Equal(t, 0, code, out)

	// The image most often started with a Security 4688 (no Hashes).
	rd, err := recording.OpenReader(rec, recording.ReaderOptions{})
	require.NoError(t, err)
	starts := map[string]int{}
	fNewProcessName := event.MustField("NewProcessName")
	require.NoError(t, rd.Run(func(batch []event.Event) error {
		for i := range batch {
			if ev := &batch[i]; ev.Channel == event.ChannelSecurity && ev.EventID == 4688 && ev.Value(event.FHashes) == "" {
				starts[ev.Value(fNewProcessName)]++
			}
		}
		return nil
	}))
	var images []string
	for p := range starts {
		images = append(images, p)
	}
	sort.Slice(images, func(i, j int) bool {
		return starts[images[i]] > starts[images[j]] || starts[images[i]] == starts[images[j]] && images[i] < images[j]
	})
	require.NotEmpty(t, images)
	image, n := images[0], starts[images[0]]

	yaraAlerts := func(name string) []string {
		alerts := filepath.Join(dir, name)
		// The default YARA allowlist (C:\Windows\, C:\Program Files\ …)
		// would leave most images unscanned.
		out, code := edr(t, "replay", "--yara", "../../rules/yara", "--set", "scanner.yara_allowlist_paths=[]", "--alerts", alerts, rec)
		require.Equal(t, 0, code, out)
		type alert struct {
			EDR struct {
				Engine string `json:"engine"`
				YARA   struct {
					File string `json:"file"`
				} `json:"yara"`
			} `json:"edr"`
			Winlog struct {
				EventID string `json:"event_id"`
			} `json:"winlog"`
		}
		_, docs := readNDJSON[alert](t, alerts)
		var files []string
		for _, a := range docs {
			require.Equal(t, "yara", a.EDR.Engine)
			files = append(files, a.Winlog.EventID+" "+a.EDR.YARA.File)
		}
		return files
	}
	assert.Empty(t, yaraAlerts("before.ndjson"), "nothing to scan before the files are added")

	// The collection: the image under its Windows path, and a bystander.
	coll := filepath.Join(dir, "triage")
	local, err := filescan.DirOpener{Root: coll}.Local(image)
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Dir(local), 0o755))
	require.NoError(t, os.WriteFile(local, []byte("MZ\x90\x00 collected EDR_EXAMPLE_MARKER_STRING_7f3a9c"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(coll, "notes.txt"), []byte("collected by hand"), 0o644))

	out, code = edr(t, "artifacts", "add", "--root", coll, rec, coll)
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "artifacts add: 2 files stored")
	assert.Contains(t, out, "(2 new,")
	assert.Contains(t, out, fmt.Sprintf(", %d without Hashes linked by path,", n))

	got := yaraAlerts("after.ndjson")
	want := make([]string, n)
	for i := range want {
		want[i] = "4688 " + image
	}
	assert.Equal(t, want, got, "one YARA alert per Security 4688 of %s", image)

	// Adding again stores nothing new and keeps the verdicts.
	out, code = edr(t, "artifacts", "add", "--root", coll, rec, coll)
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "(0 new,")
	assert.Equal(t, want, yaraAlerts("again.ndjson"))
}

func TestArtifactsAddErrors(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"artifacts", "add"}, 2, "want a recording"},
		{[]string{"artifacts", "add", dir}, 2, "want a recording"},
		{[]string{"artifacts", "add", filepath.Join(dir, "norec"), dir}, 2, "norec"},
	} {
		out, code := edr(t, c.args...)
		assert.Equal(t, c.code, code, "%v: %s", c.args, out)
		assert.Contains(t, out, c.msg, "%v", c.args)
	}
}

// readNDJSON reads an alert file: its bytes and one T per line.
func readNDJSON[T any](t *testing.T, file string) ([]byte, []T) {
	t.Helper()
	raw, err := os.ReadFile(file)
	require.NoError(t, err)
	var docs []T
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var d T
		require.NoError(t, json.Unmarshal(sc.Bytes(), &d), sc.Text())
		docs = append(docs, d)
	}
	require.NoError(t, sc.Err())
	return raw, docs
}
