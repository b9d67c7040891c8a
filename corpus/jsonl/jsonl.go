// Package jsonl reads Windows events exported as JSON into normalized
// events: evtx_dump output (and the SigmaHQ regression_data files, one or
// more pretty-printed objects), Winlogbeat/Elastic documents, NXLog lines
// as in the OTRF Security-Datasets (Mordor) and other flat exports, one
// object per line or concatenated, or a JSON array of objects; zip archives
// of such files are read member by member without unpacking.
//
// Each document is parsed in one pass by a small scanner (no maps, no
// reflection), its dialect recognized from its top-level keys, and its
// names mapped onto the System header and the event schema through
// winevt, with values normalized to the Windows XML rendering.
// A document that does not parse or is not an event is counted and named
// (file, line) and reading goes on with the next one.
package jsonl

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/winevt"
)

const (
	// DefaultMaxFailures bounds the failures named in Stats (all are counted).
	DefaultMaxFailures = 1000
	// MaxDocument bounds one JSON document.
	MaxDocument = 256 << 20
	readSize    = 1 << 20
)

// Options tune a read.
type Options struct {
	// Host overrides the partition host (default: the event's Computer).
	Host string
	// MaxFailures bounds Stats.Failures (0 means DefaultMaxFailures).
	MaxFailures int
	// OnFailure, when set, is called with every failure as it happens
	// (live sources count and log them before the read ends).
	OnFailure func(Failure)
}

// Stats describes one read.
type Stats struct {
	File      string
	Bytes     int64              // bytes of JSON read (uncompressed)
	Documents int64              // JSON documents seen
	Records   int64              // events delivered
	Failed    int64              // documents that did not parse or are not events
	NoChannel int64              // events naming no channel (kept, flagged)
	NoTime    int64              // events without a usable time (kept, time 0)
	Dialects  [numDialects]int64 // events per dialect
	Failures  []Failure
}

// Failure names a document that could not be read.
type Failure struct {
	File string
	Line int64 // line where the document starts
	Err  string
}

func (f Failure) String() string { return fmt.Sprintf("%s:%d: %s", f.File, f.Line, f.Err) }

// Add accumulates another read's counts (for archives of several members).
func (s *Stats) Add(o Stats, maxFailures int) {
	s.Bytes += o.Bytes
	s.Documents += o.Documents
	s.Records += o.Records
	s.Failed += o.Failed
	s.NoChannel += o.NoChannel
	s.NoTime += o.NoTime
	for i := range s.Dialects {
		s.Dialects[i] += o.Dialects[i]
	}
	for _, f := range o.Failures {
		if len(s.Failures) < maxFailures {
			s.Failures = append(s.Failures, f)
		}
	}
}

// Decoder reads JSON event streams; reuse one to keep its buffers. Not
// safe for concurrent use.
type Decoder struct {
	opts Options
	doc  doc
	m    mapper
	b    winevt.Builder
	ev   event.Event
	buf  []byte
	st   *Stats
}

// NewDecoder returns a decoder.
func NewDecoder(opts Options) *Decoder {
	if opts.MaxFailures == 0 {
		opts.MaxFailures = DefaultMaxFailures
	}
	d := &Decoder{opts: opts, buf: make([]byte, 0, readSize)}
	d.b.Foreign = true
	d.b.Host = opts.Host
	d.m.d, d.m.b = &d.doc, &d.b
	return d
}

// ReadFile reads a JSON file, or every JSON member of a zip archive,
// calling fn with each event (reused: fn must Clone to keep it). The error
// is non-nil when the file cannot be read or fn fails; bad documents are
// counted in Stats.
func ReadFile(path string, opts Options, fn func(*event.Event) error) (Stats, error) {
	return NewDecoder(opts).ReadFile(path, fn)
}

// Read reads one JSON stream; name is used in Stats and failures.
func Read(r io.Reader, name string, opts Options, fn func(*event.Event) error) (Stats, error) {
	return NewDecoder(opts).Read(r, name, fn)
}

// ReadFile is the method form of the package's ReadFile.
func (d *Decoder) ReadFile(p string, fn func(*event.Event) error) (Stats, error) {
	f, err := os.Open(p)
	if err != nil {
		return Stats{File: p}, err
	}
	defer f.Close()
	var magic [4]byte
	if n, _ := io.ReadFull(f, magic[:]); n == 4 && string(magic[:]) == "PK\x03\x04" {
		st, err := f.Stat()
		if err != nil {
			return Stats{File: p}, err
		}
		return d.readZip(f, st.Size(), p, fn)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return Stats{File: p}, err
	}
	return d.Read(f, p, fn)
}

// IsZip reports whether a file is a zip archive.
func IsZip(p string) bool {
	f, err := os.Open(p)
	if err != nil {
		return false
	}
	defer f.Close()
	var magic [4]byte
	n, _ := io.ReadFull(f, magic[:])
	return n == 4 && string(magic[:]) == "PK\x03\x04"
}

