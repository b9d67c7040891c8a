package main

import (
	"path/filepath"
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
