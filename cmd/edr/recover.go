package main

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/edr-lab/edr/recording"
	"github.com/urfave/cli/v2"
)

func init() {
	register(&cli.Command{
		Name:      "recover",
		Usage:     "turn the write-ahead logs a crashed writer left into segments, and report what recovery did",
		ArgsUsage: "REC",
		Description: "Opens the recording for writing and closes it again, which is what edr import and edr generate do\n" +
			"first: every pending write-ahead log becomes a segment; bytes that cannot be read are kept aside in\n" +
			"*.wal.bad files beside the logs (never deleted) and reported. --json prints the report as one object.\n" +
			"Exit codes: 0 done, 1 the recording cannot be opened (e.g. a writer is running), 2 usage,\n" +
			"3 some bytes could not be recovered and were kept aside, or special files were skipped.",
		Flags: append([]cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print the report as one JSON object"}}, configFlags()...),
		Action: func(c *cli.Context) error {
			dir, err := recordingArg(c, "recover", "edr recover REC [--json]")
			if err != nil {
				return err
			}
			cfg, err := loadConfig(c, nil)
			if err != nil {
				return exitf(2, "recover: %v", err)
			}
			w, err := recording.OpenWriter(dir, recordingOptions(cfg))
			if err != nil {
				return exitf(1, "recover: %v", err)
			}
			st := w.Stats()
			if err := w.Close(); err != nil {
				return exitf(1, "recover: %v", err)
			}
			if c.Bool("json") {
				enc := json.NewEncoder(c.App.Writer)
				enc.SetIndent("", "  ")
				if err := enc.Encode(recoveryJSON(st)); err != nil {
					return exitf(1, "recover: %v", err)
				}
			} else {
				printSafe(c.App.Writer, func(w io.Writer) {
					if !printRecovery(w, st) {
						fmt.Fprintf(w, "recovery: nothing to recover in %s\n", dir)
					}
				})
			}
			if st.KeptAsideBytes > 0 || st.RecoveryFailed > 0 || len(st.SpecialFiles) > 0 {
				return exitf(3, "recover: %s: %d bytes could not be recovered (kept aside), %d special files skipped",
					dir, st.KeptAsideBytes, len(st.SpecialFiles))
			}
			return nil
		},
	})
}

// Recovery is the crash-recovery part of a writer's stats, as edr recover
// --json prints it.
type Recovery struct {
	RecoveredWALs     int                     `json:"recovered_wals"`
	RecoveredSegments int                     `json:"recovered_segments"`
	RecoveredEvents   int64                   `json:"recovered_events"`
	TornBytesDropped  int64                   `json:"torn_bytes_dropped"` // every WAL byte not recovered (damaged ranges too)
	KeptAsideBytes    int64                   `json:"kept_aside_bytes"`
	LostRecords       int64                   `json:"records_lost"` // in damaged ranges that intact records follow
	LostEvents        int64                   `json:"events_lost"`
	UnreadableWALs    int                     `json:"unreadable_wals"`
	StaleWALs         int                     `json:"stale_wals"`
	WALs              []recording.WALRecovery `json:"wals"`
	SpecialFiles      []string                `json:"special_files"`
}

func recoveryJSON(st recording.WriterStats) Recovery {
	r := Recovery{RecoveredWALs: st.RecoveredWALs, RecoveredSegments: st.RecoveredSegments, RecoveredEvents: st.RecoveredEvents,
		TornBytesDropped: st.RecoveryDroppedBytes, KeptAsideBytes: st.KeptAsideBytes, UnreadableWALs: st.RecoveryFailed,
		LostRecords: st.RecoveryLostRecords, LostEvents: st.RecoveryLostEvents,
		StaleWALs: st.StaleWALs, WALs: st.Recovery, SpecialFiles: st.SpecialFiles}
	if r.WALs == nil {
		r.WALs = []recording.WALRecovery{}
	}
	if r.SpecialFiles == nil {
		r.SpecialFiles = []string{}
	}
	return r
}

// printRecovery prints what crash recovery did when a writer opened the
// recording (edr import, generate, recover); false when it did nothing.
func printRecovery(w io.Writer, st recording.WriterStats) bool {
	if st.RecoveredWALs == 0 && st.StaleWALs == 0 && len(st.SpecialFiles) == 0 {
		return false
	}
	fmt.Fprintf(w, "recovery: %d write-ahead logs left by a crash: %d events recovered into %d segments, %d bytes not recovered (kept aside)\n",
		st.RecoveredWALs+st.StaleWALs, st.RecoveredEvents, st.RecoveredSegments, st.KeptAsideBytes)
	for _, r := range st.Recovery {
		if r.BadFile == "" {
			continue
		}
		fmt.Fprintf(w, "  %s: %d events recovered from %d records (%d of them after damaged bytes); %d bytes kept in %s:\n",
			r.WAL, r.Events, r.Records, r.Resynced, r.KeptAside, r.BadFile)
		printGaps(w, "    ", r.Gaps)
	}
	for _, s := range st.SpecialFiles {
		fmt.Fprintf(w, "  skipped: %s\n", s)
	}
	return true
}

// printGaps prints the WAL ranges recovery could not read, one a line.
func printGaps(w io.Writer, indent string, gaps []recording.RecoveryGap) {
	for _, g := range gaps {
		if g.ToEnd {
			fmt.Fprintf(w, "%sbytes %d..%d (%d bytes), to the end of the log: what they held is not known: %s\n", indent, g.From, g.To, g.To-g.From, g.Reason)
			continue
		}
		fmt.Fprintf(w, "%sbytes %d..%d (%d bytes): %d records with %d events lost: %s\n", indent, g.From, g.To, g.To-g.From, g.Records, g.Events, g.Reason)
	}
}

// warnPending tells on stderr that a recording has write-ahead logs not in
// its segments, bytes kept aside by recovery, or special files under .wal/:
// what a reader does not see. It returns the number of special files.
func warnPending(w io.Writer, cmd, dir string) int {
	p, err := recording.PendingFiles(dir)
	if err != nil {
		fmt.Fprintf(w, "%s: warning: %v\n", cmd, err)
	}
	if p == nil {
		return 0
	}
	if len(p.WALs) > 0 {
		fmt.Fprintf(w, "%s: warning: %s has %d pending write-ahead logs (%s) whose events are not in its segments and are not read:\n"+
			"  a writer is running, or one crashed; once none runs, `edr recover %s` turns them into segments\n",
			cmd, dir, len(p.WALs), humanBytes(p.WALBytes), dir)
	}
	if len(p.KeptAside) > 0 {
		fmt.Fprintf(w, "%s: warning: %s has %s that crash recovery could not read, kept aside in:\n", cmd, dir, humanBytes(p.KeptAsideBytes))
		for _, f := range p.KeptAside {
			fmt.Fprintf(w, "  %s (%d bytes)\n", f.Path, f.Bytes)
		}
	}
	for _, s := range p.SpecialFiles {
		fmt.Fprintf(w, "%s: warning: skipped %s\n", cmd, s)
	}
	return len(p.SpecialFiles)
}
