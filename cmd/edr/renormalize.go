package main

import (
	"fmt"
	"strings"

	"github.com/edr-lab/edr/recording/renorm"
	"github.com/urfave/cli/v2"
)

func init() {
	register(&cli.Command{
		Name:      "renormalize",
		Usage:     "rewrite a recording's events from its raw ETW layer with this build's decoders",
		ArgsUsage: "REC --out REC2",
		Description: "Decodes every raw ETW record of REC again (one decoder per host, records in capture order) and\n" +
			"writes the events to REC2 with the raw layer copied record for record; events of other sources\n" +
			"(import, generate) are copied unchanged, REC's ETW events are replaced by the decoded ones.\n" +
			"REC2 must not exist or be empty. The output depends only on REC.\n" +
			"Exit codes: 0 done, 1 failure, 2 usage.",
		Flags: append([]cli.Flag{&cli.StringFlag{Name: "out", Usage: "the recording to write (required)"}}, configFlags()...),
		Action: func(c *cli.Context) error {
			out := c.String("out")
			args := c.Args().Slice()
			// The documented form puts --out after REC, where the flag
			// parser has stopped: take it from the arguments.
			if len(args) == 3 && out == "" && (args[1] == "--out" || args[1] == "-out") {
				out, args = args[2], args[:1]
			} else if len(args) == 2 && out == "" && strings.HasPrefix(args[1], "--out=") {
				out, args = strings.TrimPrefix(args[1], "--out="), args[:1]
			}
			if len(args) != 1 {
				return exitf(2, "renormalize: want exactly one recording directory (usage: edr renormalize REC --out REC2)")
			}
			dir := args[0]
			if err := checkRecordingDir("renormalize", dir); err != nil {
				return err
			}
			if out == "" {
				return exitf(2, "renormalize: --out REC2 is required")
			}
			cfg, err := loadConfig(c, nil)
			if err != nil {
				return exitf(2, "renormalize: %v", err)
			}
			opts := recordingOptions(cfg)
			opts.Producer = "edr renormalize " + Version
			st, err := renorm.Run(dir, out, opts)
			if err != nil {
				return exitf(1, "%v", err)
			}
			fmt.Fprintf(c.App.Writer, "renormalized %s into %s: %d raw records → %d events (%d not decoded: %d unhandled, %d unknown version); "+
				"%d ETW events replaced, %d events of other sources copied\n",
				dir, out, st.RawRecords, st.Emitted, st.Unhandled+st.UnknownVersion, st.Unhandled, st.UnknownVersion, st.Replaced, st.Copied)
			return nil
		},
	})
}
