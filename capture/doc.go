// Package capture is where edr's live sources belong (ETW sessions on
// Windows, NDJSON on stdin, decoders from raw ETW records to event.Event).
// Landed so far: capture/enrich (Sysmon-style enrichment of decoded events)
// and capture/reorder (the bounded window that restores (time, host, seq)
// order); edr live does not exist in this build.
package capture
