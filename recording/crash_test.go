package recording

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
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
// index+1); and the events lost at each kill were written within the flush
// interval (plus scheduling slack) before the kill.

const (
	crashEnvDir      = "EDR_CRASH_CHILD_DIR"
	crashFlush       = 25 * time.Millisecond
	crashStart       = int64(1_764_028_795_000_000_000) // 2025-11-24T23:59:55Z: the run crosses midnight
	crashRounds      = 66                               // 55 timed from the child's start, 11 blind
	crashLossSlack   = 400 * time.Millisecond           // scheduling on a shared 2-core machine, zstd, write
	crashProgressGap = 16                               // the child reports progress every this many events
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
	out := bufio.NewWriter(os.Stdout)
	w, err := OpenWriter(dir, crashOpts())
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(3)
	}
	start := int(w.NextSeq() - 1)
	fmt.Fprintf(out, "start %d\n", start)
	out.Flush()
	var e event.Event
	for i := start; ; i++ {
		crashEvent(i, &e)
		if err := w.Write(&e); err != nil {
			fmt.Fprintln(os.Stderr, "write:", err)
			os.Exit(4)
		}
		if i%crashProgressGap == 0 {
			fmt.Fprintf(out, "%d %d\n", i, time.Now().UnixNano())
			out.Flush()
		}
		if i%500 == 499 {
			time.Sleep(time.Millisecond) // a live-like rate, so kills land in all phases
		}
	}
}

type progress struct {
	i int
	t int64
}

// runCrashChild starts a child, kills it after delay, and returns its start
// index and progress reports.
// When afterStart is set the delay counts from the child's "start" line
// (recovery done), so the kill lands while it writes; otherwise from exec,
// so it may land in process start-up or recovery.
func runCrashChild(t *testing.T, dir string, delay time.Duration, afterStart bool) (start int, reports []progress, kill int64) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnvDir+"="+dir)
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	require.NoError(t, cmd.Start())
	lines := make(chan string, 1<<20)
	started := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if strings.HasPrefix(sc.Text(), "start ") {
				close(started)
			}
			lines <- sc.Text()
		}
		close(lines)
	}()
	if afterStart {
		select {
		case <-started:
		case <-time.After(30 * time.Second):
			t.Fatalf("child did not start: %s", stderr.String())
		}
	}
	time.Sleep(delay)
	kill = time.Now().UnixNano()
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	werr := cmd.Wait()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
		t.Fatalf("child was not killed (exit %v): %s", werr, stderr.String())
	}
	start = -1
	for l := range lines {
		if s, ok := strings.CutPrefix(l, "start "); ok {
			start, _ = strconv.Atoi(s)
			continue
		}
		var p progress
		if _, err := fmt.Sscan(l, &p.i, &p.t); err == nil {
			reports = append(reports, p)
		}
	}
	return start, reports, kill
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
	prevReports, prevKill := []progress(nil), int64(0)
	var maxLossWindow time.Duration
	kills, recovered, writing := 0, 0, 0
	checkLoss := func(durable int) {
		// Every event reported written before kill - (interval + slack)
		// must have survived.
		for _, p := range prevReports {
			if p.t <= prevKill-int64(crashFlush+crashLossSlack) {
				require.Less(t, p.i, durable, "event %d was written %v before the kill and lost", p.i, time.Duration(prevKill-p.t))
			}
			if p.i >= durable {
				maxLossWindow = max(maxLossWindow, time.Duration(prevKill-p.t))
				break
			}
		}
	}
	for round := 0; round < crashRounds; round++ {
		delay := time.Duration(rng.IntN(100)) * time.Millisecond
		start, reports, kill := runCrashChild(t, dir, delay, round%6 != 5)
		kills++
		if len(reports) > 0 {
			writing++
		}
		if start >= 0 && prevKill != 0 {
			checkLoss(start)
		}
		if start < 0 {
			// Killed before it finished recovering: the previous reports
			// are checked at the next known durable point.
			if len(reports) == 0 {
				continue
			}
		}
		prevReports, prevKill = reports, kill
		if round%2 == 1 || round == crashRounds-1 {
			n := checkPrefix(t, dir)
			checkLoss(n)
			prevReports, prevKill = nil, 0
			recovered = n
		}
	}
	st, err := Inspect(dir)
	require.NoError(t, err)
	require.Zero(t, st.CorruptSegments)
	require.Equal(t, int64(recovered), st.Events)
	t.Logf("%d kills (%d while writing events), %d events durable, %d segments (%d recovered from WAL), largest loss window %v (flush interval %v)",
		kills, writing, recovered, st.Segments, st.RecoveredSegments, maxLossWindow, crashFlush)
	require.Positive(t, st.RecoveredSegments)
	require.GreaterOrEqual(t, writing, 50, "kills that landed while the child was writing")
}
