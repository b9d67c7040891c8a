package recording

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edr-lab/edr/event"
	"github.com/stretchr/testify/require"
)

// The crash test re-executes the test binary as a writer process
// (TestCrashChild) and kills it with SIGKILL at random points, ≥ 50 times
// on the same recording. Each child reopens the recording (recovering what
// the previous one left, possibly being killed during that recovery) and
// continues the deterministic event sequence where the recording ends.
// Checked: every finished segment reads in strict mode; the recording is
// exactly a prefix of the sequence (no duplicate, no reordering, Seq =
// index+1); and nothing acknowledged durable is lost. The child reports on
// its stdout, from WriterOptions.Durable, the last Seq of every completed
// WAL flush (the flush timer runs every crashFlush): what a kill may lose
// is only what was written after the last completed flush, i.e. within
// about one flush interval. No wall-clock bound is asserted (scheduling on
// a shared machine can stretch any interval); the time between the last
// acknowledgement and the kill is measured and logged.

const (
	crashEnvDir = "EDR_CRASH_CHILD_DIR"
	crashFlush  = 25 * time.Millisecond
	crashStart  = int64(1_764_028_795_000_000_000) // 2025-11-24T23:59:55Z: the run crosses midnight
	crashRounds = 66                               // 55 timed from the child's start, 11 blind
)

// crashEvent is event i of the deterministic sequence.
func crashEvent(i int, e *event.Event) {
	e.Reset()
	e.Time = crashStart + int64(i)*1_000_000
	e.Host = "crash-host"
	e.Channel, e.Provider, e.Source = event.ChannelSysmon, event.ProviderSysmon, event.SourceSynthetic
	e.RecordID = uint64(i + 1)
	e.EventID = uint16([]int{1, 3, 11, 13, 22}[i%5])
	e.Set(event.FImage, fmt.Sprintf(`C:\Windows\System32\proc%d.exe`, i%300))
	e.Set(event.FProcessId, strconv.Itoa(i%9000))
	if i%3 == 0 {
		e.Set(event.FCommandLine, fmt.Sprintf("proc%d.exe --arg %d", i%300, i))
	}
	if i%7 == 0 {
		e.Set(event.FUser, "")
	}
	if i%11 == 0 {
		e.AddExtra("Unknown", strconv.Itoa(i))
	}
}

func crashOpts() WriterOptions {
	return WriterOptions{FlushInterval: crashFlush, MaxSegmentBytes: 256 << 10, RowGroupRows: 2000, MaxSegmentAge: 4e9}
}

// TestCrashChild is the writer process; it does nothing in a normal run.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv(crashEnvDir)
	if dir == "" {
		t.Skip("crash-test child process only")
	}
	var mu sync.Mutex
	say := func(format string, args ...any) {
		mu.Lock()
		fmt.Fprintf(os.Stdout, format, args...) // one write per line
		mu.Unlock()
	}
	opts := crashOpts()
	opts.Durable = func(seq uint64) { say("durable %d\n", seq) }
	w, err := OpenWriter(dir, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(3)
	}
	start := int(w.NextSeq() - 1)
	say("start %d\n", start)
	var e event.Event
	for i := start; ; i++ {
		crashEvent(i, &e)
		if err := w.Write(&e); err != nil {
			fmt.Fprintln(os.Stderr, "write:", err)
			os.Exit(4)
		}
		if i%100 == 99 {
			time.Sleep(time.Millisecond) // a live-like rate, so kills land in all phases
		}
	}
}

// childRun is what the parent saw of one child.
type childRun struct {
	start   int    // events in the recording when it started writing; -1: killed before
	acked   uint64 // largest Seq it reported durable; 0: none
	acks    int
	window  time.Duration // from the last acknowledgement's arrival to the kill
	written bool          // it was writing when killed (reached its start line)
}

