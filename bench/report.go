package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"time"
)

// Report is one bench run; --json prints it as one object and --baseline
// reads an earlier one back.
type Report struct {
	Events          uint64  `json:"events"`
	Alerts          uint64  `json:"alerts"`
	Seconds         float64 `json:"seconds"`
	EventsPerSecond float64 `json:"events_per_second"`
	// Input says where the events came from: "generated" (the --events
	// and --seed, written to a temporary recording first) or the
	// recordings' paths.
	Input Input `json:"input"`
	// Stages are the pipeline's stages as the stage observer timed them
	// in the full run (decode, prematch, engine, encode, sink).
	Stages []Stage `json:"stages"`
	// Ceilings are the same recordings read in the same process with less
	// work: decode only (the source alone) and decode + state (the
	// pipeline with the engine's state stage and no rules).
	Ceilings []Stage `json:"ceilings"`
	// RatioToDecodeOnly is EventsPerSecond over the decode-only ceiling's.
	RatioToDecodeOnly float64 `json:"ratio_to_decode_only"`
	// Allocs are the whole full run's heap allocations per event and the
	// part of them the ceilings account for (the pipeline's stages share
	// goroutines and the heap, so allocations are not counted per stage).
	Allocs     Allocs  `json:"allocs"`
	CPUSeconds float64 `json:"cpu_seconds"` // process user+system time of the full run
	// CPUUtilization is CPUSeconds over Seconds: cores kept busy (below
	// the core count on a loaded machine or a serial bottleneck).
	CPUUtilization float64 `json:"cpu_utilization"`
	PeakRSSBytes   uint64  `json:"peak_rss_bytes"`
	PeakRSSOf      string  `json:"peak_rss_of"` // what the peak covers
	// Rules are the costliest Sigma rules, measured in a pass of their
	// own after the full run (RulesPassSec long: timing every evaluation
	// slows it).
	Rules        []RuleCost `json:"rules"`
	RulesPassSec float64    `json:"rules_pass_seconds"`
	// RuleClockOverheadNs is what one timed evaluation measured with
	// nothing to evaluate (the clock reads inside the span), calibrated in
	// the same run just before the per-rule pass; every rule's Ns has it
	// taken off per evaluation.
	RuleClockOverheadNs float64 `json:"rule_clock_overhead_ns"`

	RuleSets RuleSets `json:"rule_sets"`
	Build    Build    `json:"build"`
	Machine  Machine  `json:"machine"`
	Started  string   `json:"started"` // RFC 3339, for the reader only
}

// Input is what the run read.
type Input struct {
	Generated   bool     `json:"generated"`
	Seed        int64    `json:"seed,omitempty"`
	Recordings  []string `json:"recordings,omitempty"`
	GenerateSec float64  `json:"generate_seconds,omitempty"`
}

// Stage is one stage's figures. EventsPerSecond is the rate the stage
// alone sustains (events over the time spent in it; prematch's time is
// summed over its workers, so it is per core). NsPerEvent is that time per
// input event (also for encode and sink, which handle alerts), so stages
// compare and add up. CPUShare is the stage's part of the time all stages
// were busy (the observer times the stages' goroutines by the wall clock:
// on an idle machine that is their CPU time; on a loaded one it includes
// time the goroutine waited for a core, which the process CPU time in
// Report.CPUSeconds does not). AllocsPerEvent is null where allocations could not be
// attributed to the stage.
type Stage struct {
	Name            string   `json:"name"`
	Items           uint64   `json:"items"` // events, or alerts for encode and sink
	Seconds         float64  `json:"seconds"`
	EventsPerSecond float64  `json:"events_per_second"`
	NsPerEvent      float64  `json:"ns_per_event"`
	AllocsPerEvent  *float64 `json:"allocs_per_event"`
	BytesPerEvent   *float64 `json:"bytes_per_event,omitempty"`
	CPUShare        float64  `json:"cpu_share"`
}

// Allocs are heap allocations per event.
type Allocs struct {
	Total       float64 `json:"total_per_event"`
	TotalBytes  float64 `json:"total_bytes_per_event"`
	Decode      float64 `json:"decode_per_event"`       // the decode-only ceiling
	State       float64 `json:"state_per_event"`        // decode + state ceiling less decode only
	RulesOutput float64 `json:"rules_output_per_event"` // full run less the decode + state ceiling
	Method      string  `json:"method"`
}

