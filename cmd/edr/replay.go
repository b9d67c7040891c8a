package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/edr-lab/edr/detect"
	"github.com/edr-lab/edr/detect/ecs"
	"github.com/edr-lab/edr/detect/ioc"
	"github.com/edr-lab/edr/detect/ruleset"
	"github.com/edr-lab/edr/detect/sink"
	"github.com/edr-lab/edr/pipeline"
	"github.com/edr-lab/edr/recording"
	"github.com/edr-lab/edr/replay"
	"github.com/edr-lab/edr/rules"
	"github.com/urfave/cli/v2"
)

func init() {
	register(&cli.Command{
		Name:      "replay",
		Usage:     "run recordings through the detection engine; ECS NDJSON alerts (marked replayed), summary on stderr",
		ArgsUsage: "REC…",
		Description: "Reads the recordings in (time, host, seq) order, runs Sigma, IOC and YARA (on process images kept in\n" +
			"the recordings' artifact stores) and writes one ECS alert per line. The output is byte-identical run to\n" +
			"run and for any --parallel. Rules default to the config's paths, else rules/ beside the working\n" +
			"directory, else the rules built into edr. With --from or --host, each host starts from the process state\n" +
			"its first selected segment recorded (edr generate and edr import write it) brought forward to --from, so\n" +
			"alerts carry the parent, user and ancestors of processes started earlier. A recording named more than\n" +
			"once (REC and REC/, a relative path, a symbolic link to it) is replayed once, with a warning.\n" +
			"Split replay (same alerts, byte for byte): --plan N REC… > plan.json; --shard plan.json:I --out PART on any\n" +
			"machine; --merge PART… with the same rule and config flags. See the README.\n" +
			"Exit codes: 0 done, 1 error or nothing readable (every selected segment skipped), 2 usage or load error,\n" +
			"3 --strict and a rule did not load or a segment or directory could not be read (any reason).",
		Flags: append(append(ruleFlags(),
			&cli.StringFlag{Name: "from", Usage: "replay events at or after this time (RFC 3339 or YYYY-MM-DD[ HH:MM:SS])"},
			&cli.StringFlag{Name: "to", Usage: "replay events before this time"},
			&cli.StringSliceFlag{Name: "host", Usage: "only this host (repeatable)"},
			&cli.StringFlag{Name: "alerts", Value: "-", Usage: "write alerts to FILE, - for stdout"},
			&cli.StringFlag{Name: "match-debug", Usage: "off, summary or full (sets alerts.match_debug)"},
			&cli.BoolFlag{Name: "strict", Usage: "fail (exit 3) on a segment or directory that cannot be read, for any reason, or a rule that does not load"},
			parallelFlag(),
			&cli.BoolFlag{Name: "print", Usage: "also print one human line per alert on stdout (use with --alerts FILE)"},
			&cli.BoolFlag{Name: "quiet", Usage: "no summary on stderr"},
			&cli.BoolFlag{Name: "no-progress", Usage: "no progress bar (drawn only when stderr is a terminal)"},
			&cli.StringFlag{Name: "format", Value: "ecs", Usage: "alert format: ecs (ECS NDJSON), text (one line per alert) or csv (a timeline for spreadsheets, header row first)"},
			&cli.StringFlag{Name: "min-level", Usage: "write only alerts of this level or above: informational, low, medium, high or critical"},
			&cli.BoolFlag{Name: "stages", Usage: "time each pipeline stage (decode, prematch, engine, encode, sink) and add the times to the summary"},
			&cli.IntFlag{Name: "plan", Usage: "print a plan of about N shards (JSON) for --shard instead of replaying"},
			&cli.StringFlag{Name: "shard", Usage: "replay shard I of a plan (PLAN.json:I) into --out"},
			&cli.StringFlag{Name: "out", Usage: "part directory of --shard"},
			&cli.BoolFlag{Name: "merge", Usage: "merge the part directories given as arguments into the alerts of one replay"},
		), configFlags()...),
		Action: replayAction,
	})
}

// parallelFlag is --parallel of the commands that read recordings.
func parallelFlag() cli.Flag {
	return &cli.IntFlag{Name: "parallel", Usage: "segment decoders per recording (0: one per CPU)"}
}

