package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"sort"
	"time"

	"github.com/edr-lab/edr/corpus/synth"
	"github.com/edr-lab/edr/detect/ruleset"
	"github.com/edr-lab/edr/detect/sigma"
	"github.com/edr-lab/edr/detect/sink"
	"github.com/edr-lab/edr/detect/state"
	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/internal/cputime"
	"github.com/edr-lab/edr/pipeline"
	"github.com/edr-lab/edr/recording"
	"github.com/edr-lab/edr/replay"
)

// Options are one bench run.
type Options struct {
	// Rules are loaded with ruleset.Load, as edr replay loads them.
	Rules ruleset.Options
	// Recordings are read when given; otherwise Events events of Seed are
	// generated (corpus/synth) into a temporary recording, removed after
	// the run, so the decode stage reads Parquet as replay does.
	Recordings []string
	Events     int64
	Seed       int64
	// IOCs, when positive, generates that many indicators of Seed
	// (GenerateIOCs) into a temporary directory and loads them as --ioc
	// would; Rules.IOC must then be empty.
	IOCs int
	// Parallel is the segment decoders per recording (0: one per CPU).
	Parallel int
	// Top is how many of the costliest rules the report lists; 0 skips the
	// per-rule pass (a second run over the input).
	Top int
	// ProfileDir, when set, receives cpu.pprof (the full run) and
	// heap.pprof (after it).
	ProfileDir string
	// Version is the binary's version for the report.
	Version string
	// Log, when set, gets a line as each phase starts.
	Log io.Writer
}

// Run measures the rules over the input: the ceilings first (decode only;
// decode + state), then the full pipeline with the stage observer on, all
// in this process over the same recordings.
func Run(ctx context.Context, o Options) (*Report, error) {
	logf := func(format string, args ...any) {
		if o.Log != nil {
			fmt.Fprintf(o.Log, "bench: "+format+"\n", args...)
		}
	}
	r := &Report{Build: buildInfo(o.Version), Machine: machineInfo(), Started: time.Now().UTC().Format(time.RFC3339)}
	tmp, err := os.MkdirTemp("", "edr-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	if o.IOCs > 0 {
		if p := o.Rules.IOC; p.Hashes != "" || p.IPs != "" || p.Domains != "" || p.PathsRegex != "" || len(p.Loki) > 0 {
			return nil, errors.New("generated IOCs and an IOC directory: give one of them")
		}
		dir := filepath.Join(tmp, "ioc")
		logf("generating %d IOCs (seed %d) into %s", o.IOCs, o.Seed, dir)
		if _, err := GenerateIOCs(dir, o.IOCs, o.Seed); err != nil {
			return nil, err
		}
		o.Rules.IOC = ruleset.IOCFiles(dir)
	}
	rules, err := ruleset.Load(o.Rules)
	if err != nil {
		return nil, err
	}
	defer rules.Close()
	r.RuleSets = RuleSets{YARA: rules.YARA != nil, IOC: rules.IOC != nil && !rules.IOC.Empty(), LoadErrors: len(rules.Errors),
		GeneratedIOCs: o.IOCs > 0}
	if rules.IOC != nil {
		r.RuleSets.Indicators = rules.IOC.Len()
	}
	if rules.Sigma != nil {
		r.RuleSets.Sigma = len(rules.Sigma.Rules())
	}

	dirs := o.Recordings
	if len(dirs) == 0 {
		if o.Events <= 0 {
			return nil, errors.New("no recording and no --events to generate")
		}
		logf("generating %d events (seed %d) into %s", o.Events, o.Seed, tmp)
		t := time.Now()
		if err := Generate(filepath.Join(tmp, "rec"), o.Events, o.Seed); err != nil {
			return nil, err
		}
		r.Input = Input{Generated: true, Seed: o.Seed, GenerateSec: time.Since(t).Seconds()}
		dirs = []string{filepath.Join(tmp, "rec")}
	} else {
		r.Input = Input{Recordings: dirs}
	}
	read := replay.ReadOptions{Parallel: o.Parallel}

	logf("ceiling: decode only")
	decode, err := measure(func() (uint64, error) { return decodeOnly(ctx, dirs, read) })
	if err != nil {
		return nil, err
	}
	logf("ceiling: decode + state")
	stateRun, err := measure(func() (uint64, error) {
		s, err := runReplay(ctx, dirs, read, &ruleset.Set{}, nil, nil)
		if s == nil {
			return 0, err
		}
		return s.Events, err
	})
	if err != nil {
		return nil, err
	}

	logf("full run")
	peakReset := resetPeakRSS()
	var stopProfile func() error
	if o.ProfileDir != "" {
		if stopProfile, err = startCPUProfile(o.ProfileDir); err != nil {
			return nil, err
		}
	}
	obs := pipeline.NewObserver(nil)
	var sum *replay.Summary
	full, err := measure(func() (uint64, error) {
		var err error
		sum, err = runReplay(ctx, dirs, read, rules, obs, nil)
		if sum == nil {
			return 0, err
		}
		return sum.Events, err
	})
	if stopProfile != nil {
		err = errors.Join(err, stopProfile(), writeHeapProfile(o.ProfileDir))
	}
	if err != nil {
		return nil, err
	}
	r.PeakRSSBytes = peakRSS()
	r.PeakRSSOf = "the whole process (generation, ceilings and full run)"
	if peakReset {
		r.PeakRSSOf = "the full run (VmHWM reset before it)"
	}

	r.Events, r.Alerts = full.events, sum.Alerts
	r.Seconds = full.wall.Seconds()
	r.EventsPerSecond = ratePer(full.events, full.wall)
	r.CPUSeconds = full.cpu.Seconds()
	r.CPUUtilization = div(float64(full.cpu), float64(full.wall))
	stats := obs.Stats()
	var busy time.Duration
	for _, st := range stats {
		busy += time.Duration(st.Nanos)
	}
	for i, st := range stats {
		r.Stages = append(r.Stages, stageOf(pipeline.Stage(i).String(), st.Events, time.Duration(st.Nanos), full, busy))
	}
	// Only the decode stage's allocations are measured apart (the ceiling).
	r.Stages[pipeline.StageDecode].AllocsPerEvent = ptr(decode.allocsPer())
	r.Stages[pipeline.StageDecode].BytesPerEvent = ptr(decode.bytesPer())
	dc := stageOf("decode only", decode.events, decode.wall, decode, decode.wall)
	dc.AllocsPerEvent, dc.BytesPerEvent = ptr(decode.allocsPer()), ptr(decode.bytesPer())
	sc := stageOf("decode + state", stateRun.events, stateRun.wall, stateRun, stateRun.wall)
	sc.AllocsPerEvent, sc.BytesPerEvent = ptr(stateRun.allocsPer()), ptr(stateRun.bytesPer())
	r.Ceilings = []Stage{dc, sc}
	r.RatioToDecodeOnly = div(r.EventsPerSecond, dc.EventsPerSecond)
	r.Allocs = Allocs{Total: full.allocsPer(), TotalBytes: full.bytesPer(), Decode: decode.allocsPer(),
		State:       stateRun.allocsPer() - decode.allocsPer(),
		RulesOutput: full.allocsPer() - stateRun.allocsPer(),
		Method: "runtime/metrics heap allocation counts over each whole run; per part by difference of the " +
			"decode-only, decode + state and full runs (the stages share goroutines and the heap)"}
	r.Rules = []RuleCost{} // [] in JSON: a list, also when empty
	if rules.Sigma != nil && o.Top > 0 {
		// A pass of its own: reading the clock around every rule
		// evaluation slows the evaluators, so the full run above is
		// measured without it.
		logf("per-rule pass")
		counters, overhead, pass, err := observeRules(ctx, dirs, read, rules)
		if err != nil {
			return nil, err
		}
		r.RulesPassSec = pass.wall.Seconds()
		r.RuleClockOverheadNs = overhead
		r.Rules = ruleCosts(rules.Sigma.Rules(), counters, overhead, o.Top, full.events)
	}
	return r, nil
}

