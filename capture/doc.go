// Package capture holds edr's live sources: NDJSON (a file or stdin, in the
// JSON forms the importer reads) and the synthetic generator (optionally
// rate-limited) on every OS; ETW sessions and the raw-record decoders
// belong here too (Windows, not built yet). Each source is a
// pipeline.Source that delivers batches promptly: a live source never
// holds events back waiting for a batch to fill.
//
// capture/live runs a source through the live stages: recording, detection
// with an overload policy, alerts and response, with status and counters.
package capture
