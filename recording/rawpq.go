package recording

import (
	"bytes"
	"encoding/binary"
	"math/bits"
	"slices"
	"sync"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding/rle"
	"github.com/parquet-go/parquet-go/format"

	"github.com/edr-lab/edr/capture/raw"
	"github.com/edr-lab/edr/recording/internal/pqfile"
)

// rawEncoder writes a raw segment's Parquet file with the page writer the
// event segments use (pqfile), not parquet-go's GenericWriter: the
// GenericWriter builds a rawRow per record (a Go value with pointers, a
// slice of property rows, copies of every string) and walks it through
// reflection-driven column writers, ~25k records/s on the live machine;
// this encoder appends the record's values straight into per-column
// buffers and encodes each column chunk in one pass.
//
// The file is the one the GenericWriter wrote, to the schema element:
// rawSchema is read back from a file parquet-go writes for rawRow, so
// parquet-go's reader (ReadRaw), DuckDB and Spark see the same table.
// Layout: data page v1, zstd; Host, Provider and the property Name and Kind
// dictionary-encoded; Time DELTA_BINARY_PACKED with min/max; the rest
// PLAIN; null counts in every chunk's statistics.
type rawEncoder struct {
	pw *pqfile.Writer
	// groups are the finished row groups, kept encoded until the footer:
	// as structs (19 ColumnChunks, ~10 kB a row group) the raw files of
	// edr live's 1M-event benchmark held ~3 MB by its end, growing all run.
	groups    pqfile.RowGroups
	totalRows int64
	rg        rawGroup
	levels    []byte
	names     []int32 // flushRowGroup's property name and kind indexes
	kinds     []int32
	err       error // a level encoding error (pqfile keeps write errors)
}

// rawGroup is the open row group, column by column.
type rawGroup struct {
	n        int
	time     []int64
	keywords []int64
	seq      []int64 // 0: NULL
	eventID  []int32
	version  []int32
	opcode   []int32
	level    []int32
	pid      []int32
	tid      []int32
	hflags   []int32
	host     strDict
	hostIdx  []int32
	provs    map[raw.ProviderID]int32
	provDict []string
	provIdx  []int32
	ud       []span // UserData; len 0: NULL
	propN    []int32
	props    []rawProp
	names    strDict
	kinds    [256]int32 // raw.Kind → dictionary index + 1 (0: not yet)
	kindDict []string
	arena    []byte // UserData, Str and Bytes values of the row group
}

// span is a value in rawGroup.arena.
type span struct{ off, n int32 }

type rawProp struct {
	name int32
	kind raw.Kind
	num  uint64
	val  span // Str or Bytes
}

// strDict is a string dictionary; last speeds up runs of one value.
type strDict struct {
	m     map[string]int32
	dict  []string
	last  string
	lastI int32
}

func (d *strDict) index(s string) int32 {
	if len(d.dict) > 0 && s == d.last {
		return d.lastI
	}
	i, ok := d.m[s]
	if !ok {
		if d.m == nil {
			d.m = map[string]int32{}
		}
		s = string([]byte(s)) // the record's strings are reused
		i = int32(len(d.dict))
		d.m[s] = i
		d.dict = append(d.dict, s)
	}
	d.last, d.lastI = s, i
	return i
}

func (d *strDict) reset() {
	clear(d.m)
	clear(d.dict)
	d.dict, d.last, d.lastI = d.dict[:0], "", 0
}

func newRawEncoder(pw *pqfile.Writer) *rawEncoder {
	return &rawEncoder{pw: pw, rg: rawGroup{provs: map[raw.ProviderID]int32{}}}
}

func (g *rawGroup) put(b []byte) span {
	s := span{int32(len(g.arena)), int32(len(b))}
	g.arena = append(g.arena, b...)
	return s
}

func (g *rawGroup) putString(s string) span {
	sp := span{int32(len(g.arena)), int32(len(s))}
	g.arena = append(g.arena, s...)
	return sp
}