// runCrashChild starts a child and kills it after delay.
// When afterStart is set the delay counts from the child's "start" line
// (recovery done), so the kill lands while it writes; otherwise from exec,
// so it may land in process start-up or recovery.
func runCrashChild(t *testing.T, dir string, delay time.Duration, afterStart bool) childRun {
	c := startChild(t, "TestCrashChild", []string{crashEnvDir + "=" + dir}, "start ")
	if afterStart {
		c.await(t, "start ")
	}
	time.Sleep(delay)
	lines, kill := c.kill(t)
	run := childRun{start: -1}
	for _, l := range lines {
		if v, ok := strings.CutPrefix(l.s, "start "); ok {
			run.start, _ = strconv.Atoi(v)
			run.written = true
		} else if v, ok := strings.CutPrefix(l.s, "durable "); ok {
			seq, err := strconv.ParseUint(v, 10, 64)
			require.NoError(t, err, "report %q", l.s)
			require.Greater(t, seq, run.acked, "acknowledgements increase")
			run.acked, run.acks = seq, run.acks+1
			if l.at.Before(kill) {
				run.window = kill.Sub(l.at)
			}
		}
	}
	return run
}

// checkPrefix recovers (through a writer that writes nothing) and checks the
// recording is exactly the first n events of the sequence; it returns n.
func checkPrefix(t *testing.T, dir string) int {
	w, err := OpenWriter(dir, crashOpts())
	require.NoError(t, err)
	require.NoError(t, w.Close())
	r, err := OpenReader(dir, ReaderOptions{Strict: true})
	require.NoError(t, err)
	var want event.Event
	n := 0
	require.NoError(t, r.Run(func(b []event.Event) error {
		for i := range b {
			crashEvent(n, &want)
			want.Seq = uint64(n + 1)
			if !event.Equal(&want, &b[i]) {
				return fmt.Errorf("event %d differs:\nwant %s\ngot  %s", n, dump(&want), dump(&b[i]))
			}
			n++
		}
		return nil
	}))
	return n
}

func TestCrashRecoveryUnderSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short")
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(1, 2))
	var (
		acked     uint64 // largest Seq acknowledged durable since the last check
		windows   []time.Duration
		kills     int
		writing   int
		ackRounds int
		durable   int
	)
	// atLeastAcked: a recording of n events holds everything acknowledged.
	atLeastAcked := func(n int, what string) {
		require.GreaterOrEqual(t, uint64(n), acked, "%s: %d events, but Seq %d was acknowledged durable", what, n, acked)
		acked = 0
	}
	for round := 0; round < crashRounds; round++ {
		delay := time.Duration(rng.IntN(100)) * time.Millisecond
		run := runCrashChild(t, dir, delay, round%6 != 5)
		kills++
		if run.start >= 0 {
			// The child recovered the previous one's recording first.
			atLeastAcked(run.start, "recovered by the next child")
		}
		if run.written {
			writing++
		}
		if run.acks > 0 {
			ackRounds++
			windows = append(windows, run.window)
			acked = max(acked, run.acked)
		}
		if round%2 == 1 || round == crashRounds-1 {
			durable = checkPrefix(t, dir)
			atLeastAcked(durable, "recovered")
		}
	}
	st, err := Inspect(dir)
	require.NoError(t, err)
	require.Zero(t, st.CorruptSegments)
	require.Equal(t, int64(durable), st.Events)
	slices.Sort(windows)
	med := time.Duration(0)
	if len(windows) > 0 {
		med = windows[len(windows)/2]
	}
	t.Logf("%d kills (%d while writing, %d after at least one acknowledged flush), %d events durable, %d segments (%d recovered from WAL); time from the last acknowledged flush to the kill: median %v, max %v (flush interval %v)",
		kills, writing, ackRounds, durable, st.Segments, st.RecoveredSegments, med, windows[len(windows)-1], crashFlush)
	require.Positive(t, st.RecoveredSegments)
	require.GreaterOrEqual(t, writing, 50, "kills that landed while the child was writing")
	require.Positive(t, ackRounds, "children that acknowledged a flush before the kill (else nothing was checked against an acknowledgement)")
}
