package detect_test

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/edr-lab/edr/corpus/synth"
	"github.com/edr-lab/edr/detect"
	"github.com/edr-lab/edr/detect/detecttest"
	"github.com/edr-lab/edr/detect/sigma"
	"github.com/edr-lab/edr/detect/sink"
	"github.com/edr-lab/edr/detect/state"
	"github.com/edr-lab/edr/event"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const grandparentRule = `title: Whoami Under Explorer's Grandchild
id: 0d9f5c3a-2b1e-4f6a-8c7d-9e0f1a2b3c4d
logsource: {product: windows, category: process_creation}
detection:
    sel:
        Image|endswith: '\whoami.exe'
        GrandParentImage|endswith: '\explorer.exe'
    condition: sel
level: high
`

// enricherEngine is an engine over grandparentRule whose alerts go to out.
func enricherEngine(t *testing.T, out *sink.Memory) *detect.Engine {
	rs, errs := sigma.LoadBytes("gp.yml", []byte(grandparentRule), sigma.Options{})
	require.Empty(t, errs)
	eng, err := detect.New(detect.Options{Matchers: []detect.Matcher{detect.NewSigmaMatcher(rs)}, Sink: out, Replayed: true})
	require.NoError(t, err)
	return eng
}

// An Enricher fills the enrichment fields from a state that saw what the
// engine's saw — a restored snapshot, events applied with ObserveState —
// so the prematch path (Enrich, Run, ProcessPrematched) alerts as Process
// does, and leaves the events as recorded.
func TestEnricherMatchesProcess(t *testing.T) {
	proc := func(at int64, guid, image, parentGUID string) *event.Event {
		return detecttest.Sysmon(1, t0+at, "WS1", "ProcessGuid", guid, "ProcessId", "1"+guid[1:2], "Image", image,
			"CommandLine", image, "ParentProcessGuid", parentGUID, "ParentImage", `C:\x.exe`)
	}
	// The grandparent comes from a snapshot, the parent from ObserveState.
	snapEng := enricherEngine(t, &sink.Memory{})
	snapEng.ObserveState(proc(1, "{1}", `C:\Windows\explorer.exe`, "{0}"))
	snap := snapEng.SnapshotState("WS1", t0+2, state.SnapshotLimits{})
	warm := proc(3, "{2}", `C:\Windows\System32\cmd.exe`, "{1}")
	evs := []event.Event{}
	for i, ev := range []*event.Event{proc(4, "{3}", `C:\Windows\System32\whoami.exe`, "{2}"), proc(5, "{4}", `C:\Windows\System32\whoami.exe`, "{3}")} {
		ev.Seq = uint64(i + 1)
		evs = append(evs, *ev)
	}
	run := func(prematch bool) []byte {
		out := &sink.Memory{}
		eng := enricherEngine(t, out)
		require.NoError(t, eng.RestoreState(snap))
		eng.ObserveState(warm)
		batch := make([]event.Event, len(evs))
		for i := range evs {
			batch[i].CopyFrom(&evs[i])
		}
		if !prematch {
			require.NoError(t, eng.ProcessBatch(batch))
			assert.Nil(t, eng.NewEnricher(), "an event went by without it: its state would lag")
		} else {
			en := eng.NewEnricher()
			require.NotNil(t, en)
			assert.Nil(t, eng.NewEnricher(), "given out once")
			var pre []detect.Prematched
			pre = en.Enrich(batch, pre)
			assert.Equal(t, `C:\Windows\explorer.exe`, batch[0].Value(event.FGrandParentImage), "filled ahead of the workers")
			pre = eng.NewPrematcher().Run(batch, pre)
			require.NoError(t, eng.ProcessPrematched(batch, pre))
		}
		for i := range batch {
			assert.True(t, event.Equal(&evs[i], &batch[i]), "event %d as recorded after processing", i)
		}
		assert.Equal(t, uint64(2), eng.Stats().EnrichedEvents)
		return bytes.Join(out.Lines, nil)
	}
	seq := run(false)
	require.Equal(t, 1, bytes.Count(seq, []byte("\n")), "one whoami has explorer.exe as grandparent: %s", seq)
	assert.Equal(t, string(seq), string(run(true)))
}

