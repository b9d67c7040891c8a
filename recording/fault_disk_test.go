//go:build linux

package recording

import (
	"crypto/sha256"
	"encoding/hex"
	"math/rand"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/edr-lab/edr/event"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// smallFS mounts a tmpfs of the given size on a temporary directory, or
// skips the test where that cannot be done (not root, no mount permission).
func smallFS(t *testing.T, size string) string {
	dir := t.TempDir()
	if os.Geteuid() != 0 {
		t.Skip("full-disk test needs root to mount a small tmpfs")
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size); err != nil {
		t.Skipf("full-disk test: cannot mount a tmpfs on %s: %v", dir, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			ents, _ := os.ReadDir("/proc/self/fd")
			for _, e := range ents {
				if l, _ := os.Readlink("/proc/self/fd/" + e.Name()); strings.HasPrefix(l, dir) {
					t.Errorf("still open: %s", l)
				}
			}
			t.Errorf("unmount %s: %v", dir, err)
			syscall.Unmount(dir, syscall.MNT_DETACH)
		}
	})
	return dir
}

func fileSum(t *testing.T, p string) string {
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestFaultFullDisk: a writer that runs out of space returns an error
// saying so, leaves the finished segments as they were, and once there is
// space again a reopen recovers every event whose Write returned (with a
// negative FlushInterval each one was in the WAL by then).
func TestFaultFullDisk(t *testing.T) {
	dir := smallFS(t, "1m")
	rng := rand.New(rand.NewSource(3))
	mk := func(i int) *event.Event {
		e := &event.Event{Time: t0 + int64(i)*1e6, Host: "h", Channel: "c", EventID: 1}
		buf := make([]byte, 1500)
		rng.Read(buf)
		e.AddExtra("blob", hex.EncodeToString(buf)) // incompressible
		return e
	}
	first := writeAll(t, dir, WriterOptions{}, []*event.Event{mk(0)})
	segs, err := listSegments(dir)
	require.NoError(t, err)
	require.Len(t, segs, 1)
	before := fileSum(t, segs[0])

	w, err := OpenWriter(dir, WriterOptions{FlushInterval: -1})
	require.NoError(t, err)
	acked := append([]*event.Event(nil), first...)
	var werr error
	for i := 1; i < 10000 && werr == nil; i++ {
		e := mk(i)
		if werr = w.Write(e); werr == nil {
			acked = append(acked, e.Clone())
		}
	}
	require.Error(t, werr, "the file system never filled up")
	assert.ErrorIs(t, werr, syscall.ENOSPC)
	assert.Contains(t, werr.Error(), dir, "the error names the file")
	assert.Error(t, w.Close(), "closing a writer that failed reports it")
	assert.Equal(t, before, fileSum(t, segs[0]), "a finished segment is never rewritten")

	// Space again: the reopen recovers every acknowledged event.
	require.NoError(t, syscall.Mount("tmpfs", dir, "tmpfs", syscall.MS_REMOUNT, "size=64m"))
	w, err = OpenWriter(dir, WriterOptions{})
	require.NoError(t, err)
	require.NoError(t, w.Close())
	got, st := readAll(t, dir, ReaderOptions{Strict: true})
	assert.Empty(t, st.Errors)
	require.GreaterOrEqual(t, len(got), len(acked))
	requireSame(t, acked, got[:len(acked)])
	assert.LessOrEqual(t, len(got), len(acked)+1, "at most the event whose Write failed is there too")
}
