package sink

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// lineBufferSize is how much a lineBuffer holds before it writes.
const lineBufferSize = 64 << 10

// lines counts what became of the lines handed to a destination: written
// are whole lines that reached it, lost are lines that never will (a write
// error). Lines still buffered are in neither.
type lines struct{ written, lost int }

func (a *lines) add(b lines) { a.written += b.written; a.lost += b.lost }

// lineBuffer buffers whole lines for w and reports how many of them w took,
// so that the alert writer's Written counts lines in the file rather than
// lines handed to a buffer. After a write error it writes nothing more
// (every later line is lost), and when w is a regular file it cuts the file
// back to its last whole line, so a full disk leaves only whole lines.
type lineBuffer struct {
	w     io.Writer
	buf   []byte
	lines int   // whole lines in buf
	extra int   // lines in buf that are not alerts (a header), at its start
	err   error // sticky
}

func newLineBuffer(w io.Writer) *lineBuffer {
	return &lineBuffer{w: w, buf: make([]byte, 0, lineBufferSize)}
}

// write buffers p (whole lines) and writes the buffer out once it is full.
func (b *lineBuffer) write(p []byte) (lines, error) {
	n := bytes.Count(p, newline)
	if b.err != nil {
		return lines{lost: n}, b.err
	}
	b.buf = append(b.buf, p...)
	b.lines += n
	if len(b.buf) < lineBufferSize {
		return lines{}, nil
	}
	return b.flush()
}

var newline = []byte{'\n'}

// writeHeader buffers a header: bytes that are not counted as alert lines.
func (b *lineBuffer) writeHeader(p []byte) {
	if b.err == nil {
		b.buf = append(b.buf, p...)
		b.extra += bytes.Count(p, newline)
	}
}

// flush writes the buffered lines out.
func (b *lineBuffer) flush() (lines, error) {
	if b.err != nil || len(b.buf) == 0 {
		return lines{}, b.err
	}
	n, err := b.w.Write(b.buf)
	if err == nil && n < len(b.buf) {
		err = io.ErrShortWrite
	}
	if err == nil {
		l := lines{written: b.lines}
		b.buf, b.lines, b.extra = b.buf[:0], 0, 0
		return l, nil
	}
	n = max(0, min(n, len(b.buf)))
	whole := bytes.LastIndexByte(b.buf[:n], '\n') + 1
	l := lines{written: max(0, bytes.Count(b.buf[:whole], newline)-b.extra)}
	l.lost = b.lines - l.written
	b.err = errors.Join(err, b.cut(n-whole))
	b.buf, b.lines, b.extra = nil, 0, 0
	return l, b.err
}

// cut removes the partial bytes of a line that a failed write left at the
// end of w, when w is a regular file; else it says they are there.
func (b *lineBuffer) cut(partial int) error {
	if partial == 0 {
		return nil
	}
	f, ok := b.w.(*os.File)
	if ok {
		st, err := f.Stat()
		if err == nil && st.Mode().IsRegular() && st.Size() >= int64(partial) {
			if err = f.Truncate(st.Size() - int64(partial)); err == nil {
				return nil
			}
		}
		if err != nil {
			return fmt.Errorf("%s ends in a cut line of %d bytes (removing it: %w)", f.Name(), partial, err)
		}
	}
	return fmt.Errorf("the output ends in a cut line of %d bytes", partial)
}