// contextRules alert on most events of the generated mix, so the alerts
// carry the engine's process context (process, parent, ancestors, target
// and its parent) and DNS names; the grandparent rule, when asked for,
// makes the engine keep a mirror of its state and hand out an Enricher.
func contextRules(grandparent bool) string {
	rules := ""
	if grandparent {
		rules = grandparentRule + "---\n"
	}
	for i, r := range [][2]string{{"process_creation", "Image"}, {"process_access", "TargetImage"}, {"network_connection", "Image"}} {
		if i > 0 {
			rules += "---\n"
		}
		rules += fmt.Sprintf("title: Any %[2]s\nid: %[1]da9f5c3a-2b1e-4f6a-8c7d-9e0f1a2b3c4d\nlogsource: {product: windows, category: %[2]s}\n"+
			"detection:\n    sel:\n        %[3]s|endswith: '.exe'\n    condition: sel\nlevel: low\n", i+1, r[0], r[1])
	}
	return rules
}

// The engine's table takes the processes its mirror built (ObserveState)
// or the Enricher built (Prematched) instead of building its own: the
// alerts' process context is the one of an engine without a mirror, byte
// for byte, with the Enricher a whole recording ahead (its table has
// evicted, expired and reused entries by the time the engine catches up)
// and bounds small enough that both do. The grandparent rule, which only
// makes the engine keep the mirror, does not fire on this mix.
func TestPrematchedContextAsProcessBatch(t *testing.T) {
	const n, warm = 30_000, 10_000
	g := synth.New(synth.Options{Seed: 11, Events: n})
	var evs []event.Event
	var ev event.Event
	for g.Next(&ev) {
		evs = append(evs, event.Event{})
		evs[len(evs)-1].CopyFrom(&ev)
	}
	var ruleCounts []detect.RuleCount
	run := func(grandparent, prematch bool) ([]byte, detect.Stats) {
		rs, errs := sigma.LoadBytes("ctx.yml", []byte(contextRules(grandparent)), sigma.Options{})
		require.Empty(t, errs)
		out := &sink.Memory{}
		eng, err := detect.New(detect.Options{Matchers: []detect.Matcher{detect.NewSigmaMatcher(rs)}, Sink: out, Replayed: true,
			MaxProcesses: 300, ProcessTTL: 2 * time.Second})
		require.NoError(t, err)
		batch := make([]event.Event, len(evs))
		for i := range evs {
			batch[i].CopyFrom(&evs[i])
		}
		require.NoError(t, eng.ObserveStateBatch(batch[:warm])) // as replay --from does
		batch = batch[warm:]
		if prematch {
			en := eng.NewEnricher()
			require.NotNil(t, en)
			pre := en.Enrich(batch, nil)
			pre = eng.NewPrematcher().Run(batch, pre)
			require.NoError(t, eng.ProcessPrematched(batch, pre))
		} else {
			require.NoError(t, eng.ProcessBatch(batch))
			if !grandparent {
				assert.Nil(t, eng.NewEnricher(), "no mirror without a rule that reads enrichment")
			}
			ruleCounts = eng.RuleCounts()
		}
		return bytes.Join(out.Lines, nil), eng.Stats()
	}
	ref, refStats := run(false, false)
	for _, k := range []string{`"process":{`, `"parent":{`, `"Target`, `"destination":{`} {
		require.Contains(t, string(ref), k)
	}
	require.NotZero(t, refStats.ProcEvicted, "the bound evicts")
	require.NotZero(t, refStats.ProcExpired, "the TTL expires")
	tableOf := func(s detect.Stats) [3]any { return [3]any{s.Processes, s.ProcEvicted, s.ProcExpired} }
	for _, prematch := range []bool{false, true} {
		got, stats := run(true, prematch)
		if !prematch {
			require.Len(t, ruleCounts, 3, "each Any rule alerts, the grandparent rule does not")
		}
		assert.Equal(t, refStats.Alerts, stats.Alerts, "prematch %v", prematch)
		assert.Equal(t, tableOf(refStats), tableOf(stats), "prematch %v", prematch)
		assert.True(t, bytes.Equal(ref, got), "prematch %v: alerts differ", prematch)
	}
}
