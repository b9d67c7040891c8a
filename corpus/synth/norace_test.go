//go:build !race

package synth

const raceScale = 1
