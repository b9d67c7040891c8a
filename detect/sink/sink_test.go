package sink

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edr-lab/edr/detect"
	"github.com/edr-lab/edr/detect/detecttest"
	"github.com/edr-lab/edr/detect/ecs"
	"github.com/edr-lab/edr/detect/state"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var testRule = &detect.Rule{Engine: detect.EngineSigma, ID: "r1", Name: "Rule One", Severity: detect.SeverityHigh}

func alertAt(t time.Time, seq uint64) *detect.Alert {
	ev := detecttest.Sysmon(1, t.UnixNano(), "H1", "Image", `C:\x.exe`)
	ev.Seq = seq
	return &detect.Alert{Event: ev, Hit: &detect.Hit{Rule: testRule}, Severity: detect.SeverityHigh}
}

func TestFileWriterDailyFilesFromEventTime(t *testing.T) {
	dir := t.TempDir()
	w, err := NewFileWriter(dir, "alerts.json", WriterOptions{Queue: 2})
	require.NoError(t, err)
	d1 := time.Date(2024, 5, 20, 23, 59, 59, 0, time.UTC)
	for i := 0; i < 5; i++ {
		require.NoError(t, w.Alert(alertAt(d1, uint64(i+1))))
	}
	require.NoError(t, w.Alert(alertAt(d1.Add(2*time.Second), 6)))
	require.NoError(t, w.Close())
	s := w.Stats()
	assert.Equal(t, WriterStats{Queued: 6, Written: 6, Bytes: s.Bytes}, s)
	a, err := os.ReadFile(filepath.Join(dir, "alerts.json.2024-05-20"))
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(dir, "alerts.json.2024-05-21"))
	require.NoError(t, err)
	assert.Equal(t, 5, strings.Count(string(a), "\n"))
	assert.Equal(t, 1, strings.Count(string(b), "\n"))
	assert.EqualValues(t, s.Bytes, len(a)+len(b))
	assert.Error(t, w.Alert(alertAt(d1, 7)), "closed writer refuses alerts")
}

// blockingWriter holds every write until released.
type blockingWriter struct {
	mu      sync.Mutex
	release chan struct{}
	buf     bytes.Buffer
	fail    error
}

func (b *blockingWriter) Write(p []byte) (int, error) {
	<-b.release
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fail != nil {
		return 0, b.fail
	}
	return b.buf.Write(p)
}

func TestBlockPolicyAppliesBackpressureAndLosesNothing(t *testing.T) {
	bw := &blockingWriter{release: make(chan struct{})}
	close(bw.release)
	w := NewStreamWriter(bw, WriterOptions{Queue: 1})
	const n = 500
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < n; i++ {
			assert.NoError(t, w.Alert(alertAt(time.Unix(1700000000, 0), uint64(i+1))))
		}
	}()
	wg.Wait()
	require.NoError(t, w.Close())
	assert.Equal(t, n, strings.Count(bw.buf.String(), "\n"))
	assert.Equal(t, uint64(n), w.Stats().Written)
	assert.Zero(t, w.Stats().Dropped)
}

// gateDest blocks every write until released and signals when the first
// write has started, so the queue state is deterministic.
type gateDest struct {
	started chan struct{}
	release chan struct{}
	once    sync.Once
	lines   int
}

func (g *gateDest) writeLines(string, []byte) (lines, error) {
	g.once.Do(func() { close(g.started) })
	<-g.release
	g.lines++
	return lines{written: 1}, nil
}
func (g *gateDest) flushLines() (lines, error) { return lines{}, nil }
func (g *gateDest) closeLines() (lines, error) { return lines{}, nil }
func (g *gateDest) setHeader([]byte)           {}

