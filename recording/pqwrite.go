package recording

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"math/bits"
	"runtime"
	"strings"
	"sync"
	"unsafe"

	"github.com/edr-lab/edr/recording/internal/pqfile"
	"github.com/klauspost/compress/zstd"
	"github.com/parquet-go/parquet-go/encoding/delta"
	"github.com/parquet-go/parquet-go/encoding/rle"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

// pqEncoder writes the Parquet file of one segment. It is a small
// purpose-built writer rather than parquet-go's GenericWriter, for two
// reasons measured on this schema (~400 sparse optional columns):
//   - parquet-go v0.32.0 writes wrong definition levels for optional
//     non-pointer fields when a short non-null run follows a null run inside
//     a 64-row word (writeRowsFuncOfOptional tests the run end with
//     b == (1<<y)-1), turning absent fields into present empty ones;
//   - GenericWriter pays per row for every column, null or not
//     (~3 µs/event here); this encoder pays only for present values and
//     writes an all-null column chunk as a single run of definition levels.
//
// Layout: data page v1, zstd, strings dictionary-encoded (RLE_DICTIONARY,
// PLAIN fallback for dictionaries over maxDictBytes), Time/RecordID/Seq
// DELTA_BINARY_PACKED, null counts in every column chunk's statistics and
// min/max for Time and Seq. Nothing depends on the wall clock.
type pqEncoder struct {
	out       *bufio.Writer
	off       int64
	rg        rgBuffer
	groups    []format.RowGroup
	page      []byte // page body before compression
	comp      []byte
	levels    []byte
	idx       []int32
	err       error
	totalRows int64
	crc       uint32 // CRC-32C of every byte before the footer
}

// A data page holds at most pageRows rows, and a page of plain strings
// (or of Extra) ends at the first row that takes its values past pageBytes:
// pages of long messages stay small, so encoding one takes little memory.
const (
	pageRows     = 32768
	pageBytes    = 1 << 20
	maxDictBytes = 8 << 20
)

// rgBuffer holds the open row group column by column.
type rgBuffer struct {
	n        int
	time     []int64
	recID    []int64
	seq      []int64
	eventID  []int32
	flags    []int32
	host     dictColumn
	channel  dictColumn
	provider dictColumn
	source   dictColumn
	fields   []dictColumn // by data column, then Spellings (spellingsCol)
	used     []int32      // data columns with values in this row group
	extraN   []int32      // entries per row
	extraK   []string
	extraV   []string
	arena    strArena
}

// dictColumn is one string column: a dictionary, one index per value and,
// for optional columns, the rows that have a value (ascending).
type dictColumn struct {
	arena *strArena
	// plain: the column chunk gave up its dictionary (mostly distinct
	// values); vals then holds every value and idx is unused.
	plain bool
	vals  []string
	m     map[string]int32
	last  string // the previous value and its index: runs are common
	lastI int32
	dict  []string
	bytes int
	idx   []int32
	rows  []int32
}

// Adaptive encoding: after plainCheck values, a column chunk whose values
// are more than 3/4 distinct is written PLAIN. Its dictionary would barely
// shrink it, and the lookups in a large map (cache misses) dominated the
// write cost for such columns (process GUIDs, file names, ports).
const plainCheck = 4096

func (c *dictColumn) add(v string) {
	if c.plain {
		c.vals = append(c.vals, c.arena.clone(v))
		c.bytes += len(v)
		return
	}
	if len(c.idx) == plainCheck && len(c.dict) > plainCheck*3/4 {
		c.toPlain()
		c.vals = append(c.vals, c.arena.clone(v))
		c.bytes += len(v)
		return
	}
	if len(c.idx) > 0 && v == c.last {
		c.idx = append(c.idx, c.lastI)
		return
	}
	i, ok := c.m[v]
	if !ok {
		if c.m == nil {
			c.m = make(map[string]int32)
		}
		v = c.arena.clone(v)
		i = int32(len(c.dict))
		c.m[v] = i
		c.dict = append(c.dict, v)
		c.bytes += len(v)
	}
	c.last, c.lastI = c.dict[i], i
	c.idx = append(c.idx, i)
}

func (c *dictColumn) toPlain() {
	c.plain = true
	for _, i := range c.idx {
		c.vals = append(c.vals, c.dict[i])
	}
	clear(c.m)
	c.dict, c.idx, c.last = c.dict[:0], c.idx[:0], ""
}

