// Package evtx reads Windows EVTX files into normalized events.
//
// It has its own BinXML decoder: templates are parsed once per chunk and
// cached, values are rendered exactly as Windows renders them in event XML
// (HexInt32/64 and SizeT as "0x…", GUIDs "{lower-case}", SIDs, FILETIME and
// SYSTEMTIME as ISO-8601, signed integers, booleans "true"/"false"), CDATA,
// character and entity references are kept, and records stored without a
// template instance are decoded like any other. EventData and UserData are
// flattened into one namespace (see winevt).
//
// Damaged files are read as far as they can be: a chunk with a bad magic, a
// record that fails to decode or a checksum mismatch is counted and named in
// Stats, and reading continues with the next record or chunk. A chunk whose
// magic alone is damaged (its header checksum matches with the magic
// restored, or its header is well-formed) is read as a chunk and counted in
// Stats.DamagedMagic.
package evtx

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"

	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/winevt"
)

const (
	fileHeaderSize = 4096
	chunkSize      = 0x10000
	recordHeaderSz = 24
	// DefaultMaxFailures bounds the failures named in Stats (all are counted).
	DefaultMaxFailures = 1000
)

var (
	fileMagic   = []byte("ElfFile\x00")
	chunkMagic  = []byte("ElfChnk\x00")
	recordMagic = []byte{0x2a, 0x2a, 0x00, 0x00}
)

// ErrNotEVTX is returned when a file has neither an EVTX file header nor a
// chunk where the first one belongs.
var ErrNotEVTX = errors.New("not an EVTX file")

// Options tune a read.
type Options struct {
	// Host overrides the partition host (default: the event's Computer).
	Host string
	// MaxFailures bounds Stats.Failures (0 means DefaultMaxFailures).
	MaxFailures int
}

// Stats describes one read. Records + Failed is every record the file
// holds that could be located; Failures names the failed ones.
type Stats struct {
	File           string
	Bytes          int64 // file size
	Chunks         int   // chunks with a valid header magic (or a repaired one, see DamagedMagic)
	DamagedMagic   int   // of Chunks: chunks whose magic was damaged but whose header validated; read as chunks, and noted
	EmptyChunks    int   // unused (all-zero) chunk slots
	BadChunks      int   // chunk slots that are neither valid nor empty
	Records        int64 // records decoded and delivered
	Recovered      int64 // of Records: found by scanning past damage in a chunk
	OutOfRange     int64 // of Records: outside their chunk header's record range, confirmed by their EventRecordID
	Stale          int64 // of Failed: decoded, but their EventRecordID contradicts the record header (wrong templates)
	Failed         int64 // records that could not be decoded
	NoTemplate     int64 // records stored without a template instance (decoded)
	NoChannel      int64 // records naming no channel (kept, flagged)
	ChecksumErrors int   // header or record-area CRC mismatches (records still decoded)
	BadValues      int64 // values whose bytes did not fit their type (rendered from the bytes present)
	Failures       []Failure
	Notes          []string // file-level observations (dirty flag, bad header checksum, …)
}

// Failure names a record or chunk that could not be read.
type Failure struct {
	File     string
	Chunk    int    // chunk index in the file
	Offset   int64  // file offset of the record (or chunk)
	RecordID uint64 // 0 when unknown
	Err      string
}

func (f Failure) String() string {
	if f.RecordID != 0 {
		return fmt.Sprintf("%s: chunk %d, record %d (offset %#x): %s", f.File, f.Chunk, f.RecordID, f.Offset, f.Err)
	}
	return fmt.Sprintf("%s: chunk %d (offset %#x): %s", f.File, f.Chunk, f.Offset, f.Err)
}

// ReadFile reads every record of an EVTX file, calling fn with each event in
// file order. The event is reused: fn must Clone it to keep it. The error is
// non-nil when the file cannot be read at all or fn fails; damaged records
// are counted in Stats instead.
func ReadFile(path string, fn func(*event.Event) error) (Stats, error) {
	return ReadFileOptions(path, Options{}, fn)
}

// ReadAll reads a whole file into independent events (for small files:
// tests, regression samples). Damaged records are in Stats as with ReadFile.
func ReadAll(path string) ([]*event.Event, Stats, error) {
	var out []*event.Event
	st, err := ReadFile(path, func(e *event.Event) error {
		out = append(out, e.Clone())
		return nil
	})
	return out, st, err
}

// ReadFileOptions is ReadFile with options.
func ReadFileOptions(path string, opts Options, fn func(*event.Event) error) (Stats, error) {
	f, err := os.Open(path)
	if err != nil {
		return Stats{File: path}, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return Stats{File: path}, err
	}
	return Read(f, st.Size(), path, opts, fn)
}

