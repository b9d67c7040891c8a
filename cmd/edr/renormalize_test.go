package main

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edr-lab/edr/capture/decode"
	"github.com/edr-lab/edr/capture/raw"
	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/internal/testutil"
	"github.com/edr-lab/edr/recording"
)

// TestRenormalizeCommand: edr renormalize writes the events today's
// decoder makes of the raw layer, says how many, and refuses bad usage.
func TestRenormalizeCommand(t *testing.T) {
	fx, err := raw.LoadFixtureFile(filepath.Join(testutil.Shared(t, "etw/rustinel-fixtures/tests/fixtures/etw"), "process_lifecycle.json"))
	require.NoError(t, err)
	rec := filepath.Join(t.TempDir(), "rec")
	w, err := recording.OpenWriter(rec, recording.WriterOptions{})
	require.NoError(t, err)
	for _, r := range fx.Records {
		require.NoError(t, w.WriteRaw("ws1", r, 0))
	}
	require.NoError(t, w.Close())
	want := 0
	d := decode.New(decode.Options{Host: "ws1"})
	for _, r := range fx.Records {
		d.Decode(r, func(*event.Event) { want++ })
	}
	d.Flush(func(*event.Event) { want++ })
	require.Positive(t, want)

	out2 := filepath.Join(t.TempDir(), "rec2")
	out, code := edr(t, "renormalize", rec, "--out", out2)
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, fmt.Sprintf("%d raw records → %d events", len(fx.Records), want))
	sum, err := recording.Inspect(out2)
	require.NoError(t, err)
	assert.EqualValues(t, want, sum.Events)

	out, code = edr(t, "renormalize", rec)
	assert.Equal(t, 2, code, out)
	assert.Contains(t, out, "--out REC2 is required")
	out, code = edr(t, "renormalize", "--out", out2, rec)
	assert.Equal(t, 1, code, out)
	assert.Contains(t, out, "is not empty")
}
