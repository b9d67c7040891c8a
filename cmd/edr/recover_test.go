package main

import (
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/internal/testutil"
	"github.com/edr-lab/edr/recording"
)

// crashedRecording returns a recording as a writer that crashed leaves it:
// a copy taken while the writer was open, after a flush, so its events are
// only in a write-ahead log. It also returns the log's path.
func crashedRecording(t *testing.T, events int) (string, string) {
	live := filepath.Join(t.TempDir(), "live")
	w, err := recording.OpenWriter(live, recording.WriterOptions{FlushInterval: -1})
	require.NoError(t, err)
	t0 := int64(1_764_000_000_000_000_000)
	for i := 0; i < events; i++ {
		require.NoError(t, w.Write(&event.Event{Time: t0 + int64(i), Host: "dc01", Channel: "Security", EventID: 4624}))
	}
	rec := filepath.Join(t.TempDir(), "rec")
	require.NoError(t, os.CopyFS(rec, os.DirFS(live)))
	require.NoError(t, w.Close())
	wals, err := filepath.Glob(filepath.Join(rec, ".wal", "*", "*", "*.wal"))
	require.NoError(t, err)
	require.Len(t, wals, 1)
	return rec, wals[0]
}

// TestCrashRecoveryVisible: replay says that a recording has pending
// write-ahead logs; after one byte of the log's first record (the header
// and the first event; one record per event) is damaged, import recovers
// the events of every other record, reports the WAL, the events recovered,
// the damaged range and what it held, and keeps exactly that range in the
// .bad file (which it does not delete); inspect and replay list the file
// and the segment recovered around the damage.
func TestCrashRecoveryVisible(t *testing.T) {
	rec, wal := crashedRecording(t, 20)
	out, code := edr(t, "replay", "--quiet", "--sigma", filepath.Join("..", "..", "rules", "sigma", "example_whoami.yml"), rec)
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "has 1 pending write-ahead logs")
	assert.Contains(t, out, "edr recover "+rec)

	data, err := os.ReadFile(wal)
	require.NoError(t, err)
	data[40] ^= 0xff // inside the first record: its header
	require.NoError(t, os.WriteFile(wal, data, 0o644))
	out, code = edr(t, "inspect", rec)
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "1 write-ahead logs pending")
	assert.Contains(t, out, wal)

	rec1 := 8 + 8 + int(binary.LittleEndian.Uint32(data[8:])) // where the second record starts
	damaged := rec1 - 8
	samples := testutil.Corpus(t, "evtx-parser-samples/samples")
	out, code = edr(t, "import", "--out", rec, filepath.Join(samples, "Security_short_selected.evtx"))
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "recovery: 1 write-ahead logs left by a crash: 19 events recovered into 1 segments, "+
		itoa(damaged)+" bytes not recovered (kept aside)")
	assert.Contains(t, out, wal+".bad")
	assert.Contains(t, out, "bytes 8.."+itoa(rec1)+" ("+itoa(damaged)+" bytes): 1 records with 1 events lost")
	kept, err := os.ReadFile(wal + ".bad")
	require.NoError(t, err)
	assert.Equal(t, data[8:rec1], kept, "the damaged record is kept, and only it")

	out, code = edr(t, "inspect", "--json", rec)
	require.Equal(t, 0, code, out)
	var s recording.Summary
	require.NoError(t, json.Unmarshal([]byte(out), &s))
	assert.Equal(t, int64(damaged), s.KeptAsideBytes)
	assert.Equal(t, uint64(1), s.Loss[recording.LossWALEvents])
	require.Len(t, s.RecoveryGaps, 1)
	assert.Equal(t, []recording.RecoveryGap{{From: 8, To: int64(rec1), Records: 1, Events: 1, Reason: s.RecoveryGaps[0].Gaps[0].Reason}}, s.RecoveryGaps[0].Gaps)
	require.Len(t, s.KeptAside, 1)
	assert.Equal(t, wal+".bad", s.KeptAside[0].Path)
	assert.Zero(t, s.PendingWALs)
	assert.Equal(t, "footers", s.Checked)

	out, code = edr(t, "replay", "--quiet", "--sigma", filepath.Join("..", "..", "rules", "sigma", "example_whoami.yml"), rec)
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "could not read, kept aside in:\n  "+wal+".bad ("+itoa(damaged)+" bytes)")
	assert.Contains(t, out, "1 segments were recovered around write-ahead log bytes that could not be read ("+itoa(damaged)+" bytes, 1 events known lost")
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestRecoverCommand: edr recover turns a crashed writer's log into a
// segment and reports it; with a torn tail, the tail is kept aside and the
// exit code is 3.
func TestRecoverCommand(t *testing.T) {
	rec, wal := crashedRecording(t, 20)
	out, code := edr(t, "recover", rec)
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "recovery: 1 write-ahead logs left by a crash: 20 events recovered into 1 segments, 0 bytes not recovered")
	out, code = edr(t, "recover", rec)
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "nothing to recover")

	rec, wal = crashedRecording(t, 20)
	st, err := os.Stat(wal)
	require.NoError(t, err)
	require.NoError(t, os.Truncate(wal, st.Size()-3))
	out, code = edr(t, "recover", "--json", rec)
	require.Equal(t, 3, code, out)
	var r Recovery
	require.NoError(t, json.Unmarshal([]byte(out[:len(out)-len(lastLine(out))]), &r))
	assert.Equal(t, int64(19), r.RecoveredEvents)
	assert.Equal(t, r.KeptAsideBytes, r.TornBytesDropped)
	require.Len(t, r.WALs, 1)
	assert.Equal(t, wal+".bad", r.WALs[0].BadFile)
	assert.Equal(t, st.Size()-3, r.WALs[0].Bytes)

	_, code = edr(t, "recover", filepath.Join(t.TempDir(), "missing"))
	assert.Equal(t, 1, code)
	_, code = edr(t, "recover")
	assert.Equal(t, 2, code)
}

// lastLine is the last line of s with its newline ("edr: …" of an exit).
func lastLine(s string) string {
	i := len(s) - 2
	for i >= 0 && s[i] != '\n' {
		i--
	}
	return s[i+1:]
}

// TestInspectVerify: plain inspect says it read only footers and misses a
// damaged data page (exit 0); --verify reads every page, names the segment
// and the place, and exits 3.
func TestInspectVerify(t *testing.T) {
	rec := filepath.Join(t.TempDir(), "rec")
	out, code := edr(t, "generate", "--out", rec, "--events", "3000", "--quiet")
	require.Equal(t, 0, code, out)
	segs, err := filepath.Glob(filepath.Join(rec, "host=*", "date=*", "*.parquet"))
	require.NoError(t, err)
	require.NotEmpty(t, segs)
	b, err := os.ReadFile(segs[0])
	require.NoError(t, err)
	b[100] ^= 0xff // in the first column chunk's data
	require.NoError(t, os.WriteFile(segs[0], b, 0o644))

	out, code = edr(t, "inspect", rec)
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "segment footers only: data pages were not read (edr inspect --verify reads and checks them)")
	out, code = edr(t, "inspect", "--verify", rec)
	require.Equal(t, 3, code, out)
	assert.Contains(t, out, "every page of every segment")
	assert.Contains(t, out, "segment "+segs[0]+": corrupt segment: data checksum mismatch")
	assert.Regexp(t, `row group 0, column \w+, page 0`, out)
}
