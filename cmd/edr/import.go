package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/edr-lab/edr/config"
	"github.com/edr-lab/edr/corpus/importer"
	"github.com/edr-lab/edr/detect/state"
	"github.com/edr-lab/edr/recording"
	"github.com/urfave/cli/v2"
	"golang.org/x/term"
)

func init() {
	register(&cli.Command{
		Name:      "import",
		Usage:     "import EVTX files and JSON exports (Sysmon, Winlogbeat/Elastic, evtx_dump, Mordor) into a recording",
		ArgsUsage: "SRC…",
		Description: "SRC is a file, a directory (read recursively, in name order) or - for JSON lines on stdin. EVTX\n" +
			"files are decoded by edr's own BinXML decoder; JSON is one object per line, concatenated objects or\n" +
			"an array, zipped archives are read member by member. Events land in host=<Computer> partitions\n" +
			"unless --host is given. A file already in the recording (same SHA-256) is not imported again.\n" +
			"Damaged records are counted and named; the import goes on.\n" +
			"Exit codes: 0 everything imported, 3 some records or files failed, 1 nothing readable (no source held\n" +
			"an event: an empty file or directory, an EVTX file with only a header) or the recording could not be\n" +
			"written, 2 usage.",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "out", Aliases: []string{"o"}, Value: "recording", Usage: "recording `DIR` to create or append to"},
			&cli.StringFlag{Name: "host", Usage: "partition host for every event (default: each event's Computer)"},
			&cli.StringFlag{Name: "format", Value: "auto", Usage: "auto, evtx, json or mordor"},
			&cli.IntFlag{Name: "show-failures", Value: 10, Usage: "failures listed per file in the summary"},
			&cli.BoolFlag{Name: "no-progress", Usage: "no progress bar even on a terminal"},
		}, configFlags()...),
		Action: importAction,
	})
}

func importAction(c *cli.Context) error {
	if c.NArg() == 0 {
		return exitf(2, "import: no source given (usage: edr import [--out REC] [--host NAME] [--format F] SRC…)")
	}
	format, err := importer.ParseFormat(c.String("format"))
	if err != nil {
		return exitf(2, "import: %v", err)
	}
	cfg, err := loadConfig(c, nil)
	if err != nil {
		return exitf(2, "import: %v", err)
	}
	if err := notNested(c.String("out")); err != nil {
		return exitf(2, "import: %v", err)
	}
	ctx, stop := signal.NotifyContext(c.Context, os.Interrupt)
	defer stop()
	opts := importer.Options{
		Out: c.String("out"), Host: c.String("host"), Format: format,
		Producer: "edr import " + Version, Stdin: os.Stdin, Writer: recordingOptions(cfg),
	}
	if cfg.Origin("recording.max_segment_age").Source == config.FromDefault {
		opts.Writer.MaxSegmentAge = 0 // the importer's own default (a day) suits sparse logs
	}
	// Each segment starts with its host's process state as far as this
	// import has seen it (a later import starts from an empty state).
	opts.State = state.NewTracker(state.Options{}, state.SnapshotLimits{})
	start := time.Now()
	var bar *progressBar
	if !c.Bool("no-progress") && isTerminal(os.Stdout) && isTerminal(os.Stderr) {
		bar = &progressBar{w: os.Stderr, start: start, width: termWidth(os.Stderr)}
		opts.Progress = bar.draw
	}
	sum, err := importer.Run(ctx, c.Args().Slice(), opts)
	if bar != nil {
		bar.clear()
	}
	if sum != nil {
		took := time.Since(start)
		printSafe(c.App.Writer, func(w io.Writer) { printImportSummary(w, sum, took, c.Int("show-failures")) })
	}
	switch {
	case errors.Is(err, context.Canceled):
		return exitf(1, "import: interrupted; the events read so far are in %s (importing the same files again resumes where this stopped)", opts.Out)
	case err != nil:
		return exitf(1, "import: %v", err)
	}
	switch code := sum.ExitCode(); code {
	case 0:
	case 1:
		return exitf(1, "import: nothing readable: no source held an event that could be imported")
	default:
		return exitf(code, "")
	}
	return nil
}

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

func termWidth(f *os.File) int {
	if w, _, err := term.GetSize(int(f.Fd())); err == nil && w > 20 {
		return w
	}
	return 80
}

// progressBar draws one line: bar, percentage, files, records, MB/s, ETA.
type progressBar struct {
	w     io.Writer
	start time.Time
	width int
	drawn bool
}

