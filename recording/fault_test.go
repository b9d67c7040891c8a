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
	return crashedWALOf(t, n, 1, "")
}

// crashedWALOf is crashedWAL with per events in each record, written as
// the events of the source src ("" for none: a generate- or live-style
// WAL) that is begun and never completed (an interrupted import).
func crashedWALOf(t testing.TB, n, per int, src string) (rel string, data []byte, starts []int64, want []*event.Event) {
	dir := t.TempDir()
	w, err := OpenWriter(dir, WriterOptions{})
	require.NoError(t, err)
	if src != "" {
		require.NoError(t, w.BeginSource(src))
	}
	for i := 0; i < n*per; i++ {
		want = append(want, writeFaultEvent(t, w, i))
		if i%per == per-1 {
			require.NoError(t, w.Flush()) // one record per per events
		}
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

// writeFaultEvent writes the i-th event of the fault tests and returns it.
func writeFaultEvent(t testing.TB, w *Writer, i int) *event.Event {
	e := &event.Event{Time: t0 + int64(i), Host: "h", Channel: "c", EventID: uint16(i)}
	require.NoError(t, w.Write(e))
	return e.Clone()
}

// damagedRecord is the record holding byte off of a WAL (len(starts) when
// off is in the magic) and its byte range.
func damagedRecord(off int, starts []int64, size int) (k int, from, to int64) {
	if off < 8 {
		return len(starts), int64(size), int64(size)
	}
	for k = 0; k+1 < len(starts) && starts[k+1] <= int64(off); k++ {
	}
	to = int64(size)
	if k+1 < len(starts) {
		to = starts[k+1]
	}
	return k, starts[k], to
}

// faultOffsets are every offset of the first 64 bytes and seeded random
// later ones.
func faultOffsets(size int) []int {
	offsets := make([]int, 0, 64+24)
	for i := 0; i < 64; i++ {
		offsets = append(offsets, i)
	}
	rng := rand.New(rand.NewSource(8))
	for i := 0; i < 24; i++ {
		offsets = append(offsets, 64+rng.Intn(size-64))
	}
	return offsets
}

// recoverDamaged writes bad as the WAL rel of a new recording and opens a
// writer on it (which recovers it); it returns the recording, the WAL's
// path and the writer's stats.
func recoverDamaged(t testing.TB, rel string, bad []byte) (dir, walPath string, st WriterStats) {
	dir = t.TempDir()
	walPath = filepath.Join(dir, rel)
	require.NoError(t, os.MkdirAll(filepath.Dir(walPath), 0o755))
	require.NoError(t, os.WriteFile(walPath, bad, 0o644))
	w, err := OpenWriter(dir, WriterOptions{})
	require.NoError(t, err)
	st = w.Stats()
	require.NoError(t, w.Close())
	return dir, walPath, st
}

// checkKeptAside checks that <wal>.bad holds exactly want (the damaged
// bytes), or does not exist when want is empty.
func checkKeptAside(t *testing.T, off int, walPath string, want []byte) {
	t.Helper()
	if len(want) == 0 {
		assert.NoFileExists(t, walPath+".bad", "offset %d: nothing to keep aside", off)
		return
	}
	kept, err := os.ReadFile(walPath + ".bad")
	require.NoError(t, err, "offset %d: the damaged record must be kept", off)
	assert.Equal(t, want, kept, "offset %d: the damaged record kept aside byte for byte, and only it", off)
}

// TestFaultDamagedWAL damages one byte of a crashed writer's WAL (no
// source: as generate and live capture write), at every offset of its
// first 64 bytes and at seeded random later ones, and reopens the
// recording: the events of every record but the damaged one are
// recovered, those after it too (all of them when only the magic is
// damaged), in order; the damaged record's bytes, and only those, are kept
// byte for byte in <wal>.bad; and the report, the writer's counters and
// the segment's loss counters say what the damaged range held (unknown
// for the last record: nothing after it tells).
func TestFaultDamagedWAL(t *testing.T) {
	for _, per := range []int{1, 3} {
		rel, data, starts, want := crashedWALOf(t, 12, per, "")
		for _, off := range faultOffsets(len(data)) {
			bad := append([]byte(nil), data...)
			bad[off] ^= 0xff
			k, from, to := damagedRecord(off, starts, len(data))
			dir, walPath, st := recoverDamaged(t, rel, bad)

			wantNow := append(append([]*event.Event(nil), want[:min(k*per, len(want))]...), want[min((k+1)*per, len(want)):]...)
			got, _ := readAll(t, dir, ReaderOptions{})
			require.Len(t, got, len(wantNow), "per %d offset %d: every record but the damaged one", per, off)
			requireSame(t, wantNow, got)
			assert.NoFileExists(t, walPath, "offset %d", off)
			checkKeptAside(t, off, walPath, bad[from:to])
			checkRecoveryReport(t, off, st, walPath, int64(len(wantNow)), to-from, from)
			if from == to {
				continue
			}
			last := k == len(starts)-1
			wantGap := RecoveryGap{From: from, To: to, Records: 1, Events: int64(per), ToEnd: last}
			if last {
				wantGap.Records, wantGap.Events = 0, 0
			}
			r := st.Recovery[0]
			require.Len(t, r.Gaps, 1, "offset %d", off)
			gap := r.Gaps[0]
			assert.NotEmpty(t, gap.Reason)
			gap.Reason = ""
			assert.Equal(t, wantGap, gap, "offset %d", off)
			assert.Equal(t, wantGap.Events, st.RecoveryLostEvents, "offset %d", off)
			assert.Equal(t, wantGap.Records, st.RecoveryLostRecords, "offset %d", off)
			if !last {
				assert.Equal(t, len(starts)-k-1, r.Resynced, "offset %d", off)
			}
			s, err := Inspect(dir)
			require.NoError(t, err)
			assert.Equal(t, uint64(wantGap.Events), s.Loss[LossWALEvents], "offset %d: inspect shows the events lost", off)
			assert.Equal(t, to-from, s.RecoveryDroppedBytes, "offset %d", off)
			assert.Equal(t, to-from, s.KeptAsideBytes, "offset %d", off)
		}
	}
}

// TestFaultWALTwoDamagedRecords: two damaged records, each recovered
// around; <wal>.bad holds both ranges, in order, and nothing else.
func TestFaultWALTwoDamagedRecords(t *testing.T) {
	rel, data, starts, want := crashedWALOf(t, 10, 2, "")
	bad := append([]byte(nil), data...)
	bad[starts[3]+1] ^= 0x40 // the length field: the next record is found by scanning
	bad[starts[7]+20] ^= 0x01
	dir, walPath, st := recoverDamaged(t, rel, bad)
	got, _ := readAll(t, dir, ReaderOptions{})
	wantNow := append(append(append([]*event.Event(nil), want[:6]...), want[8:14]...), want[16:]...)
	requireSame(t, wantNow, got)
	kept, err := os.ReadFile(walPath + ".bad")
	require.NoError(t, err)
	assert.Equal(t, append(append([]byte(nil), bad[starts[3]:starts[4]]...), bad[starts[7]:starts[8]]...), kept)
	require.Len(t, st.Recovery, 1)
	r := st.Recovery[0]
	require.Len(t, r.Gaps, 2)
	assert.Equal(t, [2]int64{starts[3], starts[4]}, [2]int64{r.Gaps[0].From, r.Gaps[0].To})
	assert.Equal(t, [2]int64{starts[7], starts[8]}, [2]int64{r.Gaps[1].From, r.Gaps[1].To})
	assert.Equal(t, int64(2), r.LostRecords)
	assert.Equal(t, int64(4), r.LostEvents)
	assert.Equal(t, int64(len(wantNow)), r.Events)
}

// TestFaultPartialWALHeader: only a file that is provably a WAL cut while
// its magic was written (a prefix of the magic, or zeros) is removed;
// anything else is kept aside whole.
func TestFaultPartialWALHeader(t *testing.T) {
	rel, _, _, _ := crashedWAL(t, 1)
	for _, c := range []struct {
		content string
		removed bool
	}{{"", true}, {"EDRW", true}, {"\x00\x00\x00", true}, {"EDRWAL1\n", true}, {"EDRWAL2\n", true}, {"EDRWAL1", true}, {"EDRWAL2", true}, {"EDRx", false}, {"EDRWAL3", false}, {"garbage, not a WAL", false}} {
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

// TestFaultDamagedImportWAL damages one byte of the WAL of an interrupted
// import (events of a source begun, not completed): what is recovered of
// the source is still exactly the events before the damaged record (those
// after it are past the source's durable prefix, which the damage ends:
// re-sync must not leave a hole in it), only the damaged record's bytes
// are kept aside, and resuming the import after SourceProgress gives
// every event of the source exactly once.
func TestFaultDamagedImportWAL(t *testing.T) {
	const n, per = 8, 2
	src := srcHash(1)
	rel, data, starts, want := crashedWALOf(t, n, per, src)
	for _, off := range faultOffsets(len(data)) {
		bad := append([]byte(nil), data...)
		bad[off] ^= 0xff
		k, from, to := damagedRecord(off, starts, len(data))
		dir, walPath, st := recoverDamaged(t, rel, bad)

		got, _ := readAll(t, dir, ReaderOptions{})
		prefix := min(k*per, len(want))
		requireSame(t, want[:prefix], got)
		checkKeptAside(t, off, walPath, bad[from:to])
		if k < len(starts)-1 {
			// Read past the damage, dropped: the import writes them again.
			assert.Equal(t, int64(len(want)-prefix-per), st.RecoveryDroppedEvents, "offset %d", off)
		}

		w, err := OpenWriter(dir, WriterOptions{})
		require.NoError(t, err)
		done, complete := w.SourceProgress(src)
		require.False(t, complete)
		require.Equal(t, int64(prefix), done, "offset %d: the recording holds an exact prefix", off)
		require.NoError(t, w.BeginSource(src))
		for i := int(done); i < len(want); i++ {
			writeFaultEvent(t, w, i)
		}
		require.NoError(t, w.AddSource(SourceInfo{ContentHash: src, Events: int64(len(want))}))
		require.NoError(t, w.Close())
		got, _ = readAll(t, dir, ReaderOptions{})
		require.Len(t, got, len(want), "offset %d: resumed import, every event exactly once", off)
		for i := range want {
			assert.Equal(t, want[i].EventID, got[i].EventID, "offset %d", off)
		}
	}
}

// FuzzRecoverDamagedWAL damages a crashed writer's event WAL where and
// with what bytes the fuzzer says, and recovers it: recovery must never
// fail or panic, and every event it recovers must be one that was written,
// in the order written, none twice (a false frame must never make up one).
func FuzzRecoverDamagedWAL(f *testing.F) {
	f.Add(uint16(40), []byte{0})
	f.Add(uint16(300), []byte("\x28\xb5\x2f\xfd"))
	f.Add(uint16(300), []byte("\xedWAL\x01"))
	f.Add(uint16(9), []byte{0xff, 0xff, 0xff, 0xff})
	rel, data, _, want := crashedWALOf(f, 6, 2, "")
	f.Fuzz(func(t *testing.T, at uint16, patch []byte) {
		bad := append([]byte(nil), data...)
		if int(at) < len(bad) {
			copy(bad[at:], patch)
		} else {
			bad = append(bad, patch...)
		}
		dir, _, _ := recoverDamaged(t, rel, bad)
		got, _ := readAll(t, dir, ReaderOptions{})
		next := 0
		for _, g := range got {
			i := next
			for i < len(want) && !event.Equal(want[i], g) {
				i++
			}
			require.Less(t, i, len(want), "recovered %s, which was not written (or out of order)", dump(g))
			next = i + 1
		}
	})
}
