// Package bench is `edr bench`: it runs replay's pipeline over generated
// events or recordings with the stage observer on, measures the
// decode-only and decode + state ceilings over the same input in the same
// process, and reports events/s, ns/event, busy-time share and
// allocations per stage, peak RSS and the costliest Sigma rules, as text,
// JSON (comparable against a baseline, with a regression gate) and a
// self-contained HTML page. Micro-benchmarks live beside the code they
// measure (`make bench`).
package bench
