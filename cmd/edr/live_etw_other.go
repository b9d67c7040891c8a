//go:build !windows

package main

import (
	"errors"

	"github.com/edr-lab/edr/capture/enrich"
	"github.com/edr-lab/edr/capture/rawsource"
	"github.com/edr-lab/edr/capture/tamper"
)

// etwRecords is the ETW session, Windows only (parseLiveSource refuses etw
// elsewhere).
func etwRecords(func(string, uint64), func(tamper.Finding), func(error)) (rawsource.Records, func() []any, error) {
	return nil, nil, errors.New("--source etw: ETW capture exists only on Windows; use --source raw-synthetic[:RATE] for the same path after the session")
}

// enrichConfig is enrichment off Windows: no OS lookups (raw-synthetic's
// paths are already DOS paths, its processes all start in the stream).
func enrichConfig() enrich.Config { return enrich.Config{} }
