package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/edr-lab/edr/capture"
	"github.com/edr-lab/edr/capture/live"
	"github.com/edr-lab/edr/capture/rawsource"
	"github.com/edr-lab/edr/capture/rawsynth"
	"github.com/edr-lab/edr/capture/reorder"
	"github.com/edr-lab/edr/capture/tamper"
	"github.com/edr-lab/edr/config"
	"github.com/edr-lab/edr/corpus/jsonl"
	"github.com/edr-lab/edr/corpus/synth"
	"github.com/edr-lab/edr/detect"
	"github.com/edr-lab/edr/detect/ecs"
	"github.com/edr-lab/edr/detect/response"
	"github.com/edr-lab/edr/detect/ruleset"
	"github.com/edr-lab/edr/detect/sink"
	"github.com/edr-lab/edr/detect/state"
	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/internal/service"
	"github.com/edr-lab/edr/pipeline"
	"github.com/edr-lab/edr/recording"
	"github.com/urfave/cli/v2"
)

func init() {
	register(&cli.Command{
		Name:  "live",
		Usage: "run a live source through recording, detection, alerts and response; status on stderr",
		Description: "Sources: ndjson:PATH or - (JSON events as edr import reads them; - is stdin), synthetic[:RATE]\n" +
			"(the generator's events, at most RATE events/s). etw (the Windows default) and raw-synthetic are not\n" +
			"built yet. Every event is recorded (--record DIR, else [recording] when enabled) before detection\n" +
			"sees it; [live] overload = \"block\" or \"shed\" says what happens when detection falls behind.\n" +
			"Alerts go to daily files alerts.json.YYYY-MM-DD in --alerts DIR (default [alerts] directory), or to\n" +
			"one FILE when --alerts names a .json/.ndjson/.jsonl file or an existing file, - for stdout; they are not\n" +
			"marked replayed, and [response] acts on them (dry-run outside Windows). The first SIGINT/SIGTERM stops\n" +
			"the source, drains every queue, closes the segments and alert files and exits 0; a second one exits at\n" +
			"once (code 130): the recording's WAL keeps every acknowledged event.\n" +
			"Exit codes: 0 done, 1 error, 2 usage, 130 second signal.",
		Flags: append(append(ruleFlags(),
			&cli.StringFlag{Name: "source", Usage: "ndjson:PATH, - (stdin), synthetic[:RATE]"},
			&cli.StringFlag{Name: "record", Usage: "record into DIR (default: [recording] directory when recording.enabled)"},
			&cli.StringFlag{Name: "alerts", Usage: "alert directory (daily files) or FILE, - for stdout (default: [alerts] directory)"},
			&cli.BoolFlag{Name: "console", Usage: "also print one human line per alert on stdout"},
			&cli.DurationFlag{Name: "for", Usage: "stop after this long (as on SIGINT)"},
			&cli.Int64Flag{Name: "seed", Value: 1, Usage: "synthetic: random seed"},
			&cli.Int64Flag{Name: "events", Usage: "synthetic: stop after this many events (0: no limit)"},
			&cli.IntFlag{Name: "hosts", Value: 4, Usage: "synthetic: simulated hosts"},
			&cli.StringFlag{Name: "start", Usage: "synthetic: time of the first event (RFC 3339 or YYYY-MM-DD[ HH:MM:SS], UTC; default now)"},
			&cli.BoolFlag{Name: "quiet", Usage: "no status line and no summary on stderr"},
		), configFlags()...),
		Action: liveAction,
	})
}

// liveSource is a parsed --source.
type liveSource struct {
	kind string  // "ndjson", "synthetic", "raw-synthetic", "etw"
	path string  // ndjson: file, "-" for stdin
	rate float64 // synthetic, raw-synthetic: events/s, 0 unlimited
}

// raw reports whether the source delivers raw ETW records (decoded,
// reordered and enriched by capture/rawsource, recorded in the raw layer).
func (s liveSource) raw() bool { return s.kind == "raw-synthetic" || s.kind == "etw" }

