//go:build unix

package main

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edr-lab/edr/internal/testutil"
)

// edrNoHang is edr() that fails the test when the command has not returned
// within 20 s.
func edrNoHang(t *testing.T, args ...string) (string, int) {
	t.Helper()
	type res struct {
		out  string
		code int
	}
	ch := make(chan res, 1)
	go func() {
		out, code := edr(t, args...)
		ch <- res{out, code}
	}()
	select {
	case r := <-ch:
		return r.out, r.code
	case <-time.After(20 * time.Second):
		t.Fatalf("edr %v hangs", args)
		return "", 0
	}
}

// TestSpecialFilesInRecording: a FIFO in place of a segment and FIFOs under
// .wal/ hang no command; each is named; replay --strict exits 3.
func TestSpecialFilesInRecording(t *testing.T) {
	rec := filepath.Join(t.TempDir(), "rec")
	out, code := edr(t, "generate", "--out", rec, "--events", "2000", "--quiet")
	require.Equal(t, 0, code, out)
	parts, err := filepath.Glob(filepath.Join(rec, "host=*", "date=*"))
	require.NoError(t, err)
	require.NotEmpty(t, parts)
	seg := filepath.Join(parts[0], "zz.parquet")
	require.NoError(t, syscall.Mkfifo(seg, 0o644))
	rules := filepath.Join("..", "..", "rules", "sigma", "example_whoami.yml")

	out, code = edrNoHang(t, "inspect", rec)
	assert.Equal(t, 3, code, out)
	assert.Contains(t, out, seg+": corrupt segment: named pipe, not a regular file")
	out, code = edrNoHang(t, "replay", "--sigma", rules, "--alerts", filepath.Join(t.TempDir(), "a.json"), rec)
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, seg)
	out, code = edrNoHang(t, "replay", "--strict", "--sigma", rules, "--alerts", filepath.Join(t.TempDir(), "a.json"), rec)
	assert.Equal(t, 3, code, out)
	assert.Contains(t, out, seg)
	require.NoError(t, os.Remove(seg))

	wdir := filepath.Join(rec, ".wal", "host=x", "date=2026-01-05")
	require.NoError(t, os.MkdirAll(wdir, 0o755))
	fifo := filepath.Join(wdir, "a.parquet.wal")
	require.NoError(t, syscall.Mkfifo(fifo, 0o644))
	out, code = edrNoHang(t, "replay", "--quiet", "--sigma", rules, "--alerts", filepath.Join(t.TempDir(), "a.json"), rec)
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "replay: warning: skipped "+fifo+": named pipe")
	out, code = edrNoHang(t, "replay", "--strict", "--sigma", rules, "--alerts", filepath.Join(t.TempDir(), "a.json"), rec)
	assert.Equal(t, 3, code, out)

	samples := testutil.Corpus(t, "evtx-parser-samples/samples")
	out, code = edrNoHang(t, "import", "--out", rec, filepath.Join(samples, "Security_short_selected.evtx"))
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, "  skipped: "+fifo+": named pipe")
}
