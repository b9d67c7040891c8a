package pqfile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"runtime/debug"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding"
)

// The page-level column decoder of the read path. parquet-go reads and
// decompresses the pages; Column walks their levels and values and turns
// them into value indexes into strings made once per dictionary or plain
// page, so a value shared by many rows is one string. A Column's errors
// name the column and the page (counted from 1 in the column chunk).

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

// Strings is one string column's values over a run of rows. Optional
// columns are sparse: Rows lists the rows that have a value and VI their
// value indexes; required columns have one VI per row and Rows == nil. A
// value index >= 0 is in Dict, a negative one k is Plain[-k-1].
type Strings struct {
	Rows  []int32
	VI    []int32
	Dict  []string
	Plain []string
}

// At is the value of value index i.
func (s *Strings) At(i int32) string {
	if i >= 0 {
		return s.Dict[i]
	}
	return s.Plain[-i-1]
}

// Value returns row r of a required column; false when the column has no
// values (it is missing from the file).
func (s *Strings) Value(r int) (string, bool) {
	if len(s.VI) == 0 {
		return "", false
	}
	return s.At(s.VI[r]), true
}

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
	dict    []string
	isDict  bool
	idx     []int32
	i32     []int32
	i64     []int64
	plain   []string // strings of the current plain page
}

// NewColumn reads the column chunk's pages; name is the column's path for
// errors and maxDef its maximum definition level (0 for a required column).
func NewColumn(pages parquet.Pages, name string, maxDef byte) *Column {
	return &Column{name: name, maxDef: maxDef, pages: pages}
}

