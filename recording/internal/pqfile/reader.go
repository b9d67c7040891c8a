package pqfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"runtime/debug"
	"slices"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding"
)

// The page-level column decoder of the read path. parquet-go reads and
// decompresses the pages; Column walks their levels and values and turns
// them into Refs into arenas, one string made per dictionary or plain page,
// so a value shared by many rows is one string and a chunk of rows holds
// its values without a pointer per value. A Column's errors name the
// column and the page (counted from 1 in the column chunk).

// Guard turns a panic inside parquet-go (it panics on some malformed input)
// into an error wrapping ErrCorrupt.
func Guard(err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%w: parquet-go panicked: %v\n%s", ErrCorrupt, r, firstFrames(debug.Stack()))
	}
}

func firstFrames(stack []byte) []byte {
	const keep = 2048
	if len(stack) > keep {
		return stack[:keep]
	}
	return stack
}

// Ref is a string value: bytes [Off, End) of arena Arena of a Values.
// Refs hold no pointer, so the slabs of them a reader keeps per chunk of
// rows cost the garbage collector nothing.
type Ref struct {
	Arena uint32
	Off   uint32
	End   uint32
}

// Values holds the arenas the Refs of a chunk of rows point into: the
// bytes of a dictionary or of a plain page, one string each, made once and
// shared by every value in them.
type Values struct {
	Arenas []string
	gen    uint32 // Reset count: a column registers its arenas once per gen
}

// Reset empties v for the next chunk of rows.
func (v *Values) Reset() {
	clear(v.Arenas)
	v.Arenas = v.Arenas[:0]
	v.gen++
}

// String is the value of r.
func (v *Values) String(r Ref) string { return v.Arenas[r.Arena][r.Off:r.End] }

// Column walks the pages of one column chunk.
type Column struct {
	name    string
	maxDef  byte
	pages   parquet.Pages
	page    parquet.Page
	pageNo  int // pages read so far: the current page's number
	defs    []byte
	reps    []byte
	nlv     int // levels (or values, for required columns) in the page
	lv      int
	vi      int
	dictRef parquet.Dictionary
	hasDict bool // a dictionary is loaded
	isDict  bool
	idx     []int32
	i32     []int32
	i64     []int64
	// the dictionary's and the current plain page's bytes, and their
	// values' offsets (value i is [offs[2i], offs[2i+1]))
	dict, plain         string
	dictOffs, plainOffs []uint32
	// the arenas of dict and plain in regVals (at generation regGen), -1
	// until registered
	dictArena, plainArena int32
	regVals               *Values
	regGen                uint32
	// raw: the column chunk's pages are read by rawPages (NewRawColumn);
	// pres are the current page's present levels (defs is nil), pres[pi]
	// the first at or after lv
	raw  *rawPages
	pres []int32
	pi   int
}

// NewColumn reads the column chunk's pages; name is the column's path for
// errors and maxDef its maximum definition level (0 for a required column).
func NewColumn(pages parquet.Pages, name string, maxDef byte) *Column {
	return &Column{name: name, maxDef: maxDef, pages: pages, dictArena: -1, plainArena: -1}
}

// Close releases the current page and the page reader.
func (c *Column) Close() {
	if c.raw != nil {
		c.closeRaw()
	}
	c.release()
	if c.pages != nil {
		c.pages.Close()
	}
}

func (c *Column) release() {
	if c.page != nil {
		parquet.Release(c.page)
		c.page = nil
	}
}

// ErrShortColumn: a column chunk has fewer values than its row group rows.
var ErrShortColumn = errors.New("column chunk ends before the row group")

// errorf is an error of the current page.
func (c *Column) errorf(format string, args ...any) error {
	return fmt.Errorf("column %s, page %d: "+format, append([]any{c.name, c.pageNo}, args...)...)
}

// page is what parquet-go decoded of a page.
type page struct {
	p         parquet.Page
	defs      []byte
	reps      []byte
	data      encoding.Values
	numValues int64
	numNulls  int64
	dict      parquet.Dictionary
	dictData  encoding.Values // when dict is not the column's current one
}

