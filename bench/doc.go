// Package bench is where `edr bench` (per-stage and per-rule cost over
// recordings or a generated corpus) belongs. It has not landed yet; the
// package benchmarks run with `make bench` (go test -bench).
package bench
