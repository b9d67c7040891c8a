package pqfile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"slices"
	"sync"

	"github.com/klauspost/compress/zstd"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

// The read path's own page reader, for the flat string columns that make
// up most of a segment: it decodes page headers, zstd, definition levels
// and dictionary indexes itself. Where parquet-go expands the definition
// levels of a page to a byte per row and Column then scans them, this
// reader turns their runs straight into the positions of the present
// values, so a run of nulls costs nothing per row. parquet-go remains the
// reader of every other column and the reference its tests compare with.

// RawChunk reports whether Column can read a column chunk itself (NewRawColumn):
// a flat BYTE_ARRAY column (maxDef at most 1, not repeated), uncompressed
// or zstd, with PLAIN or dictionary values and RLE levels.
func RawChunk(md *format.ColumnMetaData, maxDef, maxRep int) bool {
	if md.Type != format.ByteArray || maxRep != 0 || maxDef > 1 {
		return false
	}
	if md.Codec != format.Uncompressed && md.Codec != format.Zstd {
		return false
	}
	for _, e := range md.Encoding {
		switch e {
		case format.Plain, format.RLE, format.RLEDictionary, format.PlainDictionary:
		default:
			return false
		}
	}
	return true
}

// ChunkBytes returns the bytes of a column chunk: a slice of src's bytes
// when src holds the file in memory (Mem), else read from src.
func ChunkBytes(src io.ReaderAt, size int64, md *format.ColumnMetaData) ([]byte, error) {
	start := md.DataPageOffset
	if md.DictionaryPageOffset > 0 && md.DictionaryPageOffset < start {
		start = md.DictionaryPageOffset
	}
	n := md.TotalCompressedSize
	if start < 0 || n < 0 || start > size || n > size-start {
		return nil, fmt.Errorf("%w: column chunk [%d, +%d) outside the file of %d bytes", ErrCorrupt, start, n, size)
	}
	if m, ok := src.(*Mem); ok {
		return m.b[start : start+n : start+n], nil
	}
	b := make([]byte, n)
	if _, err := src.ReadAt(b, start); err != nil {
		return nil, err
	}
	return b, nil
}

// Mem is a file held in memory (VerifyData's source for small files),
// whose column chunks ChunkBytes slices instead of copying.
type Mem struct{ b []byte }

// NewMem serves b.
func NewMem(b []byte) *Mem { return &Mem{b} }

