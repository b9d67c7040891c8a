package synth

import "unsafe"

// arena hands out strings carved from large byte chunks, so that the
// strings every event needs (UtcTime, generated paths) do not cost an
// allocation each. A chunk is never written again once a string points into
// it, so the strings are as immutable as any Go string; a chunk lives as
// long as any of its strings does (no more memory than separate strings).
type arena struct {
	buf []byte
}

const arenaChunk = 32 << 10

func (a *arena) string(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if len(b) > cap(a.buf)-len(a.buf) {
		if len(b) > arenaChunk/4 {
			return string(b)
		}
		a.buf = make([]byte, 0, arenaChunk)
	}
	off := len(a.buf)
	a.buf = append(a.buf, b...)
	return unsafe.String(&a.buf[off], len(b))
}