// readPage reads and decodes the next page with parquet-go, which panics
// on some malformed pages: a panic becomes an error naming the page. The
// recover covers parquet-go's calls only, so a bug of Column's own still
// panics (and fails FuzzColumn).
func (c *Column) readPage() (pg page, err error) {
	defer func() {
		if r := recover(); r != nil {
			if pg.p != nil {
				parquet.Release(pg.p)
			}
			pg = page{}
			err = fmt.Errorf("column %s, page %d: %w: parquet-go panicked: %v\n%s", c.name, c.pageNo, ErrCorrupt, r, firstFrames(debug.Stack()))
		}
	}()
	p, err := c.pages.ReadPage()
	if err == io.EOF {
		return pg, fmt.Errorf("column %s, after page %d: %w", c.name, c.pageNo, ErrShortColumn)
	}
	c.pageNo++
	if err != nil {
		return pg, fmt.Errorf("column %s, page %d: %w", c.name, c.pageNo, err)
	}
	pg.p = p
	pg.defs, pg.reps = p.DefinitionLevels(), p.RepetitionLevels()
	pg.numValues, pg.numNulls = p.NumValues(), p.NumNulls()
	pg.data = p.Data()
	if pg.dict = p.Dictionary(); pg.dict != nil && pg.dict != c.dictRef {
		pg.dictData = pg.dict.Page().Data()
	}
	return pg, nil
}

// next loads the next page.
func (c *Column) next() error {
	if c.raw != nil {
		return c.nextRaw()
	}
	c.release()
	pg, err := c.readPage()
	if err != nil {
		return err
	}
	c.page = pg.p
	c.defs, c.reps = pg.defs, pg.reps
	c.lv, c.vi = 0, 0
	if c.defs != nil {
		c.nlv = len(c.defs)
	} else {
		c.nlv = int(pg.numValues)
	}
	if c.reps != nil && len(c.reps) != c.nlv {
		return c.errorf("%d repetition levels for %d definition levels", len(c.reps), c.nlv)
	}
	data := pg.data
	nvals := c.nlv
	if c.defs != nil {
		// the values the levels take, whatever the header says
		nvals = bytes.Count(c.defs, []byte{c.maxDef})
	}
	c.isDict = false
	if pg.dict != nil {
		if pg.dict != c.dictRef {
			if err := c.loadDict(pg.dict, pg.dictData); err != nil {
				return err
			}
		}
		if data.Kind() != encoding.Int32 {
			return c.errorf("dictionary page without indexes")
		}
		c.isDict = true
		c.idx = data.Int32()
		n := uint32(len(c.dictOffs) / 2)
		for _, i := range c.idx[:min(len(c.idx), nvals)] {
			if uint32(i) >= n {
				return c.errorf("dictionary index %d out of %d", i, n)
			}
		}
		return c.checkValues(len(c.idx), nvals)
	}
	c.i32, c.i64 = nil, nil
	switch data.Kind() {
	case encoding.ByteArray:
		buf, offs := data.ByteArray()
		c.plainArena = -1
		var ok bool
		if c.plain, c.plainOffs, ok = arena(buf, offs, c.plainOffs); !ok {
			return c.errorf("bad byte array offsets")
		}
		return c.checkValues(len(c.plainOffs)/2, nvals)
	case encoding.Int32:
		c.i32 = data.Int32()
		return c.checkValues(len(c.i32), nvals)
	case encoding.Int64:
		c.i64 = data.Int64()
		return c.checkValues(len(c.i64), nvals)
	}
	return c.errorf("unexpected type %s", pg.p.Type())
}

func (c *Column) checkValues(have, want int) error {
	if have < want {
		return c.errorf("%d values for %d non-null levels", have, want)
	}
	return nil
}

// arena copies a page's byte array into one string and its values'
// offsets (parquet-go's: value i is [offs[i], offs[i+1])) into dst as
// [start, end) pairs; false on inconsistent offsets.
func arena(buf []byte, offs []uint32, dst []uint32) (string, []uint32, bool) {
	dst = dst[:0]
	if len(offs) == 0 {
		return "", dst, true
	}
	for i := 0; i+1 < len(offs); i++ {
		if offs[i] > offs[i+1] {
			return "", dst, false
		}
		dst = append(dst, offs[i], offs[i+1])
	}
	if int(offs[len(offs)-1]) > len(buf) {
		return "", dst, false
	}
	return string(buf), dst, true
}

func (c *Column) loadDict(d parquet.Dictionary, data encoding.Values) error {
	c.dictRef = d
	c.hasDict = true
	c.dictArena = -1
	if data.Kind() != encoding.ByteArray {
		return c.errorf("dictionary of %s", data.Kind())
	}
	buf, offs := data.ByteArray()
	var ok bool
	if c.dict, c.dictOffs, ok = arena(buf, offs, c.dictOffs); !ok {
		return c.errorf("bad dictionary offsets")
	}
	return nil
}

