package recording

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/edr-lab/edr/event"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func srcHash(i int) string { return fmt.Sprintf("sha256:%064x", i) }

// TestAddSourceIsConstantWork: adding a source appends exactly one record
// to the sources log and leaves sources.json alone, whatever the number of
// sources; Close folds the log into sources.json; all are known after
// reopening.
func TestAddSourceIsConstantWork(t *testing.T) {
	dir := t.TempDir()
	w, err := OpenWriter(dir, WriterOptions{})
	require.NoError(t, err)
	for i := 0; i < 100; i++ {
		require.NoError(t, w.AddSource(SourceInfo{ContentHash: srcHash(i), Path: fmt.Sprint("f", i)}))
	}
	require.NoError(t, w.Close())
	jsonPath := filepath.Join(dir, sourcesFile)
	logPath := filepath.Join(dir, walDir, sourcesLog)
	before, err := os.ReadFile(jsonPath)
	require.NoError(t, err)
	assert.NoFileExists(t, logPath, "folded into sources.json on Close")

	const n = 5000
	w, err = OpenWriter(dir, WriterOptions{})
	require.NoError(t, err)
	size := int64(len(sourcesMagic))
	for i := 100; i < 100+n; i++ {
		e := &event.Event{Time: t0 + int64(i)*1e6, Host: fmt.Sprint("h", i%3), Channel: "c", EventID: 1}
		require.NoError(t, w.Write(e))
		si := SourceInfo{ContentHash: srcHash(i), Path: fmt.Sprint("f", i), Events: 1}
		require.NoError(t, w.AddSource(si))
		body, _ := json.Marshal(si)
		size += 8 + int64(len(body))
		st, err := os.Stat(logPath)
		require.NoError(t, err)
		require.Equal(t, size, st.Size(), "source %d: one record appended", i)
	}
	now, err := os.ReadFile(jsonPath)
	require.NoError(t, err)
	assert.Equal(t, before, now, "sources.json untouched while the writer runs")
	sum, err := Inspect(dir)
	require.NoError(t, err)
	assert.Len(t, sum.Sources, 100+n, "readers see the log of a running writer")
	require.NoError(t, w.Close())
	assert.NoFileExists(t, logPath)

	list, err := readSourcesFile(dir)
	require.NoError(t, err)
	require.Len(t, list, 100+n)
	assert.True(t, sort.SliceIsSorted(list, func(i, j int) bool { return list[i].ContentHash < list[j].ContentHash }))
	w, err = OpenWriter(dir, WriterOptions{})
	require.NoError(t, err)
	for i := 0; i < 100+n; i++ {
		require.True(t, w.HasSource(srcHash(i)), "source %d", i)
	}
	assert.False(t, w.HasSource(srcHash(100+n)))
	require.NoError(t, w.Close())
}

// TestSourcesLogTornTail: a writer killed while appending to the sources
// log leaves a cut record; reopening keeps exactly the intact records (the
// sources whose AddSource returned) and folds them into sources.json.
func TestSourcesLogTornTail(t *testing.T) {
	dir := t.TempDir()
	w, err := OpenWriter(dir, WriterOptions{})
	require.NoError(t, err)
	const n = 40
	for i := 0; i < n; i++ {
		require.NoError(t, w.AddSource(SourceInfo{ContentHash: srcHash(i)}))
	}
	logPath := filepath.Join(dir, walDir, sourcesLog)
	full, err := os.ReadFile(logPath)
	require.NoError(t, err)
	w.abandon(t)
	// Record boundaries, to know how many records a cut keeps.
	var ends []int
	for p := len(sourcesMagic); p < len(full); {
		p += 8 + int(binary.LittleEndian.Uint32(full[p:]))
		ends = append(ends, p)
	}
	require.Len(t, ends, n)
	rng := rand.New(rand.NewPCG(3, 4))
	cuts := []int{0, 3, len(sourcesMagic), len(sourcesMagic) + 5, ends[0] - 1, ends[0], len(full) - 1, len(full)}
	for i := 0; i < 30; i++ {
		cuts = append(cuts, rng.IntN(len(full)+1))
	}
	for _, cut := range cuts {
		rec := t.TempDir()
		require.NoError(t, os.MkdirAll(filepath.Join(rec, walDir), 0o755))
		require.NoError(t, os.WriteFile(filepath.Join(rec, walDir, sourcesLog), full[:cut], 0o644))
		kept := 0
		for kept < n && ends[kept] <= cut {
			kept++
		}
		w, err := OpenWriter(rec, WriterOptions{})
		require.NoError(t, err, "cut at %d", cut)
		for i := 0; i < n; i++ {
			require.Equal(t, i < kept, w.HasSource(srcHash(i)), "cut at %d: source %d", cut, i)
		}
		require.NoError(t, w.Close())
		assert.NoFileExists(t, filepath.Join(rec, walDir, sourcesLog))
		list, err := readSourcesFile(rec)
		require.NoError(t, err)
		assert.Len(t, list, kept)
	}
	// A flipped byte in the middle ends the log there too.
	bad := append([]byte(nil), full...)
	bad[ends[9]+12] ^= 0x40
	rec := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(rec, walDir), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(rec, walDir, sourcesLog), bad, 0o644))
	w, err = OpenWriter(rec, WriterOptions{})
	require.NoError(t, err)
	assert.True(t, w.HasSource(srcHash(9)))
	assert.False(t, w.HasSource(srcHash(10)))
	require.NoError(t, w.Close())
	// Not a sources log at all: set aside, not fatal.
	rec = t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(rec, walDir), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(rec, walDir, sourcesLog), []byte("garbage, not a log"), 0o644))
	require.NoError(t, writeSourcesFile(rec, map[string]SourceInfo{srcHash(1): {ContentHash: srcHash(1)}}, false))
	sum, err := Inspect(rec)
	require.NoError(t, err)
	assert.Len(t, sum.Sources, 1, "sources.json still counts")
	require.Len(t, sum.Errors, 1)
	assert.Contains(t, sum.Errors[0], "sources log "+filepath.Join(rec, walDir, sourcesLog)+": bad magic")
	w, err = OpenWriter(rec, WriterOptions{})
	require.NoError(t, err)
	assert.True(t, w.HasSource(srcHash(1)))
	require.NoError(t, w.Close())
	assert.FileExists(t, filepath.Join(rec, walDir, sourcesLog+".bad"))
}