// count is the number of values.
func (c *dictColumn) count() int {
	if c.plain {
		return len(c.vals)
	}
	return len(c.idx)
}

func (c *dictColumn) reset() {
	clear(c.vals)
	c.vals, c.plain = c.vals[:0], false
	clear(c.m)
	clear(c.dict) // drop string references
	c.last = ""
	c.dict, c.idx, c.rows, c.bytes = c.dict[:0], c.idx[:0], c.rows[:0], 0
}

// strArena holds the strings of one row group (dictionary entries, Extra)
// in large chunks that are reused for the next row group, so that a new
// dictionary value costs a copy but no allocation.
type strArena struct {
	chunks [][]byte
	cur    int
}

const arenaChunk = 1 << 20

func (a *strArena) clone(s string) string {
	if len(s) == 0 {
		return ""
	}
	if len(s) > arenaChunk/4 {
		return strings.Clone(s)
	}
	if a.cur == len(a.chunks) || len(a.chunks[a.cur])+len(s) > cap(a.chunks[a.cur]) {
		if a.cur < len(a.chunks) && len(a.chunks[a.cur]) > 0 {
			a.cur++
		}
		if a.cur == len(a.chunks) {
			a.chunks = append(a.chunks, make([]byte, 0, arenaChunk))
		}
	}
	c := a.chunks[a.cur]
	at := len(c)
	c = append(c, s...)
	a.chunks[a.cur] = c
	return unsafe.String(&c[at], len(s))
}

// arenaKeep chunks stay allocated between row groups: a segment that is
// idle, or whose row groups are small, does not hold its largest row
// group's strings.
const arenaKeep = 2

// reset makes the chunks reusable: the caller guarantees no string from
// them is referenced any more (dictionaries and maps are cleared).
func (a *strArena) reset() {
	if len(a.chunks) > arenaKeep {
		clear(a.chunks[arenaKeep:])
		a.chunks = a.chunks[:arenaKeep]
	}
	for i := range a.chunks {
		a.chunks[i] = a.chunks[i][:0]
	}
	a.cur = 0
}

// pageZstd compresses the pages of every segment being written: one
// encoder whose EncodeAll takes one of GOMAXPROCS internal states (waiting
// for a free one), rather than an encoder per open segment, since each
// state holds ~10 MB of match history and a writer may have 16 segments
// open. The output depends only on the page (EncodeAll starts afresh).
var pageZstd = sync.OnceValue(func() *zstd.Encoder {
	z, _ := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0)),
		zstd.WithLowerEncoderMem(true), zstd.WithWindowSize(1<<20))
	return z
})

func newPQEncoder(w io.Writer) *pqEncoder {
	e := &pqEncoder{out: bufio.NewWriterSize(w, 256<<10)}
	e.rg.fields = make([]dictColumn, spellingsCol+1)
	for i := range e.rg.fields {
		e.rg.fields[i].arena = &e.rg.arena
	}
	for _, c := range []*dictColumn{&e.rg.host, &e.rg.channel, &e.rg.provider, &e.rg.source} {
		c.arena = &e.rg.arena
	}
	e.write(pqfile.Magic)
	return e
}

func (e *pqEncoder) write(b []byte) {
	if e.err != nil {
		return
	}
	n, err := e.out.Write(b)
	e.crc = crc32.Update(e.crc, castagnoli, b[:n])
	e.off += int64(n)
	e.err = err
}

// rowSource is what the encoder needs of an event (event.Event satisfies it
// through eventRow, and recovery feeds decoded events the same way).
type fieldValue struct {
	col int32
	v   string
}

