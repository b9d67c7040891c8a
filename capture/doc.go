// Package capture is where edr's live sources belong (ETW sessions on
// Windows, NDJSON on stdin, decoders from raw ETW records to event.Event).
// None has landed yet; edr live does not exist in this build.
package capture
