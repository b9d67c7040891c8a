//go:build unix

package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/recording"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLiveChild is the edr binary when EDR_LIVE_CHILD holds its arguments
// (as a JSON array): the signal tests run it as a child process.
func TestLiveChild(t *testing.T) {
	args := os.Getenv("EDR_LIVE_CHILD")
	if args == "" {
		t.Skip("child process of the signal tests")
	}
	var list []string
	if err := json.Unmarshal([]byte(args), &list); err != nil {
		t.Fatal(err)
	}
	os.Exit(run(append([]string{"edr"}, list...)))
}

// startLive runs edr live as a child process and waits until it has
// recorded for a while.
func startLive(t *testing.T, rec string, args ...string) (*exec.Cmd, *lockedBuffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLiveChild$", "-test.count=1")
	js, err := json.Marshal(args)
	require.NoError(t, err)
	// Its own TMPDIR: tests see what the child leaves behind there.
	cmd.Env = append(os.Environ(), "EDR_LIVE_CHILD="+string(js), "TMPDIR="+filepath.Join(filepath.Dir(rec), "tmp"))
	require.NoError(t, os.MkdirAll(filepath.Join(filepath.Dir(rec), "tmp"), 0o755))
	out := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	require.NoError(t, cmd.Start())
	deadline := time.Now().Add(30 * time.Second)
	for {
		segs, _ := filepath.Glob(filepath.Join(rec, ".wal", "*"))
		if len(segs) > 0 {
			break
		}
		require.True(t, time.Now().Before(deadline), "edr live wrote no WAL: %s", out.String())
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(1500 * time.Millisecond) // segments rotate and WALs flush meanwhile
	return cmd, out
}

// lockedBuffer is the child's output, written by exec's copying goroutine
// while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func waitExit(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatal("edr live did not exit after the signal")
	}
	return cmd.ProcessState.ExitCode()
}

// recordedSeqs reads every event of a recording (corrupt segments fail).
func recordedSeqs(t *testing.T, rec string) map[uint64]bool {
	t.Helper()
	r, err := recording.OpenReader(rec, recording.ReaderOptions{Strict: true})
	require.NoError(t, err)
	seqs := map[uint64]bool{}
	require.NoError(t, r.Run(func(b []event.Event) error {
		for i := range b {
			seqs[b[i].Seq] = true
		}
		return nil
	}))
	return seqs
}

// TestLiveSIGINTFlushesAndCloses: the first SIGINT stops the source and
// drains: exit 0, every segment closed (no WAL left), none corrupt, and the
// summary adds up: in = recorded + failed and in = detected + shed +
// dropped; the recording holds exactly the recorded events, Seq 1…n.
func TestLiveSIGINTFlushesAndCloses(t *testing.T) {
	if testing.Short() {
		t.Skip("runs edr live as a child process")
	}
	dir := t.TempDir()
	rec := filepath.Join(dir, "rec")
	cmd, out := startLive(t, rec, "live", "--source", "synthetic:20000", "--for", "5m", "--record", rec,
		"--alerts", filepath.Join(dir, "alerts"), "--set", "logging.console_output=false", "--set", "logging.directory="+filepath.Join(dir, "logs"),
		"--set", "recording.max_segment_age=2s", "--set", "live.status_interval=300ms")
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	require.Equal(t, 0, waitExit(t, cmd), out.String())
	s := out.String()
	in := summaryCount(t, s, `live: (\d+) events in`)
	recorded := summaryCount(t, s, `record: (\d+) recorded \+ 0 failed = (\d+)`)
	detected := summaryCount(t, s, `detect: (\d+) detected \+ 0 shed \+ 0 dropped`)
	require.NotZero(t, in)
	assert.Equal(t, in, recorded)
	assert.Equal(t, in, detected)

	pending, err := recording.PendingFiles(rec)
	require.NoError(t, err)
	assert.Empty(t, pending.WALs, "every segment closed: no WAL left")
	assert.Empty(t, pending.KeptAside)
	o, code := edr(t, "inspect", "--verify", rec)
	require.Equal(t, 0, code, o)
	seqs := recordedSeqs(t, rec)
	require.Len(t, seqs, int(recorded))
	for q := uint64(1); q <= recorded; q++ {
		require.True(t, seqs[q], "seq %d missing", q)
	}
	// The status record of the exit is in the operational log, with the
	// drops by stage and cause.
	logs, err := filepath.Glob(filepath.Join(dir, "logs", "edr.log.*"))
	require.NoError(t, err)
	require.NotEmpty(t, logs)
	lb, err := os.ReadFile(logs[0])
	require.NoError(t, err)
	var exit map[string]any
	periodic := 0
	for _, line := range bytes.Split(bytes.TrimSpace(lb), []byte("\n")) {
		var m map[string]any
		require.NoError(t, json.Unmarshal(line, &m))
		switch m["msg"] {
		case "live status (exit)":
			exit = m
		case "live status":
			periodic++
		}
	}
	assert.NotZero(t, periodic, "a status record every live.status_interval")
	require.NotNil(t, exit, string(lb))
	assert.EqualValues(t, in, exit["in"])
	assert.EqualValues(t, recorded, exit["recorded"])
	assert.Contains(t, exit, "dropped")
}

