package replay

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/edr-lab/edr/corpus/synth"
	"github.com/edr-lab/edr/detect"
	"github.com/edr-lab/edr/detect/detecttest"
	"github.com/edr-lab/edr/detect/ruleset"
	"github.com/edr-lab/edr/detect/sink"
	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/recording"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// scenarioSink records, per alert, which synth scenario event (if any) it
// was raised on.
type scenarioSink struct {
	detected   map[string]map[string]int // scenario → rule → alerts
	background map[string]int            // rule → alerts on non-scenario events
}

func (s *scenarioSink) Alert(a *detect.Alert) error {
	for _, sc := range synth.Scenarios() {
		for _, se := range sc.Events {
			if se.Matches(a.Event) {
				if s.detected[sc.Name] == nil {
					s.detected[sc.Name] = map[string]int{}
				}
				s.detected[sc.Name][a.Hit.Rule.Name]++
				return nil
			}
		}
	}
	s.background[a.Hit.Rule.Name]++
	return nil
}

// TestShippedRulesDetectEverySynthScenario generates a recording with every
// attack scenario of the generator, replays it through the shipped rules
// and checks that each scenario's key events raise alerts — and, for this
// seed, that the benign background raises none.
func TestShippedRulesDetectEverySynthScenario(t *testing.T) {
	if testing.Short() {
		t.Skip("generates a recording")
	}
	o := synth.Options{Seed: 7, Hosts: 4}
	o.Events = synth.MinEventsForAllScenarios(o)
	dir, _ := writeSynth(t, o)
	rules := shippedRules(t)
	ss, out := replayScenarios(t, dir, rules, o.Events)
	for _, sc := range synth.Scenarios() {
		assert.NotEmpty(t, ss.detected[sc.Name], "scenario %s (%s) not detected", sc.Name, sc.Technique)
		t.Logf("%-20s %v", sc.Name, ss.detected[sc.Name])
	}
	assert.Empty(t, ss.background, "alerts on benign background events")
	// The same bytes with another number of segment decoders.
	recs3, err := Open([]string{dir}, ReadOptions{Parallel: 3})
	require.NoError(t, err)
	defer recs3.Close()
	var out3 bytes.Buffer
	w3 := sink.NewStreamWriter(&out3, sink.WriterOptions{})
	_, err = Run(context.Background(), recs3.Source(), Options{Rules: rules, Sink: w3, MatchDebug: detect.MatchDebugFull})
	require.NoError(t, err)
	require.NoError(t, w3.Close())
	assert.True(t, bytes.Equal(out, out3.Bytes()), "parallel 3 differs from the default")
	// Every alert is replayed, attributed and carries the ATT&CK mapping
	// of its rule.
	for _, line := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
		var doc struct {
			EDR struct {
				Replayed bool `json:"replayed"`
			} `json:"edr"`
			Host struct {
				Name string `json:"name"`
			} `json:"host"`
		}
		require.NoError(t, json.Unmarshal(line, &doc))
		require.True(t, doc.EDR.Replayed)
		require.NotEmpty(t, doc.Host.Name)
	}
}

// writeSynth writes a generated recording into a temporary directory.
func writeSynth(t *testing.T, o synth.Options) (string, *synth.Generator) {
	t.Helper()
	dir := t.TempDir()
	w, err := recording.OpenWriter(dir, recording.WriterOptions{Source: event.SourceSynthetic, Producer: "replay scenario test"})
	require.NoError(t, err)
	g := synth.New(o)
	var ev event.Event
	for g.Next(&ev) {
		require.NoError(t, w.Write(&ev))
	}
	require.NoError(t, w.Close())
	return dir, g
}

// replayScenarios replays a generated recording and attributes its alerts
// to scenarios; it returns the attribution and the ECS alert lines.
func replayScenarios(t *testing.T, dir string, rules *ruleset.Set, events int64) (*scenarioSink, []byte) {
	t.Helper()
	recs, err := Open([]string{dir}, ReadOptions{Parallel: 1})
	require.NoError(t, err)
	defer recs.Close()
	ss := &scenarioSink{detected: map[string]map[string]int{}, background: map[string]int{}}
	var out bytes.Buffer
	wr := sink.NewStreamWriter(&out, sink.WriterOptions{})
	sum, err := Run(context.Background(), recs.Source(), Options{Rules: rules, Sink: sink.Multi{ss, wr, detecttest.NewSink(t)}, MatchDebug: detect.MatchDebugFull})
	require.NoError(t, err)
	require.NoError(t, wr.Close())
	assert.Equal(t, uint64(events), sum.Events)
	return ss, out.Bytes()
}

// TestShippedRulesDetectScenariosAtBudgetEnd: where a scenario would
// straddle the end of the event budget (edr generate --events 100000
// --seed 11 once named scheduled_task but held none of its key events),
// every scenario the generator counts is detected by the shipped rules,
// and no scenario it does not count left events behind.
func TestShippedRulesDetectScenariosAtBudgetEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("generates recordings")
	}
	rules := shippedRules(t)
	for _, o := range []synth.Options{{Seed: 11, Events: 100_000}, {Seed: 4, Events: 20_000, ScenarioEvery: 500}} {
		dir, g := writeSynth(t, o)
		ss, _ := replayScenarios(t, dir, rules, o.Events)
		runs, named := g.ScenarioRuns(), 0
		for _, sc := range synth.Scenarios() {
			if runs[sc.Name] > 0 {
				named++
				assert.NotEmptyf(t, ss.detected[sc.Name], "seed %d: scenario %s named in the summary but not detected", o.Seed, sc.Name)
			} else {
				assert.Emptyf(t, ss.detected[sc.Name], "seed %d: scenario %s not named but some of its events are there", o.Seed, sc.Name)
			}
		}
		assert.Positive(t, named, "seed %d", o.Seed)
		assert.Empty(t, ss.background, "seed %d: alerts on benign background events", o.Seed)
	}
}