// parseLiveSource parses --source; goos is the platform (its default source).
func parseLiveSource(s, goos string) (liveSource, error) {
	kind, arg, hasArg := strings.Cut(s, ":")
	const others = "ndjson:PATH, - (JSON events on stdin), synthetic[:RATE] or raw-synthetic[:RATE] (the same path as etw after the ETW session)"
	switch {
	case s == "":
		if goos == "windows" {
			return liveSource{kind: "etw"}, nil
		}
		return liveSource{}, fmt.Errorf("no --source: on %s use --source %s; ETW capture exists only on Windows", goos, others)
	case s == "-":
		return liveSource{kind: "ndjson", path: "-"}, nil
	case kind == "ndjson":
		if arg == "" {
			return liveSource{}, errors.New("--source ndjson:PATH: no path (use ndjson:- or - for stdin)")
		}
		return liveSource{kind: "ndjson", path: arg}, nil
	case kind == "synthetic" || kind == "raw-synthetic":
		src := liveSource{kind: kind}
		if hasArg {
			r, err := strconv.ParseFloat(arg, 64)
			if err != nil || !(r > 0 && r <= 1e9) { // NaN too
				return liveSource{}, fmt.Errorf("--source %s:%s: RATE must be a positive number of events per second", kind, arg)
			}
			src.rate = r
		}
		return src, nil
	case s == "etw":
		if goos != "windows" {
			return liveSource{}, fmt.Errorf("--source etw: ETW capture exists only on Windows; on %s use --source %s", goos, others)
		}
		return liveSource{kind: "etw"}, nil
	}
	return liveSource{}, fmt.Errorf("--source %q: want etw (Windows), %s", s, others)
}

// liveSettings are [live] mapped.
type liveSettings struct {
	policy     live.Policy
	shed       []live.ShedRule
	queue      int
	every      time.Duration
	reorderMax int
	memLimit   int64 // bytes, 0: none
	gcPercent  int
}

func liveSettingsFrom(c config.Live) (liveSettings, error) {
	p, err := live.ParsePolicy(c.Overload)
	if err != nil {
		return liveSettings{}, err
	}
	rules, err := live.ParseShedRules(c.ShedFirst)
	if err != nil {
		return liveSettings{}, err
	}
	return liveSettings{policy: p, shed: rules, queue: c.Queue, every: c.StatusInterval, reorderMax: c.ReorderMax,
		memLimit: int64(c.MemoryLimitMB) << 20, gcPercent: c.GCPercent}, nil
}

// applyGC sets the garbage collector's memory limit and GOGC from [live]
// unless the GOMEMLIMIT or GOGC environment variable is set, and returns
// what restores the previous values (tests run live in-process).
func (ls liveSettings) applyGC() (restore func()) {
	limit, percent := int64(-1), -1 // negative: left as they are
	if ls.memLimit > 0 && os.Getenv("GOMEMLIMIT") == "" {
		limit = debug.SetMemoryLimit(ls.memLimit)
	}
	if ls.gcPercent > 0 && os.Getenv("GOGC") == "" {
		percent = debug.SetGCPercent(ls.gcPercent)
	}
	return func() {
		if limit >= 0 {
			debug.SetMemoryLimit(limit)
		}
		if percent >= 0 {
			debug.SetGCPercent(percent)
		}
	}
}

