package importer

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/internal/testutil"
	"github.com/edr-lab/edr/recording"
)

const (
	crashOutEnv  = "EDR_IMPORT_CRASH_OUT"
	crashSrcsEnv = "EDR_IMPORT_CRASH_SRCS"
)

// resumeSet is ~22k events in 18 Mordor archives (several with two or
// more hosts, so a file's events go to several segments) and two EVTX files.
func resumeSet(t *testing.T) []string {
	root := testutil.Corpus(t, "security-datasets/datasets/atomic/windows")
	srcs := []string{filepath.Join(root, "credential_access"), filepath.Join(root, "discovery"), filepath.Join(root, "lateral_movement")}
	evtx := testutil.Corpus(t, "evtx-attack-samples")
	return append(srcs, filepath.Join(evtx, "Credential Access"))
}

// TestImportCrashChild imports and is killed; it does nothing in a normal
// run.
func TestImportCrashChild(t *testing.T) {
	out := os.Getenv(crashOutEnv)
	if out == "" {
		t.Skip("import crash-test child process only")
	}
	// A short flush interval (a [recording] setting) makes many of the
	// kills land when part of a file is durable.
	opts := Options{Out: out, Writer: recording.WriterOptions{FlushInterval: 2 * time.Millisecond}}
	_, err := Run(context.Background(), strings.Split(os.Getenv(crashSrcsEnv), "\n"), opts)
	fmt.Fprintln(os.Stderr, "import ended:", err)
	os.Exit(3)
}

// eventKeys renders every event of a recording without its Seq, sorted: the
// recording's content as a multiset.
func eventKeys(t *testing.T, dir string) []string {
	var keys []string
	for _, e := range replayAll(t, dir) {
		keys = append(keys, eventKey(e))
	}
	slices.Sort(keys)
	return keys
}

// eventKey renders every part of an event but its Seq.
func eventKey(e *event.Event) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d|%q|%q|%q|%d|%d|%d|%d", e.Time, e.Host, e.Channel, e.Provider, e.EventID, e.RecordID, e.Source, e.Flags)
	e.Range(func(id event.FieldID, v string) bool {
		fmt.Fprintf(&b, "|%s=%q", id.Name(), v)
		return true
	})
	for _, kv := range e.Extra() {
		fmt.Fprintf(&b, "|extra %q=%q", kv.Key, kv.Value)
	}
	return b.String()
}

// TestInterruptedImportResumesExactlyOnce kills the import (the importer
// in a child process, as `edr import` runs it) with SIGKILL at random
// points: in each cycle up to 4 children import the same files into a new
// recording, each killed, each resuming what the previous one left; then
// one more import runs to the end. After every kill the recording holds no
// event more often than a clean import of the files does; after the last
// import it holds exactly the clean import's events, compared event by
// event (sorted by content). Seq is left out of the comparison: it matches
// unless a recovery dropped WAL events past a gap, whose Seqs are not handed
// out again.
func TestInterruptedImportResumesExactlyOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short")
	}
	srcs := resumeSet(t)
	clean := t.TempDir()
	start := time.Now()
	sum, err := Run(context.Background(), srcs, Options{Out: clean})
	require.NoError(t, err)
	took := time.Since(start)
	require.Greater(t, sum.Records, int64(10000))
	want := eventKeys(t, clean)
	require.Len(t, want, int(sum.Records))
	wantCount := map[string]int{}
	for _, k := range want {
		wantCount[k]++
	}

	rng := rand.New(rand.NewPCG(7, 8))
	kills, partial, resumed, resumedEvents, finished := 0, 0, 0, int64(0), 0
	for cycle := 0; kills < 12; cycle++ {
		require.Less(t, cycle, 10, "the children kept finishing before the kill")
		dir := t.TempDir()
		for k := 0; k < 4; k++ {
			cmd := exec.Command(os.Args[0], "-test.run=^TestImportCrashChild$", "-test.count=1")
			cmd.Env = append(os.Environ(), crashOutEnv+"="+dir, crashSrcsEnv+"="+strings.Join(srcs, "\n"))
			var stderr strings.Builder
			cmd.Stderr = &stderr
			require.NoError(t, cmd.Start())
			time.Sleep(time.Duration(rng.Int64N(int64(took) / 3)))
			require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
			cmd.Wait()
			if ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus); !ws.Signaled() {
				require.Contains(t, stderr.String(), "import ended: <nil>")
				finished++
				break // it imported everything before the kill
			}
			kills++
			// Recover (a writer that writes nothing), then: no event is
			// there more often than in the clean import.
			w, err := recording.OpenWriter(dir, recording.WriterOptions{})
			require.NoError(t, err)
			require.NoError(t, w.Close())
			got := map[string]int{}
			for _, key := range eventKeys(t, dir) {
				got[key]++
				require.LessOrEqual(t, got[key], wantCount[key], "after kill %d: an event more often than in a clean import:\n%s", kills, key)
			}
			st, err := recording.Inspect(dir)
			require.NoError(t, err)
			partial += len(st.PartialSources)
		}
		res, err := Run(context.Background(), srcs, Options{Out: dir})
		require.NoError(t, err)
		for _, f := range res.Files {
			if f.Resumed > 0 {
				resumed++
			}
		}
		resumedEvents += res.Resumed
		got := eventKeys(t, dir)
		require.Equal(t, len(want), len(got), "cycle %d", cycle)
		for i := range want {
			require.Equal(t, want[i], got[i], "cycle %d: event %d (sorted)", cycle, i)
		}
		st, err := recording.Inspect(dir)
		require.NoError(t, err)
		assert.Empty(t, st.PartialSources)
		assert.Len(t, st.Sources, len(res.Files))
	}
	t.Logf("%d kills (%d children finished first); %d partially imported files seen after the kills; the final imports resumed %d files (%d events not written again)",
		kills, finished, partial, resumed, resumedEvents)
}
