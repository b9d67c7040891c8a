package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edr-lab/edr/internal/testutil"
	"github.com/edr-lab/edr/recording"
)

func TestImportCommand(t *testing.T) {
	samples := testutil.Corpus(t, "evtx-parser-samples/samples")
	rec := filepath.Join(t.TempDir(), "rec")

	out, code := edr(t, "import", "--out", rec, filepath.Join(samples, "Security_short_selected.evtx"), filepath.Join(samples, "post-Security.evtx"))
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "2 files: 2 imported, 0 already in the recording, 0 unreadable; 133 records imported, 0 failed")
	assert.Contains(t, out, "133  Security")

	out, code = edr(t, "import", "--out", rec, filepath.Join(samples, "post-Security.evtx"))
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "1 files: 0 imported, 1 already in the recording")

	out, code = edr(t, "import", "--out", rec, filepath.Join(samples, "sample-with-zero-data-size-event.evtx"))
	assert.Equal(t, 3, code, "some records failed")
	assert.Contains(t, out, "1 records failed")
	assert.Contains(t, out, "record 3 (offset 0x1820): invalid record size 0")

	out, code = edr(t, "import", "--out", rec, filepath.Join(samples, "binxml.dat"))
	assert.Equal(t, 1, code, "nothing readable")
	assert.Contains(t, out, "unreadable: ")

	_, code = edr(t, "import", "--out", rec)
	assert.Equal(t, 2, code)
	_, code = edr(t, "import", "--format", "xml", "--out", rec, samples)
	assert.Equal(t, 2, code)
}

// TestImportRefusesARecordingBeingWritten: a second writer (here an open
// recording.Writer standing in for another edr import) makes import fail
// with an error naming the recording.
func TestImportRefusesARecordingBeingWritten(t *testing.T) {
	samples := testutil.Corpus(t, "evtx-parser-samples/samples")
	rec := filepath.Join(t.TempDir(), "rec")
	w, err := recording.OpenWriter(rec, recording.WriterOptions{})
	require.NoError(t, err)
	out, code := edr(t, "import", "--out", rec, filepath.Join(samples, "post-Security.evtx"))
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "import: recording "+rec+": another writer has the recording open")
	require.NoError(t, w.Close())
	out, code = edr(t, "import", "--out", rec, filepath.Join(samples, "post-Security.evtx"))
	assert.Equal(t, 0, code, out)
}

// TestImportRefusesANestedRecording: --out inside an existing recording (a
// host partition of it, a directory below one, its .wal) is a usage error
// naming the enclosing recording, and nothing is written there; the
// recording itself still takes the import.
func TestImportRefusesANestedRecording(t *testing.T) {
	samples := testutil.Corpus(t, "evtx-parser-samples/samples")
	src := filepath.Join(samples, "post-Security.evtx")
	dir := t.TempDir()
	rec := filepath.Join(dir, "rec")
	out, code := edr(t, "import", "--out", rec, filepath.Join(samples, "Security_short_selected.evtx"))
	require.Equal(t, 0, code, out)
	parts, err := filepath.Glob(filepath.Join(rec, "host=*"))
	require.NoError(t, err)
	require.NotEmpty(t, parts)
	for _, nested := range []string{parts[0], filepath.Join(rec, "host=X"), filepath.Join(rec, "host=X", "deeper"), filepath.Join(rec, ".wal", "r")} {
		out, code := edr(t, "import", "--out", nested, src)
		assert.Equal(t, 2, code, "%s: %s", nested, out)
		assert.Contains(t, out, "--out "+nested+" is inside the recording "+rec+"; a recording cannot hold another", nested)
		_, err := os.Stat(filepath.Join(nested, "sources.json"))
		assert.ErrorIs(t, err, os.ErrNotExist, "%s: no recording written", nested)
	}
	out, code = edr(t, "generate", "--out", filepath.Join(rec, "host=Y"), "--events", "10")
	assert.Equal(t, 2, code, out)
	assert.Contains(t, out, "is inside the recording "+rec)
	// A recording beside another is fine, and so is the recording itself.
	out, code = edr(t, "import", "--out", filepath.Join(dir, "rec2"), src)
	assert.Equal(t, 0, code, out)
	out, code = edr(t, "import", "--out", rec, src)
	assert.Equal(t, 0, code, out)
}

// TestImportLongComputerName: one event whose Computer is 300 characters
// long no longer aborts the import ("file name too long"); replay --host
// with the full name selects it, and importing again is stable.
func TestImportLongComputerName(t *testing.T) {
	dir := t.TempDir()
	long := strings.Repeat("h", 300)
	var b strings.Builder
	for i := 0; i < 25; i++ {
		host := "ws1"
		if i == 7 {
			host = long
		}
		fmt.Fprintf(&b, `{"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","Computer":"%s","TimeCreated":"2021-01-01T00:00:%02dZ","Image":"C:\\a.exe"}`+"\n", host, i)
	}
	src := filepath.Join(dir, "a.json")
	require.NoError(t, os.WriteFile(src, []byte(b.String()), 0o644))
	rec := filepath.Join(dir, "rec")
	out, code := edr(t, "import", "--out", rec, src)
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "25 records imported, 0 failed")
	out, code = edr(t, "replay", "--host", long, "--alerts", filepath.Join(dir, "alerts.json"), rec)
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "replay: 1 events")
	out, code = edr(t, "import", "--out", rec, src)
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "1 files: 0 imported, 1 already in the recording")
}

// TestImportReportsARepairedChunkMagic: an EVTX whose chunk magic has one
// flipped byte imports every record, and the summary says what was repaired.
func TestImportReportsARepairedChunkMagic(t *testing.T) {
	orig, err := os.ReadFile(filepath.Join(testutil.Corpus(t, "evtx-parser-samples/samples"), "Security_short_selected.evtx"))
	require.NoError(t, err)
	dir := t.TempDir()
	src := filepath.Join(dir, "damaged.evtx")
	orig[4096+3] ^= 0x20 // "ElfChnk" → "Elf"+"c"+"hnk"
	require.NoError(t, os.WriteFile(src, orig, 0o644))
	out, code := edr(t, "import", "--out", filepath.Join(dir, "rec"), src)
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "7 records imported, 0 failed")
	assert.Contains(t, out, "note: "+src+": chunk 0 (offset 0x1000): chunk magic damaged")
}