func liveAction(c *cli.Context) error {
	if c.NArg() > 0 {
		return exitf(2, "live: unexpected argument %q", c.Args().First())
	}
	src, err := parseLiveSource(c.String("source"), runtime.GOOS)
	if err != nil {
		return exitf(2, "live: %v", err)
	}
	conf, err := loadConfig(c, nil)
	if err != nil {
		return exitf(2, "live: %v", err)
	}
	rcfg, err := mapReplayConfig(conf)
	if err != nil {
		return exitf(2, "live: %v", err)
	}
	ls, err := liveSettingsFrom(conf.Live)
	if err != nil {
		return exitf(2, "live: %v", err)
	}
	ruleOpts, cleanup, err := ruleOptionsFrom(c, rcfg)
	if err != nil {
		return exitf(2, "live: %v", err)
	}
	defer cleanup()
	defer ls.applyGC()()
	stderr := c.App.ErrWriter
	logger, logClose, err := sink.NewLogger(sink.LogOptionsFrom(conf.Logging, stderr))
	if err != nil {
		return exitf(2, "live: [logging]: %v", err)
	}
	defer logClose.Close()
	log := logger.With(sink.ComponentKey, "live")

	// scanner.sigma_security_audit = "auto" needs to know in advance which
	// hosts have Sysmon (replay reads it from segment footers); live has no
	// such knowledge, so CoverAudit is never called and auto applies no
	// audit view: only "true" routes 4688/4657/5156 to Sysmon-category rules.
	ruleSet, err := ruleset.Load(ruleOpts)
	if err != nil {
		return exitf(1, "live: %v", err)
	}
	defer ruleSet.Close()
	for _, e := range ruleSet.Errors {
		log.Warn("rule not loaded", "err", e)
	}
	logLoadedHashes(log, configPath(c), ruleSet, ruleOpts)

	var (
		selfSink detect.AlertSink // edr's own alerts (tampering): files and console, counted, no response
		source   pipeline.Source
		records  rawsource.Records // raw sources: their records, decoded by rs
		genStats func() []any      // what the raw record source counts
		rs       *rawsource.Source
	)
	lv := (*live.Live)(nil)
	switch src.kind {
	case "ndjson":
		r, name := io.Reader(os.Stdin), "stdin"
		if src.path != "-" {
			f, err := os.Open(src.path)
			if err != nil {
				return exitf(2, "live: --source: %v", err)
			}
			defer f.Close()
			r, name = f, src.path
		}
		source = capture.NewNDJSON(r, name, jsonl.Options{OnFailure: func(f jsonl.Failure) {
			lv.DecodeFailed()
			log.Warn("bad document skipped", "where", fmt.Sprintf("%s:%d", f.File, f.Line), "err", f.Err)
		}})
	case "synthetic", "raw-synthetic":
		so := synth.Options{Seed: c.Int64("seed"), Hosts: c.Int("hosts"), Events: c.Int64("events"), Start: time.Now().UTC().Truncate(time.Second)}
		if s := c.String("start"); s != "" {
			ns, err := parseReplayTime(s)
			if err != nil {
				return exitf(2, "live: --start: %v", err)
			}
			so.Start = time.Unix(0, ns).UTC()
		}
		if so.Hosts <= 0 || so.Hosts > 10000 || so.Events < 0 {
			return exitf(2, "live: --hosts must be between 1 and 10000 and --events not negative")
		}
		if src.kind == "synthetic" {
			source = capture.NewSynthetic(so, src.rate)
		} else {
			gen := rawsynth.NewSource(so, src.rate)
			records, genStats = rawSynthRecords{gen}, func() []any {
				return []any{"generated", gen.Generated.Load(), "eventlog", gen.EventLog.Load(), "not_captured", gen.Skipped.Load()}
			}
		}
	}
	// Alerts, console, response: the sinks of live alerts.
	alertW, closeAlerts, err := liveAlertWriter(c, conf, logger)
	if err != nil {
		return exitf(1, "live: alerts: %v", err)
	}
	sinks := sink.Multi{alertW}
	var text *sink.Writer
	if c.Bool("console") {
		text = sink.NewStreamWriter(c.App.Writer, sink.WriterOptions{Queue: 1024, Encoder: ecs.Text{}, Logger: logger})
		sinks = append(sinks, text)
	}
	rc, err := response.FromConfig(conf.Response)
	if err != nil {
		return exitf(2, "live: %v", err)
	}
	var ctl response.Controller
	if rc.Prevention {
		if runtime.GOOS != "windows" {
			log.Warn("response.prevention_enabled ignored: edr terminates processes only on Windows; dry-run")
			rc.Prevention = false
		} else {
			ctl = response.DefaultController()
		}
	}
	responder, err := response.New(rc, ctl, logger)
	if err != nil {
		return exitf(1, "live: %v", err)
	}
	sinks = append(sinks, responder)

	// The process tables of the Enricher (raw sources), the recorder's
	// tracker and the engine see the same events: each process started is
	// held once by the three, not copied into each.
	shared := state.NewShared()

	// The recorder.
	var rec *liveRecorder
	if dir := recordDir(c, conf); dir != "" {
		if rec, err = openLiveRecorder(dir, conf, src, shared, logger); err != nil {
			return exitf(1, "live: recording %s: %v", dir, err)
		}
		printRecovery(stderr, rec.Stats())
	}

	if src.kind == "etw" {
		loss := func(string, uint64) {}
		if rec != nil {
			loss = rec.AddLoss
		}
		report := func(f tamper.Finding) { reportTamper(log, selfSink, f) }
		// Errors beside the data path (session watch queries, Event Log
		// records that did not render or parse, a subscription that could
		// not open): logged, the first and every 100th (each is counted
		// in the status record too).
		var problems atomic.Uint64
		problem := func(err error) {
			if n := problems.Add(1); n == 1 || n%100 == 0 {
				log.Warn("capture problem", "err", err, "problems", n)
			}
		}
		if records, genStats, err = etwRecords(loss, report, problem); err != nil {
			return exitf(1, "live: %v", err)
		}
	}
	if records != nil {
		ec := enrichConfig()
		if ec.ProcessMax == 0 {
			// As the recording tracker: enough for the processes a host
			// runs and recently ran (the LRU keeps parents in use), not the
			// 65,536 default that a run whose processes seldom exit fills.
			ec.ProcessMax = liveTrackerProcesses
		}
		ec.Shared = shared
		ro := rawsource.Options{Records: records, Enrich: ec, Reorder: reorder.Config{MaxBuffered: ls.reorderMax}}
		if src.kind == "etw" {
			ro.Now = func() int64 { return time.Now().UnixNano() }
		}
		if rec != nil {
			ro.Raw, ro.FirstSeq = rec, rec.NextSeq()
		}
		if rs, err = rawsource.New(ro); err != nil {
			return exitf(1, "live: %v", err)
		}
		source = rs
	}
	srcAttrs := func() []slog.Attr { return nil }
	if rs != nil {
		srcAttrs = func() []slog.Attr { return rawSourceAttrs(rs.Stats(), genStats) }
	}

	opts := live.Options{Source: source, Queue: ls.queue, Overload: ls.policy, Shed: ls.shed, Logger: logger}
	if rec != nil {
		opts.Recorder = rec
	}
	lv = live.New(opts)
	self := sink.Multi{alertW}
	if text != nil {
		self = append(self, text)
	}
	selfSink = lv.AlertSink(self)

	eo := detect.Options{Sink: lv.AlertSink(sinks), MatchDebug: rcfg.matchDebug, SharedProcesses: shared}
	eo.Matchers, _ = ruleSet.Matchers(nil)
	eng, err := detect.New(eo)
	if err != nil {
		return exitf(1, "live: %v", err)
	}

	// Signals: the first stops the source (everything queued is drained),
	// the second exits at once.
	ctx, stop := context.WithCancel(c.Context)
	defer stop()
	if d := c.Duration("for"); d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		s, ok := <-sigs
		if !ok {
			return
		}
		log.Info("signal: stopping the source, draining the queues", "signal", s.String())
		stop()
		if _, ok := <-sigs; ok {
			acked := uint64(0)
			if rec != nil {
				acked = rec.acked.Load()
			}
			fmt.Fprintf(stderr, "\nedr: live: second signal: exiting at once; the recording's WAL holds every acknowledged event (Seq ≤ %d)\n", acked)
			cleanup() // os.Exit skips the deferred one: the built-in rules' temporary copy would stay behind
			os.Exit(130)
		}
	}()

	quiet := c.Bool("quiet")
	st := startStatus(lv, srcAttrs, log, stderr, ls.every, !quiet && stderrIsTerminal(stderr))
	start := time.Now()
	runErr := lv.Run(ctx, eng) // the engine is flushed when the drained source ends
	responder.Close()
	closeErr := errors.Join(alertW.Close(), closeAlerts())
	if text != nil {
		closeErr = errors.Join(closeErr, text.Close())
	}
	if rec != nil {
		closeErr = errors.Join(closeErr, rec.Close())
	}
	st.stop()
	snap := lv.Snapshot()
	log.LogAttrs(context.Background(), slog.LevelInfo, "live status (exit)", append(snap.Attrs(), srcAttrs()...)...)
	if !quiet {
		fmt.Fprint(stderr, snap.Summary())
		if rs != nil {
			fmt.Fprint(stderr, rawSourceSummary(rs.Stats(), genStats))
		}
		ws := alertW.Stats()
		el := time.Since(start)
		fmt.Fprintf(stderr, "  %.0f events/s over %s; alert writer: %d written, %d dropped, %d failed\n",
			float64(snap.In)/el.Seconds(), el.Round(time.Millisecond), ws.Written, ws.Dropped, ws.Failed)
		rs := responder.Stats()
		if rc.Enabled {
			fmt.Fprintf(stderr, "  response: %d queued, %d dry-run, %d terminated, %d failed, %d overflow\n",
				rs.Queued, rs.DryRun, rs.Terminated, rs.Failed, rs.Overflow)
		}
	}
	switch {
	case runErr != nil:
		return exitf(1, "live: %v", runErr)
	case closeErr != nil:
		return exitf(1, "live: closing: %v", closeErr)
	}
	return nil
}

