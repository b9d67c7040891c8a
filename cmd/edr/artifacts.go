package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/edr-lab/edr/detect/filescan"
	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/recording"
	"github.com/edr-lab/edr/recording/artifact"
	"github.com/urfave/cli/v2"
)

func init() {
	register(&cli.Command{
		Name:  "artifacts",
		Usage: "manage a recording's artifact store (the files replay re-checks with YARA and hash IOCs)",
		Subcommands: []*cli.Command{{
			Name:      "add",
			Usage:     "store collected files in a recording's artifact store so that replay checks the processes that ran them",
			ArgsUsage: "REC PATH…",
			Description: "Stores every regular file under PATH… (walked as edr scan walks: symlinks never followed, special\n" +
				"files never opened, files over --max-size left out) in REC's content-addressed artifact store. Replay\n" +
				"finds a process start's file by the Hashes the event carries (SHA256, SHA1 or MD5); for process\n" +
				"starts recorded without Hashes (Security 4688, Sysmon without hashing) this command links each\n" +
				"event whose image path is a collected file: with --root, a file ROOT/C/Windows/x.exe is\n" +
				"C:\\Windows\\x.exe (the layout of KAPE-style collections); without it, the file name is matched\n" +
				"when exactly one collected file has it. A process start whose recorded Hashes differ from the\n" +
				"collected file's ran another file: it is counted, not linked.\n" +
				"Exit codes: 0 done, 1 error, 2 usage.",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "root", Usage: "the collection's root: files under it map to Windows paths (ROOT/C/x → C:\\x)"},
				&cli.Int64Flag{Name: "max-size", Value: 64 << 20, Usage: "leave out files larger than this many bytes (0: no limit)"},
				&cli.BoolFlag{Name: "quiet", Usage: "no summary on stderr"},
			},
			Action: artifactsAddAction,
		}},
	})
}

func artifactsAddAction(c *cli.Context) error {
	if c.NArg() < 2 {
		return exitf(2, "artifacts add: want a recording and at least one file or directory (usage: edr artifacts add [flags] REC PATH…)")
	}
	rec, paths := c.Args().First(), c.Args().Tail()
	rd, err := recording.OpenReader(rec, recording.ReaderOptions{})
	if err != nil {
		return exitf(2, "artifacts add: recording %s: %v", rec, err)
	}
	var root string
	if r := c.String("root"); r != "" {
		if root, err = filepath.Abs(r); err == nil {
			root, err = filepath.EvalSymlinks(root)
		}
		if err != nil {
			return exitf(2, "artifacts add: --root: %v", err)
		}
	}
	store, err := artifact.Open(rec, artifact.Options{})
	if err != nil {
		return exitf(1, "artifacts add: %v", err)
	}
	defer store.Close()
	s := filescan.New(filescan.Options{Store: store})

	var (
		byPath   = map[string]string{}   // collected file → SHA-256
		byName   = map[string][]string{} // lower-case base name → collected files
		stored   = map[string]bool{}     // SHA-256 of the collected files
		newFiles int
		skipped  skipList
		errs     []error
	)
	st, err := s.ScanTree(context.Background(), paths, filescan.TreeOptions{MaxFileBytes: c.Int64("max-size")},
		func(f filescan.TreeFile) {
			if f.Result.StoreErr != nil {
				errs = append(errs, fmt.Errorf("%s: %w", f.Path, f.Result.StoreErr))
				return
			}
			if f.Result.Stored {
				newFiles++
			}
			byPath[f.Path] = f.Result.SHA256
			base := strings.ToLower(filepath.Base(f.Path))
			byName[base] = append(byName[base], f.Path)
			stored[f.Result.SHA256] = true
			for _, d := range []string{f.Result.SHA1, f.Result.MD5} {
				stored[d] = true
			}
		},
		skipped.add)
	if err != nil {
		return exitf(2, "artifacts add: %v", err)
	}
	// fileOf maps an event's image path to a collected file.
	fileOf := func(path string) (string, bool) {
		if root != "" {
			local, err := filescan.DirOpener{Root: root}.Local(path)
			_, ok := byPath[local]
			return local, err == nil && ok
		}
		base := path[strings.LastIndexAny(path, `\/`)+1:]
		list := byName[strings.ToLower(base)]
		if len(list) != 1 {
			return "", false
		}
		return list[0], true
	}
	var linked, byHash, otherHash int
	err = rd.Run(func(batch []event.Event) error {
		for i := range batch {
			ev := &batch[i]
			path, _, ok := s.Target(ev)
			if !ok {
				continue
			}
			if hashes := ev.Value(event.FHashes); hashes != "" {
				if namesStored(hashes, stored) {
					byHash++
				} else if _, ok := fileOf(path); ok {
					otherHash++
				}
				continue
			}
			file, ok := fileOf(path)
			if !ok {
				continue
			}
			if err := s.LinkFile(ev, byPath[file]); err != nil {
				errs = append(errs, fmt.Errorf("link %s to %s: %w", path, file, err))
				continue
			}
			linked++
		}
		return nil
	})
	if err != nil {
		errs = append(errs, err)
	}
	if !c.Bool("quiet") {
		w := c.App.ErrWriter
		fmt.Fprintf(w, "artifacts add: %d files stored in %s (%d new, %d bytes)\n", st.Files, store.Root(), newFiles, st.Bytes)
		fmt.Fprintf(w, "process starts: %d find their file by the Hashes they carry, %d without Hashes linked by path, %d ran another file (recorded Hashes differ)\n",
			byHash, linked, otherHash)
		writeSkips(w, st, skipped)
	}
	if len(errs) > 0 {
		return exitf(1, "artifacts add: %v", errors.Join(errs...))
	}
	return nil
}

// namesStored reports whether a Sysmon Hashes value names a stored file.
func namesStored(hashes string, stored map[string]bool) bool {
	for _, v := range event.ParseHashes(hashes) {
		if stored[strings.ToLower(v)] {
			return true
		}
	}
	return false
}

// skipList collects a tree walk's skipped files by reason.
type skipList [][]filescan.Skipped

func (l *skipList) add(k filescan.Skipped) {
	for int(k.Reason) >= len(*l) {
		*l = append(*l, nil)
	}
	(*l)[k.Reason] = append((*l)[k.Reason], k)
}

// writeSkips writes the skip counts of a tree walk and names the files
// (edr scan and edr artifacts add).
func writeSkips(w io.Writer, st filescan.TreeStats, skipped skipList) {
	var parts []string
	for r, n := range st.Skipped {
		parts = append(parts, fmt.Sprintf("%s %d", filescan.SkipReason(r), n))
	}
	fmt.Fprintf(w, "skipped: %s\n", strings.Join(parts, ", "))
	for _, list := range skipped {
		for i, k := range list {
			if i == maxNamed {
				fmt.Fprintf(w, "  %s: … and %d more\n", k.Reason, len(list)-maxNamed)
				break
			}
			switch {
			case k.Reason == filescan.SkipTooLarge:
				fmt.Fprintf(w, "  %s: %s (%d bytes)\n", k.Reason, k.Path, k.Size)
			case k.Err != nil:
				fmt.Fprintf(w, "  %s: %s: %v\n", k.Reason, k.Path, k.Err)
			default:
				fmt.Fprintf(w, "  %s: %s\n", k.Reason, k.Path)
			}
		}
	}
}