// TestRecoveryKeepsASourcePrefix: a source's events go to two hosts' WALs;
// only one WAL reached the disk before the crash, so the recording holds
// events 0 and 2 but not 1. Recovery keeps only event 0 (the prefix), and
// writing the source again from SourceProgress gives each event once.
func TestRecoveryKeepsASourcePrefix(t *testing.T) {
	dir := t.TempDir()
	opts := WriterOptions{FlushInterval: time.Hour}
	w, err := OpenWriter(dir, opts)
	require.NoError(t, err)
	src := srcHash(1)
	ev := func(i int) *event.Event {
		e := &event.Event{Time: t0 + int64(i)*1e9, Host: []string{"a", "b"}[i%2], Channel: "c", EventID: 1, RecordID: uint64(i)}
		e.Set(event.FImage, fmt.Sprint("img", i))
		return e
	}
	require.NoError(t, w.Write(ev(100))) // an event of no source first
	require.NoError(t, w.BeginSource(src))
	for i := 0; i < 4; i++ {
		require.NoError(t, w.Write(ev(i)))
	}
	n, done := w.SourceProgress(src)
	assert.Equal(t, int64(4), n)
	assert.False(t, done)
	w.mu.Lock()
	require.NoError(t, w.flushSeg(w.open[segKey{"a", dayOf(t0)}]))
	w.mu.Unlock()
	w.crashNow(t)

	w, err = OpenWriter(dir, opts)
	require.NoError(t, err)
	assert.EqualValues(t, 1, w.Stats().RecoveryDroppedEvents, "event 2 follows a gap")
	n, done = w.SourceProgress(src)
	require.Equal(t, int64(1), n)
	require.False(t, done)
	sum, err := Inspect(dir)
	require.NoError(t, err)
	assert.Equal(t, []SourceSpan{{ContentHash: src, End: 1, Events: 1}}, sum.PartialSources)
	require.NoError(t, w.BeginSource(src))
	for i := int(n); i < 4; i++ {
		require.NoError(t, w.Write(ev(i)))
	}
	require.NoError(t, w.AddSource(SourceInfo{ContentHash: src, Events: 4}))
	require.NoError(t, w.BeginSource(srcHash(2)) /* then nothing: not completed, no events */)
	require.NoError(t, w.Close())

	got, _ := readAll(t, dir, ReaderOptions{})
	var ids []uint64
	for _, e := range got {
		ids = append(ids, e.RecordID)
	}
	assert.Equal(t, []uint64{0, 1, 2, 3}, ids[:4])
	assert.Equal(t, []uint64{0, 1, 2, 3, 100}, ids, "each event once; 100 was written before the source, at the latest time")
	w, err = OpenWriter(dir, opts)
	require.NoError(t, err)
	n, done = w.SourceProgress(src)
	assert.True(t, done)
	assert.Equal(t, int64(4), n)
	require.Error(t, w.BeginSource(src), "a completed source is not begun again")
	require.NoError(t, w.Close())
	sum, err = Inspect(dir)
	require.NoError(t, err)
	assert.Empty(t, sum.PartialSources)
}

