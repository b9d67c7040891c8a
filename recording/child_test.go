package recording

import (
	"bufio"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// child is the test binary run again as another process to execute one
// Test…Child function (a writer to kill), with its stdout lines collected.
type child struct {
	cmd    *exec.Cmd
	stderr strings.Builder
	mu     sync.Mutex
	lines  []childLine
	waits  map[string]chan struct{} // closed at the first line with the prefix
	eof    chan struct{}
}

type childLine struct {
	s  string
	at time.Time // when the parent read it
}

// startChild runs test in a child process with env added; await can wait
// for the first line with one of the prefixes given here.
func startChild(t *testing.T, test string, env []string, prefixes ...string) *child {
	c := &child{cmd: exec.Command(os.Args[0], "-test.run=^"+test+"$", "-test.count=1"), waits: map[string]chan struct{}{}, eof: make(chan struct{})}
	c.cmd.Env = append(os.Environ(), env...)
	c.cmd.Stderr = &c.stderr
	for _, p := range prefixes {
		c.waits[p] = make(chan struct{})
	}
	out, err := c.cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, c.cmd.Start())
	go func() {
		defer close(c.eof)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			c.mu.Lock()
			c.lines = append(c.lines, childLine{sc.Text(), time.Now()})
			for p, ch := range c.waits {
				if strings.HasPrefix(sc.Text(), p) {
					close(ch)
					delete(c.waits, p)
				}
			}
			c.mu.Unlock()
		}
	}()
	return c
}

// await waits (up to a minute, however busy the machine) for the first
// line with a prefix given to startChild.
func (c *child) await(t *testing.T, prefix string) {
	c.mu.Lock()
	ch, ok := c.waits[prefix]
	c.mu.Unlock()
	if !ok {
		return // seen already
	}
	select {
	case <-ch:
	case <-time.After(time.Minute):
		t.Fatalf("child printed no %q line: %s", prefix, c.stderr.String())
	}
}

// kill sends SIGKILL, requires that the child died of it (did not exit
// first) and returns every line it printed and when it was killed.
func (c *child) kill(t *testing.T) ([]childLine, time.Time) {
	at := time.Now()
	require.NoError(t, c.cmd.Process.Signal(syscall.SIGKILL))
	<-c.eof
	werr := c.cmd.Wait()
	if ws, ok := c.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() {
		t.Fatalf("child was not killed (exit %v): %s", werr, c.stderr.String())
	}
	return c.lines, at
}