// Calibration of the per-rule clock: the median of calBatches batches of
// calSpans empty spans (a few milliseconds).
const calBatches, calSpans = 15, 10000

// observeRules replays once more with every Sigma evaluator timing each
// rule, and sums the evaluators' counters. Before the pass it calibrates
// what one timed span costs with nothing in it (overhead, in ns), through
// the same clock and observer.
func observeRules(ctx context.Context, dirs []string, read replay.ReadOptions, rules *ruleset.Set) (*sigma.RuleCounters, float64, run, error) {
	base := time.Now()
	clock := func() int64 { return int64(time.Since(base)) } // monotonic
	overhead := clockOverhead(clock)
	var all []*sigma.RuleCounters
	newObserver := func() sigma.RuleObserver {
		c := sigma.NewRuleCounters(clock)
		all = append(all, c)
		return c
	}
	pass, err := measure(func() (uint64, error) {
		s, err := runReplay(ctx, dirs, read, rules, nil, newObserver)
		if s == nil {
			return 0, err
		}
		return s.Events, err
	})
	total := sigma.NewRuleCounters(nil)
	for _, c := range all {
		total.Add(c)
	}
	return total, overhead, pass, err
}

// clockOverhead is the calibrated cost in ns of one timed span of clock.
func clockOverhead(clock func() int64) float64 {
	return sigma.NewRuleCounters(clock).CalibrateOverhead(calBatches, calSpans)
}

// ruleCosts are the top costliest rules by evaluation time less overhead
// ns per evaluation (ties: more evaluations, then load order).
func ruleCosts(rules []*sigma.Rule, c *sigma.RuleCounters, overhead float64, top int, events uint64) []RuleCost {
	out := make([]RuleCost, 0, len(rules))
	for _, r := range rules {
		st := c.Stats(r)
		if st.Evaluated == 0 && st.Candidates == 0 {
			continue
		}
		id := r.ID
		if id == "" {
			id = r.Name
		}
		ns := st.CorrectedNanos(overhead)
		out = append(out, RuleCost{ID: id, Title: r.Title, Ns: ns, NsRaw: st.Nanos, NsPerEvent: div(float64(ns), float64(events)),
			Evaluations: st.Evaluated, Candidates: st.Candidates, Matches: st.Matched})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Ns != out[j].Ns {
			return out[i].Ns > out[j].Ns
		}
		return out[i].Evaluations > out[j].Evaluations
	})
	return out[:min(top, len(out))]
}