// addRow appends one row to the open row group (flushRowGroup ends it).
// fields must be in column order.
func (e *pqEncoder) addRow(time int64, host, channel, provider string, eventID uint16, recID, seq uint64, source string, flags uint8, fields []fieldValue, extra [][2]string) error {
	rg := &e.rg
	row := int32(rg.n)
	rg.time = append(rg.time, time)
	rg.recID = append(rg.recID, int64(recID))
	rg.seq = append(rg.seq, int64(seq))
	rg.eventID = append(rg.eventID, int32(eventID))
	rg.flags = append(rg.flags, int32(flags))
	rg.host.add(host)
	rg.channel.add(channel)
	rg.provider.add(provider)
	rg.source.add(source)
	for _, f := range fields {
		c := &rg.fields[f.col]
		if len(c.rows) == 0 {
			rg.used = append(rg.used, f.col)
		}
		c.add(f.v)
		c.rows = append(c.rows, row)
	}
	rg.extraN = append(rg.extraN, int32(len(extra)))
	for _, kv := range extra {
		rg.extraK = append(rg.extraK, rg.arena.clone(kv[0]))
		rg.extraV = append(rg.extraV, rg.arena.clone(kv[1]))
	}
	rg.n++
	e.totalRows++
	return e.err
}

// size estimates the file size so far: bytes written plus the open row
// group's raw string bytes (an upper bound of what it will add).
func (e *pqEncoder) size() int64 {
	s := e.off + int64(e.rg.n)*24
	for _, c := range e.rg.used {
		s += int64(e.rg.fields[c].bytes)
	}
	return s
}

func (e *pqEncoder) flushRowGroup() error {
	rg := &e.rg
	if rg.n == 0 || e.err != nil {
		return e.err
	}
	start := e.off
	cols := make([]format.ColumnChunk, 0, leafCount)
	add := func(cc format.ColumnChunk) { cols = append(cols, cc) }
	add(e.int64Column("Time", rg.time, true))
	add(e.dictColumnChunk("Host", &rg.host, false))
	add(e.dictColumnChunk("Channel", &rg.channel, false))
	add(e.dictColumnChunk("Provider", &rg.provider, false))
	add(e.int32Column("EventID", rg.eventID))
	add(e.int64Column("RecordID", rg.recID, false))
	add(e.int64Column("Seq", rg.seq, true))
	add(e.dictColumnChunk("Source", &rg.source, false))
	add(e.int32Column("Flags", rg.flags))
	for i, id := range dataFields {
		add(e.dictColumnChunk(id.Name(), &rg.fields[i], true))
	}
	add(e.dictColumnChunk(spellingsColumn, &rg.fields[spellingsCol], true))
	k, v := e.extraColumns()
	add(k)
	add(v)
	if e.err != nil {
		return e.err
	}
	var total int64
	for _, c := range cols {
		total += c.MetaData.TotalUncompressedSize
	}
	e.groups = append(e.groups, format.RowGroup{Columns: cols, TotalByteSize: total, NumRows: int64(rg.n),
		FileOffset: start, TotalCompressedSize: e.off - start, Ordinal: int16(len(e.groups))})
	e.resetRowGroup()
	return nil
}

// pageKeep bounds the page buffers kept between row groups (a plain page
// of long messages can take tens of MB).
const pageKeep = 1 << 20

func (e *pqEncoder) resetRowGroup() {
	if cap(e.page) > pageKeep {
		e.page = nil
	}
	if cap(e.comp) > pageKeep {
		e.comp = nil
	}
	rg := &e.rg
	rg.n = 0
	rg.time, rg.recID, rg.seq, rg.eventID, rg.flags = rg.time[:0], rg.recID[:0], rg.seq[:0], rg.eventID[:0], rg.flags[:0]
	rg.host.reset()
	rg.channel.reset()
	rg.provider.reset()
	rg.source.reset()
	for _, c := range rg.used {
		rg.fields[c].reset()
	}
	rg.used = rg.used[:0]
	clear(rg.extraK)
	clear(rg.extraV)
	rg.extraN, rg.extraK, rg.extraV = rg.extraN[:0], rg.extraK[:0], rg.extraV[:0]
	rg.arena.reset()
}

// writePage compresses body and writes header + body; it returns the
// uncompressed and compressed sizes including the header.
func (e *pqEncoder) writePage(h format.PageHeader, body []byte) (int64, int64) {
	e.comp = pageZstd().EncodeAll(body, e.comp[:0])
	h.UncompressedPageSize = int32(len(body))
	h.CompressedPageSize = int32(len(e.comp))
	hb, err := thrift.Marshal(new(thrift.CompactProtocol), &h)
	if err != nil && e.err == nil {
		e.err = err
	}
	e.write(hb)
	e.write(e.comp)
	return int64(len(hb) + len(body)), int64(len(hb) + len(e.comp))
}

