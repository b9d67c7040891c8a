package main

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/edr-lab/edr/event"
	"github.com/urfave/cli/v2"
)

// Version is set at build time with -ldflags "-X main.Version=…".
var Version = "dev"

// buildFeatures lists optional parts compiled in or out (e.g. YARA under the
// noyara tag); files with build tags append to it.
var buildFeatures []string

func init() {
	register(&cli.Command{
		Name:  "version",
		Usage: "print version, schema version and build features",
		Action: func(c *cli.Context) error {
			rev := ""
			if bi, ok := debug.ReadBuildInfo(); ok {
				for _, s := range bi.Settings {
					if s.Key == "vcs.revision" {
						rev = " " + s.Value
					}
				}
			}
			fmt.Fprintf(c.App.Writer, "edr %s%s (%s, %s/%s)\n", Version, rev, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			fmt.Fprintf(c.App.Writer, "schema version %d, %d fields, %d event types\n", event.SchemaVersion, event.NumFields(), len(event.Defs()))
			for _, f := range buildFeatures {
				fmt.Fprintln(c.App.Writer, f)
			}
			return nil
		},
	})
}
