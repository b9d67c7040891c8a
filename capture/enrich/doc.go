// Package enrich fills the fields of events decoded from kernel ETW records
// that Sysmon computes and the kernel does not report: DOS paths for NT
// device paths, ProcessGuids derived from machine + PID + start time, parent
// fields from the process table (seeded from the rundown of processes
// already running), account names for SIDs, version-resource fields for
// process creations and image loads, and destination host names from DNS
// answers.
//
// OS lookups sit behind small interfaces (VolumeMap, AccountLookup,
// PEReader) with Windows implementations in *_windows.go and fakes in the
// tests; the slow ones run on resolver goroutines behind bounded caches and
// queues, so Enrich never waits for the OS. Everything it could not do is
// counted in Stats.
package enrich