// add appends one record. Nothing of r is retained.
func (e *rawEncoder) add(host string, seq uint64, r *raw.Record) {
	g := &e.rg
	g.n++
	g.time = append(g.time, r.UnixNano())
	g.keywords = append(g.keywords, int64(r.Keywords))
	g.seq = append(g.seq, int64(seq))
	g.eventID = append(g.eventID, int32(r.EventID))
	g.version = append(g.version, int32(r.Version))
	g.opcode = append(g.opcode, int32(r.Opcode))
	g.level = append(g.level, int32(r.Level))
	g.pid = append(g.pid, int32(r.PID))
	g.tid = append(g.tid, int32(r.TID))
	g.hflags = append(g.hflags, int32(r.HeaderFlags))
	g.hostIdx = append(g.hostIdx, g.host.index(host))
	pi, ok := g.provs[r.Provider]
	if !ok {
		pi = int32(len(g.provDict))
		g.provs[r.Provider] = pi
		g.provDict = append(g.provDict, r.Provider.String())
	}
	g.provIdx = append(g.provIdx, pi)
	g.ud = append(g.ud, g.put(r.UserData))
	g.propN = append(g.propN, int32(len(r.Props)))
	for i := range r.Props {
		p := &r.Props[i]
		k := g.kinds[p.Kind]
		if k == 0 {
			g.kindDict = append(g.kindDict, p.Kind.String())
			k = int32(len(g.kindDict))
			g.kinds[p.Kind] = k
		}
		rp := rawProp{name: g.names.index(p.Name), kind: p.Kind, num: p.Num}
		switch {
		case p.Kind.Numeric():
		case p.Kind == raw.GUID || p.Kind == raw.Binary:
			rp.val = g.put(p.Bytes)
		default:
			rp.val = g.putString(p.Str)
		}
		g.props = append(g.props, rp)
	}
}

// rawPage is the rows [a, b) of one data page and their properties [pa, pb).
type rawPage struct{ a, b, pa, pb int }

// pages splits the row group into pages of at most pqfile.PageRows rows
// whose variable-length values stay near pqfile.PageBytes; every column
// uses the same rows, so a list never straddles two pages.
func (g *rawGroup) pages() []rawPage {
	var out []rawPage
	for a, pa := 0, 0; a < g.n; {
		b, pb, size := a, pa, 0
		for b < g.n && b-a < pqfile.PageRows && (size < pqfile.PageBytes || b == a) {
			size += int(g.ud[b].n) + 16
			for j := 0; j < int(g.propN[b]); j++ {
				size += int(g.props[pb+j].val.n) + 24
			}
			pb += int(g.propN[b])
			b++
		}
		out = append(out, rawPage{a, b, pa, pb})
		a, pa = b, pb
	}
	return out
}

func (e *rawEncoder) flushRowGroup() error {
	g := &e.rg
	if e.err != nil {
		return e.err
	}
	if g.n == 0 || e.pw.Err() != nil {
		return e.pw.Err()
	}
	pages := g.pages()
	start := e.pw.Offset()
	cols := make([]format.ColumnChunk, 0, len(rawLeaves)+1)
	add := func(cc format.ColumnChunk) { cols = append(cols, cc) }
	add(e.pw.Int64Column("Time", g.time, true))
	add(e.dictChunk(0, pages, g.host.dict, g.hostIdx, nil))
	add(e.int64Chunk(1, pages, g.seq, func(i int) bool { return g.seq[i] != 0 }))
	add(e.dictChunk(2, pages, g.provDict, g.provIdx, nil))
	for i, vals := range [][]int32{g.eventID, g.version, g.opcode, g.level} {
		add(e.int32Chunk(3+i, vals))
	}
	add(e.int64Chunk(7, pages, g.keywords, nil))
	for i, vals := range [][]int32{g.pid, g.tid, g.hflags} {
		add(e.int32Chunk(8+i, vals))
	}
	add(e.bytesChunk(11, pages, func(i int) (span, bool) { return g.ud[i], g.ud[i].n > 0 }))
	// Kept for the next row group: made per row group, they were about a
	// twentieth of edr live's allocations per event.
	names, kinds := slices.Grow(e.names[:0], len(g.props))[:len(g.props)], slices.Grow(e.kinds[:0], len(g.props))[:len(g.props)]
	e.names, e.kinds = names, kinds
	for i := range g.props {
		names[i], kinds[i] = g.props[i].name, g.kinds[g.props[i].kind]-1
	}
	add(e.dictChunk(12, pages, g.names.dict, names, g.propN))
	add(e.dictChunk(13, pages, g.kindDict, kinds, g.propN))
	add(e.propInts(14, pages, func(p *rawProp) (int64, bool) { return int64(p.num), p.kind.Numeric() }))
	add(e.propInts(15, pages, func(p *rawProp) (int64, bool) {
		rp := raw.Prop{Kind: p.kind, Num: p.num}
		return rp.Int(), p.kind.Signed()
	}))
	add(e.propBytes(16, pages, func(p *rawProp) bool { return !p.kind.Numeric() && p.kind != raw.GUID && p.kind != raw.Binary }))
	add(e.propBytes(17, pages, func(p *rawProp) bool { return p.kind == raw.GUID || p.kind == raw.Binary }))
	if err := e.pw.Err(); err != nil {
		return err
	}
	if e.err != nil {
		return e.err
	}
	var total int64
	for _, c := range cols {
		total += c.MetaData.TotalUncompressedSize
	}
	if err := e.groups.Add(&format.RowGroup{Columns: cols, TotalByteSize: total, NumRows: int64(g.n),
		FileOffset: start, TotalCompressedSize: e.pw.Offset() - start, Ordinal: int16(e.groups.Len())}); err != nil {
		return err
	}
	e.totalRows += int64(g.n)
	e.reset()
	return nil
}