// Read is ReadFile over any io.ReaderAt of the given size; name is used in
// Stats and failures.
func Read(r io.ReaderAt, size int64, name string, opts Options, fn func(*event.Event) error) (Stats, error) {
	d := NewDecoder(opts)
	return d.Read(r, size, name, fn)
}

// Decoder reads EVTX files; reuse one to keep its buffers. Not safe for
// concurrent use.
type Decoder struct {
	opts  Options
	p     parser
	w     walker
	b     winevt.Builder
	ev    event.Event
	chunk []byte
	top   []piece
	st    *Stats
}

// NewDecoder returns a decoder.
func NewDecoder(opts Options) *Decoder {
	if opts.MaxFailures == 0 {
		opts.MaxFailures = DefaultMaxFailures
	}
	d := &Decoder{opts: opts, chunk: make([]byte, chunkSize)}
	d.b.Host = opts.Host
	d.w.p, d.w.b = &d.p, &d.b
	return d
}

// Read reads one file (see the package function Read).
func (d *Decoder) Read(r io.ReaderAt, size int64, name string, fn func(*event.Event) error) (Stats, error) {
	st := Stats{File: name, Bytes: size}
	d.st = &st
	defer func() { d.st = nil }()
	hdr := make([]byte, fileHeaderSize)
	n, err := r.ReadAt(hdr, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return st, fmt.Errorf("%s: reading file header: %w", name, err)
	}
	hdr = hdr[:n]
	if !bytes.HasPrefix(hdr, fileMagic) {
		// A damaged file header does not hide intact chunks.
		probe := make([]byte, len(chunkMagic))
		if _, err := r.ReadAt(probe, fileHeaderSize); err != nil || !bytes.Equal(probe, chunkMagic) {
			return st, fmt.Errorf("%s: %w (no file header magic, no chunk at %#x)", name, ErrNotEVTX, fileHeaderSize)
		}
		st.Notes = append(st.Notes, "file header magic missing; chunks read anyway")
	} else {
		d.checkFileHeader(hdr, &st)
	}
	for idx, off := 0, int64(fileHeaderSize); off < size; idx, off = idx+1, off+chunkSize {
		n, err := r.ReadAt(d.chunk, off)
		if err != nil && !errors.Is(err, io.EOF) {
			return st, fmt.Errorf("%s: reading chunk %d: %w", name, idx, err)
		}
		if err := d.readChunk(d.chunk[:n], idx, off, fn); err != nil {
			return st, err
		}
	}
	return st, nil
}

func (d *Decoder) checkFileHeader(hdr []byte, st *Stats) {
	if len(hdr) < 128 {
		st.Notes = append(st.Notes, "file header truncated")
		return
	}
	if crc32.ChecksumIEEE(hdr[:120]) != binary.LittleEndian.Uint32(hdr[124:]) {
		st.ChecksumErrors++
		st.Notes = append(st.Notes, "file header checksum mismatch")
	}
	if flags := binary.LittleEndian.Uint32(hdr[120:]); flags&1 != 0 {
		st.Notes = append(st.Notes, "file marked dirty (not closed cleanly): every chunk slot is scanned")
	}
}

func (d *Decoder) fail(f Failure) {
	d.st.Failed++
	if len(d.st.Failures) < d.opts.MaxFailures {
		f.File = d.st.File
		d.st.Failures = append(d.st.Failures, f)
	}
}

// readChunk decodes the records of one chunk slot.
func (d *Decoder) readChunk(c []byte, idx int, off int64, fn func(*event.Event) error) error {
	st := d.st
	if len(c) < chunkHeaderSz || !bytes.Equal(c[:8], chunkMagic) && !d.damagedMagic(c, idx, off) {
		d.badChunk(c, idx, off)
		return nil
	}
	st.Chunks++
	if len(c) < chunkSize {
		st.Notes = append(st.Notes, fmt.Sprintf("chunk %d truncated to %d bytes", idx, len(c)))
	}
	hcrc := crc32.NewIEEE()
	hcrc.Write(c[:120])
	hcrc.Write(c[128:chunkHeaderSz])
	if hcrc.Sum32() != binary.LittleEndian.Uint32(c[124:]) {
		st.ChecksumErrors++
	}
	free := int(binary.LittleEndian.Uint32(c[48:]))
	if free < chunkHeaderSz || free > len(c) {
		free = len(c)
	} else if crc32.ChecksumIEEE(c[chunkHeaderSz:free]) != binary.LittleEndian.Uint32(c[52:]) {
		st.ChecksumErrors++
	}
	w := chunkWalk{d: d, c: c, idx: idx, off: off, free: free,
		first: binary.LittleEndian.Uint64(c[24:]), last: binary.LittleEndian.Uint64(c[32:])}
	d.p.reset(c)
	return w.run(fn)
}