// recordDir is --record, else [recording] directory when enabled.
func recordDir(c *cli.Context, conf *config.Config) string {
	if d := c.String("record"); d != "" {
		return d
	}
	if conf.Recording.Enabled {
		return conf.Recording.Directory
	}
	return ""
}

// liveAlertWriter opens the alert destination: "-" is stdout; a name ending
// in .json, .ndjson or .jsonl, or an existing regular file, is one file;
// anything else is a directory of daily files (alerts.filename.YYYY-MM-DD).
func liveAlertWriter(c *cli.Context, conf *config.Config, logger *slog.Logger) (*sink.Writer, func() error, error) {
	wo := sink.WriterOptions{Queue: 4096, Logger: logger}
	name := c.String("alerts")
	if name == "" {
		name = conf.Alerts.Directory
	}
	none := func() error { return nil }
	if name == "-" {
		return sink.NewStreamWriter(c.App.Writer, wo), none, nil
	}
	ext := strings.ToLower(filepath.Ext(name))
	fi, err := os.Stat(name)
	if ext == ".json" || ext == ".ndjson" || ext == ".jsonl" || err == nil && fi.Mode().IsRegular() {
		out, closeOut, err := alertOutput(name, c.App.Writer)
		if err != nil {
			return nil, nil, err
		}
		return sink.NewStreamWriter(out, wo), closeOut, nil
	}
	w, err := sink.NewFileWriter(name, conf.Alerts.Filename, wo)
	return w, none, err
}