func TestDurablePrefix(t *testing.T) {
	for _, c := range []struct {
		done int64
		runs []idxRange
		want int64
	}{
		{0, nil, 0},
		{5, nil, 5},
		{0, []idxRange{{0, 3}, {3, 7}}, 7},
		{0, []idxRange{{3, 7}, {0, 2}}, 2},
		{4, []idxRange{{0, 2}, {3, 9}}, 9},
		{4, []idxRange{{5, 9}}, 4},
		{0, []idxRange{{0, 4}, {1, 3}, {4, 5}, {6, 8}}, 5},
	} {
		assert.Equal(t, c.want, durablePrefix(c.done, c.runs), "%d %v", c.done, c.runs)
	}
}

// The exactly-once crash test: a child process writes the events of a
// sequence of sources (each spread over three hosts, the first ones over
// two days, so over several WALs; segments span 20 s of event time, four
// sources, so several finish in a run), resuming
// every source where the recording ends, and is killed with SIGKILL at
// random points. Half the children flush every 3 ms; the others never on a
// timer, so each WAL is written only when its 1 MiB batch fills (at a
// different point of a source for each host), when a segment finishes or
// when a source completes, which leaves WALs with gaps between them at a
// kill. After every kill the recording must hold, of every source, exactly
// a prefix of its events (completed sources entirely) and nothing twice;
// in the end, finished by one more writer, it holds every event exactly
// once, each equal (Seq aside) to the deterministic event the sequence
// defines, which is what a writer without crashes writes. (Seqs differ from
// such a writer's: recovery does not hand out the Seqs of dropped events
// again.)

const (
	srcCrashEnv      = "EDR_SRC_CRASH_DIR"
	srcCrashFlushEnv = "EDR_SRC_CRASH_FLUSH"
	srcCrashEvents   = 2000 // per source, ~1.8 KB each
	srcCrashSources  = 1 << 20
)

func srcCrashEvent(src, i int, e *event.Event) {
	e.Reset()
	r := uint32(src*7919 + i*104729)
	e.Time = crashStart + int64(src)*int64(5*time.Second) + int64(i)*int64(2*time.Millisecond)
	e.Host = fmt.Sprint("host", (r>>3)%3)
	e.Channel, e.Provider, e.Source = event.ChannelSysmon, event.ProviderSysmon, event.SourceEVTX
	e.EventID = 1
	e.RecordID = uint64(src*srcCrashEvents + i)
	e.Set(event.FImage, fmt.Sprintf(`C:\src%d\proc%d.exe`, src, i%17))
	e.Set(event.FCommandLine, strings.Repeat(string(rune('a'+r%26)), int(r%3600)))
}

func srcCrashOpts() WriterOptions {
	return WriterOptions{FlushInterval: 3 * time.Millisecond, MaxSegmentBytes: 16 << 20, RowGroupRows: 1000,
		MaxSegmentAge: 20e9, MaxOpenSegments: 6}
}

// writeSources writes sources [from, to), each resumed where the
// recording's progress says; done is told each completed source.
func writeSources(w *Writer, from, to int, done func(int)) error {
	var e event.Event
	for s := from; s < to; s++ {
		h := srcHash(s)
		n, complete := w.SourceProgress(h)
		if complete {
			continue
		}
		if err := w.BeginSource(h); err != nil {
			return err
		}
		for i := int(n); i < srcCrashEvents; i++ {
			srcCrashEvent(s, i, &e)
			if err := w.Write(&e); err != nil {
				return err
			}
		}
		if err := w.AddSource(SourceInfo{ContentHash: h, Events: srcCrashEvents}); err != nil {
			return err
		}
		done(s)
	}
	return nil
}

func TestSourceCrashChild(t *testing.T) {
	dir := os.Getenv(srcCrashEnv)
	if dir == "" {
		t.Skip("source crash-test child process only")
	}
	opts := srcCrashOpts()
	if os.Getenv(srcCrashFlushEnv) == "never" {
		opts.FlushInterval = time.Hour
	}
	w, err := OpenWriter(dir, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(3)
	}
	fmt.Fprintln(os.Stdout, "start")
	err = writeSources(w, 0, srcCrashSources, func(s int) { fmt.Fprintf(os.Stdout, "done %d\n", s) })
	fmt.Fprintln(os.Stderr, "write:", err)
	os.Exit(4)
}

