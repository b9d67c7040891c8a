package replay

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/edr-lab/edr/detect"
	"github.com/edr-lab/edr/detect/detecttest"
	"github.com/edr-lab/edr/detect/ruleset"
	"github.com/edr-lab/edr/detect/sink"
	"github.com/edr-lab/edr/pipeline"
	"github.com/edr-lab/edr/pipeline/pipelinetest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type sliceSource = pipelinetest.Slice

var scenario = pipelinetest.Scenario

func shippedRules(t *testing.T) *ruleset.Set {
	r, err := ruleset.Load(ruleset.Options{SigmaPaths: []string{"../rules/sigma"}, IOC: ruleset.IOCFiles("../rules/ioc"), SigmaRuleset: "edr/rules", MatchDebug: detect.MatchDebugSummary})
	require.NoError(t, err)
	require.Empty(t, r.Errors)
	t.Cleanup(r.Close)
	return r
}

// replayBytes replays the sources and returns the alert stream as written by
// the real alert writer (and validates every line as ECS).
func replayBytes(t *testing.T, rules *ruleset.Set, srcs ...pipeline.Source) ([]byte, *Summary) {
	var out bytes.Buffer
	w := sink.NewStreamWriter(&out, sink.WriterOptions{Queue: 3})
	vs := detecttest.NewSink(t)
	s, err := Run(context.Background(), pipeline.Merge(srcs...), Options{Rules: rules, Sink: sink.Multi{w, vs}, MatchDebug: detect.MatchDebugSummary})
	require.NoError(t, err)
	require.NoError(t, w.Close())
	require.Equal(t, s.Alerts, w.Stats().Written)
	return out.Bytes(), s
}

func TestReplayIsByteIdenticalWhateverBatchingAndScheduling(t *testing.T) {
	rules := shippedRules(t)
	a, b := scenario("WS-A", 1, 600), scenario("WS-B", 2, 600)
	ref, sum := replayBytes(t, rules, &sliceSource{Evs: a, N: 1024}, &sliceSource{Evs: b, N: 1024})
	require.NotEmpty(t, ref)
	assert.Equal(t, uint64(1200), sum.Events)
	assert.Greater(t, sum.Alerts, uint64(400))
	for _, line := range bytes.Split(bytes.TrimSpace(ref), []byte("\n")) {
		require.Contains(t, string(line), `"replayed":true`)
	}
	// Other batch sizes, and replays running concurrently (own engines,
	// shared compiled rules), give the same bytes.
	var wg sync.WaitGroup
	outs := make([][]byte, 4)
	for i := range outs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i], _ = replayBytes(t, rules, &sliceSource{Evs: a, N: 1 + i*97}, &sliceSource{Evs: b, N: 3 + i*211})
		}()
	}
	wg.Wait()
	for i, o := range outs {
		assert.True(t, bytes.Equal(ref, o), "run %d differs", i)
	}
	var text bytes.Buffer
	sum.Write(&text)
	assert.Contains(t, text.String(), "replay: 1200 events")
	assert.Contains(t, text.String(), "Shadow Copy Deletion or Backup Catalog Removal")
}

// With an observer, the summary reports every stage the events went
// through, and the alerts do not change.
func TestReplaySummaryReportsStages(t *testing.T) {
	rules := shippedRules(t)
	a := scenario("WS-A", 1, 3000)
	ref, _ := replayBytes(t, rules, &sliceSource{Evs: a, N: 500})
	var out bytes.Buffer
	obs := pipeline.NewObserver(nil)
	w := sink.NewStreamWriter(&out, sink.WriterOptions{Queue: 3, EncodeTimer: obs.Timer(pipeline.StageEncode)})
	s, err := Run(context.Background(), &sliceSource{Evs: a, N: 500}, Options{Rules: rules, Sink: w, MatchDebug: detect.MatchDebugSummary, Observer: obs})
	require.NoError(t, err)
	require.NoError(t, w.Close())
	assert.Equal(t, ref, out.Bytes())
	assert.Equal(t, s.Events, s.Stages[pipeline.StageEngine].Events)
	assert.Equal(t, s.Alerts, s.Stages[pipeline.StageSink].Events)
	var text bytes.Buffer
	s.Write(&text)
	stages := text.String()[strings.Index(text.String(), "stages"):]
	want := map[string]uint64{"decode": 3000, "engine": 3000, "sink": s.Alerts}
	if runtime.GOMAXPROCS(0) > 1 {
		want["prematch"] = 3000 // one CPU: no prematch stage
	}
	for st, n := range want {
		assert.Regexp(t, fmt.Sprintf(`(?m)^  %s +%d in `, st, n), stages)
	}
	text.Reset()
	(&Summary{}).Write(&text)
	assert.NotContains(t, text.String(), "stages", "no observer: no stage lines")
}
