package recording

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/edr-lab/edr/event"
	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding"
)

// The page-level column decoder. A row group is decoded in chunks of at most
// chunkRows rows: every needed leaf column keeps its own page iterator and
// position, and a chunk holds, per column, one int32 per row that indexes the
// column chunk's dictionary strings (>= 0), the chunk's plain strings
// (<= -2) or marks a null (-1). Strings are made once per dictionary or
// plain page and shared by every row that uses them.

const chunkRows = 8192

type colRole uint8

const (
	roleTime colRole = iota
	roleHost
	roleChannel
	roleProvider
	roleEventID
	roleRecordID
	roleSeq
	roleSource
	roleFlags
	roleField   // schema field column
	roleForeign // column this build's schema does not know: value goes to Extra
	roleSpellings
	roleExtraKey
	roleExtraValue
	numHeaderRoles = roleField
)

var headerNames = [numHeaderRoles]string{"Time", "Host", "Channel", "Provider", "EventID", "RecordID", "Seq", "Source", "Flags"}

var headerKinds = [numHeaderRoles]parquet.Kind{parquet.Int64, parquet.ByteArray, parquet.ByteArray, parquet.ByteArray, parquet.Int32, parquet.Int64, parquet.Int64, parquet.ByteArray, parquet.Int32}

// colSpec describes one leaf column of a segment file.
type colSpec struct {
	role   colRole
	id     event.FieldID
	fold   bool // the column of id's case-insensitive group (FieldID.Fold)
	name   string
	leaf   int
	maxDef byte
	maxRep byte
}

// fileLayout is how a segment file's leaf columns map to the event.
type fileLayout struct {
	header   [numHeaderRoles]int // leaf index, -1 when missing
	strs     []colSpec           // schema, foreign and Spellings string columns
	extraKey int
	extraVal int
	extraDef byte
}

var errSchema = errors.New("unexpected segment schema")

// layoutOf maps a file's columns; folded says the file stores each
// case-insensitive group of schema names in one column (foldedLayout).
func layoutOf(s *parquet.Schema, folded bool) (*fileLayout, error) {
	l := &fileLayout{extraKey: -1, extraVal: -1}
	for i := range l.header {
		l.header[i] = -1
	}
	for leaf, path := range s.Columns() {
		col, ok := s.Lookup(path...)
		if !ok {
			return nil, fmt.Errorf("%w: column %v", errSchema, path)
		}
		kind := col.Node.Type().Kind()
		if len(path) == 4 && path[0] == "Extra" {
			if kind != parquet.ByteArray || col.MaxRepetitionLevel != 1 {
				return nil, fmt.Errorf("%w: Extra column %v", errSchema, path)
			}
			switch path[3] {
			case "Key":
				l.extraKey = leaf
			case "Value":
				l.extraVal = leaf
			}
			l.extraDef = byte(col.MaxDefinitionLevel)
			continue
		}
		if len(path) != 1 || col.MaxRepetitionLevel != 0 {
			continue // a nested column of a newer format: ignored
		}
		name := path[0]
		if h := headerIndex(name); h >= 0 {
			if kind != headerKinds[h] {
				return nil, fmt.Errorf("%w: header column %s is %s", errSchema, name, kind)
			}
			l.header[h] = leaf
			continue
		}
		if kind != parquet.ByteArray {
			continue
		}
		spec := colSpec{role: roleForeign, name: name, leaf: leaf, maxDef: byte(col.MaxDefinitionLevel)}
		if id, ok := event.FieldByName(name); ok && !id.Virtual() {
			spec.role, spec.id = roleField, id
			spec.fold = folded && id.Folded() && id.Fold() == id
		} else if folded && name == spellingsColumn {
			spec.role = roleSpellings
		}
		l.strs = append(l.strs, spec)
	}
	if l.header[roleTime] < 0 || l.header[roleSeq] < 0 {
		return nil, fmt.Errorf("%w: no Time or Seq column", errSchema)
	}
	if (l.extraKey < 0) != (l.extraVal < 0) {
		return nil, fmt.Errorf("%w: Extra lacks Key or Value", errSchema)
	}
	return l, nil
}

func headerIndex(name string) int {
	for i, n := range headerNames {
		if n == name {
			return i
		}
	}
	return -1
}

// chunk is up to chunkRows decoded rows.
type chunk struct {
	n        int
	time     []int64
	seq      []int64
	recID    []int64
	eventID  []int32
	flags    []int32
	host     strCol
	channel  strCol
	provider strCol
	source   strCol
	sources  []event.Source  // source, parsed once per value index
	cols     []strCol        // string columns with at least one value in the chunk
	want     []bool          // the projection (nil: none); its Extra is decoded only for Spellings' "+Name" values
	drop     []event.FieldID // scratch of event()
	// the last row's event definition, for folded columns
	defChannel string
	defEventID uint16
	def        *event.Def
	defOK      bool
	// rowOff[r]..rowOff[r+1] are row r's entries: its present values,
	// transposed from cols once per chunk so that materializing an event
	// touches only its own fields.
	rowOff   []int32
	entries  []entry
	extraOff []int32 // rows+1 offsets into extra, empty when the file has no Extra values
	extra    []event.KV
	// slabs holding every optional column's rows and vi, reused chunk to
	// chunk (columns take consecutive sub-slices)
	rowSlab []int32
	viSlab  []int32
}