// ZipMembers lists the members of an archive that hold events (macOS
// resource forks and directories skipped), sorted by name.
func ZipMembers(zr *zip.Reader) []*zip.File {
	var out []*zip.File
	for _, f := range zr.File {
		name := f.Name
		if f.FileInfo().IsDir() || strings.HasPrefix(name, "__MACOSX/") || strings.HasPrefix(path.Base(name), "._") {
			continue
		}
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// ReadZip reads every JSON member of a zip archive (see ZipMembers), in
// name order, as one source.
func (d *Decoder) ReadZip(r io.ReaderAt, size int64, name string, fn func(*event.Event) error) (Stats, error) {
	return d.readZip(r, size, name, fn)
}

func (d *Decoder) readZip(r io.ReaderAt, size int64, name string, fn func(*event.Event) error) (Stats, error) {
	total := Stats{File: name}
	zr, err := zip.NewReader(r, size)
	if err != nil {
		return total, fmt.Errorf("%s: %w", name, err)
	}
	for _, f := range ZipMembers(zr) {
		member := name + ":" + f.Name
		rc, err := f.Open()
		if err != nil {
			total.Failed++
			total.Failures = append(total.Failures, Failure{File: member, Err: err.Error()})
			continue
		}
		st, err := d.Read(rc, member, fn)
		rc.Close()
		total.Add(st, d.opts.MaxFailures)
		if err != nil {
			var rerr *readError
			if !errors.As(err, &rerr) {
				return total, err // fn failed
			}
			// A damaged member (bad deflate data, checksum): keep what was
			// read and name the rest.
			total.Failed++
			total.Failures = append(total.Failures, Failure{File: member, Line: rerr.line, Err: rerr.Error()})
		}
	}
	return total, nil
}

// readError is an error of the underlying reader (not of a document).
type readError struct {
	line int64
	err  error
}

func (e *readError) Error() string { return e.err.Error() }
func (e *readError) Unwrap() error { return e.err }

func (d *Decoder) fail(line int64, err string) {
	d.st.Failed++
	f := Failure{File: d.st.File, Line: line, Err: err}
	if len(d.st.Failures) < d.opts.MaxFailures {
		d.st.Failures = append(d.st.Failures, f)
	}
	if d.opts.OnFailure != nil {
		d.opts.OnFailure(f)
	}
}

// Read is the method form of the package's Read.
func (d *Decoder) Read(r io.Reader, name string, fn func(*event.Event) error) (Stats, error) {
	st := Stats{File: name}
	d.st = &st
	defer func() { d.st = nil }()
	buf := d.buf[:0]
	pos := 0
	line := int64(1)
	eof := false
	inArray, started := false, false
	var rerr error
	fill := func() {
		if pos > 0 {
			n := copy(buf, buf[pos:])
			buf = buf[:n]
			pos = 0
		}
		if len(buf) == cap(buf) {
			if cap(buf) >= MaxDocument {
				return
			}
			nb := make([]byte, len(buf), 2*cap(buf))
			copy(nb, buf)
			buf = nb
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		st.Bytes += int64(n)
		if err != nil {
			eof = true
			if !errors.Is(err, io.EOF) {
				rerr = err
			}
		}
	}
	defer func() { d.buf = buf[:0] }()
	for {
		i := skipWS(buf, pos)
		line += int64(bytes.Count(buf[pos:i], nl))
		pos = i
		if i >= len(buf) {
			if eof {
				break
			}
			fill()
			continue
		}
		// A stream may be one JSON array of documents.
		if !started {
			started = true
			if buf[i] == '[' {
				inArray = true
				pos = i + 1
				continue
			}
		}
		if inArray && (buf[i] == ',' || buf[i] == ']') {
			pos = i + 1
			continue
		}
		d.doc.reset(buf)
		end, err := d.doc.parse(i)
		if errors.Is(err, errIncomplete) && !eof && (pos > 0 || len(buf) < cap(buf) || cap(buf) < MaxDocument) {
			fill()
			continue
		}
		st.Documents++
		if err != nil {
			if errors.Is(err, errIncomplete) {
				err = fmt.Errorf("incomplete JSON document (%d bytes to the end of the input)", len(buf)-i)
			}
			d.fail(line, err.Error())
			pos = d.resync(buf, i)
			line += int64(bytes.Count(buf[i:pos], nl))
			continue
		}
		if err := d.deliver(line, fn); err != nil {
			return st, err
		}
		line += int64(bytes.Count(buf[i:end], nl))
		pos = end
		if inArray {
			continue
		}
		// Anything but whitespace after a document on its line is damage.
		if j := skipSpaceTab(buf, pos); j < len(buf) && buf[j] != '\n' && buf[j] != '\r' && buf[j] != '{' {
			d.fail(line, fmt.Sprintf("unexpected %q after the document", buf[j]))
			pos = d.resync(buf, j)
			line += int64(bytes.Count(buf[j:pos], nl))
		}
	}
	if rerr != nil {
		return st, &readError{line: line, err: fmt.Errorf("%s: %w", name, rerr)}
	}
	return st, nil
}

var nl = []byte{'\n'}

func skipSpaceTab(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t') {
		i++
	}
	return i
}

// resync skips a bad document: to the next line that starts with '{'.
func (d *Decoder) resync(buf []byte, i int) int {
	for {
		j := bytes.IndexByte(buf[i:], '\n')
		if j < 0 {
			return len(buf)
		}
		i += j + 1
		if i < len(buf) && buf[i] == '{' {
			return i
		}
	}
}

// deliver maps the parsed document and hands the event to fn.
func (d *Decoder) deliver(line int64, fn func(*event.Event) error) error {
	b := &d.b
	b.Reset(&d.ev, event.SourceJSON)
	dia := d.m.event()
	e := &d.ev
	if e.EventID == 0 && e.Channel == "" && e.Provider == "" {
		d.fail(line, "not a Windows event: no EventID, Channel or Provider")
		return nil
	}
	b.Finish()
	st := d.st
	if !b.HasTime() {
		st.NoTime++
	}
	st.Records++
	st.Dialects[dia]++
	if e.Flags&event.FlagNoChannel != 0 {
		st.NoChannel++
	}
	return fn(e)
}
