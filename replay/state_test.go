package replay

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/edr-lab/edr/corpus/synth"
	"github.com/edr-lab/edr/detect"
	"github.com/edr-lab/edr/detect/detecttest"
	"github.com/edr-lab/edr/detect/ruleset"
	"github.com/edr-lab/edr/detect/sink"
	"github.com/edr-lab/edr/detect/state"
	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/recording"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// generateWithState writes a generated recording as edr generate does:
// every segment starts with its host's state snapshot.
func generateWithState(t *testing.T, dir string, o synth.Options, segAge time.Duration) {
	t.Helper()
	tr := state.NewTracker(state.Options{}, state.SnapshotLimits{})
	w, err := recording.OpenWriter(dir, recording.WriterOptions{Source: event.SourceSynthetic, Producer: "state test",
		MaxSegmentAge: segAge, Snapshot: tr.Snapshot})
	require.NoError(t, err)
	g := synth.New(o)
	var ev event.Event
	for g.Next(&ev) {
		require.NoError(t, w.Write(&ev))
		tr.Observe(&ev)
	}
	require.NoError(t, w.Close())
}

type alertLine struct {
	raw  []byte
	time int64 // event time
	doc  struct {
		EDR struct {
			Event struct {
				Time time.Time `json:"time"`
			} `json:"event"`
			Process struct {
				Ancestors []json.RawMessage `json:"ancestors"`
			} `json:"process"`
		} `json:"edr"`
		Process struct {
			CommandLine string `json:"command_line"`
			Start       string `json:"start"`
			Parent      struct {
				Start string `json:"start"`
			} `json:"parent"`
		} `json:"process"`
	}
}

func parseAlerts(t *testing.T, data []byte) []alertLine {
	var out []alertLine
	for _, l := range bytes.SplitAfter(data, []byte("\n")) {
		if len(l) == 0 {
			continue
		}
		a := alertLine{raw: l}
		require.NoError(t, json.Unmarshal(l, &a.doc))
		a.time = a.doc.EDR.Event.Time.UnixNano()
		out = append(out, a)
	}
	return out
}

// replayFrom replays dir from `from` (0: everything), with or without the
// start state, and returns the alert stream.
func replayFrom(t *testing.T, rules *ruleset.Set, dir string, ro ReadOptions, withStart bool) ([]byte, *Summary) {
	t.Helper()
	recs, err := Open([]string{dir}, ro)
	require.NoError(t, err)
	defer recs.Close()
	var start *Start
	if withStart {
		start, err = recs.Start()
		require.NoError(t, err)
	}
	var out bytes.Buffer
	w := sink.NewStreamWriter(&out, sink.WriterOptions{})
	s, err := Run(context.Background(), recs.Source(), Options{Rules: rules, Sink: sink.Multi{w, detecttest.NewSink(t)}, MatchDebug: detect.MatchDebugFull, Start: start})
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return out.Bytes(), s
}

// TestReplayFromEqualsFullReplayAfterT: the alerts of `replay --from T` are
// byte for byte the alerts a full replay raises on events at or after T,
// for cuts inside a segment and on a segment boundary, though many of them
// carry the context of processes that started before T. Without the start
// state they differ (the test can fail).
func TestReplayFromEqualsFullReplayAfterT(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and replays a recording several times")
	}
	dir := t.TempDir()
	o := synth.Options{Seed: 11, Hosts: 4, Events: 160_000, ScenarioEvery: 4000}
	generateWithState(t, dir, o, 20*time.Second)
	rules := shippedRules(t)
	full, fullSum := replayFrom(t, rules, dir, ReadOptions{}, true)
	all := parseAlerts(t, full)
	require.Greater(t, len(all), 100)
	assert.Zero(t, fullSum.StateEvents, "from the start: no catch-up")

	// Cuts: inside segments, and the first event time of a later segment.
	first := synth.New(o)
	var ev event.Event
	require.True(t, first.Next(&ev))
	t0 := ev.Time
	cuts := []int64{t0 + int64(47*time.Second) + 123456, t0 + int64(71*time.Second)}
	recs, err := Open([]string{dir}, ReadOptions{From: t0 + int64(60*time.Second)})
	require.NoError(t, err)
	st, err := recs.Start()
	require.NoError(t, err)
	recs.Close()
	require.NotEmpty(t, st.Snapshots)
	cuts = append(cuts, st.Snapshots[len(st.Snapshots)-1].FirstTime)

	for _, T := range cuts {
		var want []byte
		var withContext int
		for _, a := range all {
			if a.time < T {
				continue
			}
			want = append(want, a.raw...)
			// Context that only the state before T can give: the acting
			// process or its parent started before T.
			if ps, err := time.Parse(time.RFC3339Nano, a.doc.Process.Parent.Start); err == nil && ps.UnixNano() < T {
				withContext++
			} else if ps, err := time.Parse(time.RFC3339Nano, a.doc.Process.Start); err == nil && ps.UnixNano() < T {
				withContext++
			}
		}
		require.NotEmpty(t, want, "alerts after %d", T)
		assert.Greater(t, withContext, 10, "alerts after T whose process or parent started before T")

		got, sum := replayFrom(t, rules, dir, ReadOptions{From: T}, true)
		t.Logf("cut %s: %d alerts after T, %d with a process or parent started before T; %d snapshots restored, %d catch-up events",
			time.Unix(0, T).UTC().Format(time.RFC3339Nano), bytes.Count(want, []byte("\n")), withContext, sum.StateRestored, sum.StateEvents)
		assert.Greater(t, sum.StateRestored, 0)
		assert.Empty(t, sum.StateWarnings)
		if !assert.True(t, bytes.Equal(want, got), "cut %d: --from differs from the full replay after T", T) {
			diffFirst(t, want, got)
		}
		if T == cuts[0] {
			// Parallel decoders do not change it either.
			got3, _ := replayFrom(t, rules, dir, ReadOptions{From: T, Parallel: 3}, true)
			assert.True(t, bytes.Equal(want, got3), "cut %d, parallel 3", T)
		}

		naive, _ := replayFrom(t, rules, dir, ReadOptions{From: T}, false)
		assert.False(t, bytes.Equal(want, naive), "cut %d: without the start state the context is lost", T)
	}
}

