// Package wal is the write-ahead log of an open recording segment: a file of
// length-prefixed, checksummed, zstd-framed records, each record a batch of
// typed entries. A crash can tear the last record; Read stops at the first
// record that is incomplete or fails its checksum and reports where, so the
// caller recovers exactly the prefix that reached the file.
//
// File layout:
//
//	magic "EDRWAL1\n"
//	record*: u32 LE payload length | u32 LE CRC-32C of payload | payload
//	payload: one zstd frame; decompressed, a sequence of entries
//	entry:   kind byte | u32 LE body length | body
package wal

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// Magic starts every WAL file.
const Magic = "EDRWAL1\n"

// MaxRecord bounds one record (compressed and decompressed) so that a corrupt
// length cannot make Read allocate without limit.
const MaxRecord = 64 << 20

const recordHeader = 8

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

// enc is zstd's fastest level without entropy coding: the log is
// transient, and interleaved runs of the write benchmark measured ~4 % more
// events per CPU-second than with it (for a ~15 % larger log).
func enc() *zstd.Encoder {
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
	out   []byte
	size  int64
}

// Create makes a new WAL file (it must not exist).
func Create(path string, fsync bool) (*Writer, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	w := &Writer{f: f, fsync: fsync}
	if _, err := f.WriteString(Magic); err != nil {
		f.Close()
		return nil, fmt.Errorf("wal %s: %w", path, err)
	}
	w.size = int64(len(Magic))
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
	w.out = append(w.out[:0], make([]byte, recordHeader)...)
	w.out = enc().EncodeAll(b.buf, w.out)
	payload := w.out[recordHeader:]
	binary.LittleEndian.PutUint32(w.out[0:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(w.out[4:], crc32.Checksum(payload, castagnoli))
	if _, err := w.f.Write(w.out); err != nil {
		return fmt.Errorf("wal %s: %w", w.f.Name(), err)
	}
	w.size += int64(len(w.out))
	if w.fsync {
		if err := w.f.Sync(); err != nil {
			return fmt.Errorf("wal %s: fsync: %w", w.f.Name(), err)
		}
	}
	return nil
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
	Records int   // good records
	Entries int   // entries in good records
	Good    int64 // bytes up to the end of the last good record (0 when not a WAL)
	Size    int64 // bytes in the file
	Tail    error // nil when the file ends exactly after a good record; else why the rest was not read (wraps ErrTorn)
	// MagicDamaged: the first 8 bytes are not the magic, but the record
	// after them passed its checksum, so the file was read as a WAL.
	MagicDamaged bool
}

// IsPartialHeader reports whether b, a whole file, is provably what a
// crash while creating a WAL leaves: shorter than the magic and either a
// prefix of it or all zero bytes (a file system that extended the file but
// never got the data). Nothing was logged in such a file.
func IsPartialHeader(b []byte) bool {
	if len(b) >= len(Magic) {
		return false
	}
	if string(b) == Magic[:len(b)] {
		return true
	}
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// Read calls fn for every entry of every good record, in order. The body
// passed to fn is only valid during the call. A torn or corrupt tail is not
// an error: Read stops there and reports it in Result.Tail (the rest of the
// file is still read to count Size). Errors returned are ErrBadMagic, read
// errors, and errors from fn.
//
// A damaged magic alone does not make the file unreadable: when the first
// record after it passes its CRC-32C check, the file is a WAL and is read
// (Result.MagicDamaged). Past a damaged record Read does not resynchronise:
// later records depend on the entries before them (see package recording),
// so the caller keeps the rest aside.
func Read(r io.Reader, fn func(kind byte, body []byte) error) (Result, error) {
	var res Result
	br := bufio.NewReaderSize(r, 1<<16)
	var magic [len(Magic)]byte
	n, err := io.ReadFull(br, magic[:])
	res.Size = int64(n)
	if err != nil {
		if n == 0 && err == io.EOF {
			return res, fmt.Errorf("%w: empty file", ErrBadMagic)
		}
		return res, fmt.Errorf("%w: file of %d bytes is shorter than the magic", ErrBadMagic, n)
	}
	res.MagicDamaged = string(magic[:]) != Magic
	res.Good = int64(n)
	res, err = readRecords(br, res, fn)
	if res.MagicDamaged && res.Records == 0 {
		// Neither the magic nor the first record: not (any more) a WAL.
		res.Good = 0
		if err == nil {
			err = fmt.Errorf("%w: and no record after it", ErrBadMagic)
			if res.Tail != nil {
				err = fmt.Errorf("%w: and %v", ErrBadMagic, res.Tail)
			}
		}
	}
	return res, err
}

func readRecords(br *bufio.Reader, res Result, fn func(kind byte, body []byte) error) (Result, error) {
	var hdr [recordHeader]byte
	var payload, plain []byte
	for {
		n, err := io.ReadFull(br, hdr[:])
		res.Size += int64(n)
		if err == io.EOF {
			return res, nil
		}
		if err != nil {
			return finishTail(res, br, fmt.Errorf("%w: record header cut at byte %d", ErrTorn, res.Good))
		}
		ln := binary.LittleEndian.Uint32(hdr[0:])
		sum := binary.LittleEndian.Uint32(hdr[4:])
		if ln == 0 || ln > MaxRecord {
			return finishTail(res, br, fmt.Errorf("%w: record length %d at byte %d", ErrTorn, ln, res.Good))
		}
		if cap(payload) < int(ln) {
			payload = make([]byte, ln)
		}
		payload = payload[:ln]
		n, err = io.ReadFull(br, payload)
		res.Size += int64(n)
		if err != nil {
			return finishTail(res, br, fmt.Errorf("%w: record at byte %d cut after %d of %d bytes", ErrTorn, res.Good, n, ln))
		}
		if crc32.Checksum(payload, castagnoli) != sum {
			return finishTail(res, br, fmt.Errorf("%w: checksum mismatch in record at byte %d", ErrTorn, res.Good))
		}
		plain, err = dec().DecodeAll(payload, plain[:0])
		if err != nil || len(plain) > MaxRecord {
			return finishTail(res, br, fmt.Errorf("%w: record at byte %d does not decompress: %v", ErrTorn, res.Good, err))
		}
		entries, err := splitEntries(plain, fn)
		if err != nil {
			if errors.Is(err, ErrTorn) {
				return finishTail(res, br, fmt.Errorf("record at byte %d: %w", res.Good, err))
			}
			return res, err
		}
		res.Records++
		res.Entries += entries
		res.Good += int64(recordHeader) + int64(ln)
	}
}

// splitEntries validates the whole record before calling fn, so that a
// record is delivered entirely or not at all.
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
		if pass == 1 {
			return n, nil
		}
	}
	return 0, nil
}

func finishTail(res Result, br *bufio.Reader, tail error) (Result, error) {
	rest, _ := io.Copy(io.Discard, br)
	res.Size += rest
	res.Tail = tail
	return res, nil
}
