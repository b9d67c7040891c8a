// Package capture is where edr's live sources belong. It holds the one
// table of ETW providers edr enables (providers.go: names, GUIDs,
// keywords, levels, event-ID filters, sessions), and the portable live
// sources of edr live: NDJSON (a file or stdin, in the JSON forms the
// importer reads) and the synthetic generator (optionally rate-limited).
// Each source is a pipeline.Source that delivers batches promptly: a live
// source never holds events back waiting for a batch to fill. Below it:
//
//   - capture/raw: the raw ETW record (header + typed property bag), the
//     UserData template parser and the fixture loader — portable;
//   - capture/decode: raw record → event.Event in Sysmon's schema (or the
//     provider's own channel), with the file/registry join state — portable;
//   - capture/enrich: what Sysmon adds to the kernel's records (DOS paths,
//     ProcessGuids, parent chain, accounts, version resources, DNS names),
//     OS lookups behind interfaces and off the hot path — portable;
//   - capture/reorder: the bounded window that restores (time, host, seq)
//     order, late events counted — portable;
//   - capture/etw: the two real-time sessions and the copy-only callback
//     (Windows only);
//   - capture/eventlog: Event Log subscriptions for the events rules expect
//     on their own channels (System 7045, Security 4688/4697/4698) — the
//     EvtSubscribe part Windows only, the event-XML parser (into winevt, as
//     the EVTX importer) portable;
//   - capture/live: edr live's stages (recording, detection with an
//     overload policy, alerts and response, status and counters).
//
// The ETW sessions and the raw-synthetic source are not wired into edr live
// yet.
package capture
