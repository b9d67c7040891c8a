//go:build !unix

package fsutil

// nonblock: Windows has no FIFOs in the file system namespace.
const nonblock = 0