func (e *rawEncoder) reset() {
	e.pw.TrimBuffers()
	g := &e.rg
	g.n = 0
	g.time, g.keywords, g.seq = g.time[:0], g.keywords[:0], g.seq[:0]
	g.eventID, g.version, g.opcode, g.level = g.eventID[:0], g.version[:0], g.opcode[:0], g.level[:0]
	g.pid, g.tid, g.hflags = g.pid[:0], g.tid[:0], g.hflags[:0]
	g.host.reset()
	g.hostIdx = g.hostIdx[:0]
	clear(g.provs)
	g.provDict, g.provIdx = g.provDict[:0], g.provIdx[:0]
	g.ud, g.propN, g.props = g.ud[:0], g.propN[:0], g.props[:0]
	g.names.reset()
	g.kinds = [256]int32{}
	g.kindDict = g.kindDict[:0]
	if cap(g.arena) > 64<<20 {
		g.arena = nil
	}
	g.arena = g.arena[:0]
}

// leaf is one leaf column of rawSchema: its path, type, and levels.
type leaf struct {
	path           []string
	typ            format.Type
	maxRep, maxDef int
}

// chunk starts a column chunk's metadata at the current offset.
func (e *rawEncoder) chunk(col int, encs []format.Encoding, values int) format.ColumnChunk {
	l := rawLeaves[col]
	cc := pqfile.ChunkMeta(l.path, l.typ, encs, values, format.Statistics{})
	cc.FileOffset = e.pw.Offset()
	cc.MetaData.DataPageOffset = e.pw.Offset()
	return cc
}

func (e *rawEncoder) page(cc *format.ColumnChunk, n int, enc format.Encoding, nulls int64, body []byte) {
	u, z := e.pw.WritePage(pqfile.DataPageHeader(n, enc, nulls), body)
	cc.MetaData.TotalUncompressedSize += u
	cc.MetaData.TotalCompressedSize += z
	cc.MetaData.Statistics.NullCount += nulls
}

// levelsOf appends, for the rows of p, the repetition or definition
// levels of a column: top-level columns one per row (def 1 when has(row));
// property columns one per property (rep 0 for a row's first, else 1; def
// 2 when has(prop), else 1), and rep 0/def 0 for a row without any.
func (e *rawEncoder) levelsOf(dst []byte, p rawPage, list, rep bool, hasRow func(int) bool, hasProp func(*rawProp) bool) []byte {
	g := &e.rg
	if !list {
		for i := p.a; i < p.b; i++ {
			dst = append(dst, b2u(hasRow(i)))
		}
		return dst
	}
	j := p.pa
	for i := p.a; i < p.b; i++ {
		n := int(g.propN[i])
		if n == 0 {
			dst = append(dst, 0)
			continue
		}
		for k := 0; k < n; k, j = k+1, j+1 {
			switch {
			case rep:
				dst = append(dst, b2u(k > 0))
			case hasProp == nil:
				dst = append(dst, 1)
			default:
				dst = append(dst, 1+b2u(hasProp(&g.props[j])))
			}
		}
	}
	return dst
}

func b2u(b bool) byte {
	if b {
		return 1
	}
	return 0
}

// appendLevels appends length-prefixed RLE/bit-packed levels.
func (e *rawEncoder) appendLevels(body, levels []byte, maxLevel int) []byte {
	at := len(body)
	body = append(body, 0, 0, 0, 0)
	enc := rle.Encoding{BitWidth: bits.Len(uint(maxLevel))}
	out, err := enc.EncodeLevels(body[at+4:], levels)
	if err != nil {
		if e.err == nil {
			e.err = err
		}
		return body
	}
	body = append(body[:at+4], out...)
	binary.LittleEndian.PutUint32(body[at:], uint32(len(body)-at-4))
	return body
}

