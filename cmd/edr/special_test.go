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

// TestSpecialFilesAsInputs: a FIFO named as any input a command reads (an
// import source, a Sigma, YARA or IOC file, the config, an expectations
// file) is never opened: the command returns, names it, and counts it as
// it counts any file it could not read (replay --strict: exit 3).
func TestSpecialFilesAsInputs(t *testing.T) {
	dir := t.TempDir()
	fifo := func(name string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, syscall.Mkfifo(p, 0o644))
		return p
	}
	rec := filepath.Join(dir, "rec")
	out, code := edr(t, "generate", "--out", rec, "--events", "2000", "--quiet")
	require.Equal(t, 0, code, out)
	alerts := filepath.Join(dir, "a.json")
	src, sig, yar, hashes, conf, expect := fifo("src.evtx"), fifo("rule.yml"), fifo("rule.yar"), fifo("ioc/hashes.txt"), fifo("edr.toml"), fifo("expect.yml")
	const named = "named pipe, not a regular file"

	for _, c := range []struct {
		args []string
		code int
		path string
	}{
		{[]string{"import", "--out", filepath.Join(dir, "imp"), "--format", "evtx", src}, 1, src},
		{[]string{"rules", "validate", sig}, 1, sig},
		{[]string{"rules", "validate", yar}, 1, yar},
		{[]string{"replay", "--sigma", sig, "--alerts", alerts, rec}, 1, sig},
		{[]string{"replay", "--yara", yar, "--alerts", alerts, rec}, 0, yar},
		{[]string{"replay", "--ioc", filepath.Dir(hashes), "--alerts", alerts, rec}, 0, hashes},
		{[]string{"replay", "--strict", "--ioc", filepath.Dir(hashes), "--alerts", alerts, rec}, 3, hashes},
		{[]string{"config", "show", "--config", conf}, 2, conf},
		{[]string{"test", "--expect", expect, rec}, 2, expect},
	} {
		out, code := edrNoHang(t, c.args...)
		assert.Equal(t, c.code, code, "%v: %s", c.args, out)
		assert.Contains(t, out, c.path, "%v names the FIFO", c.args)
		if c.args[0] != "import" { // the importer says the source is neither EVTX nor JSON
			assert.Contains(t, out, named, "%v", c.args)
		}
	}
}
