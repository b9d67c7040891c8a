package recording

import (
	"io"
	"strings"
	"unsafe"

	"github.com/edr-lab/edr/recording/internal/pqfile"
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
	pw        *pqfile.Writer // pages, offsets, data CRC, footer
	rg        rgBuffer
	groups    pqfile.RowGroups // finished row groups, encoded (~240 kB each as structs)
	totalRows int64
}

// A page of plain strings (or of Extra) ends at the first row that takes
// its values past pqfile.PageBytes, and holds at most pqfile.PageRows rows;
// a dictionary over maxDictBytes falls back to PLAIN.
const (
	pageRows     = pqfile.PageRows
	pageBytes    = pqfile.PageBytes
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
	mlen  int // the most entries m held since it was made
	// plainAt is the dictionary's length when the column went plain.
	plainAt int
	last    string // the previous value and its index: runs are common
	lastI   int32
	dict    []string
	bytes   int
	idx     []int32
	rows    []int32
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
	c.plain, c.plainAt = true, len(c.dict)
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

// reset empties the column for the next row group. Its slices and map
// keep their storage only as far as this row group used it (spare):
// storage kept at each column's largest row group so far made an encoder
// hold the sum over its ~400 columns of their largest row groups, which
// grew all run as the mix of events varied (edr live, 4 segments: dictColumn
// storage 1.5 MB at the 96 MB heap profile, 13 MB at the 176 MB one).
func (c *dictColumn) reset() {
	used := len(c.dict) // map entries this row group
	if c.plain {
		used = c.plainAt
	}
	c.mlen = max(c.mlen, used)
	c.vals, c.plain = spare(c.vals, true), false
	if c.mlen > 2*used+spareMin {
		c.m, c.mlen = nil, 0
	} else {
		clear(c.m)
	}
	c.dict = spare(c.dict, true) // drop string references
	c.last = ""
	c.idx, c.rows, c.bytes = spare(c.idx, false), spare(c.rows, false), 0
}

// spareMin is the storage (in values) a column keeps whatever it used.
const spareMin = 512

// spare returns s emptied for the next row group: its own storage when
// that is at most twice what s holds (or small), else a new one a quarter
// larger than s's length (nil for none). clear drops the references of
// the storage kept.
func spare[T any](s []T, clearKept bool) []T {
	if n := len(s); cap(s) > spareMin && cap(s) > 2*n {
		if n == 0 {
			return nil
		}
		return make([]T, 0, n+n/4)
	}
	if clearKept {
		clear(s)
	}
	return s[:0]
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

func newPQEncoder(w io.Writer, level pqfile.Level) *pqEncoder {
	e := &pqEncoder{pw: pqfile.NewWriterLevel(w, level)}
	e.rg.fields = make([]dictColumn, spellingsCol+1)
	for i := range e.rg.fields {
		e.rg.fields[i].arena = &e.rg.arena
	}
	for _, c := range []*dictColumn{&e.rg.host, &e.rg.channel, &e.rg.provider, &e.rg.source} {
		c.arena = &e.rg.arena
	}
	return e
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
	return e.pw.Err()
}

// size estimates the file size so far: bytes written plus the open row
// group's raw string bytes (an upper bound of what it will add).
func (e *pqEncoder) size() int64 {
	s := e.pw.Offset() + int64(e.rg.n)*24
	for _, c := range e.rg.used {
		s += int64(e.rg.fields[c].bytes)
	}
	return s
}

func (e *pqEncoder) flushRowGroup() error {
	rg := &e.rg
	if rg.n == 0 || e.pw.Err() != nil {
		return e.pw.Err()
	}
	start := e.pw.Offset()
	cols := make([]format.ColumnChunk, 0, leafCount)
	add := func(cc format.ColumnChunk) { cols = append(cols, cc) }
	add(e.pw.Int64Column("Time", rg.time, true))
	add(e.dictColumnChunk("Host", &rg.host, false))
	add(e.dictColumnChunk("Channel", &rg.channel, false))
	add(e.dictColumnChunk("Provider", &rg.provider, false))
	add(e.pw.Int32Column("EventID", rg.eventID))
	add(e.pw.Int64Column("RecordID", rg.recID, false))
	add(e.pw.Int64Column("Seq", rg.seq, true))
	add(e.dictColumnChunk("Source", &rg.source, false))
	add(e.pw.Int32Column("Flags", rg.flags))
	for i, id := range dataFields {
		add(e.dictColumnChunk(id.Name(), &rg.fields[i], true))
	}
	add(e.dictColumnChunk(spellingsColumn, &rg.fields[spellingsCol], true))
	k, v := e.extraColumns()
	add(k)
	add(v)
	if err := e.pw.Err(); err != nil {
		return err
	}
	var total int64
	for _, c := range cols {
		total += c.MetaData.TotalUncompressedSize
	}
	if err := e.groups.Add(&format.RowGroup{Columns: cols, TotalByteSize: total, NumRows: int64(rg.n),
		FileOffset: start, TotalCompressedSize: e.pw.Offset() - start, Ordinal: int16(e.groups.Len())}); err != nil {
		return err
	}
	e.resetRowGroup()
	return nil
}

func (e *pqEncoder) resetRowGroup() {
	e.pw.TrimBuffers()
	rg := &e.rg
	rg.n = 0
	rg.time, rg.recID, rg.seq, rg.eventID, rg.flags = rg.time[:0], rg.recID[:0], rg.seq[:0], rg.eventID[:0], rg.flags[:0]
	rg.host.reset()
	rg.channel.reset()
	rg.provider.reset()
	rg.source.reset()
	for i := range rg.fields { // unused ones too: their storage goes
		rg.fields[i].reset()
	}
	rg.used = rg.used[:0]
	clear(rg.extraK)
	clear(rg.extraV)
	rg.extraN, rg.extraK, rg.extraV = rg.extraN[:0], rg.extraK[:0], rg.extraV[:0]
	rg.arena.reset()
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
	cc := pqfile.ChunkMeta([]string{name}, format.ByteArray, encs, n, format.Statistics{NullCount: nulls})
	cc.FileOffset = e.pw.Offset()
	if nv > 0 && !plain {
		cc.MetaData.DictionaryPageOffset = e.pw.Offset()
		u, z := e.pw.WritePage(pqfile.DictionaryPageHeader(len(c.dict)), pqfile.AppendPlain(e.pw.Buf(), c.dict))
		cc.MetaData.TotalUncompressedSize += u
		cc.MetaData.TotalCompressedSize += z
	}
	cc.MetaData.DataPageOffset = e.pw.Offset()
	if optional && nv == 0 {
		// All null: one page holding a single run of zero levels.
		u, z := e.pw.WritePage(pqfile.DataPageHeader(n, format.Plain, int64(n)), pqfile.AppendNullLevels(e.pw.Buf(), n))
		cc.MetaData.TotalUncompressedSize += u
		cc.MetaData.TotalCompressedSize += z
		return cc
	}
	vi := 0 // next value
	for a := 0; a < n; {
		b, vj := c.pageEnd(a, n, vi, optional)
		body := e.pw.Buf()
		if optional {
			body = e.pw.AppendDefLevels(body, c.rows[vi:vj], a, b)
		}
		enc := format.RLEDictionary
		if plain {
			enc = format.Plain
			body = pqfile.AppendPlain(body, c.vals[vi:vj])
		} else {
			body = e.pw.AppendDictIndexes(body, c.idx[vi:vj], len(c.dict))
		}
		u, z := e.pw.WritePage(pqfile.DataPageHeader(b-a, enc, int64((b-a)-(vj-vi))), body)
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
		cc := pqfile.ChunkMeta([]string{"Extra", "list", "element", name}, format.ByteArray, []format.Encoding{format.Plain, format.RLE},
			levels, format.Statistics{NullCount: int64(levels - len(vals))})
		cc.FileOffset = e.pw.Offset()
		cc.MetaData.DataPageOffset = e.pw.Offset()
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
	body := e.pw.AppendLevels(e.pw.Buf(), reps)
	body = e.pw.AppendLevels(body, defs)
	body = pqfile.AppendPlain(body, vals)
	return e.pw.WritePage(pqfile.DataPageHeader(len(defs), format.Plain, int64(len(defs)-len(vals))), body)
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
	md := format.FileMetaData{Version: 1, Schema: segmentSchema, NumRows: e.totalRows,
		KeyValueMetadata: kv, CreatedBy: "edr recording (custom encoder, schema via parquet-go format)", ColumnOrders: orders}
	return e.pw.CloseRowGroups(&md, &e.groups)
}