// ruleFlags name the rules a command runs instead of the configured ones
// (ruleOptionsFrom reads them).
func ruleFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "sigma", Usage: "Sigma rule file or directory (repeatable)"},
		&cli.StringSliceFlag{Name: "yara", Usage: "YARA rule file or directory (repeatable)"},
		&cli.StringFlag{Name: "ioc", Usage: "directory with hashes.txt, ips.txt, domains.txt, paths_regex.txt"},
	}
}

// replaySettings are the replay's inputs after config and flags.
type replaySettings struct {
	ruleOpts ruleset.Options
	read     replay.ReadOptions
	debug    detect.MatchDebug
	cleanup  func()
}

func replayAction(c *cli.Context) error {
	switch {
	case c.IsSet("plan"):
		return replayPlan(c)
	case c.IsSet("shard"):
		return replayShard(c)
	case c.Bool("merge"):
		return replayMerge(c)
	}
	if c.NArg() == 0 {
		return exitf(2, "replay: no recording given (usage: edr replay [flags] REC…)")
	}
	set, ruleSet, done, err := replayRules(c)
	if err != nil {
		return err
	}
	defer done()
	dirs, dups := replay.UniqueDirs(c.Args().Slice())
	for _, d := range dups {
		printSafe(c.App.ErrWriter, func(w io.Writer) {
			fmt.Fprintf(w, "replay: warning: %s is the recording %s again; it is replayed once\n", d.Dup, d.First)
		})
	}
	recs, err := replay.Open(dirs, set.read)
	if err != nil {
		return exitf(readFailureCode(err), "replay: %v", err)
	}
	defer recs.Close()
	ruleSet.CoverAudit(recs.SysmonCover()) // scanner.sigma_security_audit = "auto"
	special := 0
	for _, d := range dirs {
		printSafe(c.App.ErrWriter, func(w io.Writer) { special += warnPending(w, "replay", d) })
	}
	if segs, lost, bytes := recs.RecoveryLoss(); segs > 0 {
		fmt.Fprintf(c.App.ErrWriter, "replay: warning: %d segments were recovered around write-ahead log bytes that could not be read (%d bytes, %d events known lost; edr inspect names them)\n",
			segs, bytes, lost)
	}
	if special > 0 && c.Bool("strict") {
		return exitf(3, "replay: --strict: %d special files in the recordings (named above)", special)
	}

	enc, err := alertEncoder(c.String("format"))
	if err != nil {
		return exitf(2, "replay: %v", err)
	}
	var minSev detect.Severity
	if l := c.String("min-level"); l != "" {
		if minSev, err = detect.ParseSeverity(l); err != nil {
			return exitf(2, "replay: --min-level: %v", err)
		}
	}
	out, closeOut, err := alertOutput(c.String("alerts"), c.App.Writer)
	if err != nil {
		return exitf(1, "replay: %v", err)
	}
	var obs *pipeline.Observer // nil: no stage is timed, no clock read
	if c.Bool("stages") {
		obs = pipeline.NewObserver(nil)
	}
	w := sink.NewStreamWriter(out, sink.WriterOptions{Queue: 4096, Encoder: enc, EncodeTimer: obs.Timer(pipeline.StageEncode)})
	sinks := sink.Multi{w}
	var text *sink.Writer
	if c.Bool("print") {
		if a := c.String("alerts"); a == "" || a == "-" {
			return exitf(2, "replay: --print needs --alerts FILE (stdout carries the text lines)")
		}
		text = sink.NewStreamWriter(c.App.Writer, sink.WriterOptions{Queue: 4096, Encoder: ecs.Text{}, EncodeTimer: obs.Timer(pipeline.StageEncode)})
		sinks = append(sinks, text)
	}
	startState, err := recs.Start()
	if err != nil {
		return exitf(1, "replay: %v", err)
	}
	opts := replay.Options{Rules: ruleSet, Sink: sinks, MatchDebug: set.debug, Start: startState, Observer: obs, MinSeverity: minSev}
	if st := recs.Store(); st != nil {
		opts.Store = st
	}
	start := time.Now() // for the summary's events/s only; never reaches alerts
	// A progress bar only when stderr is a terminal (and not --quiet or
	// --no-progress).
	var tty *os.File
	if !c.Bool("quiet") && !c.Bool("no-progress") {
		tty = terminalFile(c.App.ErrWriter)
	}
	bar := startProgress(tty, recs.SelectedEvents())
	sum, runErr := replay.Run(c.Context, bar.source(recs.Source()), opts)
	bar.stop()
	closeErr := errors.Join(w.Close(), closeOut())
	if text != nil {
		closeErr = errors.Join(closeErr, text.Close())
	}
	if sum != nil {
		sum.Wall = time.Since(start)
		sum.Stages = obs.Stats() // again, now that the writers closed: encoding is done
		recs.Fill(sum)
		if !c.Bool("quiet") {
			printSafe(c.App.ErrWriter, sum.Write)
			printSafe(c.App.ErrWriter, func(w io.Writer) { ruleSet.WriteLoaded(w, true, opts.Store != nil) })
			ws := w.Stats()
			fmt.Fprintf(c.App.ErrWriter, "alert writer: %d written, %d dropped, %d failed\n", ws.Written, ws.Dropped, ws.Failed)
		}
	}
	switch {
	case runErr != nil:
		return exitf(readFailureCode(runErr), "replay: %v", runErr)
	case closeErr != nil:
		return exitf(1, "replay: writing alerts: %v", closeErr)
	case sum != nil && sum.Events == 0 && sum.SegmentsRead == 0 && sum.SegmentsSkipped+sum.DirsSkipped > 0:
		return exitf(1, "replay: nothing readable: %d segments and %d directories skipped, none read", sum.SegmentsSkipped, sum.DirsSkipped)
	}
	return nil
}