// ReadAt implements io.ReaderAt.
func (m *Mem) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 || off > int64(len(m.b)) {
		return 0, fmt.Errorf("pqfile: read at %d outside the file of %d bytes", off, len(m.b))
	}
	n := copy(p, m.b[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// maxPageLevels bounds a page's level count: a few bytes of RLE can claim
// billions (edr's writer puts PageRows in a page).
const maxPageLevels = 1 << 24

// maxPageSize bounds a page's declared sizes (a hostile header must not
// make the reader allocate gigabytes).
const maxPageSize = 256 << 20

var pageUnzstd = sync.OnceValue(func() *zstd.Decoder {
	d, _ := zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(maxPageSize))
	return d
})

// rawPages walks the pages of a column chunk's bytes.
type rawPages struct {
	data []byte // the pages not yet read
	zstd bool
	hdr  format.PageHeader
	buf  []byte // the current page, decompressed
	// a closed column's slices, kept in rawPool for the next column
	pres, idx           []int32
	plainOffs, dictOffs []uint32
}

// rawPool keeps the slices of closed raw columns for the next ones: a
// column chunk's would otherwise start empty and grow to a page's levels
// anew, garbage that costs the collector more than the decoding costs.
var rawPool = sync.Pool{New: func() any { return new(rawPages) }}

// NewRawColumn reads a column chunk (ChunkBytes, RawChunk) with the
// read path's own page reader; name and maxDef as NewColumn's.
func NewRawColumn(chunk []byte, codec format.CompressionCodec, name string, maxDef byte) *Column {
	p := rawPool.Get().(*rawPages)
	p.data, p.zstd = chunk, codec == format.Zstd
	c := &Column{name: name, maxDef: maxDef, raw: p, dictArena: -1, plainArena: -1}
	c.pres, c.idx, c.plainOffs, c.dictOffs = p.pres[:0], p.idx[:0], p.plainOffs[:0], p.dictOffs[:0]
	return c
}

// closeRaw hands the column's slices back to the pool.
func (c *Column) closeRaw() {
	p := c.raw
	c.raw = nil
	p.data, p.hdr = nil, format.PageHeader{}
	p.pres, p.idx, p.plainOffs, p.dictOffs = c.pres[:0], c.idx[:0], c.plainOffs[:0], c.dictOffs[:0]
	c.pres, c.idx, c.plainOffs, c.dictOffs = nil, nil, nil, nil
	rawPool.Put(p)
}

// read decodes the next page header and body; body aliases p.buf or the
// chunk's bytes.
func (p *rawPages) read() (body []byte, err error) {
	if len(p.data) == 0 {
		return nil, io.EOF
	}
	p.hdr = format.PageHeader{}
	r := new(thrift.CompactProtocol).NewReaderFromBytes(p.data)
	if err := thrift.NewDecoder(r).Decode(&p.hdr); err != nil {
		return nil, fmt.Errorf("%w: page header: %v", ErrCorrupt, err)
	}
	h := &p.hdr
	p.data = p.data[r.BytesRead():]
	if h.CompressedPageSize < 0 || int(h.CompressedPageSize) > len(p.data) {
		return nil, fmt.Errorf("%w: page of %d bytes, %d left in the column chunk", ErrCorrupt, h.CompressedPageSize, len(p.data))
	}
	if h.UncompressedPageSize < 0 || h.UncompressedPageSize > maxPageSize {
		return nil, fmt.Errorf("%w: page of %d bytes uncompressed", ErrCorrupt, h.UncompressedPageSize)
	}
	comp := p.data[:h.CompressedPageSize]
	p.data = p.data[h.CompressedPageSize:]
	if h.Type == format.DataPageV2 && h.DataPageHeaderV2.Valid {
		// levels are stored uncompressed ahead of the values
		v2 := &h.DataPageHeaderV2.V
		nl := int(v2.DefinitionLevelsByteLength) + int(v2.RepetitionLevelsByteLength)
		if v2.DefinitionLevelsByteLength < 0 || v2.RepetitionLevelsByteLength < 0 || nl > len(comp) {
			return nil, fmt.Errorf("%w: %d bytes of levels in a page of %d", ErrCorrupt, nl, len(comp))
		}
		if !p.zstd || v2.IsCompressed.Valid && !v2.IsCompressed.V {
			return comp, nil
		}
		p.buf = append(p.buf[:0], comp[:nl]...)
		comp = comp[nl:]
		return p.unzstd(p.buf, comp, int(h.UncompressedPageSize))
	}
	if !p.zstd {
		return comp, nil
	}
	return p.unzstd(p.buf[:0], comp, int(h.UncompressedPageSize))
}

// unzstd appends the decompressed comp to dst, which must then hold size
// bytes.
func (p *rawPages) unzstd(dst, comp []byte, size int) ([]byte, error) {
	dst = slices.Grow(dst, size-len(dst))
	out, err := pageUnzstd().DecodeAll(comp, dst)
	if err != nil {
		return nil, fmt.Errorf("%w: zstd: %v", ErrCorrupt, err)
	}
	p.buf = out
	if len(out) != size {
		return nil, fmt.Errorf("%w: page decompressed to %d bytes, header says %d", ErrCorrupt, len(out), size)
	}
	return out, nil
}

// nextRaw loads the next page of a raw column: a dictionary page is
// loaded and the page after it read.
func (c *Column) nextRaw() error {
	for {
		body, err := c.raw.read()
		if err == io.EOF {
			return fmt.Errorf("column %s, after page %d: %w", c.name, c.pageNo, ErrShortColumn)
		}
		c.pageNo++
		if err != nil {
			return c.errorf("%w", err)
		}
		h := &c.raw.hdr
		switch {
		case h.Type == format.DictionaryPage && h.DictionaryPageHeader.Valid:
			if err := c.rawDict(body, int(h.DictionaryPageHeader.V.NumValues)); err != nil {
				return err
			}
			// numbered with the data page after it, as parquet-go reads
			// the two together
			c.pageNo--
		case h.Type == format.DataPage && h.DataPageHeader.Valid:
			v1 := &h.DataPageHeader.V
			if v1.DefinitionLevelEncoding != format.RLE && c.maxDef > 0 {
				return c.errorf("%w: definition levels encoded %s", ErrCorrupt, v1.DefinitionLevelEncoding)
			}
			levels := -1 // length-prefixed
			return c.rawData(body, int(v1.NumValues), v1.Encoding, levels)
		case h.Type == format.DataPageV2 && h.DataPageHeaderV2.Valid:
			v2 := &h.DataPageHeaderV2.V
			if v2.RepetitionLevelsByteLength != 0 {
				return c.errorf("%w: repetition levels in a flat column", ErrCorrupt)
			}
			return c.rawData(body, int(v2.NumValues), v2.Encoding, int(v2.DefinitionLevelsByteLength))
		case h.Type == format.IndexPage:
			// not data: skipped, as parquet-go skips it
		default:
			return c.errorf("%w: page type %s without its header", ErrCorrupt, h.Type)
		}
	}
}

// rawDict loads a PLAIN dictionary page of n values.
func (c *Column) rawDict(body []byte, n int) error {
	c.dictArena = -1
	c.dictRef = nil
	offs, ok := plainOffsets(body, n, c.dictOffs[:0])
	if !ok {
		return c.errorf("%w: dictionary of %d values does not fit its %d bytes", ErrCorrupt, n, len(body))
	}
	c.dict, c.dictOffs, c.hasDict = string(body), offs, true
	return nil
}

// plainOffsets appends the [start, end) pairs of n PLAIN byte arrays in
// body; false when they overrun it (offs then holds those that fit).
func plainOffsets(body []byte, n int, offs []uint32) ([]uint32, bool) {
	offs = slices.Grow(offs, 2*max(0, min(n, len(body)/4))) // a value takes 4 bytes at least
	at := 0
	for range n {
		if len(body)-at < 4 {
			return offs, false
		}
		l := int(binary.LittleEndian.Uint32(body[at:]))
		at += 4
		if l > len(body)-at {
			return offs, false
		}
		offs = append(offs, uint32(at), uint32(at+l))
		at += l
	}
	return offs, true
}

// rawData loads a data page of nlv levels: the definition levels (levels
// bytes of them, or length-prefixed when levels < 0) become the positions
// of the present values, then the values or dictionary indexes.
func (c *Column) rawData(body []byte, nlv int, enc format.Encoding, levels int) error {
	if nlv < 0 || nlv > maxPageLevels {
		return c.errorf("%w: %d values", ErrCorrupt, nlv)
	}
	c.lv, c.vi, c.nlv, c.pi = 0, 0, nlv, 0
	c.defs, c.reps = nil, nil
	c.pres = c.pres[:0]
	nvals := nlv
	if c.maxDef > 0 {
		if levels < 0 {
			if len(body) < 4 {
				return c.errorf("%w: no definition levels", ErrCorrupt)
			}
			levels = int(binary.LittleEndian.Uint32(body))
			body = body[4:]
		}
		if levels < 0 || levels > len(body) {
			return c.errorf("%w: %d bytes of definition levels in %d", ErrCorrupt, levels, len(body))
		}
		var err error
		if c.pres, err = presentLevels(body[:levels], nlv, c.pres); err != nil {
			return c.errorf("%w: definition levels: %v", ErrCorrupt, err)
		}
		body = body[levels:]
		nvals = len(c.pres)
	}
	c.isDict = false
	switch enc {
	case format.RLEDictionary, format.PlainDictionary:
		if !c.hasDict {
			return c.errorf("dictionary page without indexes")
		}
		if len(body) < 1 {
			return c.errorf("%w: no dictionary index width", ErrCorrupt)
		}
		c.isDict = true
		var err error
		if c.idx, err = hybrid(body[1:], int(body[0]), nvals, c.idx[:0]); err != nil {
			return c.errorf("%w: dictionary indexes: %v", ErrCorrupt, err)
		}
		n := uint32(len(c.dictOffs) / 2)
		for _, i := range c.idx {
			if uint32(i) >= n {
				return c.errorf("dictionary index %d out of %d", i, n)
			}
		}
		return nil
	case format.Plain:
		c.plainArena = -1
		offs, ok := plainOffsets(body, nvals, c.plainOffs[:0])
		c.plainOffs = offs
		if !ok {
			return c.checkValues(len(offs)/2, nvals)
		}
		c.plain, c.plainOffs = string(body), offs
		return nil
	}
	return c.errorf("%w: values encoded %s", ErrCorrupt, enc)
}

// presentLevels appends the positions of the 1s among the first n
// definition levels of width 1 (RLE/bit-packed hybrid): a run of nulls
// costs one step. The 1s are counted first, so pres grows at most once
// (grown append by append, a dense page's positions made several times
// their size in garbage), and the second pass stores them by index.
func presentLevels(b []byte, n int, pres []int32) ([]int32, error) {
	ones, err := levelRuns(b, n, nil)
	if err != nil {
		return pres, err
	}
	k := len(pres)
	pres = slices.Grow(pres, ones)[:k+ones]
	_, err = levelRuns(b, n, pres[k:])
	return pres, err
}

// levelRuns walks the first n levels of b and returns how many are 1,
// storing their positions in pres when it is not nil (it then holds at
// least that many: the count of an earlier call).
func levelRuns(b []byte, n int, pres []int32) (int, error) {
	at, ones := 0, 0
	fill := pres != nil
	for at < n {
		h, k := binary.Uvarint(b)
		if k <= 0 {
			return ones, fmt.Errorf("levels end at %d of %d", at, n)
		}
		b = b[k:]
		if h&1 == 0 { // RLE run of h>>1 copies of one byte
			cnt := h >> 1
			if len(b) < 1 {
				return ones, errors.New("RLE run without its value")
			}
			v := b[0]
			b = b[1:]
			if v > 1 {
				return ones, fmt.Errorf("level %d above 1", v)
			}
			if cnt == 0 {
				return ones, errors.New("empty RLE run")
			}
			cnt = min(cnt, uint64(n-at)) // a run past the page's end: the page's levels end there
			if v == 1 {
				if fill {
					run := pres[ones : ones+int(cnt)]
					for i := range run {
						run[i] = int32(at + i)
					}
				}
				ones += int(cnt)
			}
			at += int(cnt)
			continue
		}
		groups := h >> 1 // bit-packed: groups of 8 levels, a byte each
		if groups > uint64(len(b)) {
			return ones, errors.New("bit-packed run past the end")
		}
		for _, x := range b[:groups] {
			if at >= n {
				break
			}
			m := uint(x)
			if n-at < 8 {
				m &= 1<<(n-at) - 1 // levels past the page's end
			}
			if fill {
				for ; m != 0; m &= m - 1 {
					pres[ones] = int32(at + bits.TrailingZeros(m))
					ones++
				}
			} else {
				ones += bits.OnesCount(m)
			}
			at += 8
		}
		b = b[groups:]
	}
	return ones, nil
}

// hybrid appends n values of the given bit width (RLE/bit-packed hybrid).
func hybrid(b []byte, width, n int, dst []int32) ([]int32, error) {
	if width > 32 {
		return dst, fmt.Errorf("bit width %d", width)
	}
	vbytes := (width + 7) / 8
	dst = slices.Grow(dst, n) // n is bounded by the page's level count
	for len(dst) < n {
		h, k := binary.Uvarint(b)
		if k <= 0 {
			return dst, fmt.Errorf("%d of %d values", len(dst), n)
		}
		b = b[k:]
		if h&1 == 0 {
			cnt := h >> 1
			if len(b) < vbytes {
				return dst, errors.New("RLE run without its value")
			}
			var v uint32
			for i := range vbytes {
				v |= uint32(b[i]) << (8 * i)
			}
			b = b[vbytes:]
			cnt = min(cnt, uint64(n-len(dst)))
			if cnt == 0 {
				return dst, errors.New("empty RLE run")
			}
			for range cnt {
				dst = append(dst, int32(v))
			}
			continue
		}
		groups := h >> 1
		if groups > uint64(len(b))/uint64(max(width, 1)) {
			return dst, errors.New("bit-packed run past the end")
		}
		nb := int(groups) * width // 8 values of width bits a group
		run := b[:nb]
		b = b[nb:]
		dst = unpack(run, width, min(int(groups)*8, n-len(dst)), dst)
	}
	return dst, nil
}

// unpack appends the first k values of width bits (at most 32) packed
// LSB first in run. Value i lies in the 8 bytes from bit i*width, read in
// one load where run holds them (all but the last few values), so a
// value costs a load and a shift whatever its width, where reading byte
// by byte cost a loop per value.
func unpack(run []byte, width, k int, dst []int32) []int32 {
	mask := uint64(1)<<width - 1
	i := 0
	for ; i < k; i++ {
		off := i * width
		p := off >> 3
		if p+8 > len(run) {
			break
		}
		dst = append(dst, int32(binary.LittleEndian.Uint64(run[p:])>>(off&7)&mask))
	}
	for ; i < k; i++ { // the tail: the window gathered byte by byte
		off := i * width
		p := off >> 3
		var w uint64
		for q := p; q < min(p+8, len(run)); q++ {
			w |= uint64(run[q]) << (8 * (q - p))
		}
		dst = append(dst, int32(w>>(off&7)&mask))
	}
	return dst
}