// chunkWalk walks the records of one chunk. Records follow each other by
// their sizes; after damage (a bad header, or a size that disagrees with its
// trailing copy) the walk scans for the next record header, and what it
// finds from there on is counted as Recovered: a reader that stops at the
// first bad record of a chunk does not see it.
type chunkWalk struct {
	d           *Decoder
	c           []byte
	idx         int
	off         int64
	free        int
	first, last uint64
	scanning    bool // past damage: found records count as recovered
}

func (w *chunkWalk) run(fn func(*event.Event) error) error {
	c, pos := w.c, chunkHeaderSz
	for pos+recordHeaderSz <= w.free {
		size, trailerOK, err := recordAt(c, pos, w.free)
		if err != nil {
			if bytes.Equal(c[pos:pos+4], recordMagic) {
				w.fail(pos, binary.LittleEndian.Uint64(c[pos+8:]), err.Error())
			} else if !w.scanning {
				w.fail(pos, 0, "no record where the previous one ends ("+err.Error()+"); scanning for the next")
			}
			if pos = w.resync(pos + 1); pos < 0 {
				return nil
			}
			continue
		}
		if err := w.record(pos, size, trailerOK, fn); err != nil {
			return err
		}
		next := pos + size
		if !trailerOK {
			// The size is not to be trusted: find where the next record starts.
			next = w.resync(pos + 4)
		}
		if next < 0 {
			return nil
		}
		pos = next
	}
	return nil
}

func (w *chunkWalk) resync(pos int) int {
	w.scanning = true
	return resync(w.c, pos, w.free)
}

func (w *chunkWalk) fail(pos int, rid uint64, msg string) {
	w.d.fail(Failure{Chunk: w.idx, Offset: w.off + int64(pos), RecordID: rid, Err: msg})
}

// record decodes one record. A record outside the chunk header's record
// range (a dirty or recovered chunk slot can hold records of another
// generation of the chunk) is kept only when its own EventRecordID confirms
// it was decoded with the right templates.
func (w *chunkWalk) record(pos, size int, trailerOK bool, fn func(*event.Event) error) error {
	d, c := w.d, w.c
	rid := binary.LittleEndian.Uint64(c[pos+8:])
	inRange := w.first > w.last || (rid >= w.first && rid <= w.last)
	err := d.decode(c, pos, size)
	switch {
	case err != nil:
		msg := err.Error()
		if !trailerOK {
			msg += fmt.Sprintf(" (record size %d disagrees with its trailing copy)", size)
		}
		if !inRange {
			msg += fmt.Sprintf(" (outside the chunk's record range %d-%d)", w.first, w.last)
		}
		w.fail(pos, rid, msg)
		return nil
	case !inRange && d.ev.RecordID != rid:
		// Windows writes the record number twice (forwarded and exported
		// events keep their original EventRecordID, so this holds only for
		// records outside the chunk's range); when they disagree the record
		// was decoded with templates that are not its own (a stale record of
		// another chunk generation), so its fields are invented.
		d.st.Stale++
		w.fail(pos, rid, fmt.Sprintf("stale record: its EventRecordID reads %d (chunk record range %d-%d)", d.ev.RecordID, w.first, w.last))
		return nil
	}
	st := d.st
	st.Records++
	if w.scanning {
		st.Recovered++
	}
	if !inRange {
		st.OutOfRange++
	}
	st.BadValues += int64(d.w.badValues)
	if d.ev.Flags&event.FlagNoTemplate != 0 {
		st.NoTemplate++
	}
	if d.ev.Flags&event.FlagNoChannel != 0 {
		st.NoChannel++
	}
	return fn(&d.ev)
}

