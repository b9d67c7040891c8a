package recording

import (
	"encoding/binary"
	"math/rand"
	"os"
	"path/filepath"
	"testing"

	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// crashedWAL writes n events, one WAL record each (the first record also
// holds the segment header), and abandons the writer as a crash would. It
// returns the WAL's path relative to the recording, its bytes, the start
// offset of every record, and the events.
func crashedWAL(t *testing.T, n int) (rel string, data []byte, starts []int64, want []*event.Event) {
	dir := t.TempDir()
	w, err := OpenWriter(dir, WriterOptions{})
	require.NoError(t, err)
	for i := 0; i < n; i++ {
		e := &event.Event{Time: t0 + int64(i), Host: "h", Channel: "c", EventID: uint16(i)}
		require.NoError(t, w.Write(e))
		want = append(want, e.Clone())
		require.NoError(t, w.Flush()) // one record per event
	}
	w.abandon(t)
	wals, _ := filepath.Glob(filepath.Join(dir, walDir, "*", "*", "*.wal"))
	require.Len(t, wals, 1)
	data, err = os.ReadFile(wals[0])
	require.NoError(t, err)
	rel, err = filepath.Rel(dir, wals[0])
	require.NoError(t, err)
	for off := int64(8); off < int64(len(data)); off += 8 + int64(binary.LittleEndian.Uint32(data[off:])) {
		starts = append(starts, off)
	}
	require.Len(t, starts, n)
	return rel, data, starts, want
}

// TestFaultDamagedWAL damages one byte of a crashed writer's WAL, at every
// offset of its first 64 bytes and at seeded random later ones, and
// reopens the recording: the events of every record before the damaged
// one are recovered (all of them when only the magic is damaged: the
// first record's checksum proves the file is a WAL), and the WAL's bytes
// from the damaged record on are kept, byte for byte, in <wal>.bad.
func TestFaultDamagedWAL(t *testing.T) {
	rel, data, starts, want := crashedWAL(t, 12)
	offsets := make([]int, 0, 64+24)
	for i := 0; i < 64; i++ {
		offsets = append(offsets, i)
	}
	rng := rand.New(rand.NewSource(8))
	for i := 0; i < 24; i++ {
		offsets = append(offsets, 64+rng.Intn(len(data)-64))
	}
	for _, off := range offsets {
		bad := append([]byte(nil), data...)
		bad[off] ^= 0xff
		// The record holding the damaged byte, and where it starts.
		k, from := len(starts), int64(len(data))
		if off >= 8 {
			for k = 0; k+1 < len(starts) && starts[k+1] <= int64(off); k++ {
			}
			from = starts[k]
		}
		dir := t.TempDir()
		walPath := filepath.Join(dir, rel)
		require.NoError(t, os.MkdirAll(filepath.Dir(walPath), 0o755))
		require.NoError(t, os.WriteFile(walPath, bad, 0o644))

		w, err := OpenWriter(dir, WriterOptions{})
		require.NoError(t, err, "offset %d", off)
		st := w.Stats()
		require.NoError(t, w.Close())

		got, _ := readAll(t, dir, ReaderOptions{})
		require.Len(t, got, k, "offset %d: the records before the damaged one", off)
		requireSame(t, want[:k], got)
		assert.NoFileExists(t, walPath, "offset %d", off)
		if from == int64(len(data)) {
			assert.NoFileExists(t, walPath+".bad", "offset %d: nothing to keep aside", off)
		} else {
			kept, err := os.ReadFile(walPath + ".bad")
			require.NoError(t, err, "offset %d: the unread rest must be kept", off)
			assert.Equal(t, bad[from:], kept, "offset %d: kept aside byte for byte", off)
		}
		checkRecoveryReport(t, off, st, walPath, int64(k), int64(len(data))-from, from)
	}
}

// TestFaultPartialWALHeader: only a file that is provably a WAL cut while
// its magic was written (a prefix of the magic, or zeros) is removed;
// anything else is kept aside whole.
func TestFaultPartialWALHeader(t *testing.T) {
	rel, _, _, _ := crashedWAL(t, 1)
	for _, c := range []struct {
		content string
		removed bool
	}{{"", true}, {"EDRW", true}, {"\x00\x00\x00", true}, {"EDRWAL1\n", true}, {"EDRx", false}, {"garbage, not a WAL", false}} {
		dir := t.TempDir()
		walPath := filepath.Join(dir, rel)
		require.NoError(t, os.MkdirAll(filepath.Dir(walPath), 0o755))
		require.NoError(t, os.WriteFile(walPath, []byte(c.content), 0o644))
		w, err := OpenWriter(dir, WriterOptions{})
		require.NoError(t, err)
		require.NoError(t, w.Close())
		assert.NoFileExists(t, walPath)
		if c.removed {
			assert.NoFileExists(t, walPath+".bad", "%q", c.content)
			continue
		}
		kept, err := os.ReadFile(walPath + ".bad")
		require.NoError(t, err, "%q must be kept", c.content)
		assert.Equal(t, c.content, string(kept))
	}
}

// One host directory that cannot be read does not fail the recording: the
// reader skips it, counts it and names it; strict mode fails naming it.
func TestUnreadableHostDirectoryIsSkipped(t *testing.T) {
	if !testutil.Unprivileged(t) {
		return
	}
	dir, victim, others := corruptFixture(t)
	hostDir := filepath.Dir(filepath.Dir(victim)) // REC/host=…/date=…/seg
	require.NoError(t, os.Chmod(hostDir, 0))
	t.Cleanup(func() { _ = os.Chmod(hostDir, 0o755) })

	got, st := readAll(t, dir, ReaderOptions{})
	requireSame(t, others, got)
	assert.Equal(t, 1, st.DirsSkipped)
	require.Len(t, st.Errors, 1)
	var de *DirError
	require.ErrorAs(t, st.Errors[0], &de)
	assert.Equal(t, hostDir, de.Path)
	assert.ErrorIs(t, st.Errors[0], os.ErrPermission)

	_, err := OpenReader(dir, ReaderOptions{Strict: true})
	require.Error(t, err)
	assert.ErrorAs(t, err, &de)
	assert.Contains(t, err.Error(), hostDir)
}

// Inspect, like the reader, summarizes the hosts it can read when one host
// directory is unreadable, and counts and names the one it cannot (it used
// to fail the whole recording).
func TestInspectUnreadableHostDirectory(t *testing.T) {
	if !testutil.Unprivileged(t) {
		return
	}
	dir, victim, others := corruptFixture(t)
	hostDir := filepath.Dir(filepath.Dir(victim))
	require.NoError(t, os.Chmod(hostDir, 0))
	t.Cleanup(func() { _ = os.Chmod(hostDir, 0o755) })

	s, err := Inspect(dir)
	require.NoError(t, err)
	assert.Equal(t, 1, s.UnreadableDirs)
	assert.Equal(t, int64(len(others)), s.Events)
	require.Len(t, s.Errors, 1)
	assert.Contains(t, s.Errors[0], hostDir)
}