// checkSourcePrefixes reads a recording and checks that it holds of every
// source a prefix of its events, once each (by RecordID; with full, every
// event's content too); it returns the prefix lengths.
func checkSourcePrefixes(t *testing.T, dir string, full bool) map[int]int {
	opts := ReaderOptions{Strict: true, Fields: []event.FieldID{}}
	if full {
		opts.Fields = nil
	}
	r, err := OpenReader(dir, opts)
	require.NoError(t, err)
	seen := map[uint64]bool{}
	count := map[int]int{}
	var want event.Event
	require.NoError(t, r.Run(func(b []event.Event) error {
		for k := range b {
			e := &b[k]
			require.False(t, seen[e.RecordID], "event %d twice", e.RecordID)
			seen[e.RecordID] = true
			s, i := int(e.RecordID)/srcCrashEvents, int(e.RecordID)%srcCrashEvents
			if full {
				srcCrashEvent(s, i, &want)
				want.Seq = e.Seq
				require.True(t, event.Equal(&want, e), "source %d event %d:\nwant %s\ngot  %s", s, i, dump(&want), dump(e))
			}
			count[s]++
		}
		return nil
	}))
	require.Empty(t, r.Stats().Errors)
	for s, n := range count {
		for i := 0; i < n; i++ {
			require.True(t, seen[uint64(s*srcCrashEvents+i)], "source %d holds %d events but not its event %d", s, n, i)
		}
	}
	return count
}

func TestSourcesExactlyOnceUnderSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short")
	}
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(5, 6))
	maxDone, kills, partial, dropped := -1, 0, 0, int64(0)
	for round := 0; round < 14; round++ {
		c := startChild(t, "TestSourceCrashChild", []string{srcCrashEnv + "=" + dir, srcCrashFlushEnv + "=" + []string{"timer", "never"}[round%2]},
			"start", "done ")
		// Half the kills come some time after the child started, the
		// others some time after it completed a source (however long that
		// takes on a busy machine), so some sources always complete.
		c.await(t, []string{"start", "done "}[round%2])
		time.Sleep(time.Duration(rng.IntN(200)) * time.Millisecond)
		lines, _ := c.kill(t)
		kills++
		for _, l := range lines {
			if v, ok := strings.CutPrefix(l.s, "done "); ok {
				s, _ := strconv.Atoi(v)
				maxDone = max(maxDone, s)
			}
		}
		// Recover, then check: completed sources whole, the others a prefix.
		w, err := OpenWriter(dir, srcCrashOpts())
		require.NoError(t, err)
		dropped += w.Stats().RecoveryDroppedEvents
		for s := 0; s <= maxDone; s++ {
			require.True(t, w.HasSource(srcHash(s)), "source %d was reported complete", s)
		}
		progress := map[int]int64{}
		for s := 0; s <= maxDone+3; s++ {
			n, done := w.SourceProgress(srcHash(s))
			if !done && n > 0 {
				progress[s] = n
				partial++
			}
		}
		require.NoError(t, w.Close())
		count := checkSourcePrefixes(t, dir, false)
		for s, n := range progress {
			assert.Equal(t, int(n), count[s], "source %d: progress says %d events", s, n)
		}
	}
	require.GreaterOrEqual(t, maxDone, 6, "every other child completed a source")
	// Finish with one writer.
	last := maxDone + 2
	w, err := OpenWriter(dir, srcCrashOpts())
	require.NoError(t, err)
	require.NoError(t, writeSources(w, 0, last+1, func(int) {}))
	require.NoError(t, w.Close())
	count := checkSourcePrefixes(t, dir, true)
	for s := 0; s <= last; s++ {
		require.Equal(t, srcCrashEvents, count[s], "source %d", s)
	}
	t.Logf("%d kills, %d sources, %d partial sources seen after a kill, %d WAL events dropped past a gap by recovery",
		kills, last+1, partial, dropped)
}

// FuzzSourcesLog parses arbitrary sources logs: never a panic, and what
// parses, written again as a log, parses to the same sources.
func FuzzSourcesLog(f *testing.F) {
	log := []byte(sourcesMagic)
	for i := 0; i < 3; i++ {
		log = appendSourceRecord(log, SourceInfo{ContentHash: srcHash(i), Path: fmt.Sprint("f", i), Events: int64(i)})
	}
	f.Add(log)
	f.Add(log[:len(log)-3])
	f.Add([]byte(sourcesMagic[:4]))
	f.Add([]byte("garbage"))
	f.Fuzz(func(t *testing.T, data []byte) {
		list, err := parseSourcesLog(data)
		if err != nil {
			return
		}
		again := []byte(sourcesMagic)
		for _, si := range list {
			again = appendSourceRecord(again, si)
		}
		list2, err := parseSourcesLog(again)
		require.NoError(t, err)
		require.Equal(t, list, list2)
	})
}
