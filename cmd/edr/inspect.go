package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/edr-lab/edr/recording"
	"github.com/urfave/cli/v2"
)

func init() {
	register(&cli.Command{
		Name:      "inspect",
		Usage:     "summarize a recording: hosts, time span, events per channel and event ID, segments, size, loss and recovery",
		ArgsUsage: "REC",
		Description: "--json prints one object (fields: events, segments, bytes, bytes_per_event, hosts, first, last,\n" +
			"by_channel, by_event_id, counts, schema_versions, producers, loss, recovered_segments, pending_wals,\n" +
			"kept_aside, checked, …). Plain inspect reads only the segment footers (checked: \"footers\"); --verify\n" +
			"reads every page of every segment and checks the data checksums too (checked: \"all pages\").\n" +
			"Exit codes: 0 done, 1 the recording cannot be read, 2 usage, 3 some segments are corrupt (named).",
		Flags: []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print the summary as one JSON object"},
			&cli.BoolFlag{Name: "verify", Usage: "read every page of every segment and check every checksum (default: footers only)"}},
		Action: func(c *cli.Context) error {
			dir, err := recordingArg(c, "inspect", "edr inspect REC [--json] [--verify]")
			if err != nil {
				return err
			}
			run := recording.Inspect
			if c.Bool("verify") {
				run = recording.Verify
			}
			s, err := run(dir)
			if err != nil {
				return exitf(1, "inspect: %v", err)
			}
			if c.Bool("json") {
				enc := json.NewEncoder(c.App.Writer)
				enc.SetIndent("", "  ")
				if err := enc.Encode(s); err != nil {
					return exitf(1, "inspect: %v", err)
				}
			} else {
				printSafe(c.App.Writer, func(w io.Writer) { printSummary(w, s) })
			}
			if s.CorruptSegments > 0 || s.UnreadableDirs > 0 {
				return exitf(3, "inspect: %d corrupt segments, %d unreadable directories in %s", s.CorruptSegments, s.UnreadableDirs, dir)
			}
			return nil
		},
	})
}

// recordingArg is the one existing recording directory a command takes
// (exit 2 for a wrong number of arguments, 1 when it is not a directory).
func recordingArg(c *cli.Context, cmd, usage string) (string, error) {
	if c.NArg() != 1 {
		return "", exitf(2, "%s: want exactly one recording directory (usage: %s)", cmd, usage)
	}
	dir := c.Args().First()
	return dir, checkRecordingDir(cmd, dir)
}

// checkRecordingDir fails with exit code 1 unless dir is a directory.
func checkRecordingDir(cmd, dir string) error {
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		if err == nil {
			err = fmt.Errorf("not a directory")
		}
		return exitf(1, "%s: %s: %v", cmd, dir, err)
	}
	return nil
}

func printSummary(w io.Writer, s *recording.Summary) {
	line := func(k, format string, args ...any) {
		fmt.Fprintf(w, "%-12s "+format+"\n", append([]any{k}, args...)...)
	}
	line("recording", "%s", s.Dir)
	line("events", "%d in %d segments, %s (%.1f bytes/event)", s.Events, s.Segments, humanBytes(s.Bytes), s.BytesPerEvent)
	line("hosts", "%d: %s", len(s.Hosts), strings.Join(s.Hosts, ", "))
	if s.Events > 0 {
		line("time span", "%s … %s (%s)", s.First, s.Last, time.Duration(s.LastNs-s.FirstNs).Round(time.Millisecond))
	}
	versions := make([]string, len(s.SchemaVersions))
	for i, v := range s.SchemaVersions {
		versions[i] = fmt.Sprint(v)
	}
	line("schema", "version %s; producers: %s", orNone(strings.Join(versions, ", ")), orNone(strings.Join(s.Producers, ", ")))
	line("loss", "%s", orNone(kvList(s.Loss)))
	line("recovery", "%d segments recovered from a write-ahead log (%d bytes of the logs not recovered); %d write-ahead logs pending (%s)",
		s.RecoveredSegments, s.RecoveryDroppedBytes, s.PendingWALs, humanBytes(s.PendingWALBytes))
	for _, sg := range s.RecoveryGaps {
		fmt.Fprintf(w, "             %s was recovered around damaged log bytes:\n", sg.Segment)
		printGaps(w, "               ", sg.Gaps)
	}
	for _, f := range s.PendingWALFiles {
		fmt.Fprintf(w, "             pending: %s (%d bytes)\n", f.Path, f.Bytes)
	}
	if len(s.KeptAside) > 0 {
		line("kept aside", "%s that crash recovery could not read, in %d files:", humanBytes(s.KeptAsideBytes), len(s.KeptAside))
		for _, f := range s.KeptAside {
			fmt.Fprintf(w, "             %s (%d bytes)\n", f.Path, f.Bytes)
		}
	}
	for _, sp := range s.SpecialFiles {
		line("skipped", "%s", sp)
	}
	if s.Checked == "footers" {
		line("checked", "segment footers only: data pages were not read (edr inspect --verify reads and checks them)")
	} else {
		line("checked", "every page of every segment")
	}
	if len(s.Sources) > 0 {
		line("sources", "%d imported files", len(s.Sources))
	}
	if s.UnreadableDirs > 0 {
		line("unreadable", "%d directories (their segments are not counted above)", s.UnreadableDirs)
	}
	if s.CorruptSegments > 0 || s.UnreadableDirs > 0 {
		line("corrupt", "%d segments", s.CorruptSegments)
		for _, e := range s.Errors {
			fmt.Fprintf(w, "             %s\n", e)
		}
	}
	if len(s.Counts) == 0 {
		return
	}
	fmt.Fprintln(w, "\nchannel                                             event id       events")
	counts := append([]recording.Count(nil), s.Counts...)
	sort.SliceStable(counts, func(i, j int) bool {
		if counts[i].Channel != counts[j].Channel {
			return counts[i].Channel < counts[j].Channel
		}
		return counts[i].EventID < counts[j].EventID
	})
	for _, c := range counts {
		fmt.Fprintf(w, "%-50s %9d %12d\n", orNone(c.Channel), c.EventID, c.Events)
	}
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func kvList(m map[string]uint64) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		if m[k] > 0 {
			parts = append(parts, fmt.Sprintf("%s=%d", k, m[k]))
		}
	}
	return strings.Join(parts, ", ")
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