// alertEncoder is the encoder of replay's --format.
func alertEncoder(format string) (detect.Encoder, error) {
	switch format {
	case "", "ecs":
		return &ecs.NDJSON{}, nil
	case "text":
		return ecs.Text{}, nil
	case "csv":
		return ecs.CSV{}, nil
	}
	return nil, fmt.Errorf("--format must be ecs, text or csv, not %q", format)
}

// replayRules resolves the settings and loads the rules of replay and its
// --shard and --merge; done releases both. The error is an exit error.
func replayRules(c *cli.Context) (*replaySettings, *ruleset.Set, func(), error) {
	set, err := replaySettingsFrom(c)
	if err != nil {
		return nil, nil, nil, exitf(2, "replay: %v", err)
	}
	ruleSet, err := ruleset.Load(set.ruleOpts)
	if err != nil {
		set.cleanup()
		return nil, nil, nil, exitf(1, "replay: %v", err)
	}
	done := func() { ruleSet.Close(); set.cleanup() }
	if c.Bool("strict") && len(ruleSet.Errors) > 0 {
		done()
		return nil, nil, nil, exitf(3, "replay: --strict: %d rules did not load: %v", len(ruleSet.Errors), errors.Join(ruleSet.Errors...))
	}
	return set, ruleSet, done, nil
}

// readFailureCode is the exit code of a replay stopped by a read error:
// 3 when a segment or directory of a recording could not be read (only
// --strict stops on those; corrupt, unreadable, a symlink loop, an
// undecodable page alike), 1 for anything else (no such recording).
func readFailureCode(err error) int {
	var se *recording.SegmentError
	var de *recording.DirError
	if errors.Is(err, recording.ErrCorrupt) || errors.As(err, &se) || errors.As(err, &de) {
		return 3
	}
	return 1
}

