package enrich

// The process table and DNS cache are the detection engine's: enrichment
// fills Parent* fields exactly as the engine would look them up. This file
// is the only one that names their package, so a further move or rename is
// an edit here only.
import "github.com/edr-lab/edr/detect/state"

type (
	// SharedProcesses lets the Enricher's process table hold the
	// processes other tables that see the same events started (Config).
	SharedProcesses = state.Shared

	processTable = state.ProcessTable
	process      = state.Process
	dnsCache     = state.DNSCache
)

func newProcessTable(max int, ttl int64) *processTable { return state.NewProcessTable(max, ttl) }

func newDNSCache(max int, ttl int64) *dnsCache { return state.NewDNSCache(max, ttl) }
