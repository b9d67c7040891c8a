//go:build race

package ioc

// raceEnabled shortens tests whose cost is regex runs, ~10x slower under -race.
const raceEnabled = true