func dataPageHeader(numValues int, enc format.Encoding, nulls int64) format.PageHeader {
	return format.PageHeader{Type: format.DataPage, DataPageHeader: thrift.New(format.DataPageHeader{
		NumValues: int32(numValues), Encoding: enc, DefinitionLevelEncoding: format.RLE, RepetitionLevelEncoding: format.RLE,
		Statistics: format.Statistics{NullCount: nulls},
	})}
}

func chunkMeta(name []string, t format.Type, encs []format.Encoding, n int, stats format.Statistics) format.ColumnChunk {
	return format.ColumnChunk{MetaData: format.ColumnMetaData{Type: t, Encoding: encs, PathInSchema: name, Codec: format.Zstd,
		NumValues: int64(n), Statistics: stats}}
}

func (e *pqEncoder) int64Column(name string, vals []int64, minmax bool) format.ColumnChunk {
	var stats format.Statistics
	if minmax && len(vals) > 0 {
		lo, hi := vals[0], vals[0]
		for _, v := range vals {
			lo, hi = min(lo, v), max(hi, v)
		}
		stats.MinValue = binary.LittleEndian.AppendUint64(nil, uint64(lo))
		stats.MaxValue = binary.LittleEndian.AppendUint64(nil, uint64(hi))
	}
	cc := chunkMeta([]string{name}, format.Int64, []format.Encoding{format.DeltaBinaryPacked, format.RLE}, len(vals), stats)
	cc.FileOffset = e.off
	cc.MetaData.DataPageOffset = e.off
	var enc delta.BinaryPackedEncoding
	for a := 0; a < len(vals); a += pageRows {
		b := min(a+pageRows, len(vals))
		body, err := enc.EncodeInt64(e.page[:0], vals[a:b])
		if err != nil && e.err == nil {
			e.err = err
		}
		e.page = body
		u, c := e.writePage(dataPageHeader(b-a, format.DeltaBinaryPacked, 0), body)
		cc.MetaData.TotalUncompressedSize += u
		cc.MetaData.TotalCompressedSize += c
	}
	return cc
}

func (e *pqEncoder) int32Column(name string, vals []int32) format.ColumnChunk {
	cc := chunkMeta([]string{name}, format.Int32, []format.Encoding{format.Plain, format.RLE}, len(vals), format.Statistics{})
	cc.FileOffset = e.off
	cc.MetaData.DataPageOffset = e.off
	for a := 0; a < len(vals); a += pageRows {
		b := min(a+pageRows, len(vals))
		body := e.page[:0]
		for _, v := range vals[a:b] {
			body = binary.LittleEndian.AppendUint32(body, uint32(v))
		}
		e.page = body
		u, c := e.writePage(dataPageHeader(b-a, format.Plain, 0), body)
		cc.MetaData.TotalUncompressedSize += u
		cc.MetaData.TotalCompressedSize += c
	}
	return cc
}

