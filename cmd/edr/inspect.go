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
			"by_channel, by_event_id, counts, schema_versions, producers, loss, recovered_segments, …).\n" +
			"Exit codes: 0 done, 1 the recording cannot be read, 2 usage, 3 some segments are corrupt (named).",
		Flags: []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print the summary as one JSON object"}},
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return exitf(2, "inspect: want exactly one recording directory (usage: edr inspect REC [--json])")
			}
			dir := c.Args().First()
			if st, err := os.Stat(dir); err != nil || !st.IsDir() {
				if err == nil {
					err = fmt.Errorf("not a directory")
				}
				return exitf(1, "inspect: %s: %v", dir, err)
			}
			s, err := recording.Inspect(dir)
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
			if s.CorruptSegments > 0 {
				return exitf(3, "inspect: %d corrupt segments in %s", s.CorruptSegments, dir)
			}
			return nil
		},
	})
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
	line("recovery", "%d segments recovered from a write-ahead log (%d torn bytes dropped); %d write-ahead logs pending",
		s.RecoveredSegments, s.RecoveryDroppedBytes, s.PendingWALs)
	if len(s.Sources) > 0 {
		line("sources", "%d imported files", len(s.Sources))
	}
	if s.CorruptSegments > 0 {
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