// RuleCost is one Sigma rule's cost from the per-rule observer, over the
// prematch workers and the engine. Ns is the time its evaluations took,
// summed, less Report.RuleClockOverheadNs per evaluation (never below 0);
// NsRaw is the sum as the clock measured it; NsPerEvent is Ns per input
// event.
type RuleCost struct {
	ID          string  `json:"id"`
	Title       string  `json:"title"`
	Ns          int64   `json:"ns"`
	NsRaw       int64   `json:"ns_raw"`
	NsPerEvent  float64 `json:"ns_per_event"`
	Evaluations uint64  `json:"evaluations"`
	Candidates  uint64  `json:"candidates"`
	Matches     uint64  `json:"matches"`
}

// RuleSets counts what loaded.
type RuleSets struct {
	Sigma int  `json:"sigma"`
	YARA  bool `json:"yara"`
	IOC   bool `json:"ioc"`
	// Indicators is how many IOCs loaded; GeneratedIOCs is set when they
	// were generated (--iocs) rather than read from --ioc.
	Indicators    int  `json:"indicators"`
	GeneratedIOCs bool `json:"generated_iocs,omitempty"`
	LoadErrors    int  `json:"load_errors"`
}

// Build identifies the binary.
type Build struct {
	Version   string            `json:"version"`
	GoVersion string            `json:"go_version"`
	Settings  map[string]string `json:"settings"` // debug.ReadBuildInfo: -tags, CGO_ENABLED, GOAMD64, vcs.revision, …
}

