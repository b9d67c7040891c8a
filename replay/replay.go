// Package replay runs recordings through the detection pipeline
// deterministically: events in (time, host, seq) order, one engine, alerts
// marked as replayed, byte-identical output whatever the read parallelism.
// It owns what is particular to recordings: opening them, the start state
// of a replay that begins at --from or names --host, and the summary; the
// stages themselves are package pipeline's.
package replay

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/edr-lab/edr/detect"
	"github.com/edr-lab/edr/detect/filescan"
	"github.com/edr-lab/edr/detect/ruleset"
	"github.com/edr-lab/edr/detect/sigma"
	"github.com/edr-lab/edr/internal/rank"
	"github.com/edr-lab/edr/internal/termsafe"
	"github.com/edr-lab/edr/pipeline"
)

// Options configure a replay run.
type Options struct {
	Rules      *ruleset.Set
	Store      filescan.Store // artifact store(s) of the recordings; nil: no file re-checks
	Sink       detect.AlertSink
	MatchDebug detect.MatchDebug
	// Engine carries the state bounds (process table, DNS cache); Matchers,
	// Files, Sink, MatchDebug and Replayed are set by Run.
	Engine detect.Options
	// Start, when set, is restored before the first event (Recordings.Start):
	// segment-start snapshots, then the events before From as state only.
	Start *Start
	// NoPrematch evaluates every rule on the engine's goroutine instead of
	// matching Sigma rules early on all CPUs (the same alerts; a baseline
	// for benchmarks and tests).
	NoPrematch bool
	// Observer, when set, counts events and time per pipeline stage.
	Observer *pipeline.Observer
	// MinSeverity, when set, keeps alerts below it from Sink (--min-level);
	// the engine still raises them and the summary counts them.
	MinSeverity detect.Severity
	// RuleObserver, when set, gives every Sigma evaluator of the run (the
	// engine's and each prematch worker's) its own observer, for per-rule
	// cost (edr bench). Run calls it on its own goroutine before the
	// evaluator starts; each observer is then used by one goroutine.
	RuleObserver func() sigma.RuleObserver

	tap bool // shard: report correlation inputs instead of correlating (RunShard)
}

// Summary is what a replay did; Write prints it for humans.
type Summary struct {
	Events          uint64
	Alerts          uint64
	BySeverity      map[detect.Severity]uint64
	ByRule          []detect.RuleCount
	Hits            []detect.EngineCount
	Files           map[string]uint64 // file-check outcomes (scanned, missing, …)
	Segments        int
	SegmentsRead    int
	SegmentsSkipped int
	DirsSkipped     int // unreadable directories of the recordings (their segments not read)
	ReadErrors      []error
	RuleErrors      []error
	Processes       int
	ProcEvicted     uint64
	StateRestored   int           // host snapshots restored
	StateEvents     uint64        // events before From applied to the state only
	StateWarnings   []error       // snapshots that could not be restored, by segment
	Wall            time.Duration // measured by the caller, not the engine
	// AlertHosts are the hosts of the alerts passed to the sink, most
	// alerts first (then by name); FirstAlert and LastAlert are the event
	// times (ns) of the earliest and latest of them (0: none).
	AlertHosts            []HostCount
	FirstAlert, LastAlert int64
	// MinSeverity and BelowMin: the --min-level filter and the alerts it
	// kept from the sink.
	MinSeverity detect.Severity
	BelowMin    uint64
	// Stages are the pipeline's per-stage counts and times when the caller
	// observed them (Options.Observer); zero otherwise. An alert writer
	// encoding beside the engine may still add to StageEncode after Run.
	Stages [pipeline.NumStages]pipeline.StageStats
}