// run is what measure saw of one run.
type run struct {
	events        uint64
	wall, cpu     time.Duration
	allocs, bytes uint64
}

func (r run) allocsPer() float64 { return div(float64(r.allocs), float64(r.events)) }
func (r run) bytesPer() float64  { return div(float64(r.bytes), float64(r.events)) }

// measure times fn (wall and process CPU) and counts the heap allocations
// during it. A GC first, so garbage of the run before is not its cost.
func measure(fn func() (uint64, error)) (run, error) {
	runtime.GC()
	a0, b0 := heapAllocs()
	c0, t0 := cputime.Now(), time.Now()
	n, err := fn()
	r := run{events: n, wall: time.Since(t0), cpu: cputime.Now() - c0}
	a1, b1 := heapAllocs()
	r.allocs, r.bytes = a1-a0, b1-b0
	return r, err
}

var allocMetrics = []metrics.Sample{{Name: "/gc/heap/allocs:objects"}, {Name: "/gc/heap/allocs:bytes"}}

// heapAllocs are the objects and bytes allocated on the heap so far.
func heapAllocs() (objects, bytes uint64) {
	s := append([]metrics.Sample(nil), allocMetrics...)
	metrics.Read(s)
	return s[0].Value.Uint64(), s[1].Value.Uint64()
}

// stageOf is a stage that spent d of the busy time of all stages on its
// items, in a run of whole.events events.
func stageOf(name string, items uint64, d time.Duration, whole run, busy time.Duration) Stage {
	return Stage{Name: name, Items: items, Seconds: d.Seconds(), EventsPerSecond: ratePer(whole.events, d),
		NsPerEvent: div(float64(d.Nanoseconds()), float64(whole.events)), CPUShare: div(float64(d), float64(busy))}
}

func ptr(f float64) *float64 { return &f }

// decodeOnly reads the recordings through replay's merged source and
// nothing else.
func decodeOnly(ctx context.Context, dirs []string, read replay.ReadOptions) (uint64, error) {
	recs, err := replay.Open(dirs, read)
	if err != nil {
		return 0, err
	}
	defer recs.Close()
	var n uint64
	err = recs.Source().Run(ctx, func(batch []event.Event) error {
		n += uint64(len(batch))
		return nil
	})
	return n, err
}

// runReplay is edr replay's run: the recordings' source and artifact
// store, the real pipeline (replay.Run), alerts encoded as ECS NDJSON by
// the alert writer into io.Discard. obs may be nil (a ceiling run).
func runReplay(ctx context.Context, dirs []string, read replay.ReadOptions, rules *ruleset.Set, obs *pipeline.Observer,
	ruleObserver func() sigma.RuleObserver) (*replay.Summary, error) {
	recs, err := replay.Open(dirs, read)
	if err != nil {
		return nil, err
	}
	defer recs.Close()
	w := sink.NewStreamWriter(io.Discard, sink.WriterOptions{Queue: 4096, EncodeTimer: obs.Timer(pipeline.StageEncode)})
	opts := replay.Options{Rules: rules, Sink: w, Observer: obs, RuleObserver: ruleObserver}
	if st := recs.Store(); st != nil {
		opts.Store = st
	}
	sum, err := replay.Run(ctx, recs.Source(), opts)
	err = errors.Join(err, w.Close())
	if sum != nil {
		recs.Fill(sum)
		sum.Stages = obs.Stats()
		if len(sum.ReadErrors) > 0 {
			err = errors.Join(err, fmt.Errorf("%d segments did not read: %w", len(sum.ReadErrors), errors.Join(sum.ReadErrors...)))
		}
	}
	return sum, err
}

// Generate writes events of seed into a new recording at dir as edr
// generate does (default writer options, a state snapshot per segment).
func Generate(dir string, events, seed int64) error {
	tr := state.NewTracker(state.Options{}, state.SnapshotLimits{})
	w, err := recording.OpenIngest(dir, recording.WriterOptions{Source: event.SourceSynthetic, Producer: "edr bench"}, tr)
	if err != nil {
		return err
	}
	g := synth.New(synth.Options{Seed: seed, Events: events})
	if err := g.WriteTo(w); err != nil {
		w.Close()
		return fmt.Errorf("generate: %w", err)
	}
	return w.Close()
}

func startCPUProfile(dir string) (func() error, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	f, err := os.Create(filepath.Join(dir, "cpu.pprof"))
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() error {
		pprof.StopCPUProfile()
		return f.Close()
	}, nil
}

func writeHeapProfile(dir string) error {
	f, err := os.Create(filepath.Join(dir, "heap.pprof"))
	if err != nil {
		return err
	}
	runtime.GC() // the heap profile shows live objects as of the last GC
	return errors.Join(pprof.WriteHeapProfile(f), f.Close())
}