// TestLiveSecondSignalExitsAtOnce: a second SIGINT exits at once (130) and
// names the last acknowledged Seq; after recovery (the next writer, here edr
// recover) every event up to it is in the recording and no segment is
// corrupt.
func TestLiveSecondSignalExitsAtOnce(t *testing.T) {
	if testing.Short() {
		t.Skip("runs edr live as a child process")
	}
	dir := t.TempDir()
	rec := filepath.Join(dir, "rec")
	// A long capture queue (the source outruns the recorder): the drain
	// takes seconds, so the second signal lands during it.
	cmd, out := startLive(t, rec, "live", "--source", "synthetic", "--for", "5m", "--record", rec, "--set", "live.queue=100000",
		"--alerts", filepath.Join(dir, "alerts"), "--set", "logging.console_output=false", "--set", "logging.directory=")
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	time.Sleep(30 * time.Millisecond) // two pending SIGINTs are delivered as one
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	code := waitExit(t, cmd)
	s := out.String()
	if code == 0 {
		t.Skip("the drain finished before the second signal arrived: nothing to check: " + s)
	}
	require.Equal(t, 130, code, s)
	left, err := os.ReadDir(filepath.Join(dir, "tmp"))
	require.NoError(t, err)
	assert.Empty(t, left, "the exit at once leaves the built-in rules' temporary copy behind")
	acked := summaryCount(t, s, `Seq ≤ (\d+)`)
	o, code := edr(t, "recover", rec)
	require.Equal(t, 0, code, o)
	o, code = edr(t, "inspect", "--verify", rec)
	require.Equal(t, 0, code, o)
	seqs := recordedSeqs(t, rec)
	for q := uint64(1); q <= acked; q++ {
		require.True(t, seqs[q], "acknowledged seq %d missing after recovery", q)
	}
	t.Logf("acknowledged %d, recovered %d events", acked, len(seqs))
}

// interrupted runs edr live (startLive), sends one SIGINT and returns its
// output once it exited 0.
func interrupted(t *testing.T, rec string, args ...string) string {
	t.Helper()
	cmd, out := startLive(t, rec, args...)
	require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
	require.Equal(t, 0, waitExit(t, cmd), out.String())
	return out.String()
}

// TestLiveRawSyntheticSIGINTDrains: SIGINT on the raw path drains the
// reorder stage and the raw records still waiting for their link: exit 0,
// in = recorded = detected, every raw record read is in the raw layer, no
// write-ahead log (event or raw) left, and the recording verifies.
func TestLiveRawSyntheticSIGINTDrains(t *testing.T) {
	if testing.Short() {
		t.Skip("runs edr live as a child process")
	}
	rec := filepath.Join(t.TempDir(), "rec")
	s := interrupted(t, rec, "live", "--source", "raw-synthetic:20000", "--for", "5m", "--record", rec,
		"--alerts", filepath.Join(filepath.Dir(rec), "alerts"), "--set", "logging.console_output=false", "--set", "logging.directory=")
	in := summaryCount(t, s, `live: (\d+) events in`)
	require.NotZero(t, in)
	assert.Equal(t, in, summaryCount(t, s, `record: (\d+) recorded \+ 0 failed`))
	assert.Equal(t, in, summaryCount(t, s, `detect: (\d+) detected \+ 0 shed \+ 0 dropped`))
	records := summaryCount(t, s, `decode: (\d+) raw records`)
	assert.Equal(t, records, summaryCount(t, s, `raw layer: (\d+) recorded \+ 0 failed`))

	pending, err := recording.PendingFiles(rec)
	require.NoError(t, err)
	assert.Empty(t, pending.WALs)
	o, code := edr(t, "inspect", "--verify", rec)
	require.Equal(t, 0, code, o)
	assert.Len(t, recordedSeqs(t, rec), int(in))
	var n uint64
	require.NoError(t, recording.ReadRaw(rec, recording.RawFilter{}, func(*recording.RawRecord) error { n++; return nil }))
	assert.Equal(t, records, n)
}