// stderrIsTerminal reports whether w is a terminal (the status line is
// drawn only there).
func stderrIsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && isTerminal(f)
}

// liveRecorder records live events through recording.Ingest (write, then
// the state tracker observes: segments start with the hosts' process
// state) and keeps the last Seq the WAL acknowledged.
type liveRecorder struct {
	*recording.Ingest
	acked atomic.Uint64 // largest Seq durable in the WAL
}

func openLiveRecorder(dir string, conf *config.Config, src liveSource, shared *state.Shared, logger *slog.Logger) (*liveRecorder, error) {
	r := &liveRecorder{}
	wo := recordingOptions(conf)
	wo.Source, wo.Producer, wo.Logger = event.SourceJSON, "edr live "+Version, logger
	switch {
	case src.kind == "synthetic":
		wo.Source = event.SourceSynthetic
	case src.raw():
		wo.Source = event.SourceETW // decoded from raw records, as edr renormalize would
	}
	// [live] recording_buffer_mb, not recording.max_buffer_mb: live's own,
	// smaller bound on the open row groups (see its doc in config).
	wo.MaxBufferBytes = int64(conf.Live.RecordingBufferMB) << 20
	wo.Durable = func(seq uint64) { r.acked.Store(seq) }
	in, err := recording.OpenIngest(dir, wo, newLiveTracker(shared))
	if err != nil {
		return nil, err
	}
	r.Ingest = in
	return r, nil
}