// dictColumnChunk writes a string column: dictionary page + RLE_DICTIONARY
// data pages, or PLAIN pages when the dictionary is too big.
func (e *pqEncoder) dictColumnChunk(name string, c *dictColumn, optional bool) format.ColumnChunk {
	n := e.rg.n
	nv := c.count()
	nulls := int64(n - nv)
	if !c.plain && c.bytes > maxDictBytes {
		c.toPlain()
	}
	plain := c.plain
	encs := []format.Encoding{format.Plain, format.RLE, format.RLEDictionary}
	if plain || nv == 0 {
		encs = []format.Encoding{format.Plain, format.RLE}
	}
	cc := chunkMeta([]string{name}, format.ByteArray, encs, n, format.Statistics{NullCount: nulls})
	cc.FileOffset = e.off
	if nv > 0 && !plain {
		cc.MetaData.DictionaryPageOffset = e.off
		body := e.page[:0]
		for _, s := range c.dict {
			body = binary.LittleEndian.AppendUint32(body, uint32(len(s)))
			body = append(body, s...)
		}
		e.page = body
		u, z := e.writePage(format.PageHeader{Type: format.DictionaryPage, DictionaryPageHeader: thrift.New(format.DictionaryPageHeader{
			NumValues: int32(len(c.dict)), Encoding: format.Plain})}, body)
		cc.MetaData.TotalUncompressedSize += u
		cc.MetaData.TotalCompressedSize += z
	}
	cc.MetaData.DataPageOffset = e.off
	if optional && nv == 0 {
		// All null: one page holding a single run of zero levels.
		body := binary.LittleEndian.AppendUint32(e.page[:0], 0)
		body = appendRLERun(body, n, 0)
		binary.LittleEndian.PutUint32(body, uint32(len(body)-4))
		e.page = body
		u, z := e.writePage(dataPageHeader(n, format.Plain, int64(n)), body)
		cc.MetaData.TotalUncompressedSize += u
		cc.MetaData.TotalCompressedSize += z
		return cc
	}
	vi := 0 // next value
	for a := 0; a < n; {
		b, vj := c.pageEnd(a, n, vi, optional)
		body := e.page[:0]
		if optional {
			body = e.appendDefLevels(body, c.rows[vi:vj], a, b)
		}
		enc := format.RLEDictionary
		if plain {
			enc = format.Plain
			for _, s := range c.vals[vi:vj] {
				body = binary.LittleEndian.AppendUint32(body, uint32(len(s)))
				body = append(body, s...)
			}
		} else {
			w := max(1, bitWidth(len(c.dict)-1))
			body = append(body, byte(w))
			var err error
			body, err = appendHybridInt32(body, c.idx[vi:vj], w)
			if err != nil && e.err == nil {
				e.err = err
			}
		}
		e.page = body
		u, z := e.writePage(dataPageHeader(b-a, enc, int64((b-a)-(vj-vi))), body)
		cc.MetaData.TotalUncompressedSize += u
		cc.MetaData.TotalCompressedSize += z
		a, vi = b, vj
	}
	return cc
}

// pageEnd returns the end row b of the page starting at row a (value vi)
// and its end value vj: pageRows rows, fewer when plain values reach
// pageBytes.
func (c *dictColumn) pageEnd(a, n, vi int, optional bool) (b, vj int) {
	if !c.plain {
		b = min(a+pageRows, n)
		if !optional {
			return b, vi + b - a // one value per row
		}
		vj = vi
		for vj < len(c.rows) && int(c.rows[vj]) < b {
			vj++
		}
		return b, vj
	}
	size := 0
	b, vj = a, vi
	for b < n && b-a < pageRows && (size < pageBytes || b == a) {
		if !optional || vj < len(c.rows) && int(c.rows[vj]) == b {
			size += len(c.vals[vj])
			vj++
		}
		b++
	}
	return b, vj
}

// appendDefLevels appends the length-prefixed RLE/bit-packed definition
// levels of rows [a, b), 1 where rows (ascending, within [a, b)) has a value.
func (e *pqEncoder) appendDefLevels(body []byte, rows []int32, a, b int) []byte {
	at := len(body)
	body = append(body, 0, 0, 0, 0)
	e.levels = grow(e.levels, b-a)
	clear(e.levels)
	for _, r := range rows {
		e.levels[int(r)-a] = 1
	}
	enc := rle.Encoding{BitWidth: 1}
	out, err := enc.EncodeLevels(body[at+4:], e.levels)
	if err != nil && e.err == nil {
		e.err = err
	}
	body = append(body[:at+4], out...)
	binary.LittleEndian.PutUint32(body[at:], uint32(len(body)-at-4))
	return body
}

