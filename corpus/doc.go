// Package corpus holds edr's sources of recorded-like telemetry that are not
// live capture: the seeded synthetic generator (corpus/synth) and the
// importers of EVTX and JSON exports (corpus/evtx, corpus/jsonl, …).
package corpus