// curArena registers the current page's strings (the dictionary or the
// plain page) in vals, once per vals generation, and returns its arena
// and offsets.
func (c *Column) curArena(vals *Values) (uint32, []uint32) {
	if c.regVals != vals || c.regGen != vals.gen {
		c.regVals, c.regGen = vals, vals.gen
		c.dictArena, c.plainArena = -1, -1
	}
	at, s, offs := &c.plainArena, c.plain, c.plainOffs
	if c.isDict {
		at, s, offs = &c.dictArena, c.dict, c.dictOffs
	}
	if *at < 0 {
		*at = int32(len(vals.Arenas))
		vals.Arenas = append(vals.Arenas, s)
	}
	return uint32(*at), offs
}

// index is the offset index of the page's next value.
func (c *Column) index() uint32 {
	k := c.vi
	c.vi++
	if c.isDict {
		return uint32(c.idx[k])
	}
	return uint32(k)
}

// value is the page's next value.
func (c *Column) value() string {
	s, offs := c.plain, c.plainOffs
	if c.isDict {
		s, offs = c.dict, c.dictOffs
	}
	i := c.index()
	return s[offs[2*i]:offs[2*i+1]]
}

// Sparse decodes n rows of an optional string column, appending its
// present rows to rows and their values to refs (slabs shared by the
// columns of a chunk), registering the arenas in vals.
func (c *Column) Sparse(n int, rows []int32, refs []Ref, vals *Values) ([]int32, []Ref, error) {
	for r := 0; r < n; {
		if c.lv == c.nlv {
			if err := c.next(); err != nil {
				return rows, refs, err
			}
			continue
		}
		take := min(n-r, c.nlv-c.lv)
		switch {
		case c.raw != nil && c.maxDef > 0:
			rows, refs = c.presentRaw(c.lv+take, r, rows, refs, vals)
		case c.defs == nil:
			return rows, refs, c.errorf("optional column without definition levels")
		default:
			rows, refs = c.present(c.defs[c.lv:c.lv+take], r, rows, refs, vals)
		}
		c.lv += take
		r += take
	}
	return rows, refs, nil
}

// Strings decodes n rows of a required string column, appending their
// values to refs.
func (c *Column) Strings(n int, refs []Ref, vals *Values) ([]Ref, error) {
	for r := 0; r < n; {
		if c.lv == c.nlv {
			if err := c.next(); err != nil {
				return refs, err
			}
			continue
		}
		take := min(n-r, c.nlv-c.lv)
		if c.defs != nil {
			for _, d := range c.defs[c.lv : c.lv+take] {
				if d != c.maxDef {
					return refs, c.errorf("null in a required column")
				}
			}
		}
		if c.raw != nil && c.maxDef > 0 {
			// present levels ascend from lv: all take of them are present
			// when the take-th is lv+take-1
			if j := c.pi + take - 1; j >= len(c.pres) || c.pres[j] != int32(c.lv+take-1) {
				return refs, c.errorf("null in a required column")
			}
			c.pi += take
		}
		a, offs := c.curArena(vals)
		for range take {
			i := c.index()
			refs = append(refs, Ref{a, offs[2*i], offs[2*i+1]})
		}
		c.lv += take
		r += take
	}
	return refs, nil
}

// present appends the rows (r + index) of defs that have a value, and
// their values. Sparse columns are mostly nulls: with a maximum
// definition level of 1 (a flat optional column), defs are read 8 at a
// time and only the set bytes visited.
func (c *Column) present(defs []byte, r int, rows []int32, refs []Ref, vals *Values) ([]int32, []Ref) {
	maxDef := c.maxDef
	a, offs := c.curArena(vals)
	j := 0
	if maxDef == 1 {
		for ; j+8 <= len(defs); j += 8 {
			w := binary.LittleEndian.Uint64(defs[j:])
			if w == 0 {
				continue
			}
			for m := bytesEqualOne(w); m != 0; m &= m - 1 {
				i := c.index()
				rows = append(rows, int32(r+j+bits.TrailingZeros64(m)>>3))
				refs = append(refs, Ref{a, offs[2*i], offs[2*i+1]})
			}
		}
	}
	for ; j < len(defs); j++ {
		if defs[j] == maxDef {
			i := c.index()
			rows = append(rows, int32(r+j))
			refs = append(refs, Ref{a, offs[2*i], offs[2*i+1]})
		}
	}
	return rows, refs
}

