//go:build !unix

package enrich

func cpuTime() int64 { return 0 }