// extraColumns writes Extra.list.element.Key and .Value: one level per row
// without entries (rep 0, def 0), else one per entry (rep 0 then 1, def 1).
// Both columns are split into pages at the same rows (pageRows rows, fewer
// when the keys and values reach pageBytes), as readers expect.
func (e *pqEncoder) extraColumns() (format.ColumnChunk, format.ColumnChunk) {
	rg := &e.rg
	// Page boundaries: rows [a, b) hold entries [ea, eb).
	type span struct{ a, b, ea, eb int }
	var pages []span
	for a, ea := 0, 0; a < len(rg.extraN); {
		b, eb, size := a, ea, 0
		for b < len(rg.extraN) && b-a < pageRows && (size < pageBytes || b == a) {
			for j := 0; j < int(rg.extraN[b]); j++ {
				size += len(rg.extraK[eb+j]) + len(rg.extraV[eb+j])
			}
			eb += int(rg.extraN[b])
			b++
		}
		pages = append(pages, span{a, b, ea, eb})
		a, ea = b, eb
	}
	levels := 0
	for _, k := range rg.extraN {
		levels += max(1, int(k))
	}
	var reps, defs []byte
	one := func(name string, vals []string) format.ColumnChunk {
		cc := chunkMeta([]string{"Extra", "list", "element", name}, format.ByteArray, []format.Encoding{format.Plain, format.RLE},
			levels, format.Statistics{NullCount: int64(levels - len(vals))})
		cc.FileOffset = e.off
		cc.MetaData.DataPageOffset = e.off
		for _, p := range pages {
			reps, defs = reps[:0], defs[:0]
			for _, k := range rg.extraN[p.a:p.b] {
				if k == 0 {
					reps, defs = append(reps, 0), append(defs, 0)
				}
				for j := int32(0); j < k; j++ {
					reps, defs = append(reps, byte(min(j, 1))), append(defs, 1)
				}
			}
			u, z := e.extraPage(reps, defs, vals[p.ea:p.eb])
			cc.MetaData.TotalUncompressedSize += u
			cc.MetaData.TotalCompressedSize += z
		}
		return cc
	}
	return one("Key", rg.extraK), one("Value", rg.extraV)
}

// extraPage writes one page of an Extra column.
func (e *pqEncoder) extraPage(reps, defs []byte, vals []string) (int64, int64) {
	enc := rle.Encoding{BitWidth: 1}
	body := e.page[:0]
	for _, lv := range [][]byte{reps, defs} {
		at := len(body)
		body = append(body, 0, 0, 0, 0)
		out, err := enc.EncodeLevels(body[at+4:], lv)
		if err != nil && e.err == nil {
			e.err = err
		}
		body = append(body[:at+4], out...)
		binary.LittleEndian.PutUint32(body[at:], uint32(len(body)-at-4))
	}
	for _, s := range vals {
		body = binary.LittleEndian.AppendUint32(body, uint32(len(s)))
		body = append(body, s...)
	}
	e.page = body
	return e.writePage(dataPageHeader(len(defs), format.Plain, int64(len(defs)-len(vals))), body)
}

// close flushes the last row group and writes the footer.
func (e *pqEncoder) close(kv []format.KeyValue) error {
	if err := e.flushRowGroup(); err != nil {
		return err
	}
	orders := make([]format.ColumnOrder, leafCount)
	for i := range orders {
		orders[i] = format.ColumnOrder{Value: &format.TypeDefinedOrder{}}
	}
	// Integrity: the data region's CRC, then the footer's own CRC, computed
	// with its value zeroed and patched in (pqfile.Seal).
	for _, c := range pqfile.FooterKeyValues(e.crc) {
		kv = append(kv, format.KeyValue{Key: c[0], Value: c[1]})
	}
	md := format.FileMetaData{Version: 1, Schema: segmentSchema, NumRows: e.totalRows, RowGroups: e.groups,
		KeyValueMetadata: kv, CreatedBy: "edr recording (custom encoder, schema via parquet-go format)", ColumnOrders: orders}
	if md.RowGroups == nil {
		md.RowGroups = []format.RowGroup{}
	}
	b, err := thrift.Marshal(new(thrift.CompactProtocol), &md)
	if err != nil {
		return err
	}
	if err := pqfile.Seal(b); err != nil {
		return err
	}
	e.write(b)
	e.write(binary.LittleEndian.AppendUint32(nil, uint32(len(b))))
	e.write(pqfile.Magic)
	if e.err != nil {
		return e.err
	}
	return e.out.Flush()
}

// appendRLERun appends one RLE run of n copies of a 1-byte-wide value.
func appendRLERun(b []byte, n int, v byte) []byte {
	b = binary.AppendUvarint(b, uint64(n)<<1)
	return append(b, v)
}

func bitWidth(maxValue int) int {
	if maxValue <= 0 {
		return 0
	}
	return bits.Len(uint(maxValue))
}

func appendHybridInt32(dst []byte, src []int32, width int) ([]byte, error) {
	enc := rle.Encoding{BitWidth: width}
	out, err := enc.EncodeInt32(nil, src)
	if err != nil {
		return dst, fmt.Errorf("rle: %w", err)
	}
	return append(dst, out...), nil
}
