package main

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// daskCluster is a real Dask scheduler and workers on 127.0.0.1, killed
// when the test ends.
type daskCluster struct {
	addr    string
	workers []*exec.Cmd
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startDask starts the processes and waits until every worker registered.
func startDask(t *testing.T, dir string, workers int) *daskCluster {
	t.Helper()
	c := &daskCluster{addr: fmt.Sprintf("tcp://127.0.0.1:%d", freePort(t))}
	start := func(name string, args ...string) (*exec.Cmd, string) {
		log := filepath.Join(dir, name+".log")
		f, err := os.Create(log)
		require.NoError(t, err)
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Stdout, cmd.Stderr = f, f
		require.NoError(t, cmd.Start())
		t.Cleanup(func() {
			cmd.Process.Kill()
			cmd.Wait()
			f.Close()
		})
		return cmd, log
	}
	port := strings.TrimPrefix(c.addr, "tcp://127.0.0.1:")
	start("scheduler", "/usr/bin/dask-scheduler", "--host", "127.0.0.1", "--port", port, "--no-dashboard")
	var logs []string
	for i := range workers {
		// No nanny: a killed worker stays dead (its tasks go elsewhere).
		w, log := start(fmt.Sprintf("worker%d", i), "/usr/bin/dask-worker", c.addr, "--host", "127.0.0.1", "--nthreads", "1",
			"--no-nanny", "--no-dashboard", "--name", fmt.Sprintf("w%d", i))
		c.workers = append(c.workers, w)
		logs = append(logs, log)
	}
	deadline := time.Now().Add(90 * time.Second)
	for _, log := range logs {
		for {
			b, _ := os.ReadFile(log)
			if bytes.Contains(b, []byte("Registered to")) {
				break
			}
			require.True(t, time.Now().Before(deadline), "worker did not register: %s", b)
			time.Sleep(200 * time.Millisecond)
		}
	}
	return c
}

// TestDaskReplayEqualsSingleReplay runs scripts/edr-dask on a real local
// Dask cluster (a scheduler and two workers), then again killing the
// worker that runs the first shard mid-job: both outputs are the bytes of
// a replay on one machine, and the second summary shows the re-run.
func TestDaskReplayEqualsSingleReplay(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Dask cluster")
	}
	if _, err := os.Stat("/usr/bin/dask-scheduler"); err != nil {
		t.Skip("Dask absent (/usr/bin/dask-scheduler): apt-get install python3-distributed")
	}
	if err := exec.Command("/usr/bin/python3", "-c", "import distributed").Run(); err != nil {
		t.Skip("python3-distributed absent: apt-get install python3-distributed")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "edr")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "%s", out)
	rec, want := splitFixture(t, dir, "12000")

	c := startDask(t, dir, 2)
	daskRun := func(alerts string, env ...string) *exec.Cmd {
		args := append([]string{"--scheduler", c.addr, "--edr", bin, "--shards", "6", "--alerts", alerts}, splitRules...)
		cmd := exec.Command("../../scripts/edr-dask", append(args, rec)...)
		cmd.Env = append(os.Environ(), env...)
		return cmd
	}
	check := func(alerts string, summary []byte, retries string) {
		t.Helper()
		got, err := os.ReadFile(alerts)
		require.NoError(t, err)
		require.True(t, bytes.Equal(want, got), "Dask output differs from the single replay; summary: %s", summary)
		require.Regexp(t, regexp.MustCompile(`\d+ shards on \d+ workers, 12000 events .* retries `+retries+`;`), string(summary))
	}

	first := filepath.Join(dir, "dask1.ndjson")
	summary, err := daskRun(first).CombinedOutput()
	require.NoError(t, err, "%s", summary)
	t.Logf("%s", summary)
	check(first, summary, "0")

	// Kill the worker running shard 0 while its task stalls (test hook).
	pidfile := filepath.Join(dir, "stalled.pid")
	second := filepath.Join(dir, "dask2.ndjson")
	cmd := daskRun(second, "EDR_DASK_TEST_STALL=0:120:"+pidfile)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	require.NoError(t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var pid int
	for deadline := time.Now().Add(90 * time.Second); pid == 0; {
		if b, err := os.ReadFile(pidfile); err == nil {
			pid, err = strconv.Atoi(string(b))
			require.NoError(t, err)
			break
		}
		require.True(t, time.Now().Before(deadline), "shard 0 never started")
		time.Sleep(100 * time.Millisecond)
	}
	killed := false
	for _, w := range c.workers {
		if w.Process.Pid == pid {
			require.NoError(t, w.Process.Kill())
			killed = true
		}
	}
	require.True(t, killed, "pid %d is not one of the test's workers", pid)
	select {
	case err := <-done:
		require.NoError(t, err, "%s", buf.Bytes())
	case <-time.After(3 * time.Minute):
		cmd.Process.Kill()
		t.Fatalf("edr-dask did not finish after a worker died: %s", buf.Bytes())
	}
	t.Logf("%s", buf.Bytes())
	check(second, buf.Bytes(), "1")
}