func (p *progressBar) draw(pr importer.Progress) {
	if pr.Done {
		return
	}
	el := time.Since(p.start).Seconds()
	rate := 0.0
	if el > 0 {
		rate = float64(pr.BytesDone) / el / 1e6
	}
	frac := 0.0
	if pr.Bytes > 0 {
		frac = min(float64(pr.BytesDone)/float64(pr.Bytes), 1)
	}
	p.drawLine(fmt.Sprintf("%s  files %d/%d  %d records  %.1f MB/s  ETA %s  %s",
		barText(frac), pr.FilesDone, pr.Files, pr.Records, rate, etaText(el, frac), filepath.Base(pr.File)))
}

// drawLine draws line over the previous one, cut to the terminal's width.
func (p *progressBar) drawLine(line string) {
	if len(line) > p.width-1 {
		line = line[:p.width-1]
	}
	fmt.Fprintf(p.w, "\r%-*s", p.width-1, line)
	p.drawn = true
}

func (p *progressBar) clear() {
	if p.drawn {
		fmt.Fprintf(p.w, "\r%*s\r", p.width-1, "")
	}
}

// barText is a 24-cell bar and the percentage of frac (0..1).
func barText(frac float64) string {
	const barLen = 24
	fill := int(frac * barLen)
	return fmt.Sprintf("[%s%s] %3.0f%%", strings.Repeat("=", fill), strings.Repeat(" ", barLen-fill), frac*100)
}

// etaText is the time left when frac of the work took el seconds.
func etaText(el, frac float64) string {
	if frac <= 0 || el <= 0 {
		return "?"
	}
	return time.Duration(el * (1 - frac) / frac * float64(time.Second)).Round(time.Second).String()
}

func printImportSummary(w io.Writer, s *importer.Summary, took time.Duration, showFailures int) {
	var imported, already, unreadable int
	for _, f := range s.Files {
		switch f.Status {
		case importer.Imported:
			imported++
		case importer.AlreadyImported:
			already++
		default:
			unreadable++
		}
	}
	mbs := 0.0
	if took > 0 {
		mbs = float64(s.Bytes) / took.Seconds() / 1e6
	}
	printRecovery(w, s.Recovery)
	fmt.Fprintf(w, "%d files: %d imported, %d already in the recording, %d unreadable; %d records imported, %d failed; %.1f MB in %s (%.1f MB/s)\n",
		len(s.Files), imported, already, unreadable, s.Records, s.Failed, float64(s.Bytes)/1e6, took.Round(time.Millisecond), mbs)
	if s.Resumed > 0 {
		fmt.Fprintf(w, "resumed an interrupted import: %d records of its files were already in the recording and were not written again\n", s.Resumed)
	}
	if len(s.Skipped) > 0 {
		fmt.Fprintf(w, "%d files in the directories hold no events and were skipped\n", len(s.Skipped))
	}
	if ch := s.Channels(); len(ch) > 0 {
		fmt.Fprintln(w, "records per channel:")
		for _, c := range ch {
			name := c.Channel
			if name == "" {
				name = "(no channel: kept, flagged)"
			}
			fmt.Fprintf(w, "  %10d  %s\n", c.Events, name)
		}
	}
	for _, f := range s.Files {
		// Damage the decoder worked around (a repaired chunk magic, a bad
		// header checksum, a dirty file) is reported even when every
		// record was read.
		for i, n := range f.Notes {
			if i == showFailures {
				fmt.Fprintf(w, "  … and %d more notes on %s\n", len(f.Notes)-i, f.Path)
				break
			}
			fmt.Fprintf(w, "note: %s: %s\n", f.Path, n)
		}
		switch {
		case f.Status == importer.Unreadable:
			fmt.Fprintf(w, "unreadable: %s: %s\n", f.Path, f.Err)
		case f.Failed > 0:
			fmt.Fprintf(w, "%s: %d records failed\n", f.Path, f.Failed)
		default:
			continue
		}
		for i, fl := range f.Failures {
			if i == showFailures {
				fmt.Fprintf(w, "    … and %d more\n", len(f.Failures)-i)
				break
			}
			fmt.Fprintf(w, "    %s\n", fl)
		}
	}
}

// recordingOptions maps the [recording] keys that shape how a recording is
// written (generate and import).
func recordingOptions(cfg *config.Config) recording.WriterOptions {
	rc := cfg.Recording
	return recording.WriterOptions{FlushInterval: rc.FlushInterval, Fsync: rc.Fsync, MaxSegmentBytes: int64(rc.MaxSegmentMB) << 20,
		MaxSegmentAge: rc.MaxSegmentAge, RowGroupRows: rc.RowGroupRows, MaxOpenSegments: rc.MaxOpenSegments,
		MaxBufferBytes: int64(rc.MaxBufferMB) << 20, PageCompression: rc.PageCompression}
}
