// Package state is the state the detection engine keeps beside the events
// — the process table, the DNS answers, their snapshots — and the Tracker
// that producers of recordings (edr generate, edr import) feed to write a
// snapshot at the start of every segment. It depends on the event schema
// only (no rule engine, no cgo), so anything that follows processes can use
// it. Everything is driven by event time: nothing reads the clock.
package state
