package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/edr-lab/edr/detect"
	"github.com/edr-lab/edr/detect/ecs"
	"github.com/edr-lab/edr/detect/filescan"
	"github.com/edr-lab/edr/detect/ruleset"
	"github.com/edr-lab/edr/event"
	"github.com/urfave/cli/v2"
)

func init() {
	register(&cli.Command{
		Name:      "scan",
		Usage:     "YARA and hash IOCs over files and directories (a triage collection); ECS NDJSON alerts, summary on stderr",
		ArgsUsage: "PATH…",
		Description: "Walks every PATH recursively and checks each regular file with the YARA rules and the hash indicators\n" +
			"(MD5, SHA1, SHA256 of hashes.txt), on every CPU. Alerts come in path order, byte-identical run to run;\n" +
			"they carry file.path, file.name, file.size, file.hash.* and @timestamp = the file's modification time.\n" +
			"Symbolic links are never followed (a link leaving the scanned trees is reported as such), FIFOs, sockets\n" +
			"and devices are never opened, files over --max-size are not read; all of these, and unreadable files,\n" +
			"are counted and named in the summary. Rules default as for replay (the config's YARA and IOC paths).\n" +
			"Exit codes: 0 done (matches or not), 1 error during the scan, 2 usage or rule load error.",
		Flags: append([]cli.Flag{
			&cli.StringSliceFlag{Name: "yara", Usage: "YARA rule file or directory (repeatable)"},
			&cli.StringFlag{Name: "ioc", Usage: "directory with hashes.txt (other indicator files are loaded but do not apply to files)"},
			&cli.StringFlag{Name: "alerts", Value: "-", Usage: "write alerts to FILE, - for stdout"},
			&cli.Int64Flag{Name: "max-size", Value: 64 << 20, Usage: "skip files larger than this many bytes (0: no limit)"},
			&cli.StringFlag{Name: "match-debug", Usage: "off, summary or full (sets alerts.match_debug; full adds YARA string snippets)"},
			&cli.BoolFlag{Name: "quiet", Usage: "no summary on stderr"},
		}, configFlags()...),
		Action: scanAction,
	})
}

// scanOpener reads the scanned files (nil: the file system); tests inject
// unreadable files through it.
var scanOpener filescan.Opener

func scanAction(c *cli.Context) error {
	if c.NArg() == 0 {
		return exitf(2, "scan: no path given (usage: edr scan [flags] PATH…)")
	}
	for _, p := range c.Args().Slice() {
		if _, err := os.Lstat(p); err != nil {
			return exitf(2, "scan: %v", err)
		}
	}
	if c.Int64("max-size") < 0 {
		return exitf(2, "scan: --max-size must not be negative, got %d", c.Int64("max-size"))
	}
	set, err := replaySettingsFrom(c)
	if err != nil {
		return exitf(2, "scan: %v", err)
	}
	defer set.cleanup()
	ro := set.ruleOpts
	ro.SigmaPaths = nil // Sigma needs events
	ro.MaxFileBytes = 0 // --max-size applies, before reading
	ro.YARAWorkers = runtime.GOMAXPROCS(0)
	// The allowlists spare a live host's system files; files a responder
	// names are all checked.
	ro.HashAllowlist, ro.YARAAllowlist = nil, nil
	ruleSet, err := ruleset.Load(ro)
	if err != nil {
		return exitf(2, "scan: %v", err)
	}
	defer ruleSet.Close()
	if c.IsSet("yara") && (ruleSet.YARA == nil || ruleSet.YARA.NumRules() == 0) {
		return exitf(2, "scan: no YARA rule loaded from %v: %v", ro.YARAPaths, errors.Join(ruleSet.Errors...))
	}
	fm := ruleSet.FileMatcher(nil)
	if fm == nil {
		return exitf(2, "scan: no YARA rule and no indicator loaded: nothing to check files with (%v)", errors.Join(ruleSet.Errors...))
	}
	out, closeOut, err := alertOutput(c.String("alerts"), c.App.Writer)
	if err != nil {
		return exitf(1, "scan: %v", err)
	}
	start := time.Now() // for the summary only; never reaches alerts
	var (
		buf      []byte
		hits     []detect.Hit
		byEngine = map[string]int{}
		yaraErrs []string
		skipped  skipList
		writeErr error
	)
	onFile := func(f filescan.TreeFile) {
		hits = fm.FileHits(f.Result, hits[:0])
		if f.Result.YARAErr != nil {
			yaraErrs = append(yaraErrs, f.Path+": "+f.Result.YARAErr.Error())
		}
		for i := range hits {
			byEngine[hits[i].Rule.Engine]++
			buf = scanAlertJSON(buf[:0], &f, &hits[i], set.debug)
			if _, err := out.Write(buf); err != nil && writeErr == nil {
				writeErr = err
			}
		}
	}
	st, scanErr := fm.Scanner().ScanTree(context.Background(), c.Args().Slice(),
		filescan.TreeOptions{MaxFileBytes: c.Int64("max-size"), Opener: scanOpener}, onFile, skipped.add)
	writeErr = errors.Join(writeErr, closeOut())
	if !c.Bool("quiet") {
		writeScanSummary(c.App.ErrWriter, ruleSet, st, byEngine, skipped, yaraErrs, time.Since(start))
	}
	switch {
	case scanErr != nil:
		return exitf(1, "scan: %v", scanErr)
	case writeErr != nil:
		return exitf(1, "scan: writing alerts: %v", writeErr)
	}
	return nil
}

