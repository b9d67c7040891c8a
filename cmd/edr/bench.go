package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/edr-lab/edr/bench"
	"github.com/edr-lab/edr/detect/ioc"
	"github.com/urfave/cli/v2"
)

func init() {
	register(&cli.Command{
		Name:      "bench",
		Usage:     "measure the replay pipeline per stage and per Sigma rule; compare with an earlier run",
		ArgsUsage: "[REC…]",
		Description: "Runs the real replay pipeline (edr replay's rule loading, stages and alert encoding into a discarded\n" +
			"stream) with the stage observer and the per-rule observer on, over the recordings given or over\n" +
			"--events events of --seed generated (as edr generate does) into a temporary recording that is read\n" +
			"back, so the decode stage reads Parquet. Before the full run it measures two ceilings over the same\n" +
			"input in the same process: decode only, and decode + state (the pipeline without rules).\n" +
			"Timings depend on the machine and its load: compare runs of one machine.\n" +
			"Exit codes: 0 done, 1 error, 2 usage, 4 a row got slower than --max-regression against --baseline.",
		Flags: append(append(ruleFlags(), parallelFlag(),
			&cli.Int64Flag{Name: "events", Value: 1_000_000, Usage: "events to generate when no recording is given"},
			&cli.Int64Flag{Name: "seed", Value: 1, Usage: "seed of the generated events (and IOCs)"},
			&cli.IntFlag{Name: "iocs", Usage: "generate this many IOCs of --seed (as edr generate --iocs does) and load them as --ioc would"},
			&cli.BoolFlag{Name: "json", Usage: "print the report as one JSON object on stdout"},
			&cli.StringFlag{Name: "html", Usage: "also write the report as a self-contained HTML page to FILE"},
			&cli.StringFlag{Name: "baseline", Usage: "an earlier --json report: print ratios stage by stage and gate on --max-regression"},
			&cli.StringFlag{Name: "max-regression", Value: "10%", Usage: "how much slower (ns per event) a row may get against --baseline"},
			&cli.StringFlag{Name: "profile", Usage: "write cpu.pprof (the full run) and heap.pprof into DIR"},
			&cli.IntFlag{Name: "top", Value: 10, Usage: "how many of the costliest rules to list (0: no per-rule pass)"},
		), configFlags()...),
		Action: benchAction,
	})
}

func benchAction(c *cli.Context) error {
	maxReg, err := parsePercent(c.String("max-regression"))
	if err != nil {
		return exitf(2, "bench: --max-regression: %v", err)
	}
	if c.Int("top") < 0 {
		return exitf(2, "bench: --top must not be negative")
	}
	if c.NArg() == 0 && c.Int64("events") <= 0 {
		return exitf(2, "bench: --events must be positive, got %d", c.Int64("events"))
	}
	if c.Int("iocs") < 0 {
		return exitf(2, "bench: --iocs must not be negative, got %d", c.Int("iocs"))
	}
	if c.Int("iocs") > 0 && c.String("ioc") != "" {
		return exitf(2, "bench: --iocs generates the IOCs; do not give --ioc too")
	}
	var base *bench.Report
	if p := c.String("baseline"); p != "" {
		if base, err = bench.ReadReport(p); err != nil {
			return exitf(2, "bench: --baseline: %v", err)
		}
	}
	set, err := replaySettingsFrom(c)
	if err != nil {
		return exitf(2, "bench: %v", err)
	}
	defer set.cleanup()
	if c.Int("iocs") > 0 {
		set.ruleOpts.IOC = ioc.Paths{} // the generated IOCs replace the configured ones
	}
	r, err := bench.Run(c.Context, bench.Options{Rules: set.ruleOpts, Recordings: c.Args().Slice(), Events: c.Int64("events"),
		Seed: c.Int64("seed"), IOCs: c.Int("iocs"), Parallel: c.Int("parallel"), Top: c.Int("top"), ProfileDir: c.String("profile"),
		Version: Version, Log: c.App.ErrWriter})
	if err != nil {
		return exitf(1, "bench: %v", err)
	}
	var cmp *bench.Comparison
	if base != nil {
		cmp = bench.Compare(base, r, c.String("baseline"), maxReg)
	}
	if c.Bool("json") {
		if err := r.WriteJSON(c.App.Writer); err != nil {
			return exitf(1, "bench: %v", err)
		}
	} else {
		r.WriteText(c.App.Writer)
	}
	if cmp != nil {
		cmp.Write(c.App.ErrWriter) // stderr: stdout may be the JSON report
	}
	if p := c.String("html"); p != "" {
		if err := writeHTMLFile(p, r, cmp); err != nil {
			return exitf(1, "bench: --html: %v", err)
		}
	}
	if cmp != nil && len(cmp.Regressed) > 0 {
		return exitf(4, "bench: slower than %s by more than %s: %s", c.String("baseline"), c.String("max-regression"), strings.Join(cmp.Regressed, ", "))
	}
	return nil
}

func writeHTMLFile(path string, r *bench.Report, cmp *bench.Comparison) error {
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := bench.WriteHTML(f, r, cmp); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// parsePercent reads "10%" or "0.1" as 0.1.
func parsePercent(s string) (float64, error) {
	t := strings.TrimSpace(s)
	scale := 1.0
	if p, ok := strings.CutSuffix(t, "%"); ok {
		t, scale = strings.TrimSpace(p), 0.01
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("%q is not a non-negative percentage (e.g. 10%% or 0.1)", s)
	}
	return v * scale, nil
}