// presentRaw is present for a raw column: the present levels before end
// (row r is level lv).
//
// The present levels ascend, so those before end are found by a binary
// search, and rows and refs grow once and fill in loops without the
// per-value dictionary test and appends (the reader's hottest loop over
// values; with the level and index loops of rawData, Column.Sparse took
// ~0.85× the CPU of appending value by value in BenchmarkRead).
func (c *Column) presentRaw(end int, r int, rows []int32, refs []Ref, vals *Values) ([]int32, []Ref) {
	a, offs := c.curArena(vals)
	pres := c.pres[c.pi:]
	k, _ := slices.BinarySearch(pres, int32(end))
	pres = pres[:k]
	base := int32(r - c.lv)
	n0, m0 := len(rows), len(refs)
	rows, refs = slices.Grow(rows, k)[:n0+k], slices.Grow(refs, k)[:m0+k]
	out := rows[n0:]
	for j, p := range pres {
		out[j] = base + p
	}
	dst := refs[m0:]
	if c.isDict {
		for j, i := range c.idx[c.vi : c.vi+k] {
			dst[j] = Ref{a, offs[2*i], offs[2*i+1]}
		}
	} else {
		for j := range dst {
			i := c.vi + j
			dst[j] = Ref{a, offs[2*i], offs[2*i+1]}
		}
	}
	c.vi += k
	c.pi += k
	return rows, refs
}

// bytesEqualOne returns the high bit of every byte of w that is 1 (and no
// other bit): the exact zero-byte test of w ^ 0x01…01, whose 7-bit sums
// never carry into the next byte.
func bytesEqualOne(w uint64) uint64 {
	const lo7 = 0x7f7f7f7f7f7f7f7f
	x := w ^ 0x0101010101010101
	return ^((x&lo7 + lo7) | x | lo7)
}

// Int64s and Int32s fill n rows of a required plain integer column.
func (c *Column) Int64s(dst []int64, n int) error {
	return fixedValues(c, dst, n, func(c *Column) []int64 { return c.i64 })
}

func (c *Column) Int32s(dst []int32, n int) error {
	return fixedValues(c, dst, n, func(c *Column) []int32 { return c.i32 })
}

func fixedValues[T int32 | int64](c *Column, dst []T, n int, vals func(*Column) []T) error {
	for r := 0; r < n; {
		if c.lv == c.nlv {
			if err := c.next(); err != nil {
				return err
			}
			continue
		}
		take := min(n-r, c.nlv-c.lv)
		v := vals(c)
		if c.defs != nil || c.isDict || v == nil {
			return c.errorf("not a required plain %T column", v)
		}
		copy(dst[r:r+take], v[c.vi:c.vi+take])
		c.vi += take
		c.lv += take
		r += take
	}
	return nil
}

// Extras decodes n rows of a list of key/value pairs from its Key and
// Value columns, which have identical level structure. It appends the
// pairs (made by kv) to pairs and row r's pairs are pairs[off[r]:off[r+1]]
// (off is rebuilt with n+1 entries).
func Extras[KV any](k, v *Column, n int, off []int32, pairs []KV, kv func(key, value string) KV) ([]int32, []KV, error) {
	off = append(off[:0], 0)
	rows := 0
	for {
		if k.lv == k.nlv {
			if rows == n {
				break
			}
			if err := k.next(); err != nil {
				return off, pairs, err
			}
			if err := v.next(); err != nil {
				return off, pairs, err
			}
			if k.nlv != v.nlv {
				return off, pairs, fmt.Errorf("columns %s and %s, page %d: pages differ (%d and %d levels)", k.name, v.name, k.pageNo, k.nlv, v.nlv)
			}
			continue
		}
		if k.reps == nil || v.reps == nil {
			return off, pairs, k.errorf("list column without repetition levels")
		}
		rep, def := k.reps[k.lv], k.defs[k.lv]
		if rep == 0 {
			if rows == n {
				break
			}
			if rows > 0 {
				off = append(off, int32(len(pairs)))
			}
			rows++
		} else if rows == 0 {
			return off, pairs, k.errorf("list starts inside a row")
		}
		if v.reps[v.lv] != rep || v.defs[v.lv] != def {
			return off, pairs, fmt.Errorf("columns %s and %s, page %d: levels differ at level %d", k.name, v.name, k.pageNo, k.lv)
		}
		k.lv++
		v.lv++
		if def == k.maxDef {
			pairs = append(pairs, kv(k.value(), v.value()))
		}
	}
	if rows != n {
		return off, pairs, fmt.Errorf("column %s: %d rows, want %d", k.name, rows, n)
	}
	off = append(off, int32(len(pairs)))
	return off, pairs, nil
}
