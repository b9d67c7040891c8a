// Package wal is the write-ahead log of an open recording segment: a file of
// length-prefixed, checksummed, compressed records, each record a batch of
// typed entries. A crash can tear the last record, and damage can hit any
// byte. Read stops at the first record that is incomplete or fails its
// checksum and reports where, so the caller recovers exactly the prefix that
// reached the file; Scan can also resynchronise past a damaged record on
// the next intact one the caller accepts (Options.Resync) and reports
// every range it could not read (Result.Gaps).
//
// File layout (version 2, written since S2 replaced zstd):
//
//	magic "EDRWAL2\n"
//	record*: u32 LE payload length | u32 LE CRC-32C of payload | payload
//	payload: "\xedWAL" | codec byte | body; codec 1: body is one S2 block
//	         (github.com/klauspost/compress/s2); decompressed, a sequence
//	         of entries
//	entry:   kind byte | u32 LE body length | body
//
// Version 1 files (magic "EDRWAL1\n", each payload one zstd frame) are
// still read: a WAL left by a crash of an older edr recovers. Each payload
// says its own format (the zstd frame magic or the version 2 marker), so a
// file whose magic is damaged reads the same way.
package wal

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"slices"
	"sync"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
)

// Magic starts every WAL file written now; MagicV1 starts the files of
// older writers (zstd records), which Read still accepts.
const (
	Magic   = "EDRWAL2\n"
	MagicV1 = "EDRWAL1\n"
)

// MaxRecord bounds one record (compressed and decompressed) so that a corrupt
// length cannot make Read allocate without limit.
const MaxRecord = 64 << 20

const recordHeader = 8

// recordMarker starts every version 2 payload, then the codec byte. The
// resynchronising scan looks for it (as it looks for zstd's frame magic in
// version 1 files), 8 bytes into a candidate record.
var recordMarker = []byte{0xed, 'W', 'A', 'L'}

// codecS2 is the only codec version 2 writes. S2 instead of zstd: on the
// WAL batches of a live recording, S2's block encoder took ~0.4x the CPU
// of zstd's fastest level without entropy coding, for a ~1.3x larger log
// (which lives only until its segment closes); see BenchmarkWrite.
const codecS2 = 1

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

var (
	// ErrBadMagic means the file is not a WAL.
	ErrBadMagic = errors.New("wal: bad magic")
	// ErrTorn means the file ends inside a record or a record fails its
	// checksum: the tail after the last good record is lost.
	ErrTorn = errors.New("wal: torn or corrupt record")
)

var (
	encOnce sync.Once
	encoder *zstd.Encoder
	decOnce sync.Once
	decoder *zstd.Decoder
)

// encV1 is the version 1 writer's zstd setup (fastest level without
// entropy coding); only tests write version 1 files now.
func encV1() *zstd.Encoder {
	encOnce.Do(func() {
		encoder, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1), zstd.WithNoEntropyCompression(true))
	})
	return encoder
}

func dec() *zstd.Decoder {
	decOnce.Do(func() {
		decoder, _ = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(MaxRecord))
	})
	return decoder
}

// Batch accumulates entries for one record.
type Batch struct {
	buf []byte
	n   int
}

const entryHeader = 5

// Append adds one entry.
func (b *Batch) Append(kind byte, body []byte) {
	b.buf = append(b.buf, kind)
	b.buf = binary.LittleEndian.AppendUint32(b.buf, uint32(len(body)))
	b.buf = append(b.buf, body...)
	b.n++
}

// AppendFunc adds one entry whose body fn appends to dst, without copying
// the body. It returns the body, valid until the batch changes.
func (b *Batch) AppendFunc(kind byte, fn func(dst []byte) []byte) []byte {
	at := len(b.buf)
	b.buf = append(b.buf, kind, 0, 0, 0, 0)
	b.buf = fn(b.buf)
	binary.LittleEndian.PutUint32(b.buf[at+1:], uint32(len(b.buf)-at-entryHeader))
	b.n++
	return b.buf[at+entryHeader:]
}

// Len is the number of entries; Size the uncompressed bytes.
func (b *Batch) Len() int  { return b.n }
func (b *Batch) Size() int { return len(b.buf) }

// Reset empties the batch.
func (b *Batch) Reset() { b.buf, b.n = b.buf[:0], 0 }