// Bounds of live's recording tracker, per host: what a segment snapshot
// holds at most (state.SnapshotLimits' defaults). The tracker's own
// defaults (65,536 processes and 20,000 DNS answers per host) hold far
// more than a snapshot ever carries; on a long run whose processes seldom
// exit they filled up and were most of the heap's growth. The snapshot
// keeps the most recently used entries, which a table of this size keeps
// too.
const (
	liveTrackerProcesses = 16384
	liveTrackerDNS       = 4096
)

func newLiveTracker(shared *state.Shared) *state.Tracker {
	return state.NewTracker(state.Options{MaxProcesses: liveTrackerProcesses, MaxDNS: liveTrackerDNS, Shared: shared},
		state.SnapshotLimits{MaxProcesses: liveTrackerProcesses, MaxDNS: liveTrackerDNS})
}

// status draws the terminal line every second and logs the status record
// every interval.
type status struct {
	done chan struct{}
	wg   sync.WaitGroup
}

func startStatus(lv *live.Live, srcAttrs func() []slog.Attr, log *slog.Logger, tty io.Writer, every time.Duration, draw bool) *status {
	s := &status{done: make(chan struct{})}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		sec := time.NewTicker(time.Second)
		defer sec.Stop()
		logT := time.NewTicker(every)
		defer logT.Stop()
		prev, at := lv.Snapshot(), time.Now()
		for {
			select {
			case <-s.done:
				if draw {
					fmt.Fprint(tty, "\r\033[K")
				}
				return
			case now := <-sec.C:
				if draw {
					cur := lv.Snapshot()
					fmt.Fprintf(tty, "\r\033[K%s", cur.Line(prev, now.Sub(at)))
					prev, at = cur, now
				}
			case <-logT.C:
				log.LogAttrs(context.Background(), slog.LevelInfo, "live status", append(lv.Snapshot().Attrs(), srcAttrs()...)...)
			}
		}
	}()
	return s
}

func (s *status) stop() {
	close(s.done)
	s.wg.Wait()
}

// rawSourceAttrs is the raw path's part of the status record: records
// read, decoded, recorded in the raw layer, and what was not decoded.
func rawSourceAttrs(st rawsource.Stats, gen func() []any) []slog.Attr {
	attrs := []slog.Attr{slog.Group("raw",
		"records", st.Records, "events", st.Events, "eventlog_events", st.Injected, "delivered", st.Delivered,
		"recorded", st.RawRecorded, "record_failed", st.RawFailed,
		slog.Group("not_decoded", "unhandled", st.Unhandled, "unknown_version", st.UnknownVersion),
		"short_userdata", st.ShortUserData, "unresolved", st.Unresolved, "bad_time", st.BadTime,
		slog.Group("reorder", "late", st.Late, "overflow", st.Overflow))}
	if gen != nil {
		attrs = append(attrs, slog.Group("capture", gen()...))
	}
	return attrs
}