// damagedMagic decides whether a chunk slot whose magic is wrong is a chunk
// all the same: either its header checksum (which covers the magic) matches
// once the magic is put right, so nothing else in the header changed; or,
// when the checksum was damaged too, its header has a chunk's structure
// (header size 128, first and last record numbers in order, free-space and
// last-record offsets inside the slot) and a record header where the first
// record belongs. Such a chunk is read (its magic repaired in the buffer,
// which the Decoder owns), counted in DamagedMagic and noted; anything else
// stays a bad chunk. A flipped byte in the magic would otherwise lose every
// record of the chunk, although its templates and names are intact.
func (d *Decoder) damagedMagic(c []byte, idx int, off int64) bool {
	if allZero(c) {
		return false
	}
	hcrc := crc32.NewIEEE()
	hcrc.Write(chunkMagic)
	hcrc.Write(c[len(chunkMagic):120])
	hcrc.Write(c[128:chunkHeaderSz])
	how := "its header checksum matches once the magic is restored"
	if hcrc.Sum32() != binary.LittleEndian.Uint32(c[124:]) {
		le := binary.LittleEndian
		free, lastRec := int(le.Uint32(c[48:])), int(le.Uint32(c[44:]))
		if le.Uint32(c[40:]) != 128 || le.Uint64(c[8:]) > le.Uint64(c[16:]) || le.Uint64(c[24:]) > le.Uint64(c[32:]) ||
			free < chunkHeaderSz+recordHeaderSz || free > len(c) || lastRec < chunkHeaderSz || lastRec >= free ||
			!bytes.Equal(c[chunkHeaderSz:chunkHeaderSz+4], recordMagic) {
			return false
		}
		how = "its header checksum is damaged too, but the header is well-formed and a record follows it"
	}
	d.st.DamagedMagic++
	d.st.Notes = append(d.st.Notes, fmt.Sprintf("chunk %d (offset %#x): chunk magic damaged (%q); %s: read", idx, off, c[:len(chunkMagic)], how))
	copy(c, chunkMagic)
	return true
}

// badChunk accounts for a chunk slot without a valid header: all zeros is
// an unused slot; otherwise every record header still visible in it is a
// failed record (its templates and names went with the chunk header).
func (d *Decoder) badChunk(c []byte, idx int, off int64) {
	st := d.st
	if allZero(c) {
		st.EmptyChunks++
		return
	}
	st.BadChunks++
	reason := "bad chunk magic"
	if len(c) < chunkHeaderSz {
		reason = fmt.Sprintf("truncated chunk (%d bytes)", len(c))
	}
	found := 0
	for pos := resync(c, 0, len(c)); pos >= 0; pos = resync(c, pos+recordHeaderSz, len(c)) {
		found++
		size := int(binary.LittleEndian.Uint32(c[pos+4:]))
		d.fail(Failure{Chunk: idx, Offset: off + int64(pos), RecordID: binary.LittleEndian.Uint64(c[pos+8:]),
			Err: reason + ": record header found in the chunk slot, not decodable without the chunk header"})
		if size > recordHeaderSz {
			pos += size - recordHeaderSz
		}
	}
	if found == 0 {
		st.Notes = append(st.Notes, fmt.Sprintf("chunk %d (offset %#x): %s, no record headers in it", idx, off, reason))
	}
}

// recordAt validates the record header at pos and returns the record size
// and whether the trailing size copy agrees (a mismatch is tolerated: the
// record is decoded all the same).
func recordAt(c []byte, pos, limit int) (int, bool, error) {
	if !bytes.Equal(c[pos:pos+4], recordMagic) {
		return 0, false, errors.New("bad record magic")
	}
	size := int(binary.LittleEndian.Uint32(c[pos+4:]))
	if size < recordHeaderSz+4 || pos+size > limit {
		return 0, false, fmt.Errorf("invalid record size %d", size)
	}
	return size, binary.LittleEndian.Uint32(c[pos+size-4:]) == uint32(size), nil
}

// resync finds the next plausible record header (magic, size in bounds and
// matching its trailing copy) at or after pos, or -1.
func resync(c []byte, pos, limit int) int {
	for pos >= 0 && pos+recordHeaderSz <= limit {
		i := bytes.Index(c[pos:limit], recordMagic)
		if i < 0 {
			return -1
		}
		pos += i
		if pos+recordHeaderSz > limit {
			return -1
		}
		if _, ok, err := recordAt(c, pos, limit); err == nil && ok {
			return pos
		}
		pos++
	}
	return -1
}

// decode parses one record's BinXML into d.ev.
func (d *Decoder) decode(c []byte, pos, size int) error {
	p := &d.p
	p.pos, p.end, p.depth = pos+recordHeaderSz, pos+size-4, 0
	p.vals = p.vals[:0]
	var err error
	d.top, err = p.fragment(d.top[:0])
	if err == nil && len(d.top) == 0 {
		err = errors.New("record holds no BinXML")
	}
	if err != nil {
		return err
	}
	b := &d.b
	b.Reset(&d.ev, event.SourceEVTX)
	if ns, ok := fileTimeNanos(binary.LittleEndian.Uint64(c[pos+16:])); ok {
		b.SetFallbackTime(ns)
	}
	d.w.badValues = 0
	if err := d.w.decodeRecord(d.top); err != nil {
		return err
	}
	b.Finish()
	if d.ev.RecordID == 0 { // no EventRecordID in the System part
		d.ev.RecordID = binary.LittleEndian.Uint64(c[pos+8:])
	}
	if !usesTemplate(d.top) {
		d.ev.Flags |= event.FlagNoTemplate
	}
	return nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
