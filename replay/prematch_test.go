package replay

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/edr-lab/edr/corpus/synth"
	"github.com/edr-lab/edr/detect"
	"github.com/edr-lab/edr/detect/detecttest"
	"github.com/edr-lab/edr/detect/ruleset"
	"github.com/edr-lab/edr/detect/sigma"
	"github.com/edr-lab/edr/detect/sink"
	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/internal/testutil"
	"github.com/stretchr/testify/require"
)

// A rule over an enrichment field: the engine fills GrandParentImage from
// its process table, so this rule can only be decided on the engine's
// goroutine, after the state stage.
const grandparentRule = `title: Whoami With A Known Grandparent
id: 6f1f3c1e-7d2b-4c3e-9d8a-5a1b2c3d4e5f
logsource: {product: windows, category: process_creation}
detection:
    sel:
        Image|endswith: '\whoami.exe'
        GrandParentImage|contains: '\'
    condition: sel
level: low
`

// TestPrematchEqualsSequential replays the generated mix through the
// shipped rules, SigmaHQ's rules (when the corpus is there) and a rule over
// an enrichment field, once with Sigma matched early on several goroutines
// and once all on the engine's goroutine: the alert bytes are the same.
func TestPrematchEqualsSequential(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 3 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(3)) // more workers than the machine has cores is fine
	}
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "grandparent.yml"), []byte(grandparentRule), 0o644))
	paths := []string{"../rules/sigma", dir}
	if root := testutil.SharedDir(); root != "" {
		for _, d := range []string{"rules/windows", "rules-emerging-threats", "rules-threat-hunting"} {
			paths = append(paths, filepath.Join(root, "corpus", "sigma", d))
		}
	} else {
		t.Log("SigmaHQ rules absent (../shared): shipped rules only")
	}
	var evs []*event.Event
	g := synth.New(synth.Options{Seed: 3, Hosts: 3, Events: 40_000})
	var ev event.Event
	for g.Next(&ev) {
		evs = append(evs, ev.Clone())
	}
	iocDir := iocsOf(t, evs)
	for _, md := range []detect.MatchDebug{detect.MatchDebugOff, detect.MatchDebugFull} {
		rules, err := ruleset.Load(ruleset.Options{SigmaPaths: paths, IOC: ruleset.IOCFiles(iocDir), MatchDebug: md})
		require.NoError(t, err)
		run := func(noPrematch bool) ([]byte, *Summary) {
			var out bytes.Buffer
			w := sink.NewStreamWriter(&out, sink.WriterOptions{})
			s, err := Run(context.Background(), &sliceSource{Evs: evs, N: 1000}, Options{Rules: rules, Sink: sink.Multi{w, detecttest.NewSink(t)}, MatchDebug: md, NoPrematch: noPrematch})
			require.NoError(t, err)
			require.NoError(t, w.Close())
			return out.Bytes(), s
		}
		seq, sum := run(true)
		par, _ := run(false)
		require.Positive(t, sum.Alerts)
		require.True(t, bytes.Equal(seq, par), "match_debug %v: prematched alerts differ from sequential", md)
		grand := 0
		for _, rc := range sum.ByRule {
			if rc.Rule.Name == "Whoami With A Known Grandparent" {
				grand = int(rc.Count)
			}
		}
		require.Positive(t, grand, "the enrichment rule fired")
		iocHits := uint64(0)
		for _, h := range sum.Hits {
			if h.Name == detect.EngineIOC {
				iocHits = h.Hits
			}
		}
		require.Positive(t, iocHits, "IOC indicators fired (matched in the prematch workers)")
		t.Logf("match_debug %v: %d events, %d alerts (%d from the enrichment rule, %d IOC), identical", md, sum.Events, sum.Alerts, grand, iocHits)
		rules.Close()
	}
}

// iocsOf writes an IOC directory: the shipped lists plus, of every kind, a
// value of some of evs (the first three of each kind from every 997th
// event), so that IOC alerts fire, but not on most events.
func iocsOf(t *testing.T, evs []*event.Event) string {
	dir := t.TempDir()
	extra := map[string][]string{}
	for i := 0; i < len(evs); i += 997 {
		ev := evs[i]
		for _, part := range strings.Split(ev.Value(event.FHashes), ",") {
			if d, ok := strings.CutPrefix(part, "MD5="); ok {
				extra["hashes.txt"] = append(extra["hashes.txt"], d)
			}
		}
		if v := ev.Value(event.FDestinationIp); v != "" {
			extra["ips.txt"] = append(extra["ips.txt"], v)
		}
		if v := ev.Value(event.FQueryName); v != "" {
			extra["domains.txt"] = append(extra["domains.txt"], v)
		}
		if v := ev.Value(event.FTargetFilename); v != "" {
			extra["paths_regex.txt"] = append(extra["paths_regex.txt"], regexp.QuoteMeta(v)+"$")
		}
	}
	for _, f := range []string{"hashes.txt", "ips.txt", "domains.txt", "paths_regex.txt"} {
		shipped, err := os.ReadFile(filepath.Join("..", "rules", "ioc", f))
		require.NoError(t, err)
		require.NotEmpty(t, extra[f], f)
		data := string(shipped) + strings.Join(extra[f][:min(3, len(extra[f]))], "\n") + "\n"
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), []byte(data), 0o644))
	}
	return dir
}