// Run replays src through a new engine built from opts and returns the
// engine's counts. The engine marks every alert as replayed and is flushed
// at the end (correlation windows still open are decided). Cancelling ctx
// stops the replay (Run returns ctx.Err() and the counts so far).
func Run(ctx context.Context, src pipeline.Source, opts Options) (*Summary, error) {
	eo := opts.Engine
	ms, fm := opts.Rules.Matchers(opts.Store)
	tally := &alertTally{next: opts.Sink, min: opts.MinSeverity, hosts: map[string]uint64{}}
	eo.Matchers, eo.Sink, eo.MatchDebug, eo.Replayed = ms, opts.Observer.Sink(tally), opts.MatchDebug, true
	if fm != nil {
		eo.Files = fm
	}
	if opts.tap {
		for _, m := range ms {
			if sm, ok := m.(*detect.SigmaMatcher); ok {
				sm.TapCorrelations()
			}
		}
	}
	eng, err := detect.New(eo)
	if err != nil {
		return nil, err
	}
	var stages pipeline.Engine = eng
	if opts.RuleObserver != nil {
		for _, m := range ms {
			if sm, ok := m.(*detect.SigmaMatcher); ok {
				sm.SetObserver(opts.RuleObserver())
			}
		}
		stages = observedEngine{Engine: eng, newObserver: opts.RuleObserver}
	}
	var warnings []error
	var runErr error
	if opts.Start != nil {
		warnings, runErr = opts.Start.restore(ctx, eng)
	}
	if runErr == nil {
		runErr = pipeline.Run(ctx, pipeline.Config{Source: src, Engine: stages, NoPrematch: opts.NoPrematch, Observer: opts.Observer})
	}
	st := eng.Stats()
	s := &Summary{
		Events: st.Events, Alerts: st.Alerts, BySeverity: st.AlertsBySev, ByRule: eng.RuleCounts(),
		Hits: st.HitsByEngine, RuleErrors: opts.Rules.Errors, Processes: st.Processes, ProcEvicted: st.ProcEvicted,
		StateRestored: st.StateRestored, StateEvents: st.StateEvents, StateWarnings: warnings,
		Stages: opts.Observer.Stats(), FirstAlert: tally.first, LastAlert: tally.last,
		MinSeverity: opts.MinSeverity, BelowMin: tally.below, AlertHosts: tally.byHost(),
	}
	if fm != nil {
		s.Files = map[string]uint64{}
		for o, n := range fm.Outcome {
			if n > 0 {
				s.Files[filescan.Outcome(o).String()] = n
			}
		}
	}
	return s, runErr
}

// observedEngine gives each prematch worker's evaluator an observer.
type observedEngine struct {
	*detect.Engine
	newObserver func() sigma.RuleObserver
}

func (e observedEngine) NewPrematcher() *detect.Prematcher {
	p := e.Engine.NewPrematcher()
	if p != nil {
		p.SetObserver(e.newObserver())
	}
	return p
}

// Write prints the summary: events, alerts by severity and by rule, read
// and rule errors, throughput.
func (s *Summary) Write(w io.Writer) {
	fmt.Fprintf(w, "replay: %d events, %d alerts", s.Events, s.Alerts)
	if s.Wall > 0 {
		fmt.Fprintf(w, " in %s (%.0f events/s)", s.Wall.Round(time.Millisecond), float64(s.Events)/s.Wall.Seconds())
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "segments: %d selected, %d read, %d skipped\n", s.Segments, s.SegmentsRead, s.SegmentsSkipped)
	if s.DirsSkipped > 0 {
		fmt.Fprintf(w, "directories: %d unreadable, their segments skipped\n", s.DirsSkipped)
	}
	for _, e := range s.ReadErrors {
		fmt.Fprintf(w, "  read error: %v\n", e)
	}
	if len(s.RuleErrors) > 0 {
		fmt.Fprintf(w, "rules: %d did not load (skipped)\n", len(s.RuleErrors))
		for _, e := range s.RuleErrors {
			fmt.Fprintf(w, "  %v\n", e)
		}
	}
	var sev []string
	for _, v := range []detect.Severity{detect.SeverityCritical, detect.SeverityHigh, detect.SeverityMedium, detect.SeverityLow, detect.SeverityInformational} {
		if n := s.BySeverity[v]; n > 0 {
			sev = append(sev, fmt.Sprintf("%s %d", v, n))
		}
	}
	if len(sev) > 0 {
		fmt.Fprintf(w, "alerts by severity: %s\n", strings.Join(sev, ", "))
	}
	if len(s.ByRule) > 0 {
		fmt.Fprintln(w, "alerts by rule:")
		for _, rc := range s.ByRule {
			fmt.Fprintf(w, "  %6d  %-8s %-13s %s\n", rc.Count, rc.Rule.Engine, severityOf(rc.Rule), rc.Rule.Name)
		}
	}
	if s.BelowMin > 0 || s.MinSeverity != detect.SeverityNone {
		fmt.Fprintf(w, "min level %s: %d alerts below it not written\n", s.MinSeverity, s.BelowMin)
	}
	s.writeAlertHosts(w)
	if len(s.Files) > 0 {
		keys := make([]string, 0, len(s.Files))
		for k := range s.Files {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, fmt.Sprintf("%s %d", k, s.Files[k]))
		}
		fmt.Fprintf(w, "process images checked: %s\n", strings.Join(parts, ", "))
	}
	fmt.Fprintf(w, "process table: %d entries, %d evicted\n", s.Processes, s.ProcEvicted)
	if s.StateRestored > 0 || s.StateEvents > 0 || len(s.StateWarnings) > 0 {
		fmt.Fprintf(w, "start state: %d host snapshots restored, %d earlier events applied to the state only\n", s.StateRestored, s.StateEvents)
	}
	for _, e := range s.StateWarnings {
		fmt.Fprintf(w, "  state warning: %v\n", e)
	}
	s.writeStages(w)
}

