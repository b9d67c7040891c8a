package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/edr-lab/edr/bench"
	"github.com/edr-lab/edr/corpus/synth"
	"github.com/edr-lab/edr/detect/state"
	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/recording"
	"github.com/urfave/cli/v2"
)

// Every attack scenario runs on a workstation and one host is enough for
// all of them (corpus/synth: with fewer than 4 hosts every host is a
// workstation; MinEventsForAllScenarios covers one host), so the lower bound
// is 1. The upper bound keeps the generator's per-host state in memory.
const minHosts, maxHosts = 1, 10000

func init() {
	register(&cli.Command{
		Name:  "generate",
		Usage: "write a synthetic recording: realistic Windows telemetry with embedded attack scenarios",
		Description: "Same options, same recording bytes. Writes through the recording writer with the [recording]\n" +
			"settings of the configuration (flush interval, fsync, segment size and age, row group rows).\n" +
			"The scenarios and their key field values are listed in corpus/synth/README.md.\n" +
			"Exit codes: 0 written, 1 the recording could not be written, 2 usage or configuration error.",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "out", Usage: "recording directory to create (must not exist or be empty; required)"},
			&cli.Int64Flag{Name: "events", Value: 1_000_000, Usage: "number of events"},
			&cli.Int64Flag{Name: "seed", Value: 1, Usage: "random seed"},
			&cli.IntFlag{Name: "hosts", Value: 4, Usage: fmt.Sprintf("simulated hosts, %d to %d; with 4 or more host 0 is a domain controller and hosts 1, 11, 21 … member servers, with fewer all are workstations (every scenario runs on a workstation)", minHosts, maxHosts)},
			&cli.StringFlag{Name: "start", Usage: "time of the first event (RFC 3339 or YYYY-MM-DD[ HH:MM:SS], UTC; default 2026-01-05 08:00:00)"},
			&cli.DurationFlag{Name: "mean-gap", Value: 2 * time.Millisecond, Usage: "mean time between two events of one host"},
			&cli.Int64Flag{Name: "scenario-every", Value: 50_000, Usage: "mean events between random attack scenarios; negative: none at all"},
			&cli.StringFlag{Name: "ioc-out", Usage: "also (or only, without --out) write --iocs generated IOCs of --seed into this directory, as --ioc DIR reads them; a few match the generated events"},
			&cli.IntFlag{Name: "iocs", Value: 100_000, Usage: "number of IOCs --ioc-out gets"},
			&cli.BoolFlag{Name: "quiet", Usage: "no summary"},
		}, configFlags()...),
		Action: generateAction,
	})
}

func generateAction(c *cli.Context) error {
	if c.NArg() > 0 {
		return exitf(2, "generate: unexpected argument %q", c.Args().First())
	}
	cfg, err := loadConfig(c, nil)
	if err != nil {
		return exitf(2, "generate: %v", err)
	}
	opts := synth.Options{Seed: c.Int64("seed"), Hosts: c.Int("hosts"), Events: c.Int64("events"),
		MeanGap: c.Duration("mean-gap"), ScenarioEvery: c.Int64("scenario-every")}
	if opts.Events <= 0 {
		return exitf(2, "generate: --events must be positive, got %d", opts.Events)
	}
	if opts.Hosts < minHosts || opts.Hosts > maxHosts {
		return exitf(2, "generate: --hosts must be between %d and %d, got %d", minHosts, maxHosts, opts.Hosts)
	}
	if opts.MeanGap < time.Microsecond {
		return exitf(2, "generate: --mean-gap must be at least 1µs, got %s", opts.MeanGap)
	}
	if s := c.String("start"); s != "" {
		ns, err := parseReplayTime(s)
		if err != nil {
			return exitf(2, "generate: --start: %v", err)
		}
		opts.Start = time.Unix(0, ns).UTC()
	}
	out := c.String("out")
	if iocOut := c.String("ioc-out"); iocOut != "" {
		if c.Int("iocs") <= 0 {
			return exitf(2, "generate: --iocs must be positive, got %d", c.Int("iocs"))
		}
		n, err := bench.GenerateIOCs(iocOut, c.Int("iocs"), opts.Seed)
		if err != nil {
			return exitf(1, "generate: %v", err)
		}
		if !c.Bool("quiet") {
			fmt.Fprintf(c.App.Writer, "%d IOCs in %s: %d hashes, %d addresses, %d domains, %d path regexes; %d of them from the events of seed %d\n",
				n.Total(), iocOut, n.Hashes, n.IPs, n.Domains, n.Paths, n.Matching, opts.Seed)
		}
		if out == "" {
			return nil
		}
	}
	if out == "" {
		return exitf(2, "generate: --out is required")
	}
	if err := notNested(out); err != nil {
		return exitf(2, "generate: %v", err)
	}
	if err := requireEmptyDir(out); err != nil {
		return exitf(2, "generate: %v", err)
	}
	wo := recordingOptions(cfg)
	wo.Source, wo.Producer = event.SourceSynthetic, "edr generate "+Version
	// Every segment starts with its host's process state, so it replays on
	// its own (edr replay --from).
	state := state.NewTracker(state.Options{}, state.SnapshotLimits{})
	w, err := recording.OpenIngest(out, wo, state)
	if err != nil {
		return exitf(1, "generate: %v", err)
	}
	printSafe(c.App.Writer, func(out io.Writer) { printRecovery(out, w.Stats()) }) // --out is empty, so only a writer crashed in it since the check
	start := time.Now()
	g := synth.New(opts)
	if err := g.WriteTo(w); err != nil {
		w.Close()
		return exitf(1, "generate: %v", err)
	}
	if err := w.Close(); err != nil {
		return exitf(1, "generate: %v", err)
	}
	if !c.Bool("quiet") {
		printGenerateSummary(c.App.Writer, out, g, time.Since(start))
	}
	return nil
}

func printGenerateSummary(w io.Writer, out string, g *synth.Generator, took time.Duration) {
	runs := g.ScenarioRuns()
	names := make([]string, 0, len(runs))
	for n, k := range runs {
		if k > 0 {
			names = append(names, fmt.Sprintf("%s×%d", n, k))
		}
	}
	sort.Strings(names)
	scen := "none"
	if len(names) > 0 {
		scen = strings.Join(names, ", ")
	}
	fmt.Fprintf(w, "generated %d events on %d hosts into %s in %s (%.0f events/s)\nscenarios: %s\n",
		g.Emitted(), len(g.HostNames()), out, took.Round(time.Millisecond), float64(g.Emitted())/took.Seconds(), scen)
}

// notNested refuses an output directory inside an existing recording (e.g.
// --out REC/host=X): its segments would be read as part of REC.
func notNested(out string) error {
	if root := recording.Enclosing(out); root != "" {
		return fmt.Errorf("--out %s is inside the recording %s; a recording cannot hold another (to add to %s, use --out %s)", out, root, root, root)
	}
	return nil
}

// requireEmptyDir refuses to append to an existing recording: generated
// recordings are reproducible only when written from scratch.
func requireEmptyDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(entries) > 0 {
		return fmt.Errorf("--out %s exists and is not empty; choose a new directory", dir)
	}
	return nil
}