// Close releases the current page and the page reader.
func (c *Column) Close() {
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
	return fmt.Errorf("column %s, page %d: %s", c.name, c.pageNo, fmt.Sprintf(format, args...))
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
		nvals = int(pg.numValues - pg.numNulls)
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
		for _, i := range c.idx[:min(len(c.idx), nvals)] {
			if uint32(i) >= uint32(len(c.dict)) {
				return c.errorf("dictionary index %d out of %d", i, len(c.dict))
			}
		}
		return c.checkValues(len(c.idx), nvals)
	}
	c.i32, c.i64 = nil, nil
	switch data.Kind() {
	case encoding.ByteArray:
		buf, offs := data.ByteArray()
		if len(offs) == 0 {
			c.plain = c.plain[:0]
			return c.checkValues(0, nvals)
		}
		c.plain = splitStrings(c.plain[:0], buf, offs)
		if c.plain == nil {
			return c.errorf("bad byte array offsets")
		}
		return c.checkValues(len(c.plain), nvals)
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

// splitStrings copies a page's byte array into one string and slices it
// per value. It returns nil on inconsistent offsets.
func splitStrings(dst []string, buf []byte, offs []uint32) []string {
	all := string(buf)
	for i := 0; i+1 < len(offs); i++ {
		a, b := offs[i], offs[i+1]
		if a > b || int(b) > len(all) {
			return nil
		}
		dst = append(dst, all[a:b])
	}
	if dst == nil {
		dst = []string{}
	}
	return dst
}

func (c *Column) loadDict(d parquet.Dictionary, data encoding.Values) error {
	c.dictRef = d
	if data.Kind() != encoding.ByteArray {
		return c.errorf("dictionary of %s", data.Kind())
	}
	buf, offs := data.ByteArray()
	c.dict = splitStrings(make([]string, 0, max(len(offs)-1, 0)), buf, offs)
	if c.dict == nil {
		return c.errorf("bad dictionary offsets")
	}
	return nil
}

// Sparse decodes n rows of an optional string column into out, appending
// its present rows and value indexes to the slabs rows and vi (shared by
// the columns of a chunk); out.Rows and out.VI are the appended parts. It
// returns the grown slabs and whether any row has a value.
func (c *Column) Sparse(out *Strings, n int, rows, vi []int32) ([]int32, []int32, bool, error) {
	a := len(rows)
	out.Rows, out.VI = rows, vi
	any, err := c.Strings(out, n, true)
	rows, vi = out.Rows, out.VI
	out.Rows, out.VI = rows[a:len(rows):len(rows)], vi[a:len(vi):len(vi)]
	return rows, vi, any, err
}

// Strings decodes n rows of a non-repeated string column, appending to
// out.Rows and out.VI: every row for a required column, only the present
// rows for an optional one.
func (c *Column) Strings(out *Strings, n int, optional bool) (any bool, err error) {
	start := len(out.VI)
	out.Plain, out.Dict = out.Plain[:0], nil
	for r := 0; r < n; {
		if c.lv == c.nlv {
			if err := c.next(); err != nil {
				return false, err
			}
			continue
		}
		take := min(n-r, c.nlv-c.lv)
		switch {
		case c.defs == nil && optional:
			return false, c.errorf("optional column without definition levels")
		case c.defs == nil:
			c.values(out, take)
		case optional:
			c.present(out, c.defs[c.lv:c.lv+take], r)
		default:
			for _, d := range c.defs[c.lv : c.lv+take] {
				if d != c.maxDef {
					return false, c.errorf("null in a required column")
				}
			}
			c.values(out, take)
		}
		c.lv += take
		r += take
	}
	return len(out.VI) > start, nil
}

// values appends the value indexes of the page's next k values.
func (c *Column) values(out *Strings, k int) {
	if c.isDict {
		out.Dict = c.dict
		out.VI = append(out.VI, c.idx[c.vi:c.vi+k]...)
		c.vi += k
		return
	}
	for range k {
		out.VI = append(out.VI, c.valueIndex(out))
	}
}

// present appends the rows (r + index) of defs that have a value, and
// their value indexes. Sparse columns are mostly nulls: with a maximum
// definition level of 1 (a flat optional column), defs are read 8 at a
// time and only the set bytes visited.
func (c *Column) present(out *Strings, defs []byte, r int) {
	maxDef := c.maxDef
	j := 0
	if maxDef == 1 {
		for ; j+8 <= len(defs); j += 8 {
			w := binary.LittleEndian.Uint64(defs[j:])
			if w == 0 {
				continue
			}
			for m := bytesEqualOne(w); m != 0; m &= m - 1 {
				out.Rows = append(out.Rows, int32(r+j+bits.TrailingZeros64(m)>>3))
				out.VI = append(out.VI, c.valueIndex(out))
			}
		}
	}
	for ; j < len(defs); j++ {
		if defs[j] == maxDef {
			out.Rows = append(out.Rows, int32(r+j))
			out.VI = append(out.VI, c.valueIndex(out))
		}
	}
}

// bytesEqualOne returns the high bit of every byte of w that is 1 (and no
// other bit): the exact zero-byte test of w ^ 0x01…01, whose 7-bit sums
// never carry into the next byte.
func bytesEqualOne(w uint64) uint64 {
	const lo7 = 0x7f7f7f7f7f7f7f7f
	x := w ^ 0x0101010101010101
	return ^((x&lo7 + lo7) | x | lo7)
}

func (c *Column) valueIndex(out *Strings) int32 {
	k := c.vi
	c.vi++
	if c.isDict {
		out.Dict = c.dict
		return c.idx[k]
	}
	out.Plain = append(out.Plain, c.plain[k])
	return int32(-len(out.Plain))
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
	var kb, vb Strings
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
			kb.Plain, vb.Plain = kb.Plain[:0], vb.Plain[:0]
			key := kb.At(k.valueIndex(&kb))
			val := vb.At(v.valueIndex(&vb))
			pairs = append(pairs, kv(key, val))
		}
	}
	if rows != n {
		return off, pairs, fmt.Errorf("column %s: %d rows, want %d", k.name, rows, n)
	}
	off = append(off, int32(len(pairs)))
	return off, pairs, nil
}