// int32Chunk writes a required INT32 column.
func (e *rawEncoder) int32Chunk(col int, vals []int32) format.ColumnChunk {
	cc := e.pw.Int32Column(rawLeaves[col].path[0], vals)
	return cc
}

// int64Chunk writes a top-level INT64 column, PLAIN; optional when has is
// set (the rows it says have a value).
func (e *rawEncoder) int64Chunk(col int, pages []rawPage, vals []int64, has func(int) bool) format.ColumnChunk {
	cc := e.chunk(col, []format.Encoding{format.Plain, format.RLE}, len(vals))
	for _, p := range pages {
		body := e.pw.Buf()
		nulls := 0
		if has != nil {
			e.levels = e.levelsOf(e.levels[:0], p, false, false, has, nil)
			body = e.appendLevels(body, e.levels, 1)
		}
		for i := p.a; i < p.b; i++ {
			if has != nil && !has(i) {
				nulls++
				continue
			}
			body = binary.LittleEndian.AppendUint64(body, uint64(vals[i]))
		}
		e.page(&cc, p.b-p.a, format.Plain, int64(nulls), body)
	}
	return cc
}

// bytesChunk writes a top-level optional BYTE_ARRAY column, PLAIN.
func (e *rawEncoder) bytesChunk(col int, pages []rawPage, val func(int) (span, bool)) format.ColumnChunk {
	g := &e.rg
	cc := e.chunk(col, []format.Encoding{format.Plain, format.RLE}, g.n)
	for _, p := range pages {
		e.levels = e.levelsOf(e.levels[:0], p, false, false, func(i int) bool { _, ok := val(i); return ok }, nil)
		body := e.appendLevels(e.pw.Buf(), e.levels, 1)
		nulls := 0
		for i := p.a; i < p.b; i++ {
			s, ok := val(i)
			if !ok {
				nulls++
				continue
			}
			body = binary.LittleEndian.AppendUint32(body, uint32(s.n))
			body = append(body, g.arena[s.off:s.off+s.n]...)
		}
		e.page(&cc, p.b-p.a, format.Plain, int64(nulls), body)
	}
	return cc
}

// dictChunk writes a required string column, dictionary-encoded: a
// top-level one (propN nil, one index per row) or a property column (one
// index per property).
func (e *rawEncoder) dictChunk(col int, pages []rawPage, dict []string, idx []int32, propN []int32) format.ColumnChunk {
	g := &e.rg
	values := g.n
	if propN != nil {
		values = 0
		for _, n := range propN {
			values += max(1, int(n))
		}
	}
	cc := e.chunk(col, []format.Encoding{format.Plain, format.RLE, format.RLEDictionary}, values)
	cc.MetaData.DictionaryPageOffset = e.pw.Offset()
	u, z := e.pw.WritePage(pqfile.DictionaryPageHeader(len(dict)), pqfile.AppendPlain(e.pw.Buf(), dict))
	cc.MetaData.TotalUncompressedSize += u
	cc.MetaData.TotalCompressedSize += z
	cc.MetaData.DataPageOffset = e.pw.Offset()
	for _, p := range pages {
		body := e.pw.Buf()
		n, nulls, a, b := p.b-p.a, 0, p.a, p.b
		if propN != nil {
			e.levels = e.levelsOf(e.levels[:0], p, true, true, nil, nil)
			body = e.appendLevels(body, e.levels, 1)
			e.levels = e.levelsOf(e.levels[:0], p, true, false, nil, nil)
			body = e.appendLevels(body, e.levels, 1)
			n, a, b = len(e.levels), p.pa, p.pb
			nulls = n - (b - a)
		}
		if b > a {
			body = e.pw.AppendDictIndexes(body, idx[a:b], len(dict))
		}
		e.page(&cc, n, format.RLEDictionary, int64(nulls), body)
	}
	return cc
}

// propInts writes an optional INT64 property column (U64, I64).
func (e *rawEncoder) propInts(col int, pages []rawPage, val func(*rawProp) (int64, bool)) format.ColumnChunk {
	has := func(p *rawProp) bool { _, ok := val(p); return ok }
	return e.propColumn(col, pages, has, func(body []byte, p *rawProp) []byte {
		v, _ := val(p)
		return binary.LittleEndian.AppendUint64(body, uint64(v))
	})
}