type entry struct {
	col int32 // index into chunk.cols
	vi  int32 // value index in that column
}

// strCol is one string column of a chunk. Optional columns are sparse: rows
// lists the rows that have a value and vi their value indexes; required
// columns have one vi per row and rows == nil. A value index >= 0 is in
// dict, a negative one k is plain[-k-1].
type strCol struct {
	id      event.FieldID
	foreign string // name, for roleForeign
	fold    bool   // colSpec.fold
	spell   bool   // the Spellings column
	rows    []int32
	vi      []int32
	dict    []string
	plain   []string
}

func (c *strCol) at(i int32) string {
	if i >= 0 {
		return c.dict[i]
	}
	return c.plain[-i-1]
}

// value returns row r of a required column.
func (c *strCol) value(r int) (string, bool) {
	if len(c.vi) == 0 {
		return "", false
	}
	return c.at(c.vi[r]), true
}

// colReader walks the pages of one column chunk.
type colReader struct {
	spec    colSpec
	pages   parquet.Pages
	page    parquet.Page
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

func newColReader(rg parquet.RowGroup, spec colSpec) *colReader {
	return &colReader{spec: spec, pages: rg.ColumnChunks()[spec.leaf].Pages()}
}

func (c *colReader) close() {
	c.release()
	if c.pages != nil {
		c.pages.Close()
	}
}

func (c *colReader) release() {
	if c.page != nil {
		parquet.Release(c.page)
		c.page = nil
	}
}

var errShortColumn = errors.New("column chunk ends before the row group")

// next loads the next page.
func (c *colReader) next() error {
	c.release()
	p, err := c.pages.ReadPage()
	if err == io.EOF {
		return fmt.Errorf("column %d: %w", c.spec.leaf, errShortColumn)
	}
	if err != nil {
		return fmt.Errorf("column %d: %w", c.spec.leaf, err)
	}
	c.page = p
	c.defs, c.reps = p.DefinitionLevels(), p.RepetitionLevels()
	c.lv, c.vi = 0, 0
	if c.defs != nil {
		c.nlv = len(c.defs)
	} else {
		c.nlv = int(p.NumValues())
	}
	if c.reps != nil && len(c.reps) != c.nlv {
		return fmt.Errorf("column %d: %d repetition levels for %d definition levels", c.spec.leaf, len(c.reps), c.nlv)
	}
	data := p.Data()
	nvals := c.nlv
	if c.defs != nil {
		nvals = int(p.NumValues() - p.NumNulls())
	}
	c.isDict = false
	if d := p.Dictionary(); d != nil {
		if d != c.dictRef {
			if err := c.loadDict(d); err != nil {
				return err
			}
		}
		if data.Kind() != encoding.Int32 {
			return fmt.Errorf("column %d: dictionary page without indexes", c.spec.leaf)
		}
		c.isDict = true
		c.idx = data.Int32()
		for _, i := range c.idx[:min(len(c.idx), nvals)] {
			if uint32(i) >= uint32(len(c.dict)) {
				return fmt.Errorf("column %d: dictionary index %d out of %d", c.spec.leaf, i, len(c.dict))
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
			return fmt.Errorf("column %d: bad byte array offsets", c.spec.leaf)
		}
		return c.checkValues(len(c.plain), nvals)
	case encoding.Int32:
		c.i32 = data.Int32()
		return c.checkValues(len(c.i32), nvals)
	case encoding.Int64:
		c.i64 = data.Int64()
		return c.checkValues(len(c.i64), nvals)
	}
	return fmt.Errorf("column %d: unexpected type %s", c.spec.leaf, p.Type())
}

func (c *colReader) checkValues(have, want int) error {
	if have < want {
		return fmt.Errorf("column %d: page has %d values for %d non-null levels", c.spec.leaf, have, want)
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

func (c *colReader) loadDict(d parquet.Dictionary) error {
	c.dictRef = d
	data := d.Page().Data()
	if data.Kind() != encoding.ByteArray {
		return fmt.Errorf("column %d: dictionary of %s", c.spec.leaf, data.Kind())
	}
	buf, offs := data.ByteArray()
	c.dict = splitStrings(make([]string, 0, max(len(offs)-1, 0)), buf, offs)
	if c.dict == nil {
		return fmt.Errorf("column %d: bad dictionary offsets", c.spec.leaf)
	}
	return nil
}

// sparse decodes n rows of an optional string column into out, appending
// its present rows and value indexes to the chunk's slabs.
func (c *colReader) sparse(out *strCol, n int, ch *chunk) (bool, error) {
	a := len(ch.rowSlab)
	out.rows, out.vi = ch.rowSlab, ch.viSlab
	any, err := c.strings(out, n, true)
	ch.rowSlab, ch.viSlab = out.rows, out.vi
	out.rows, out.vi = out.rows[a:len(out.rows):len(out.rows)], out.vi[a:len(out.vi):len(out.vi)]
	return any, err
}

// strings decodes n rows of a non-repeated string column, appending to
// out.rows and out.vi: every row for a required column, only the present
// rows for an optional one.
func (c *colReader) strings(out *strCol, n int, optional bool) (any bool, err error) {
	start := len(out.vi)
	out.plain, out.dict = out.plain[:0], nil
	for r := 0; r < n; {
		if c.lv == c.nlv {
			if err := c.next(); err != nil {
				return false, err
			}
			continue
		}
		take := min(n-r, c.nlv-c.lv)
		if c.defs == nil {
			if optional {
				return false, fmt.Errorf("column %d: optional column without definition levels", c.spec.leaf)
			}
			for j := 0; j < take; j++ {
				out.vi = append(out.vi, c.valueIndex(out))
			}
		} else {
			defs := c.defs[c.lv : c.lv+take]
			maxDef := c.spec.maxDef
			for j := 0; j < len(defs); {
				// Sparse columns are mostly runs of nulls: skip 8 at a time.
				if j+8 <= len(defs) && binary.LittleEndian.Uint64(defs[j:]) == 0 {
					j += 8
					continue
				}
				if defs[j] == maxDef {
					if optional {
						out.rows = append(out.rows, int32(r+j))
					}
					out.vi = append(out.vi, c.valueIndex(out))
				} else if !optional {
					return false, fmt.Errorf("column %d: null in a required column", c.spec.leaf)
				}
				j++
			}
		}
		c.lv += take
		r += take
	}
	return len(out.vi) > start, nil
}

func (c *colReader) valueIndex(out *strCol) int32 {
	k := c.vi
	c.vi++
	if c.isDict {
		out.dict = c.dict
		return c.idx[k]
	}
	out.plain = append(out.plain, c.plain[k])
	return int32(-len(out.plain))
}

// int64s and int32s fill n rows of a required plain integer column.
func (c *colReader) int64s(dst []int64, n int) error {
	return fixedValues(c, dst, n, func(c *colReader) []int64 { return c.i64 })
}

func (c *colReader) int32s(dst []int32, n int) error {
	return fixedValues(c, dst, n, func(c *colReader) []int32 { return c.i32 })
}

func fixedValues[T int32 | int64](c *colReader, dst []T, n int, vals func(*colReader) []T) error {
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
			return fmt.Errorf("column %d: not a required plain %T column", c.spec.leaf, v)
		}
		copy(dst[r:r+take], v[c.vi:c.vi+take])
		c.vi += take
		c.lv += take
		r += take
	}
	return nil
}

// extras fills n rows of the Extra list from its Key and Value readers,
// which have identical level structure.
func extras(k, v *colReader, maxDef byte, ch *chunk, n int) error {
	ch.extraOff = grow(ch.extraOff, n+1)[:1]
	ch.extraOff[0] = 0
	ch.extra = ch.extra[:0]
	rows := 0
	var kb, vb strCol
	for {
		if k.lv == k.nlv {
			if rows == n {
				break
			}
			if err := k.next(); err != nil {
				return err
			}
			if err := v.next(); err != nil {
				return err
			}
			if k.nlv != v.nlv {
				return fmt.Errorf("Extra Key and Value pages differ (%d and %d levels)", k.nlv, v.nlv)
			}
			continue
		}
		if k.reps == nil {
			return errors.New("Extra column without repetition levels")
		}
		rep, def := k.reps[k.lv], k.defs[k.lv]
		if rep == 0 {
			if rows == n {
				break
			}
			if rows > 0 {
				ch.extraOff = append(ch.extraOff, int32(len(ch.extra)))
			}
			rows++
		} else if rows == 0 {
			return errors.New("Extra column starts inside a row")
		}
		if v.reps[v.lv] != rep || v.defs[v.lv] != def {
			return errors.New("Extra Key and Value levels differ")
		}
		k.lv++
		v.lv++
		if def == maxDef {
			kb.plain, vb.plain = kb.plain[:0], vb.plain[:0]
			key := kb.at(k.valueIndex(&kb))
			val := vb.at(v.valueIndex(&vb))
			ch.extra = append(ch.extra, event.KV{Key: key, Value: val})
		}
	}
	if rows != n {
		return fmt.Errorf("Extra column has %d rows, want %d", rows, n)
	}
	ch.extraOff = append(ch.extraOff, int32(len(ch.extra)))
	return nil
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n, n+n/4)
	}
	return s[:n]
}
