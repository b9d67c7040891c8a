package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"

	"github.com/urfave/cli/v2"
)

// Profiling flags for performance work on any subcommand:
// `edr --cpuprofile cpu.out replay REC` then `go tool pprof`.
var profileFlags = []cli.Flag{
	&cli.StringFlag{Name: "cpuprofile", Usage: "write a CPU profile of the command to `FILE`"},
	&cli.StringFlag{Name: "memprofile", Usage: "write a heap profile at the end of the command to `FILE`"},
}

var cpuProfile *os.File

func startProfiles(c *cli.Context) error {
	path := c.String("cpuprofile")
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return fmt.Errorf("cpuprofile %s: %w", path, err)
	}
	cpuProfile = f
	return nil
}

func stopProfiles(c *cli.Context) error {
	if cpuProfile != nil {
		pprof.StopCPUProfile()
		if err := cpuProfile.Close(); err != nil {
			return fmt.Errorf("cpuprofile: %w", err)
		}
		cpuProfile = nil
	}
	if path := c.String("memprofile"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			return fmt.Errorf("memprofile: %w", err)
		}
		defer f.Close()
		runtime.GC()
		if err := pprof.WriteHeapProfile(f); err != nil {
			return fmt.Errorf("memprofile %s: %w", path, err)
		}
	}
	return nil
}