// propBytes writes an optional BYTE_ARRAY property column (Str, Bytes).
func (e *rawEncoder) propBytes(col int, pages []rawPage, has func(*rawProp) bool) format.ColumnChunk {
	g := &e.rg
	return e.propColumn(col, pages, has, func(body []byte, p *rawProp) []byte {
		body = binary.LittleEndian.AppendUint32(body, uint32(p.val.n))
		return append(body, g.arena[p.val.off:p.val.off+p.val.n]...)
	})
}

func (e *rawEncoder) propColumn(col int, pages []rawPage, has func(*rawProp) bool, value func([]byte, *rawProp) []byte) format.ColumnChunk {
	g := &e.rg
	values := 0
	for _, n := range g.propN {
		values += max(1, int(n))
	}
	cc := e.chunk(col, []format.Encoding{format.Plain, format.RLE}, values)
	for _, p := range pages {
		e.levels = e.levelsOf(e.levels[:0], p, true, true, nil, nil)
		body := e.appendLevels(e.pw.Buf(), e.levels, 1)
		e.levels = e.levelsOf(e.levels[:0], p, true, false, nil, has)
		body = e.appendLevels(body, e.levels, 2)
		present := 0
		for j := p.pa; j < p.pb; j++ {
			if pr := &g.props[j]; has(pr) {
				body = value(body, pr)
				present++
			}
		}
		e.page(&cc, len(e.levels), format.Plain, int64(len(e.levels)-present), body)
	}
	return cc
}

// close flushes the last row group and writes the footer.
func (e *rawEncoder) close() error {
	if err := e.flushRowGroup(); err != nil {
		return err
	}
	s := rawSchema()
	md := format.FileMetaData{Version: 1, Schema: s.elems, NumRows: e.totalRows,
		CreatedBy: "edr recording raw layer (custom encoder, schema of parquet-go's rawRow)", ColumnOrders: s.orders}
	return e.pw.CloseRowGroups(&md, &e.groups)
}

// rawLeaves are the leaf columns in schema order (checked against
// rawSchema by TestRawSchemaLeaves).
var rawLeaves = []leaf{
	{[]string{"Host"}, format.ByteArray, 0, 0},
	{[]string{"Seq"}, format.Int64, 0, 1},
	{[]string{"Provider"}, format.ByteArray, 0, 0},
	{[]string{"EventID"}, format.Int32, 0, 0},
	{[]string{"Version"}, format.Int32, 0, 0},
	{[]string{"Opcode"}, format.Int32, 0, 0},
	{[]string{"Level"}, format.Int32, 0, 0},
	{[]string{"Keywords"}, format.Int64, 0, 0},
	{[]string{"PID"}, format.Int32, 0, 0},
	{[]string{"TID"}, format.Int32, 0, 0},
	{[]string{"HeaderFlags"}, format.Int32, 0, 0},
	{[]string{"UserData"}, format.ByteArray, 0, 1},
	{[]string{"Props", "list", "element", "Name"}, format.ByteArray, 1, 1},
	{[]string{"Props", "list", "element", "Kind"}, format.ByteArray, 1, 1},
	{[]string{"Props", "list", "element", "U64"}, format.Int64, 1, 2},
	{[]string{"Props", "list", "element", "I64"}, format.Int64, 1, 2},
	{[]string{"Props", "list", "element", "Str"}, format.ByteArray, 1, 2},
	{[]string{"Props", "list", "element", "Bytes"}, format.ByteArray, 1, 2},
}

type rawSchemaDoc struct {
	elems  []format.SchemaElement
	orders []format.ColumnOrder
}

// rawSchema is the schema parquet-go writes for rawRow, read back from an
// empty file it writes: the raw files keep the exact schema (names, types,
// logical and converted types, repetition) readers knew.
var rawSchema = sync.OnceValue(func() rawSchemaDoc {
	var buf bytes.Buffer
	w := parquet.NewGenericWriter[rawRow](&buf)
	if err := w.Close(); err != nil {
		panic("raw layer schema: " + err.Error())
	}
	f, err := parquet.OpenFile(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		panic("raw layer schema: " + err.Error())
	}
	md := f.Metadata()
	return rawSchemaDoc{elems: md.Schema, orders: md.ColumnOrders}
})
