package pqfile

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"math/bits"
	"runtime"
	"sync"

	"github.com/klauspost/compress/zstd"
	"github.com/parquet-go/parquet-go/encoding/delta"
	"github.com/parquet-go/parquet-go/encoding/rle"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

// A data page holds at most PageRows rows, and a page of plain strings
// ends at the first row that takes its values past PageBytes: pages of
// long messages stay small, so encoding one takes little memory.
const (
	PageRows  = 32768
	PageBytes = 1 << 20
)

// pageKeep bounds the page buffers kept between row groups (a plain page
// of long messages can take tens of MB).
const pageKeep = 1 << 20

// pageBufs holds page buffers between row groups for the next writer that
// encodes one: edr live has 8 files open (an event and a raw segment per
// host) whose row groups end at different times, and each kept its own
// two buffers of up to pageKeep (~6 MB of its live heap). At most
// pageBufsKept wait here (a free list, not a sync.Pool: the collector
// does not empty it, so a warm writer allocates no page buffer).
var pageBufs struct {
	sync.Mutex
	free [][]byte
}

const pageBufsKept = 4

func getPageBuf() []byte {
	pageBufs.Lock()
	defer pageBufs.Unlock()
	n := len(pageBufs.free)
	if n == 0 {
		return nil
	}
	b := pageBufs.free[n-1]
	pageBufs.free[n-1] = nil
	pageBufs.free = pageBufs.free[:n-1]
	return b[:0]
}

func putPageBuf(b []byte) {
	if b == nil || cap(b) > pageKeep {
		return
	}
	pageBufs.Lock()
	if len(pageBufs.free) < pageBufsKept {
		pageBufs.free = append(pageBufs.free, b)
	}
	pageBufs.Unlock()
}

// fileBuffer is the write buffer of a file: pages are written as a small
// header and a body of tens or hundreds of KB, so a larger buffer saves
// few writes.
const fileBuffer = 64 << 10

// Level is the zstd level of a file's pages.
type Level int

const (
	// LevelDefault is zstd's default level (3).
	LevelDefault Level = iota
	// LevelFastest is zstd's fastest level (1): less CPU per page for
	// somewhat larger files.
	LevelFastest
	// LevelBetter is klauspost/compress's "better" level (about zstd 7).
	LevelBetter
)

// pageZstd compresses the pages of every file being written at a level:
// one encoder whose EncodeAll takes one of GOMAXPROCS internal states
// (waiting for a free one), rather than an encoder per open file, since
// each state holds ~10 MB of match history and a writer may have 16
// segments open. The output depends only on the page and the level
// (EncodeAll starts afresh).
var pageZstd = [...]func() *zstd.Encoder{
	LevelDefault: pageEncoder(zstd.SpeedDefault),
	LevelFastest: pageEncoder(zstd.SpeedFastest),
	LevelBetter:  pageEncoder(zstd.SpeedBetterCompression),
}

func pageEncoder(l zstd.EncoderLevel) func() *zstd.Encoder {
	return sync.OnceValue(func() *zstd.Encoder {
		z, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(l), zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0)),
			zstd.WithLowerEncoderMem(true), zstd.WithWindowSize(1<<20))
		return z
	})
}

// Writer is the page level of a Parquet file being written: data page v1,
// zstd, definition levels RLE/bit-packed. It counts the offset, keeps the
// CRC-32C of every byte before the footer, and remembers the first error
// (Err); the caller lays out row groups and columns.
type Writer struct {
	zstd   *zstd.Encoder
	out    *bufio.Writer
	off    int64
	crc    uint32
	err    error
	page   []byte // page body before compression
	comp   []byte
	levels []byte
}

// NewWriter starts a file on w (the magic is written) whose pages are
// compressed at LevelDefault.
func NewWriter(w io.Writer) *Writer { return NewWriterLevel(w, LevelDefault) }

// NewWriterLevel is NewWriter with pages compressed at level l (an
// unknown level is LevelDefault).
func NewWriterLevel(w io.Writer, l Level) *Writer {
	if l < 0 || int(l) >= len(pageZstd) {
		l = LevelDefault
	}
	pw := &Writer{zstd: pageZstd[l](), out: bufio.NewWriterSize(w, fileBuffer)}
	pw.write(Magic)
	return pw
}

// Offset is the number of bytes written so far.
func (w *Writer) Offset() int64 { return w.off }

// Err is the first error met, write or encoding.
func (w *Writer) Err() error { return w.err }