// Writer appends records to a WAL file.
type Writer struct {
	f     *os.File
	fsync bool
	v1    bool // write version 1 (zstd) records: tests of the old format
	size  int64
}

// outBufs holds the buffers records are compressed into between writes.
// A recording has a WAL per open segment and raw segment (8 in edr live's
// 4-host benchmark), all written by one flusher goroutine: a buffer per
// Writer kept 8 compressed-record buffers of up to a batch each alive,
// where the pool keeps about one per writing goroutine.
var outBufs sync.Pool

// maxPooledOut bounds the buffers outBufs keeps (the recorder's batches
// are at most 256 KiB before compression).
const maxPooledOut = 4 << 20

// Create makes a new WAL file (it must not exist).
func Create(path string, fsync bool) (*Writer, error) {
	return create(path, fsync, false)
}

func create(path string, fsync, v1 bool) (*Writer, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	w := &Writer{f: f, fsync: fsync, v1: v1}
	magic := Magic
	if v1 {
		magic = MagicV1
	}
	if _, err := f.WriteString(magic); err != nil {
		f.Close()
		return nil, fmt.Errorf("wal %s: %w", path, err)
	}
	w.size = int64(len(magic))
	return w, nil
}

// Write compresses the batch into one record and writes it (one write
// call), then fsyncs when the writer was created with fsync. An empty batch
// writes nothing.
func (w *Writer) Write(b *Batch) error {
	if b.n == 0 {
		return nil
	}
	if len(b.buf) > MaxRecord {
		return fmt.Errorf("wal %s: record of %d bytes exceeds %d", w.f.Name(), len(b.buf), MaxRecord)
	}
	bp, _ := outBufs.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	out := w.encode(*bp, b.buf)
	defer func() {
		if cap(out) <= maxPooledOut { // one huge record's buffer is not kept
			*bp = out[:0]
			outBufs.Put(bp)
		}
	}()
	payload := out[recordHeader:]
	if len(payload) > MaxRecord {
		// Incompressible entries grow a little: a record Read would refuse
		// must not be written (and acknowledged) at all.
		return fmt.Errorf("wal %s: record of %d bytes compresses to %d, over %d", w.f.Name(), len(b.buf), len(payload), MaxRecord)
	}
	binary.LittleEndian.PutUint32(out[0:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(out[4:], crc32.Checksum(payload, castagnoli))
	if _, err := w.f.Write(out); err != nil {
		return fmt.Errorf("wal %s: %w", w.f.Name(), err)
	}
	w.size += int64(len(out))
	if w.fsync {
		if err := w.f.Sync(); err != nil {
			return fmt.Errorf("wal %s: fsync: %w", w.f.Name(), err)
		}
	}
	return nil
}

// encode returns the record of plain, in out's storage when it is large
// enough, with its header still to be filled.
func (w *Writer) encode(out, plain []byte) []byte {
	if w.v1 {
		out = append(out[:0], make([]byte, recordHeader)...)
		return encV1().EncodeAll(plain, out)
	}
	const prefix = recordHeader + 5 // header, marker, codec
	if n := prefix + s2.MaxEncodedLen(len(plain)); cap(out) < n {
		out = make([]byte, n)
	}
	out = out[:cap(out)]
	copy(out[recordHeader:], recordMarker)
	out[recordHeader+4] = codecS2
	body := s2.Encode(out[prefix:], plain)
	return out[:prefix+len(body)]
}

// Size is the number of bytes written to the file so far.
func (w *Writer) Size() int64 { return w.size }

// Name is the file's path.
func (w *Writer) Name() string { return w.f.Name() }

// Close closes the file (it does not remove it).
func (w *Writer) Close() error { return w.f.Close() }

// Sync flushes the file to stable storage.
func (w *Writer) Sync() error { return w.f.Sync() }

// Result says how much of a WAL was read.
type Result struct {
	Records int   // good records (before and after damaged ranges)
	Entries int   // entries in good records
	Good    int64 // bytes up to the end of the last good record before the first damaged one (0 when not a WAL)
	Size    int64 // bytes in the file
	Tail    error // nil when every byte was read; else why the first damaged range was not (wraps ErrTorn)
	// MagicDamaged: the first 8 bytes are not the magic, but a record
	// after them passed its checksum, so the file was read as a WAL.
	MagicDamaged bool
	// Gaps are the byte ranges not read, in file order: each damaged range
	// after which Options.Resync accepted an intact record and, last, a
	// damaged or cut rest of the file that no accepted record follows. The
	// magic, the records read and the gaps make up the whole file.
	Gaps []Gap
	// Resynced counts the records read after the first gap.
	Resynced int
}

// Gap is a range [From, To) of a WAL's bytes that was not read, and why
// (wraps ErrTorn). Records is how many records were read before it; ToEnd:
// none was read after it.
type Gap struct {
	From, To int64
	Reason   error
	Records  int
	ToEnd    bool
}

// Options tune Scan.
type Options struct {
	// Resync, when not nil, makes Scan look past a damaged record for the
	// next intact one: a frame whose length fits in the file, whose
	// payload passes its CRC-32C, is one zstd frame and decompresses to
	// well-formed entries. Resync is given the damaged range it would
	// close (To is where the record starts) and the record, and says
	// whether the record can be read without the records before it (the
	// caller's entries must say so: a record does not carry the state
	// earlier entries set up); when it says no, the search goes on after
	// it. A record it accepts is delivered next, and the ones that
	// follow it are read in order again. Without Resync, Scan stops at the
	// first damaged record.
	Resync func(Gap, Record) bool
}

// Record is the decompressed entries of one intact record.
type Record []byte

// Entries calls fn for each entry of the record, in order.
func (r Record) Entries(fn func(kind byte, body []byte) error) error {
	_, err := splitEntries(r, fn)
	return err
}

// IsPartialHeader reports whether b, a whole file, is provably what a
// crash while creating a WAL leaves: shorter than the magic and either a
// prefix of it or all zero bytes (a file system that extended the file but
// never got the data). Nothing was logged in such a file.
func IsPartialHeader(b []byte) bool {
	if len(b) >= len(Magic) {
		return false
	}
	if string(b) == Magic[:len(b)] || string(b) == MagicV1[:len(b)] {
		return true
	}
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// Read is Scan without resynchronisation: it stops at the first damaged
// record. Read calls fn for every entry of every good record, in order.
// r is read from its current position; when it is not an io.ReaderAt with
// a size (a file, a bytes.Reader) it is read into memory first.
func Read(r io.Reader, fn func(kind byte, body []byte) error) (Result, error) {
	ra, size, err := sizedReaderAt(r)
	if err != nil {
		return Result{}, err
	}
	return Scan(ra, size, Options{}, fn)
}

func sizedReaderAt(r io.Reader) (io.ReaderAt, int64, error) {
	switch v := r.(type) {
	case *bytes.Reader:
		return v, v.Size(), nil
	case *os.File:
		st, err := v.Stat()
		if err != nil {
			return nil, 0, err
		}
		return v, st.Size(), nil
	}
	b, err := io.ReadAll(r)
	return bytes.NewReader(b), int64(len(b)), err
}

// Scan calls fn for every entry of every good record of the WAL in r (size
// bytes), in order. The body passed to fn is only valid during the call.
// Damaged or cut bytes are not an error: Scan reports them in Result.Gaps
// and Result.Tail. Errors returned are ErrBadMagic, read errors, and errors
// from fn.
//
// A damaged magic alone does not make the file unreadable: when a record
// after it passes its CRC-32C check, the file is a WAL and is read
// (Result.MagicDamaged). Past a damaged record Scan resynchronises only
// when opts.Resync accepts the next intact record: later records may
// depend on the entries before them (see package recording).
func Scan(r io.ReaderAt, size int64, opts Options, fn func(kind byte, body []byte) error) (Result, error) {
	res := Result{Size: size}
	var magic [len(Magic)]byte
	n, err := r.ReadAt(magic[:], 0)
	if n < len(magic) {
		if err != nil && err != io.EOF {
			return res, err
		}
		if n == 0 {
			return res, fmt.Errorf("%w: empty file", ErrBadMagic)
		}
		return res, fmt.Errorf("%w: file of %d bytes is shorter than the magic", ErrBadMagic, n)
	}
	res.MagicDamaged = string(magic[:]) != Magic && string(magic[:]) != MagicV1
	res.Good = int64(n)
	res, err = scanRecords(r, res, opts, fn)
	if err != nil {
		return res, err
	}
	if res.MagicDamaged && res.Records == 0 {
		// Neither the magic nor any record: not (any more) a WAL.
		res.Good, res.Gaps = 0, nil
		err = fmt.Errorf("%w: and no record after it", ErrBadMagic)
		if res.Tail != nil {
			err = fmt.Errorf("%w: and %v", ErrBadMagic, res.Tail)
		}
	}
	return res, err
}

// scanner reads records at offsets of a WAL.
type scanner struct {
	r              io.ReaderAt
	size           int64
	payload, plain []byte
}

// record reads the record at off: its decompressed entries (valid until
// the next call) and where it ends, or why it is not intact (wraps
// ErrTorn), or a read error.
func (s *scanner) record(off int64) (Record, int64, error) {
	var hdr [recordHeader]byte
	if s.size-off < recordHeader {
		return nil, 0, fmt.Errorf("%w: record header cut at byte %d", ErrTorn, off)
	}
	if _, err := s.r.ReadAt(hdr[:], off); err != nil {
		return nil, 0, err
	}
	ln := binary.LittleEndian.Uint32(hdr[0:])
	sum := binary.LittleEndian.Uint32(hdr[4:])
	if ln == 0 || ln > MaxRecord {
		return nil, 0, fmt.Errorf("%w: record length %d at byte %d", ErrTorn, ln, off)
	}
	if rest := s.size - off - recordHeader; int64(ln) > rest {
		return nil, 0, fmt.Errorf("%w: record at byte %d cut after %d of %d bytes", ErrTorn, off, rest, ln)
	}
	if cap(s.payload) < int(ln) {
		s.payload = make([]byte, ln)
	}
	s.payload = s.payload[:ln]
	if _, err := s.r.ReadAt(s.payload, off+recordHeader); err != nil {
		return nil, 0, err
	}
	if crc32.Checksum(s.payload, castagnoli) != sum {
		return nil, 0, fmt.Errorf("%w: checksum mismatch in record at byte %d", ErrTorn, off)
	}
	var err error
	s.plain, err = s.decode(s.plain[:0], s.payload)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: record at byte %d: %v", ErrTorn, off, err)
	}
	if _, err := splitEntries(s.plain, nil); err != nil {
		return nil, 0, fmt.Errorf("record at byte %d: %w", off, err)
	}
	return Record(s.plain), off + recordHeader + int64(ln), nil
}

// decode decompresses a payload (either version) onto dst.
func (s *scanner) decode(dst, payload []byte) ([]byte, error) {
	switch {
	case bytes.HasPrefix(payload, zstdMagic):
		out, err := dec().DecodeAll(payload, dst)
		if err == nil && len(out) > MaxRecord {
			err = fmt.Errorf("decompresses to more than %d bytes", MaxRecord)
		}
		if err != nil {
			return nil, fmt.Errorf("does not decompress (zstd): %w", err)
		}
		return out, nil
	case bytes.HasPrefix(payload, recordMarker) && len(payload) > len(recordMarker):
		if c := payload[len(recordMarker)]; c != codecS2 {
			return nil, fmt.Errorf("unknown codec %d (written by a newer edr?)", c)
		}
		body := payload[len(recordMarker)+1:]
		n, err := s2.DecodedLen(body)
		if err == nil && n > MaxRecord {
			err = fmt.Errorf("decompresses to %d bytes, more than %d", n, MaxRecord)
		}
		if err != nil {
			return nil, fmt.Errorf("does not decompress (s2): %w", err)
		}
		if cap(dst) < n {
			dst = make([]byte, n)
		}
		out, err := s2.Decode(dst[:n], body)
		if err != nil {
			return nil, fmt.Errorf("does not decompress (s2): %w", err)
		}
		return out, nil
	}
	return nil, errors.New("payload is neither a zstd frame nor a version 2 record")
}

// zstdMagic starts every version 1 record's payload (one zstd frame).
var zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}

// payloadStarts appends to dst, in ascending order, every index at or
// after from in b where a payload of either version may start (zstd's
// magic or the version 2 marker).
func payloadStarts(dst []int, b []byte, from int) []int {
	at := len(dst)
	for _, needle := range [][]byte{zstdMagic, recordMarker} {
		for j := from; ; {
			k := bytes.Index(b[j:], needle)
			if k < 0 {
				break
			}
			dst = append(dst, j+k)
			j += k + 1
		}
	}
	slices.Sort(dst[at:])
	return dst
}

// resync finds the first record at or after from that is intact and that
// accept takes; hint, when past from, is tried first (where the damaged
// record's own length field says the next one starts). It returns where
// the record starts and ends, or found false.
func (s *scanner) resync(from, hint int64, accept func(int64, Record) bool) (rec Record, at, end int64, found bool, err error) {
	try := func(off int64) bool {
		rec, end, err = s.record(off)
		if err != nil && !errors.Is(err, ErrTorn) {
			return true // a read error ends the search
		}
		err = nil
		return rec != nil && accept(off, rec)
	}
	if hint > from && hint < s.size && try(hint) {
		return rec, hint, end, err == nil, err
	}
	const window = 1 << 20
	buf := make([]byte, window)
	var starts []int
	for pos := from; s.size-pos > recordHeader+int64(len(zstdMagic)); { // both needles are 4 bytes
		n, rerr := s.r.ReadAt(buf[:min(int64(window), s.size-pos)], pos)
		if rerr != nil && rerr != io.EOF {
			return nil, 0, 0, false, rerr
		}
		if n < recordHeader+len(zstdMagic) {
			break // the file is shorter than it was: nothing more to find
		}
		starts = payloadStarts(starts[:0], buf[:n], recordHeader)
		for _, k := range starts {
			off := pos + int64(k-recordHeader)
			if off != hint && try(off) {
				return rec, off, end, err == nil, err
			}
		}
		if pos+int64(n) >= s.size {
			break
		}
		// The next window overlaps this one so that a magic across the
		// boundary is found (and none twice).
		pos += int64(n - recordHeader - len(zstdMagic) + 1)
	}
	return nil, 0, 0, false, nil
}

func scanRecords(r io.ReaderAt, res Result, opts Options, fn func(kind byte, body []byte) error) (Result, error) {
	s := &scanner{r: r, size: res.Size}
	off := res.Good
	for off < res.Size {
		rec, end, err := s.record(off)
		if err != nil && !errors.Is(err, ErrTorn) {
			return res, err
		}
		if err != nil {
			// Damaged from off: where does the next intact record begin?
			gap := Gap{From: off, To: res.Size, Reason: err, Records: res.Records, ToEnd: true}
			var at int64
			found := false
			if opts.Resync != nil {
				hint := int64(-1)
				var hdr [4]byte
				if _, herr := r.ReadAt(hdr[:], off); herr == nil {
					hint = off + recordHeader + int64(binary.LittleEndian.Uint32(hdr[:]))
				}
				accept := func(at int64, rec Record) bool {
					g := gap
					g.To, g.ToEnd = at, false
					return opts.Resync(g, rec)
				}
				rec, at, end, found, err = s.resync(off+1, hint, accept)
				if err != nil {
					return res, err
				}
			}
			if found {
				gap.To, gap.ToEnd = at, false
			}
			if res.Tail == nil {
				res.Tail = gap.Reason
			}
			res.Gaps = append(res.Gaps, gap)
			if !found {
				return res, nil
			}
		}
		entries, err := splitEntries(rec, fn)
		if err != nil {
			return res, err
		}
		res.Records++
		res.Entries += entries
		if len(res.Gaps) > 0 {
			res.Resynced++
		} else {
			res.Good = end
		}
		off = end
	}
	return res, nil
}

// splitEntries validates the whole record before calling fn, so that a
// record is delivered entirely or not at all; with fn nil it only
// validates.
func splitEntries(plain []byte, fn func(kind byte, body []byte) error) (int, error) {
	for pass := 0; pass < 2; pass++ {
		n := 0
		for p := plain; len(p) > 0; n++ {
			if len(p) < entryHeader {
				return 0, fmt.Errorf("%w: entry %d cut", ErrTorn, n)
			}
			kind := p[0]
			ln := binary.LittleEndian.Uint32(p[1:])
			if uint64(ln) > uint64(len(p)-entryHeader) {
				return 0, fmt.Errorf("%w: entry %d malformed", ErrTorn, n)
			}
			body := p[entryHeader : entryHeader+int(ln)]
			p = p[entryHeader+int(ln):]
			if pass == 1 {
				if err := fn(kind, body); err != nil {
					return n, err
				}
			}
		}
		if pass == 1 || fn == nil {
			return n, nil
		}
	}
	return 0, nil
}