// BenchmarkReplaySigmaHQ replays the generated mix (in memory: no segment
// decoding) through every SigmaHQ Windows/ET/TH rule, sequentially (every
// rule on the engine's goroutine, the baseline) and prematched (Sigma
// evaluated early on GOMAXPROCS goroutines). One op = one event, so
// events/s = 1e9 / ns/op.
//
//	go test -run '^$' -bench ReplaySigmaHQ -count 5 ./replay
func BenchmarkReplaySigmaHQ(b *testing.B) {
	root := testutil.SharedDir()
	if root == "" {
		b.Skip("SigmaHQ rules absent (../shared)")
	}
	var paths []string
	for _, d := range []string{"rules/windows", "rules-emerging-threats", "rules-threat-hunting"} {
		paths = append(paths, filepath.Join(root, "corpus", "sigma", d))
	}
	rules, err := ruleset.Load(ruleset.Options{SigmaPaths: paths})
	require.NoError(b, err)
	defer rules.Close()
	var evs []*event.Event
	g := synth.New(synth.Options{Seed: 1, Hosts: 4, Events: 200_000})
	var ev event.Event
	for g.Next(&ev) {
		evs = append(evs, ev.Clone())
	}
	for _, mode := range []struct {
		name       string
		noPrematch bool
	}{{"sequential", true}, {"prematch", false}} {
		b.Run(mode.name, func(b *testing.B) {
			var alerts uint64
			for done := 0; done < b.N; done += len(evs) {
				src := &sliceSource{Evs: evs[:min(len(evs), b.N-done)], N: 4096}
				s, err := Run(context.Background(), src, Options{Rules: rules, Sink: discard{}, NoPrematch: mode.noPrematch})
				require.NoError(b, err)
				alerts += s.Alerts
			}
			b.ReportMetric(float64(alerts)/float64(b.N)*1e6, "alerts/Mevent")
		})
	}
}

type discard struct{}

func (discard) Alert(*detect.Alert) error { return nil }

// TestRuleObserverCounts replays generated attacks with the per-rule
// observer on, matched early on several goroutines and all on the engine's:
// the matches the observers count, summed over every evaluator, are the
// alerts of each rule, and every evaluator (the engine's and each
// worker's) got its own observer.
func TestRuleObserverCounts(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 3 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(3))
	}
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "grandparent.yml"), []byte(grandparentRule), 0o644))
	rules, err := ruleset.Load(ruleset.Options{SigmaPaths: []string{"../rules/sigma", dir}})
	require.NoError(t, err)
	defer rules.Close()
	var evs []*event.Event
	g := synth.New(synth.Options{Seed: 5, Hosts: 3, Events: 30_000, ScenarioEvery: 3000})
	var ev event.Event
	for g.Next(&ev) {
		evs = append(evs, ev.Clone())
	}
	for _, noPrematch := range []bool{true, false} {
		var counters []*sigma.RuleCounters
		s, err := Run(context.Background(), &sliceSource{Evs: evs, N: 1000}, Options{Rules: rules, Sink: discard{}, NoPrematch: noPrematch,
			RuleObserver: func() sigma.RuleObserver {
				c := sigma.NewRuleCounters(nil)
				counters = append(counters, c)
				return c
			}})
		require.NoError(t, err)
		if noPrematch {
			require.Len(t, counters, 1, "the engine's evaluator only")
		} else {
			require.Len(t, counters, 1+runtime.GOMAXPROCS(0), "the engine's and one per prematch worker")
		}
		total := sigma.NewRuleCounters(nil)
		for _, c := range counters {
			total.Add(c)
		}
		byID := map[string]*sigma.Rule{}
		for _, r := range rules.Sigma.Rules() {
			byID[r.ID] = r
		}
		matched := 0
		for _, rc := range s.ByRule {
			r := byID[rc.Rule.ID]
			require.NotNil(t, r, rc.Rule.ID)
			st := total.Stats(r)
			require.Equal(t, rc.Count, st.Matched, "no prematch %v: %s", noPrematch, rc.Rule.Name)
			require.GreaterOrEqual(t, st.Evaluated, st.Matched)
			matched++
		}
		require.Greater(t, matched, 2, "several rules fired")
	}
}
