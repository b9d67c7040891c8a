package replay

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/edr-lab/edr/corpus/synth"
	"github.com/edr-lab/edr/detect"
	"github.com/edr-lab/edr/detect/detecttest"
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
	dir := t.TempDir()
	w, err := recording.OpenWriter(dir, recording.WriterOptions{Source: event.SourceSynthetic, Producer: "replay scenario test"})
	require.NoError(t, err)
	g := synth.New(o)
	var ev event.Event
	for g.Next(&ev) {
		require.NoError(t, w.Write(&ev))
	}
	require.NoError(t, w.Close())

	rules := shippedRules(t)
	recs, err := Open([]string{dir}, ReadOptions{Parallel: 1})
	require.NoError(t, err)
	defer recs.Close()
	ss := &scenarioSink{detected: map[string]map[string]int{}, background: map[string]int{}}
	var out bytes.Buffer
	wr := sink.NewStreamWriter(&out, sink.WriterOptions{})
	sum, err := Run(context.Background(), recs.Source(), Options{Rules: rules, Sink: sink.Multi{ss, wr, detecttest.NewSink(t)}, MatchDebug: detect.MatchDebugFull})
	require.NoError(t, err)
	require.NoError(t, wr.Close())
	assert.Equal(t, uint64(o.Events), sum.Events)
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
	assert.True(t, bytes.Equal(out.Bytes(), out3.Bytes()), "parallel 3 differs from the default")
	// Every alert is replayed, attributed and carries the ATT&CK mapping
	// of its rule.
	for _, line := range bytes.Split(bytes.TrimSpace(out.Bytes()), []byte("\n")) {
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