func (w *Writer) fail(err error) {
	if err != nil && w.err == nil {
		w.err = err
	}
}

func (w *Writer) write(b []byte) {
	if w.err != nil {
		return
	}
	n, err := w.out.Write(b)
	w.crc = crc32.Update(w.crc, castagnoli, b[:n])
	w.off += int64(n)
	w.err = err
}

// Buf returns the page scratch buffer, emptied; WritePage takes it back.
func (w *Writer) Buf() []byte {
	if w.page == nil {
		w.page = getPageBuf()
	}
	return w.page[:0]
}

// TrimBuffers hands the page buffers to the next writer that needs them
// (between row groups); those grown past pageKeep are dropped.
func (w *Writer) TrimBuffers() {
	putPageBuf(w.page)
	putPageBuf(w.comp)
	w.page, w.comp = nil, nil
}

// WritePage compresses body and writes header + body; it returns the
// uncompressed and compressed sizes including the header. body becomes
// the scratch buffer Buf returns.
func (w *Writer) WritePage(h format.PageHeader, body []byte) (int64, int64) {
	w.page = body
	if w.comp == nil {
		w.comp = getPageBuf()
	}
	w.comp = w.zstd.EncodeAll(body, w.comp[:0])
	h.UncompressedPageSize = int32(len(body))
	h.CompressedPageSize = int32(len(w.comp))
	hb, err := thrift.Marshal(new(thrift.CompactProtocol), &h)
	w.fail(err)
	w.write(hb)
	w.write(w.comp)
	return int64(len(hb) + len(body)), int64(len(hb) + len(w.comp))
}

// DataPageHeader is the header of a v1 data page with RLE levels.
func DataPageHeader(numValues int, enc format.Encoding, nulls int64) format.PageHeader {
	return format.PageHeader{Type: format.DataPage, DataPageHeader: thrift.New(format.DataPageHeader{
		NumValues: int32(numValues), Encoding: enc, DefinitionLevelEncoding: format.RLE, RepetitionLevelEncoding: format.RLE,
		Statistics: format.Statistics{NullCount: nulls},
	})}
}

// DictionaryPageHeader is the header of a PLAIN dictionary page.
func DictionaryPageHeader(numValues int) format.PageHeader {
	return format.PageHeader{Type: format.DictionaryPage, DictionaryPageHeader: thrift.New(format.DictionaryPageHeader{
		NumValues: int32(numValues), Encoding: format.Plain})}
}

// ChunkMeta is a zstd column chunk's metadata before its pages are written.
func ChunkMeta(name []string, t format.Type, encs []format.Encoding, n int, stats format.Statistics) format.ColumnChunk {
	return format.ColumnChunk{MetaData: format.ColumnMetaData{Type: t, Encoding: encs, PathInSchema: name, Codec: format.Zstd,
		NumValues: int64(n), Statistics: stats}}
}

// Int64Column writes a required INT64 column chunk, DELTA_BINARY_PACKED,
// with min/max statistics when minmax.
func (w *Writer) Int64Column(name string, vals []int64, minmax bool) format.ColumnChunk {
	var stats format.Statistics
	if minmax && len(vals) > 0 {
		lo, hi := vals[0], vals[0]
		for _, v := range vals {
			lo, hi = min(lo, v), max(hi, v)
		}
		stats.MinValue = binary.LittleEndian.AppendUint64(nil, uint64(lo))
		stats.MaxValue = binary.LittleEndian.AppendUint64(nil, uint64(hi))
	}
	cc := ChunkMeta([]string{name}, format.Int64, []format.Encoding{format.DeltaBinaryPacked, format.RLE}, len(vals), stats)
	cc.FileOffset = w.off
	cc.MetaData.DataPageOffset = w.off
	var enc delta.BinaryPackedEncoding
	for a := 0; a < len(vals); a += PageRows {
		b := min(a+PageRows, len(vals))
		body, err := enc.EncodeInt64(w.Buf(), vals[a:b])
		w.fail(err)
		u, c := w.WritePage(DataPageHeader(b-a, format.DeltaBinaryPacked, 0), body)
		cc.MetaData.TotalUncompressedSize += u
		cc.MetaData.TotalCompressedSize += c
	}
	return cc
}

