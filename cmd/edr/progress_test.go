package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/edr-lab/edr/detect/ruleset"
	"github.com/edr-lab/edr/detect/sink"
	"github.com/edr-lab/edr/replay"
	"github.com/edr-lab/edr/rules"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// No progress bar outside a terminal: not into a test's buffer, not into
// a regular file.
func TestReplayProgressOffWithoutTerminal(t *testing.T) {
	dir := t.TempDir()
	rec := generated(t, dir, "20000")
	out, code := edr(t, "replay", "--alerts", filepath.Join(dir, "a.json"), rec)
	require.Equal(t, 0, code, out)
	assert.NotContains(t, out, "\r")
	assert.NotContains(t, out, "events/s  ETA")

	f, err := os.Create(filepath.Join(dir, "stderr"))
	require.NoError(t, err)
	defer f.Close()
	assert.Nil(t, terminalFile(f), "a regular file is no terminal")
	assert.Nil(t, terminalFile(&bytes.Buffer{}))
	assert.Nil(t, startProgress(nil, 100), "no terminal: no bar")
}

func TestReplayProgressLine(t *testing.T) {
	p := &replayProgress{total: 1000}
	assert.Equal(t, "[======                  ]  25%  250/1000 events  125 events/s  ETA 6s", p.line(250, 2*time.Second))
	assert.Equal(t, "[                        ]   0%  0/1000 events  0 events/s  ETA ?", p.line(0, 0))
	p.total = 0
	assert.Equal(t, "40 events  20 events/s", p.line(40, 2*time.Second))
}

// Drawing the bar (here into a file standing in for the terminal) leaves
// the alert bytes as they are, and the bar redraws at most 4 times a second.
func TestReplayProgressKeepsAlertBytes(t *testing.T) {
	dir := t.TempDir()
	rec := generated(t, dir, "40000", "--scenario-every", "4000")
	_, err := rules.Extract(filepath.Join(dir, "rules"))
	require.NoError(t, err)
	rs, err := ruleset.Load(ruleset.Options{SigmaPaths: []string{filepath.Join(dir, "rules", "sigma")}})
	require.NoError(t, err)
	defer rs.Close()

	run := func(tty *os.File) ([]byte, int64) {
		recs, err := replay.Open([]string{rec}, replay.ReadOptions{})
		require.NoError(t, err)
		defer recs.Close()
		require.Equal(t, int64(40000), recs.SelectedEvents(), "the bar's total: the segments' event counts")
		var buf bytes.Buffer
		w := sink.NewStreamWriter(&buf, sink.WriterOptions{})
		bar := startProgress(tty, recs.SelectedEvents())
		_, err = replay.Run(context.Background(), bar.source(recs.Source()), replay.Options{Rules: rs, Sink: w})
		require.NoError(t, err)
		var n int64
		if bar != nil {
			n = bar.n.Load()
		}
		bar.stop()
		require.NoError(t, w.Close())
		return buf.Bytes(), n
	}
	plain, _ := run(nil)
	f, err := os.Create(filepath.Join(dir, "tty"))
	require.NoError(t, err)
	defer f.Close()
	start := time.Now()
	withBar, counted := run(f)
	took := time.Since(start)
	require.NotEmpty(t, plain)
	assert.Equal(t, plain, withBar)
	assert.Equal(t, int64(40000), counted, "the bar counts every event")
	drawn, err := os.ReadFile(f.Name())
	require.NoError(t, err)
	draws := strings.Count(string(drawn), "events/s")
	assert.LessOrEqual(t, float64(draws), 4*took.Seconds()+1, "at most 4 redraws a second")
}