// scanAlertJSON renders one hit on a scanned file as an ECS alert line:
// replay's alert encoding of the hit over an event that is only a time
// (the file's modification time), keeping the parts that apply to a file
// (no host, process or winlog), with the file.* fields and an event.id of
// the file and the rule (the same file and rule give the same id).
func scanAlertJSON(dst []byte, f *filescan.TreeFile, h *detect.Hit, debug detect.MatchDebug) []byte {
	sev := h.Severity
	if sev == detect.SeverityNone {
		sev = h.Rule.Severity
	}
	a := &detect.Alert{Event: &event.Event{Time: f.ModTime}, Hit: h, Severity: sev, MatchDebug: debug}
	full := ecs.AlertObject(a)
	id := f.Path + "\x00" + h.Rule.Engine + "\x00" + h.Rule.ID
	if h.Indicator != nil {
		id += "\x00" + h.Indicator.Atomic
	}
	sum := sha256.Sum256([]byte(id))
	full.SetString("event.id", hex.EncodeToString(sum[:16]))
	full.SetStrings("event.category", []string{"file", "malware"})
	full.SetStrings("event.type", []string{"info"})
	full.SetString("event.action", "file-scanned")
	var o ecs.Object
	for _, k := range []string{"@timestamp", "ecs", "message", "event", "rule", "threat", "vulnerability", "tags"} {
		if v, ok := full.Get(k); ok {
			o.Set(k, v)
		}
	}
	o.SetString("file.path", f.Path)
	dir, name := splitFilePath(f.Path)
	o.SetString("file.name", name)
	o.SetString("file.directory", dir)
	if i := strings.LastIndexByte(name, '.'); i > 0 && i < len(name)-1 {
		o.SetString("file.extension", strings.ToLower(name[i+1:]))
	}
	o.SetInt("file.size", f.Size)
	o.SetString("file.mtime", time.Unix(0, f.ModTime).UTC().Format("2006-01-02T15:04:05.000Z"))
	o.SetString("file.hash.md5", f.Result.MD5)
	o.SetString("file.hash.sha1", f.Result.SHA1)
	o.SetString("file.hash.sha256", f.Result.SHA256)
	for _, k := range []string{"edr.engine", "edr.yara"} {
		if v, ok := full.Get(k); ok {
			o.Set(k, v)
		}
	}
	o.SetBool("edr.replayed", false)
	return append(o.AppendJSON(dst), '\n')
}

// splitFilePath splits at the last / or \ (paths of any OS).
func splitFilePath(p string) (dir, name string) {
	i := strings.LastIndexAny(p, `/\`)
	if i < 0 {
		return "", p
	}
	return p[:i], p[i+1:]
}

// maxNamed caps the files named per skip reason in the summary.
const maxNamed = 50

func writeScanSummary(w io.Writer, rs *ruleset.Set, st filescan.TreeStats, byEngine map[string]int,
	skipped skipList, yaraErrs []string, took time.Duration) {
	fmt.Fprintf(w, "scan: %d files, %d bytes checked in %s; alerts: yara %d, ioc %d\n",
		st.Files, st.Bytes, took.Round(time.Millisecond), byEngine[detect.EngineYARA], byEngine[detect.EngineIOC])
	rs.WriteLoaded(w, false, false)
	if rs.IOC != nil {
		fmt.Fprintln(w, "  (scan checks files with YARA and the hash indicators only)")
	}
	if len(rs.Errors) > 0 {
		fmt.Fprintf(w, "rules: %d did not load (skipped)\n", len(rs.Errors))
		for _, e := range rs.Errors {
			fmt.Fprintf(w, "  %v\n", e)
		}
	}
	writeSkips(w, st, skipped)
	for i, e := range yaraErrs {
		if i == maxNamed {
			fmt.Fprintf(w, "  YARA error: … and %d more\n", len(yaraErrs)-maxNamed)
			break
		}
		fmt.Fprintf(w, "  YARA error: %s\n", e)
	}
}