func TestDropPolicyCountsAndReportsDrops(t *testing.T) {
	g := &gateDest{started: make(chan struct{}), release: make(chan struct{})}
	var logs bytes.Buffer
	w := newWriter(g, WriterOptions{Queue: 2, Policy: Drop, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	require.NoError(t, w.Alert(alertAt(time.Unix(1700000000, 0), 1)))
	<-g.started // the writer holds alert 1; the queue has room for 2 more
	for i := 1; i < 10; i++ {
		require.NoError(t, w.Alert(alertAt(time.Unix(1700000000, 0), uint64(i+1))))
	}
	close(g.release)
	err := w.Close()
	s := w.Stats()
	assert.Equal(t, WriterStats{Queued: 3, Written: 3, Dropped: 7, Bytes: s.Bytes}, s)
	assert.Equal(t, 3, g.lines)
	require.Error(t, err, "Close reports drops")
	assert.Contains(t, err.Error(), "7 alerts dropped")
	assert.Contains(t, logs.String(), "alert queue full")
}

func TestWriteErrorIsReturnedNotSwallowed(t *testing.T) {
	bw := &blockingWriter{release: make(chan struct{}), fail: errors.New("disk full")}
	close(bw.release)
	w := NewStreamWriter(bw, WriterOptions{Queue: 1})
	require.NoError(t, w.Alert(alertAt(time.Unix(1700000000, 0), 1)))
	err := w.Close()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "disk full")
	assert.Equal(t, uint64(1), w.Stats().Failed)
}

func TestDailyFileAndLogger(t *testing.T) {
	dir := t.TempDir()
	var console bytes.Buffer
	log, closer, err := NewLogger(LogOptions{Level: "debug", Directory: dir, Filename: "edr.log", ConsoleOutput: true, Console: &console})
	require.NoError(t, err)
	log.Debug("hello", "k", 1)
	require.NoError(t, closer.Close())
	files, err := filepath.Glob(filepath.Join(dir, "edr.log.*"))
	require.NoError(t, err)
	require.Len(t, files, 1)
	data, err := os.ReadFile(files[0])
	require.NoError(t, err)
	assert.Contains(t, string(data), `"msg":"hello"`)
	assert.Contains(t, console.String(), "msg=hello")
	_, _, err = NewLogger(LogOptions{Level: "loud"})
	assert.Error(t, err)
	lvl, err := ParseLevel("trace")
	require.NoError(t, err)
	assert.Less(t, lvl, slog.LevelDebug)
}

func TestMemoryAndMulti(t *testing.T) {
	var a, b Memory
	require.NoError(t, Multi{&a, &b}.Alert(alertAt(time.Unix(1700000000, 0), 1)))
	assert.Len(t, a.Lines, 1)
	assert.Equal(t, a.Lines, b.Lines)
}

func TestLoggerFilterByComponent(t *testing.T) {
	var out bytes.Buffer
	log, closer, err := NewLogger(LogOptions{Level: "info", Filter: "warn,recording=debug,alerts=error", ConsoleOutput: true, Console: &out})
	require.NoError(t, err)
	defer closer.Close()
	log.Info("plain info")                                                                // below the filter's default (warn)
	log.Warn("plain warn")                                                                // kept
	rec := log.With(ComponentKey, "recording")                                            // debug and up
	rec.Debug("recording debug")                                                          // kept
	rec.WithGroup("g").With(ComponentKey, "alerts").Debug("grouped attr does not rename") // kept: still recording
	al := log.With(ComponentKey, "alerts")                                                // error only
	al.Warn("alerts warn")                                                                // dropped
	al.Error("alerts error")                                                              // kept
	log.Debug("record attr", ComponentKey, "recording")                                   // kept: the record names its component
	log.Debug("unknown component", ComponentKey, "nothere")                               // default: dropped
	got := out.String()
	for _, want := range []string{"plain warn", "recording debug", "grouped attr does not rename", "alerts error", "record attr"} {
		assert.Contains(t, got, want)
	}
	for _, not := range []string{"plain info", "alerts warn", "unknown component"} {
		assert.NotContains(t, got, not)
	}
	_, _, err = NewLogger(LogOptions{Filter: "info,recording=loud"})
	assert.ErrorContains(t, err, "logging.filter")
}

// TestWriterEncodesCopies: alerts are encoded after Alert returns (on the
// writer's goroutine), from copies: reusing the event, hit and processes
// afterwards, as the engine does, changes nothing in the output, which is
// in Alert order.
func TestWriterEncodesCopies(t *testing.T) {
	g := &gateDest{started: make(chan struct{}), release: make(chan struct{})}
	var out bytes.Buffer
	w := newWriter(&recordingDest{gate: g, out: &out}, WriterOptions{Queue: 8})
	ev := detecttest.Sysmon(1, time.Unix(1700000000, 0).UnixNano(), "H1", "Image", `C:\x.exe`, "CommandLine", "x --one")
	proc := &state.Process{Host: "H1", GUID: "{p}", PID: "7", Image: `C:\x.exe`, CommandLine: "x --one", User: `CORP\bob`}
	parent := &state.Process{Host: "H1", GUID: "{q}", PID: "6", Image: `C:\p.exe`, CommandLine: "p"}
	hit := &detect.Hit{Rule: testRule, Fields: []detect.MatchedField{{Selection: "sel", Field: "Image", Pattern: "x"}}}
	var want []byte
	for i := 0; i < 6; i++ {
		ev.Seq = uint64(i + 1)
		ev.SetByName("CommandLine", fmt.Sprintf("x --n %d", i))
		proc.CommandLine = fmt.Sprintf("x --n %d", i)
		a := &detect.Alert{Event: ev, Hit: hit, Severity: detect.SeverityHigh, Proc: proc, Parent: parent, Ancestors: []*state.Process{parent},
			MatchDebug: detect.MatchDebugFull}
		want = ecs.AppendAlert(want, a)
		require.NoError(t, w.Alert(a))
		if i == 0 {
			<-g.started // the writer holds alert 1; the others wait as copies
		}
	}
	// The engine reuses everything.
	ev.Reset()
	*proc, *parent = state.Process{Image: "reused"}, state.Process{Image: "reused"}
	hit.Fields[0].Pattern = "reused"
	close(g.release)
	require.NoError(t, w.Close())
	assert.Equal(t, string(want), out.String())
	assert.NotContains(t, out.String(), "reused")
}

// recordingDest passes lines through a gate into a buffer.
type recordingDest struct {
	gate *gateDest
	out  *bytes.Buffer
}

func (r *recordingDest) writeLines(day string, p []byte) (lines, error) {
	l, _ := r.gate.writeLines(day, p)
	r.out.Write(p)
	return l, nil
}
func (r *recordingDest) flushLines() (lines, error) { return lines{}, nil }
func (r *recordingDest) closeLines() (lines, error) { return lines{}, nil }
func (r *recordingDest) setHeader([]byte)           {}

// A header encoder (the CSV timeline) starts each file and the stream with
// its header once; the header is not counted as an alert.
func TestWriterHeaderOncePerFile(t *testing.T) {
	var buf bytes.Buffer
	w := NewStreamWriter(&buf, WriterOptions{Encoder: ecs.CSV{}})
	require.NoError(t, w.Close())
	assert.Equal(t, string(ecs.CSV{}.Header()), buf.String(), "no alerts: the header alone")

	buf.Reset()
	w = NewStreamWriter(&buf, WriterOptions{Encoder: ecs.CSV{}})
	d1 := time.Date(2024, 5, 20, 10, 0, 0, 0, time.UTC)
	require.NoError(t, w.Alert(alertAt(d1, 1)))
	require.NoError(t, w.Alert(alertAt(d1, 2)))
	require.NoError(t, w.Close())
	assert.Equal(t, 1, strings.Count(buf.String(), "time,host,level"))
	assert.Equal(t, 3, strings.Count(buf.String(), "\n"))
	assert.Equal(t, uint64(2), w.Stats().Written)

	dir := t.TempDir()
	fw, err := NewFileWriter(dir, "alerts.csv", WriterOptions{Encoder: ecs.CSV{}})
	require.NoError(t, err)
	d2 := d1.Add(24 * time.Hour)
	for i, at := range []time.Time{d1, d1, d2} {
		require.NoError(t, fw.Alert(alertAt(at, uint64(i))))
	}
	require.NoError(t, fw.Close())
	assert.Equal(t, uint64(3), fw.Stats().Written)
	// A second writer appending to the same day's file adds no header.
	fw, err = NewFileWriter(dir, "alerts.csv", WriterOptions{Encoder: ecs.CSV{}})
	require.NoError(t, err)
	require.NoError(t, fw.Alert(alertAt(d2, 9)))
	require.NoError(t, fw.Close())
	a, err := os.ReadFile(filepath.Join(dir, "alerts.csv.2024-05-20"))
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(dir, "alerts.csv.2024-05-21"))
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(a), "time,host,level"))
	assert.Equal(t, 3, strings.Count(string(a), "\n"))
	assert.Equal(t, 1, strings.Count(string(b), "time,host,level"))
	assert.Equal(t, 3, strings.Count(string(b), "\n"))
}