// replaySettingsFrom resolves rules, time range and match_debug from the
// flags, the config and the defaults, in that precedence.
func replaySettingsFrom(c *cli.Context) (*replaySettings, error) {
	s := &replaySettings{cleanup: func() {}}
	conf, err := loadConfig(c, replayFlagKeys)
	if err != nil {
		return nil, err
	}
	cfg, err := mapReplayConfig(conf)
	if err != nil {
		return nil, err
	}
	s.debug = cfg.matchDebug
	from, err := parseReplayTime(c.String("from"))
	if err != nil {
		return nil, fmt.Errorf("--from: %w", err)
	}
	to, err := parseReplayTime(c.String("to"))
	if err != nil {
		return nil, fmt.Errorf("--to: %w", err)
	}
	if from != 0 && to != 0 && to <= from {
		return nil, fmt.Errorf("--to must be after --from")
	}
	s.read = replay.ReadOptions{From: from, To: to, Hosts: c.StringSlice("host"), Strict: c.Bool("strict"), Parallel: c.Int("parallel")}

	s.ruleOpts, s.cleanup, err = ruleOptionsFrom(c, cfg)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// ruleOptionsFrom resolves the rules a command runs (replay, live): the
// --sigma, --yara and --ioc flags, else the configured paths, else the rules
// built into edr (extracted to a temporary directory that cleanup removes).
func ruleOptionsFrom(c *cli.Context, cfg replayConfig) (ruleset.Options, func(), error) {
	cleanup := func() {}
	o := ruleset.Options{
		SigmaPaths: cfg.sigmaPaths, YARAPaths: cfg.yaraPaths, IOC: cfg.ioc, MatchDebug: cfg.matchDebug, SigmaRuleset: cfg.ruleset,
		IOCSeverity: cfg.iocSeverity, HashAllowlist: cfg.hashAllowlist, YARAAllowlist: cfg.yaraAllowlist, MaxFileBytes: cfg.maxFileBytes,
		SigmaSecurityAudit: cfg.sigma.SecurityAudit, SigmaSecurityAuditAuto: cfg.sigma.SecurityAuditAuto,
		SigmaPlaceholders: cfg.sigma.Placeholders,
	}
	sigmaPaths, yaraPaths, iocDir := c.StringSlice("sigma"), c.StringSlice("yara"), c.String("ioc")
	if len(sigmaPaths)+len(yaraPaths) > 0 || iocDir != "" {
		// Rules named on the command line replace the configured ones.
		o.SigmaPaths, o.YARAPaths, o.IOC = sigmaPaths, yaraPaths, ioc.Paths{}
		o.SigmaRuleset = "" // rule.ruleset: the base name of each --sigma path
		if iocDir != "" {
			o.IOC = ruleset.IOCFiles(iocDir)
		}
		return o, cleanup, nil
	}
	configured := append(append([]string{}, cfg.sigmaPaths...), cfg.yaraPaths...)
	if cfg.rulesDefault && len(configured) > 0 && !allExist(configured) {
		// The default rules/ is not beside the working directory: use the
		// rules built into the binary.
		dir, err := os.MkdirTemp("", "edr-rules-")
		if err != nil {
			return o, cleanup, err
		}
		cleanup = func() { os.RemoveAll(dir) }
		if _, err := rules.Extract(dir); err != nil {
			cleanup()
			return o, func() {}, err
		}
		// Engines switched off in the config stay off.
		if len(cfg.sigmaPaths) > 0 {
			o.SigmaPaths = []string{filepath.Join(dir, "sigma")}
		}
		if len(cfg.yaraPaths) > 0 {
			o.YARAPaths = []string{filepath.Join(dir, "yara")}
		}
		if cfg.ioc.Hashes != "" {
			o.IOC = ruleset.IOCFiles(filepath.Join(dir, "ioc"))
		}
	}
	return o, cleanup, nil
}

func allExist(paths []string) bool {
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			return false
		}
	}
	return true
}

// parseReplayTime accepts RFC 3339 and a UTC date or date-time.
func parseReplayTime(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t.UnixNano(), nil
		}
	}
	return 0, fmt.Errorf("%q is not RFC 3339 or YYYY-MM-DD[ HH:MM:SS]", s)
}

// alertOutput opens the alert destination: stdout for "-", else a file.
func alertOutput(name string, stdout io.Writer) (io.Writer, func() error, error) {
	if name == "" || name == "-" {
		return stdout, func() error { return nil }, nil
	}
	if dir := filepath.Dir(name); dir != "." {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, nil, err
		}
	}
	f, err := os.Create(name)
	if err != nil {
		return nil, nil, err
	}
	return f, f.Close, nil
}
