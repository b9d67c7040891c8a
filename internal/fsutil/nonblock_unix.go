//go:build unix

package fsutil

import "syscall"

// nonblock makes an open of a FIFO return at once instead of waiting for
// a peer; on a regular file it changes nothing.
const nonblock = syscall.O_NONBLOCK