// maxSummaryHosts bounds the hosts listed by alert count.
const maxSummaryHosts = 20

// writeAlertHosts prints the hosts by alert count and the first and last
// alert's event time (of the alerts written).
func (s *Summary) writeAlertHosts(w io.Writer) {
	if len(s.AlertHosts) == 0 {
		return
	}
	fmt.Fprintf(w, "alerts by host (%d hosts):\n", len(s.AlertHosts))
	for i, h := range s.AlertHosts {
		if i == maxSummaryHosts {
			fmt.Fprintf(w, "  … %d more hosts\n", len(s.AlertHosts)-i)
			break
		}
		fmt.Fprintf(w, "  %6d  %s\n", h.Count, termsafe.String(h.Host))
	}
	const layout = "2006-01-02T15:04:05.000Z"
	fmt.Fprintf(w, "alert time: first %s, last %s\n", time.Unix(0, s.FirstAlert).UTC().Format(layout), time.Unix(0, s.LastAlert).UTC().Format(layout))
}

// HostCount is a host and its alert count.
type HostCount struct {
	Host  string
	Count uint64
}

// alertTally passes the alerts at or above min to next and tallies them
// by host and event time (the engine's goroutine is its only caller).
type alertTally struct {
	next        detect.AlertSink
	min         detect.Severity
	hosts       map[string]uint64
	first, last int64
	n, below    uint64
}

func (t *alertTally) Alert(a *detect.Alert) error {
	if a.Severity < t.min {
		t.below++
		return nil
	}
	if t.n == 0 || a.Event.Time < t.first {
		t.first = a.Event.Time
	}
	if t.n == 0 || a.Event.Time > t.last {
		t.last = a.Event.Time
	}
	t.n++
	t.hosts[a.Event.Host]++
	if t.next == nil {
		return nil
	}
	return t.next.Alert(a)
}

func (t *alertTally) byHost() []HostCount {
	var out []HostCount
	for _, e := range rank.ByCount(t.hosts) {
		out = append(out, HostCount{e.Key, e.Count})
	}
	return out
}

// writeStages prints the time of every stage that was timed. Stages run
// concurrently, so their times add up to more than the wall time.
func (s *Summary) writeStages(w io.Writer) {
	if s.Stages == ([pipeline.NumStages]pipeline.StageStats{}) {
		return
	}
	fmt.Fprintln(w, "stages (concurrent; prematch summed over its workers):")
	for i, st := range s.Stages {
		per := 0.0
		if st.Events > 0 {
			per = float64(st.Nanos) / float64(st.Events)
		}
		fmt.Fprintf(w, "  %-9s %10d in %10s  %9.0f ns each\n", pipeline.Stage(i), st.Events, time.Duration(st.Nanos).Round(time.Microsecond), per)
	}
}

func severityOf(r *detect.Rule) string {
	if r.Severity == detect.SeverityNone {
		return "medium"
	}
	return r.Severity.String()
}