// rawSourceSummary is the raw path's part of the exit summary.
func rawSourceSummary(st rawsource.Stats, gen func() []any) string {
	var b strings.Builder
	if gen != nil {
		fmt.Fprintf(&b, "  capture: %s\n", fmtKV(gen()))
	}
	fmt.Fprintf(&b, "  decode: %d raw records → %d events (%d not decoded: %d unhandled, %d unknown version; %d short payloads, %d unresolved paths); reorder: %d late, %d overflow\n",
		st.Records, st.Events, st.Unhandled+st.UnknownVersion, st.Unhandled, st.UnknownVersion, st.ShortUserData, st.Unresolved, st.Late, st.Overflow)
	if st.BadTime > 0 {
		fmt.Fprintf(&b, "  dropped: %d raw records with a time outside the years 1677-2262\n", st.BadTime)
	}
	if st.Injected > 0 {
		fmt.Fprintf(&b, "  event log: %d events (with the %d decoded: %d delivered)\n", st.Injected, st.Events, st.Delivered)
	}
	if st.RawRecorded+st.RawFailed > 0 {
		fmt.Fprintf(&b, "  raw layer: %d recorded + %d failed = %d", st.RawRecorded, st.RawFailed, st.RawRecorded+st.RawFailed)
		if st.RawErr != "" {
			fmt.Fprintf(&b, " (first failure: %s)", st.RawErr)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// fmtKV renders slog-style key, value pairs as "k v, k v".
func fmtKV(kv []any) string {
	var parts []string
	for i := 0; i+1 < len(kv); i += 2 {
		parts = append(parts, fmt.Sprintf("%v %v", kv[i+1], strings.ReplaceAll(fmt.Sprint(kv[i]), "_", " ")))
	}
	return strings.Join(parts, ", ")
}

// rawSynthRecords is the generator's raw records as the raw source's input.
type rawSynthRecords struct{ *rawsynth.Source }

func (r rawSynthRecords) Run(ctx context.Context, s rawsource.Sink) error {
	return r.Source.Run(ctx, s.Record, s.Event)
}

// logLoadedHashes logs the SHA-256 of the config file and of every rule
// file loaded (Sigma: each file a loaded rule came from; YARA and IOC: the
// configured files and folders), one record each, then one digest over
// all: what the service ran with is on record, and a rule or config
// changed between two starts shows. A file that cannot be hashed is a
// warning, not a failure (it was loaded a moment ago).
func logLoadedHashes(log *slog.Logger, cfgPath string, rs *ruleset.Set, o ruleset.Options) {
	var hs []service.FileHash
	add := func(kind, path string, tree bool) {
		var got []service.FileHash
		var err error
		if tree {
			got, err = service.HashTree(kind, path, nil)
		} else {
			var h service.FileHash
			if h, err = service.HashFile(kind, path); err == nil {
				got = []service.FileHash{h}
			}
		}
		if err != nil {
			log.Warn("loaded file not hashed", "kind", kind, "path", path, "err", err)
		}
		hs = append(hs, got...)
	}
	if cfgPath != "" {
		if _, err := os.Stat(cfgPath); err == nil {
			add("config", cfgPath, false)
		}
	}
	if rs.Sigma != nil {
		seen := map[string]bool{}
		var paths []string
		for _, r := range rs.Sigma.Rules() {
			if r.Path != "" && !seen[r.Path] {
				seen[r.Path] = true
				paths = append(paths, r.Path)
			}
		}
		sort.Strings(paths)
		for _, p := range paths {
			add("sigma", p, false)
		}
	}
	if rs.YARA != nil {
		for _, p := range o.YARAPaths {
			add("yara", p, true)
		}
	}
	if rs.IOC != nil {
		for _, p := range append([]string{o.IOC.Hashes, o.IOC.IPs, o.IOC.Domains, o.IOC.PathsRegex}, o.IOC.Loki...) {
			if p != "" {
				add("ioc", p, false)
			}
		}
	}
	for _, h := range hs {
		log.Info("loaded file", "kind", h.Kind, "path", h.Path, "sha256", h.SHA256, "bytes", h.Size)
	}
	log.Info("loaded files", "files", len(hs), "digest_sha256", service.Digest(hs))
}
