//go:build !unix

package bench

// maxRSS is not measured without getrusage.
func maxRSS() uint64 { return 0 }
