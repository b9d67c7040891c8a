//go:build race

package synth

// The race detector slows the generator about tenfold; tests that only need
// volume for statistics run smaller streams under it.
const raceScale = 4