// Machine is where it ran.
type Machine struct {
	Cores      int    `json:"cores"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	CPUModel   string `json:"cpu_model"`
	OS         string `json:"os"`
	Arch       string `json:"arch"`
}

func buildInfo(version string) Build {
	b := Build{Version: version, GoVersion: runtime.Version(), Settings: map[string]string{}}
	if bi, ok := debug.ReadBuildInfo(); ok {
		if b.Version == "" {
			b.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			b.Settings[s.Key] = s.Value
		}
	}
	return b
}

func machineInfo() Machine {
	return Machine{Cores: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), CPUModel: cpuModel(), OS: runtime.GOOS, Arch: runtime.GOARCH}
}

// WriteJSON writes r as one indented JSON object.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// ReadReport reads a report --json wrote.
func ReadReport(path string) (*Report, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Report
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("%s: not a bench report: %w", path, err)
	}
	if r.Events == 0 || len(r.Stages) == 0 {
		return nil, fmt.Errorf("%s: not a bench report (no events or stages)", path)
	}
	return &r, nil
}

// Comparison is the run against a baseline, row by row.
type Comparison struct {
	Baseline      string   `json:"baseline"`
	MaxRegression float64  `json:"max_regression"`
	Rows          []Ratio  `json:"rows"`
	Regressed     []string `json:"regressed"`
}

// Ratio compares one row's ns per event: Ratio is this run's over the
// baseline's (above 1: slower). Rows absent or zero on either side have no
// ratio and never regress.
type Ratio struct {
	Name      string  `json:"name"`
	BaseNs    float64 `json:"base_ns_per_event"`
	Ns        float64 `json:"ns_per_event"`
	Ratio     float64 `json:"ratio"`
	Regressed bool    `json:"regressed"`
}

// Compare sets out the run against base: end to end ("total"), every
// stage and every ceiling. A row regressed when its ns per event grew by
// more than maxRegression (0.10: 10 %).
func Compare(base, cur *Report, baseName string, maxRegression float64) *Comparison {
	c := &Comparison{Baseline: baseName, MaxRegression: maxRegression}
	add := func(name string, b, n float64) {
		row := Ratio{Name: name, BaseNs: b, Ns: n}
		if b > 0 && n > 0 {
			row.Ratio = n / b
			row.Regressed = row.Ratio > 1+maxRegression
		}
		if row.Regressed {
			c.Regressed = append(c.Regressed, name)
		}
		c.Rows = append(c.Rows, row)
	}
	add("total", perEvent(base.EventsPerSecond), perEvent(cur.EventsPerSecond))
	rows := func(prefix string, bs, cs []Stage) {
		for _, s := range cs {
			b := 0.0
			for _, t := range bs {
				if t.Name == s.Name {
					b = t.NsPerEvent
				}
			}
			add(prefix+s.Name, b, s.NsPerEvent)
		}
	}
	rows("", base.Stages, cur.Stages)
	rows("ceiling ", base.Ceilings, cur.Ceilings)
	return c
}

func perEvent(eps float64) float64 {
	if eps <= 0 {
		return 0
	}
	return 1e9 / eps
}

// WriteText prints the report for people.
func (r *Report) WriteText(w io.Writer) {
	fmt.Fprintf(w, "bench: %d events, %d alerts in %.3fs: %.0f events/s end to end (%.1f %% of decode only)\n",
		r.Events, r.Alerts, r.Seconds, r.EventsPerSecond, 100*r.RatioToDecodeOnly)
	if r.Input.Generated {
		fmt.Fprintf(w, "input: generated, seed %d (written to a temporary recording in %.1fs, read back)\n", r.Input.Seed, r.Input.GenerateSec)
	} else {
		fmt.Fprintf(w, "input: %v\n", r.Input.Recordings)
	}
	iocs := fmt.Sprint(r.RuleSets.Indicators)
	if r.RuleSets.GeneratedIOCs {
		iocs += " generated"
	}
	fmt.Fprintf(w, "rules: %d Sigma, YARA %v, IOC %v (%s indicators), %d did not load\n", r.RuleSets.Sigma, r.RuleSets.YARA, r.RuleSets.IOC, iocs, r.RuleSets.LoadErrors)
	fmt.Fprintf(w, "machine: %d cores (GOMAXPROCS %d), %s; %s %s\n", r.Machine.Cores, r.Machine.GOMAXPROCS, r.Machine.CPUModel, r.Build.Version, r.Build.GoVersion)
	fmt.Fprintln(w, "stages (concurrent; prematch summed over its workers; ns per input event):")
	fmt.Fprintf(w, "  %-22s %12s %12s %10s %9s %12s\n", "stage", "items", "events/s", "ns/event", "busy", "allocs/event")
	for _, s := range r.Stages {
		writeStage(w, s)
	}
	fmt.Fprintln(w, "ceilings (same recordings, same process, run before the full run):")
	for _, s := range r.Ceilings {
		writeStage(w, s)
	}
	fmt.Fprintf(w, "allocations: %.1f per event (%.0f bytes) in the full run: decode %.1f, state %.1f, rules and output %.1f (%s)\n",
		r.Allocs.Total, r.Allocs.TotalBytes, r.Allocs.Decode, r.Allocs.State, r.Allocs.RulesOutput, r.Allocs.Method)
	fmt.Fprintf(w, "cpu: %.2fs user+system in the full run (%.2f cores busy); peak RSS %.1f MiB (%s)\n", r.CPUSeconds, r.CPUUtilization, float64(r.PeakRSSBytes)/(1<<20), r.PeakRSSOf)
	if len(r.Rules) > 0 {
		fmt.Fprintf(w, "costliest %d Sigma rules (time in their detection, prematch workers and engine; a pass of its own, %.1fs):\n", len(r.Rules), r.RulesPassSec)
		fmt.Fprintf(w, "  ns is less the clock's own %.1f ns per evaluation (calibrated in this run); ns raw as measured\n", r.RuleClockOverheadNs)
		fmt.Fprintf(w, "  %12s %12s %9s %11s %11s %8s  %s\n", "ns", "ns raw", "ns/event", "evaluations", "candidates", "matches", "rule")
		for _, c := range r.Rules {
			fmt.Fprintf(w, "  %12d %12d %9.1f %11d %11d %8d  %s %s\n", c.Ns, c.NsRaw, c.NsPerEvent, c.Evaluations, c.Candidates, c.Matches, c.ID, c.Title)
		}
	}
}

func writeStage(w io.Writer, s Stage) {
	allocs := "-"
	if s.AllocsPerEvent != nil {
		allocs = fmt.Sprintf("%.2f", *s.AllocsPerEvent)
	}
	fmt.Fprintf(w, "  %-22s %12d %12.0f %10.1f %8.1f%% %12s\n", s.Name, s.Items, s.EventsPerSecond, s.NsPerEvent, 100*s.CPUShare, allocs)
}

// Write prints the comparison; it says which rows regressed.
func (c *Comparison) Write(w io.Writer) {
	fmt.Fprintf(w, "against %s (ns per event, ratio > 1 is slower; gate %.0f %%):\n", c.Baseline, 100*c.MaxRegression)
	for _, row := range c.Rows {
		mark := ""
		if row.Regressed {
			mark = "  REGRESSED"
		}
		ratio := "-"
		if row.Ratio > 0 {
			ratio = fmt.Sprintf("%.3f", row.Ratio)
		}
		fmt.Fprintf(w, "  %-22s %10.1f → %10.1f  %7s%s\n", row.Name, row.BaseNs, row.Ns, ratio, mark)
	}
}

func ratePer(n uint64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

func div(a, b float64) float64 {
	if b == 0 || math.IsNaN(a) {
		return 0
	}
	return a / b
}
