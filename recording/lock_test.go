package recording

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/edr-lab/edr/event"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOneWriterAtATime(t *testing.T) {
	dir := t.TempDir()
	w, err := OpenWriter(dir, WriterOptions{})
	require.NoError(t, err)
	require.NoError(t, w.Write(&event.Event{Time: t0, Host: "h", Channel: "c", EventID: 1}))

	_, err = OpenWriter(dir, WriterOptions{})
	require.ErrorIs(t, err, ErrLocked)
	assert.Contains(t, err.Error(), dir)
	assert.Contains(t, err.Error(), filepath.Join(dir, lockFile))

	// Readers take no lock.
	_, err = Inspect(dir)
	require.NoError(t, err)
	_, err = OpenReader(dir, ReaderOptions{})
	require.NoError(t, err)

	require.NoError(t, w.Close())
	w, err = OpenWriter(dir, WriterOptions{})
	require.NoError(t, err, "the lock is released by Close")
	require.NoError(t, w.Close())
	got, _ := readAll(t, dir, ReaderOptions{})
	assert.Len(t, got, 1)
}

const lockEnvDir = "EDR_LOCK_CHILD_DIR"

// TestLockChild holds a recording open until killed; it does nothing in a
// normal run.
func TestLockChild(t *testing.T) {
	dir := os.Getenv(lockEnvDir)
	if dir == "" {
		t.Skip("lock-test child process only")
	}
	w, err := OpenWriter(dir, WriterOptions{})
	if err != nil {
		os.Stdout.WriteString("error " + err.Error() + "\n")
		os.Exit(3)
	}
	if w.Write(&event.Event{Time: t0, Host: "h", Channel: "c", EventID: 1}) != nil || w.Flush() != nil {
		os.Exit(4)
	}
	os.Stdout.WriteString("open\n")
	select {}
}

// TestLockAcrossProcesses: a writer in another process excludes this one,
// and its death (SIGKILL, no Close) releases the lock.
func TestLockAcrossProcesses(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("uses SIGKILL")
	}
	dir := t.TempDir()
	c := startChild(t, "TestLockChild", []string{lockEnvDir + "=" + dir}, "open", "error")
	c.await(t, "open")

	_, err := OpenWriter(dir, WriterOptions{})
	require.ErrorIs(t, err, ErrLocked)

	c.kill(t)
	w, err := OpenWriter(dir, WriterOptions{})
	require.NoError(t, err, "a dead writer's lock is gone")
	assert.Equal(t, 1, w.Stats().RecoveredSegments, "and its WAL is recovered")
	require.NoError(t, w.Close())
}