func diffFirst(t *testing.T, want, got []byte) {
	w, g := bytes.Split(want, []byte("\n")), bytes.Split(got, []byte("\n"))
	for i := 0; i < len(w) && i < len(g); i++ {
		if !bytes.Equal(w[i], g[i]) {
			t.Logf("first difference at alert %d:\nfull:   %s\n--from: %s", i, w[i], g[i])
			return
		}
	}
	t.Logf("%d vs %d alerts", len(w), len(g))
}

// TestReplayStartStateWarnings: a host filter with --from restores that
// host's state only, and a corrupt or unknown-version snapshot is a named
// warning after which the replay goes on with an empty table.
func TestReplayStartStateWarnings(t *testing.T) {
	if testing.Short() {
		t.Skip("generates a recording")
	}
	dir := t.TempDir()
	o := synth.Options{Seed: 12, Hosts: 4, Events: 40_000}
	generateWithState(t, dir, o, 5*time.Second) // 40k events: 20 s per host
	rules := shippedRules(t)
	g := synth.New(o)
	var ev event.Event
	require.True(t, g.Next(&ev))
	T := ev.Time + int64(12*time.Second)
	host := ev.Host

	recs, err := Open([]string{dir}, ReadOptions{From: T, Hosts: []string{host}})
	require.NoError(t, err)
	st, err := recs.Start()
	require.NoError(t, err)
	require.Len(t, st.Snapshots, 1)
	assert.Equal(t, host, st.Snapshots[0].Host)
	assert.Less(t, st.Snapshots[0].FirstTime, T)
	snap, err := state.DecodeSnapshot(st.Snapshots[0].State)
	require.NoError(t, err)
	assert.NotEmpty(t, snap.Processes)

	// Replace the state by a corrupt one and an unknown version.
	for name, c := range map[string]struct {
		state []byte
		want  error
	}{
		"corrupt": {append(bytes.Clone(st.Snapshots[0].State[:20]), 1, 2, 3), state.ErrSnapshotCorrupt},
		"version": {[]byte("EDRS\x09whatever"), state.ErrSnapshotVersion},
	} {
		bad := *st
		bad.Snapshots = []HostSnapshot{st.Snapshots[0]}
		bad.Snapshots[0].State = c.state
		var out bytes.Buffer
		w := sink.NewStreamWriter(&out, sink.WriterOptions{})
		sum, err := Run(context.Background(), recs.Source(), Options{Rules: rules, Sink: w, Start: &bad})
		require.NoError(t, err, name)
		require.NoError(t, w.Close())
		require.Len(t, sum.StateWarnings, 1, name)
		assert.ErrorIs(t, sum.StateWarnings[0], c.want, name)
		assert.Contains(t, sum.StateWarnings[0].Error(), st.Snapshots[0].Segment, "the warning names the segment")
		assert.Zero(t, sum.StateRestored)
		assert.Greater(t, sum.StateEvents, uint64(0), "the catch-up still ran")
		assert.Greater(t, sum.Events, uint64(0), "the replay went on")
		var text bytes.Buffer
		sum.Write(&text)
		assert.Contains(t, text.String(), "state warning: segment ")
	}
	recs.Close()

	// A recording without snapshots (an older producer) replays as before.
	old := t.TempDir()
	writeRecording(t, old, scenario("WS-A", 1, 300))
	recs, err = Open([]string{old}, ReadOptions{From: scenario("WS-A", 1, 300)[150].Time})
	require.NoError(t, err)
	defer recs.Close()
	st, err = recs.Start()
	require.NoError(t, err)
	for _, s := range st.Snapshots {
		assert.Nil(t, s.State)
	}
	_, err = Run(context.Background(), recs.Source(), Options{Rules: rules, Sink: &sink.Memory{}, Start: st})
	require.NoError(t, err)
}