// Int32Column writes a required INT32 column chunk, PLAIN.
func (w *Writer) Int32Column(name string, vals []int32) format.ColumnChunk {
	cc := ChunkMeta([]string{name}, format.Int32, []format.Encoding{format.Plain, format.RLE}, len(vals), format.Statistics{})
	cc.FileOffset = w.off
	cc.MetaData.DataPageOffset = w.off
	for a := 0; a < len(vals); a += PageRows {
		b := min(a+PageRows, len(vals))
		body := w.Buf()
		for _, v := range vals[a:b] {
			body = binary.LittleEndian.AppendUint32(body, uint32(v))
		}
		u, c := w.WritePage(DataPageHeader(b-a, format.Plain, 0), body)
		cc.MetaData.TotalUncompressedSize += u
		cc.MetaData.TotalCompressedSize += c
	}
	return cc
}

// AppendPlain appends PLAIN BYTE_ARRAY values.
func AppendPlain(body []byte, vals []string) []byte {
	for _, s := range vals {
		body = binary.LittleEndian.AppendUint32(body, uint32(len(s)))
		body = append(body, s...)
	}
	return body
}

// AppendLevels appends length-prefixed RLE/bit-packed levels of width 1.
func (w *Writer) AppendLevels(body, levels []byte) []byte {
	at := len(body)
	body = append(body, 0, 0, 0, 0)
	enc := rle.Encoding{BitWidth: 1}
	out, err := enc.EncodeLevels(body[at+4:], levels)
	w.fail(err)
	body = append(body[:at+4], out...)
	binary.LittleEndian.PutUint32(body[at:], uint32(len(body)-at-4))
	return body
}

// AppendDefLevels appends the definition levels of rows [a, b): 1 where
// rows (ascending, within [a, b)) has a value.
func (w *Writer) AppendDefLevels(body []byte, rows []int32, a, b int) []byte {
	if cap(w.levels) < b-a {
		w.levels = make([]byte, b-a, (b-a)+(b-a)/4)
	}
	w.levels = w.levels[:b-a]
	clear(w.levels)
	for _, r := range rows {
		w.levels[int(r)-a] = 1
	}
	return w.AppendLevels(body, w.levels)
}

// AppendNullLevels appends the definition levels of n null rows: one RLE
// run of zeros.
func AppendNullLevels(body []byte, n int) []byte {
	at := len(body)
	body = binary.LittleEndian.AppendUint32(body, 0)
	body = binary.AppendUvarint(body, uint64(n)<<1)
	body = append(body, 0)
	binary.LittleEndian.PutUint32(body[at:], uint32(len(body)-at-4))
	return body
}

// AppendDictIndexes appends RLE_DICTIONARY data: the bit width for a
// dictionary of dictLen entries, then the hybrid-encoded indexes.
func (w *Writer) AppendDictIndexes(body []byte, idx []int32, dictLen int) []byte {
	width := max(1, bitWidth(dictLen-1))
	body = append(body, byte(width))
	enc := rle.Encoding{BitWidth: width}
	out, err := enc.EncodeInt32(nil, idx)
	if err != nil {
		w.fail(fmt.Errorf("rle: %w", err))
		return body
	}
	return append(body, out...)
}

func bitWidth(maxValue int) int {
	if maxValue <= 0 {
		return 0
	}
	return bits.Len(uint(maxValue))
}

// Close writes the footer: md with the checksum entries (FooterKeyValues)
// appended to its key-value metadata, sealed (Seal), its length and the
// magic; then it flushes.
func (w *Writer) Close(md *format.FileMetaData) error {
	if w.err != nil {
		return w.err
	}
	w.footerKeys(md)
	b, err := thrift.Marshal(new(thrift.CompactProtocol), md)
	if err != nil {
		return err
	}
	return w.writeFooter(b)
}

// footerKeys adds the integrity keys: the data region's CRC, then the
// footer's own CRC, computed with its value zeroed and patched in (Seal).
func (w *Writer) footerKeys(md *format.FileMetaData) {
	for _, c := range FooterKeyValues(w.crc) {
		md.KeyValueMetadata = append(md.KeyValueMetadata, format.KeyValue{Key: c[0], Value: c[1]})
	}
}

// writeFooter seals and writes the encoded footer, its length and the
// magic, and flushes the file.
func (w *Writer) writeFooter(b []byte) error {
	if err := Seal(b); err != nil {
		return err
	}
	w.write(b)
	w.write(binary.LittleEndian.AppendUint32(nil, uint32(len(b))))
	w.write(Magic)
	if w.err != nil {
		return w.err
	}
	return w.out.Flush()
}
