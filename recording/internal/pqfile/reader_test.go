package pqfile

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Column kinds of pageFile: how the one column chunk is declared and
// which Column method decodes it.
const (
	kindInt64    = iota // required INT64, one PLAIN data page
	kindInt32           // required INT32, one PLAIN data page
	kindPlain           // optional BYTE_ARRAY, one PLAIN data page
	kindDict            // optional BYTE_ARRAY, a PLAIN dictionary page and an RLE_DICTIONARY data page
	kindRequired        // required BYTE_ARRAY, one PLAIN data page
	kindList            // a repeated group E of required BYTE_ARRAY K and V (as the Extra key/value list), one page each
	numKinds
)

// pageFile writes a file whose column chunk(s) hold the given page bodies
// verbatim (uncompressed sizes and zstd are the Writer's): a, the data
// page (K's, for kindList), and b, the dictionary page (kindDict) or V's
// data page (kindList). rows is the row group's row count, values each
// data page's NumValues and dictN the dictionary page's.
func pageFile(t testing.TB, kind int, rows, values, dictN int, a, b []byte) []byte {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	start := w.Offset()
	leaf := func(name string, typ format.Type, rep format.FieldRepetitionType) format.SchemaElement {
		return format.SchemaElement{Name: name, Type: thrift.New(typ), RepetitionType: thrift.New(rep)}
	}
	page := func(path []string, typ format.Type, dict, body []byte, enc format.Encoding) format.ColumnChunk {
		cc := ChunkMeta(path, typ, []format.Encoding{enc, format.RLE}, values, format.Statistics{})
		cc.FileOffset = w.Offset()
		if dict != nil {
			cc.MetaData.DictionaryPageOffset = w.Offset()
			u, c := w.WritePage(DictionaryPageHeader(dictN), append([]byte(nil), dict...))
			cc.MetaData.TotalUncompressedSize += u
			cc.MetaData.TotalCompressedSize += c
		}
		cc.MetaData.DataPageOffset = w.Offset()
		u, c := w.WritePage(DataPageHeader(values, enc, 0), append([]byte(nil), body...))
		cc.MetaData.TotalUncompressedSize += u
		cc.MetaData.TotalCompressedSize += c
		return cc
	}
	root := format.SchemaElement{Name: "t", NumChildren: thrift.New(int32(1))}
	var schema []format.SchemaElement
	var cols []format.ColumnChunk
	if kind == kindList {
		schema = []format.SchemaElement{root,
			{Name: "E", RepetitionType: thrift.New(format.Repeated), NumChildren: thrift.New(int32(2))},
			leaf("K", format.ByteArray, format.Required), leaf("V", format.ByteArray, format.Required)}
		cols = []format.ColumnChunk{page([]string{"E", "K"}, format.ByteArray, nil, a, format.Plain),
			page([]string{"E", "V"}, format.ByteArray, nil, b, format.Plain)}
	} else {
		// one column C: its type, repetition and data page encoding
		k := map[int]struct {
			typ format.Type
			rep format.FieldRepetitionType
			enc format.Encoding
		}{
			kindInt64:    {format.Int64, format.Required, format.Plain},
			kindInt32:    {format.Int32, format.Required, format.Plain},
			kindPlain:    {format.ByteArray, format.Optional, format.Plain},
			kindDict:     {format.ByteArray, format.Optional, format.RLEDictionary},
			kindRequired: {format.ByteArray, format.Required, format.Plain},
		}[kind]
		var dict []byte
		if kind == kindDict {
			dict = b
		}
		schema = []format.SchemaElement{root, leaf("C", k.typ, k.rep)}
		cols = []format.ColumnChunk{page([]string{"C"}, k.typ, dict, a, k.enc)}
	}
	md := format.FileMetaData{Version: 1, NumRows: int64(rows), Schema: schema,
		RowGroups: []format.RowGroup{{Columns: cols, NumRows: int64(rows), FileOffset: start, TotalCompressedSize: w.Offset() - start}}}
	require.NoError(t, w.Close(&md))
	return buf.Bytes()
}

// decoded is what decodePages read.
type decoded struct {
	ints []int64
	strs []string // values of present rows, in row order
	rows []int32  // present rows (optional columns)
	off  []int32  // list offsets (kindList)
}

// rawKind: the kinds whose column NewRawColumn can read.
func rawKind(kind int) bool { return kind == kindPlain || kind == kindDict || kind == kindRequired }

// decodePages decodes rows rows of pageFile's column(s) with Column, in
// chunks of step rows, as the segment reader does; raw reads the pages
// with rawPages (for rawKind kinds) rather than parquet-go.
func decodePages(file []byte, kind, rows, step int, raw bool) (out decoded, err error) {
	pf, err := parquet.OpenFile(bytes.NewReader(file), int64(len(file)))
	if err != nil {
		return out, fmt.Errorf("open: %w", err) // not the decoder's business
	}
	rg := pf.RowGroups()[0]
	maxDef := byte(0)
	if kind == kindPlain || kind == kindDict || kind == kindList {
		maxDef = 1
	}
	col := NewColumn(rg.ColumnChunks()[0].Pages(), "C", maxDef)
	if raw && rawKind(kind) {
		col.Close()
		md := &pf.Metadata().RowGroups[0].Columns[0].MetaData
		if !RawChunk(md, int(maxDef), 0) {
			return out, fmt.Errorf("open: not a raw chunk")
		}
		chunk, err := ChunkBytes(NewMem(file), int64(len(file)), md)
		if err != nil {
			return out, fmt.Errorf("open: %w", err)
		}
		col = NewRawColumn(chunk, md.Codec, "C", maxDef)
	}
	defer col.Close()
	if kind == kindList {
		v := NewColumn(rg.ColumnChunks()[1].Pages(), "V", maxDef)
		defer v.Close()
		var pairs [][2]string
		out.off, pairs, err = Extras(col, v, rows, nil, nil, func(k, v string) [2]string { return [2]string{k, v} })
		for _, p := range pairs {
			out.strs = append(out.strs, p[0], p[1])
		}
		return out, err
	}
	var vals Values
	for r := 0; r < rows; r += step {
		n := min(step, rows-r)
		vals.Reset() // a new chunk of rows: the column registers its arenas again
		switch kind {
		case kindInt64:
			dst := make([]int64, n)
			err = col.Int64s(dst, n)
			out.ints = append(out.ints, dst...)
		case kindInt32:
			dst := make([]int32, n)
			err = col.Int32s(dst, n)
			for _, x := range dst {
				out.ints = append(out.ints, int64(x))
			}
		case kindRequired:
			var refs []Ref
			refs, err = col.Strings(n, nil, &vals)
			for _, ref := range refs {
				out.strs = append(out.strs, vals.String(ref))
			}
		default:
			var rows []int32
			var refs []Ref
			rows, refs, err = col.Sparse(n, nil, nil, &vals)
			for i, ref := range refs {
				out.strs = append(out.strs, vals.String(ref))
				out.rows = append(out.rows, int32(r)+rows[i])
			}
		}
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// Page bodies as the segment writer lays them out.
func plainBody(w *Writer, defs []byte, vals []string) []byte {
	var body []byte
	if defs != nil {
		body = w.AppendLevels(body, defs)
	}
	return AppendPlain(body, vals)
}

func TestColumnDecodesPages(t *testing.T) {
	for _, raw := range []bool{false, true} {
		t.Run(fmt.Sprintf("raw=%v", raw), func(t *testing.T) { testColumnDecodesPages(t, raw) })
	}
}

func testColumnDecodesPages(t *testing.T, raw bool) {
	w := NewWriter(new(bytes.Buffer))
	i64 := binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, 7), 1<<40)
	file := pageFile(t, kindInt64, 2, 2, 0, i64, nil)
	got, err := decodePages(file, kindInt64, 2, 1, raw)
	require.NoError(t, err)
	assert.Equal(t, []int64{7, 1 << 40}, got.ints)

	defs := []byte{0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1}
	file = pageFile(t, kindPlain, len(defs), len(defs), 0, plainBody(w, defs, []string{"a", "", "ccc"}), nil)
	got, err = decodePages(file, kindPlain, len(defs), 4, raw)
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "", "ccc"}, got.strs)
	assert.Equal(t, []int32{1, 2, 10}, got.rows)

	body := w.AppendDictIndexes(w.AppendLevels(nil, defs), []int32{1, 0, 1}, 2)
	file = pageFile(t, kindDict, len(defs), len(defs), 2, body, AppendPlain(nil, []string{"x", "yy"}))
	got, err = decodePages(file, kindDict, len(defs), 3, raw)
	require.NoError(t, err)
	assert.Equal(t, []string{"yy", "x", "yy"}, got.strs)
	assert.Equal(t, []int32{1, 2, 10}, got.rows)

	// Rows 0 and 2 have two pairs, row 1 none: repetition levels 0 1 0 0 1,
	// definition levels 1 1 0 1 1.
	reps, ldefs := []byte{0, 1, 0, 0, 1}, []byte{1, 1, 0, 1, 1}
	kb := AppendPlain(w.AppendLevels(w.AppendLevels(nil, reps), ldefs), []string{"k1", "k2", "k3", "k4"})
	vb := AppendPlain(w.AppendLevels(w.AppendLevels(nil, reps), ldefs), []string{"v1", "v2", "v3", "v4"})
	file = pageFile(t, kindList, 3, len(reps), 0, kb, vb)
	got, err = decodePages(file, kindList, 3, 3, raw)
	require.NoError(t, err)
	assert.Equal(t, []string{"k1", "v1", "k2", "v2", "k3", "v3", "k4", "v4"}, got.strs)
	assert.Equal(t, []int32{0, 2, 2, 4}, got.off)
	require.NoError(t, w.Err())
}

func TestColumnErrorsNameColumnAndPage(t *testing.T) {
	for _, raw := range []bool{false, true} {
		t.Run(fmt.Sprintf("raw=%v", raw), func(t *testing.T) { testColumnErrorsNameColumnAndPage(t, raw) })
	}
}

func testColumnErrorsNameColumnAndPage(t *testing.T, raw bool) {
	w := NewWriter(new(bytes.Buffer))
	defs := []byte{1, 1, 1}
	// Dictionary index 5 of a 2-entry dictionary.
	body := w.AppendDictIndexes(w.AppendLevels(nil, defs), []int32{0, 5, 1}, 8)
	file := pageFile(t, kindDict, 3, 3, 2, body, AppendPlain(nil, []string{"x", "yy"}))
	_, err := decodePages(file, kindDict, 3, 3, raw)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "column C, page 1: dictionary index 5 out of 2")

	// Two values for three present rows.
	file = pageFile(t, kindPlain, 3, 3, 0, plainBody(w, defs, []string{"a", "b"}), nil)
	_, err = decodePages(file, kindPlain, 3, 3, raw)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "column C, page 1: 2 values for 3 non-null levels")

	// More rows than the chunk holds.
	file = pageFile(t, kindPlain, 3, 3, 0, plainBody(w, defs, []string{"a", "b", "c"}), nil)
	_, err = decodePages(file, kindPlain, 4, 4, raw)
	require.ErrorIs(t, err, ErrShortColumn)
	assert.Contains(t, err.Error(), "column C, after page 1")
}

// FuzzColumn decodes arbitrary page bodies (and page value counts, row
// counts, dictionaries) with Column: it must never panic, and every error
// names the column (and, but for the pages' total being short, the page).
// A panic inside parquet-go's page decoding is the Column's to catch.
func FuzzColumn(f *testing.F) {
	w := NewWriter(new(bytes.Buffer))
	defs := []byte{0, 1, 1, 0, 1, 0, 0, 0, 0, 0, 1}
	i64 := binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(nil, 7), 9)
	f.Add(uint8(kindInt64), uint16(2), uint16(2), uint16(0), i64, []byte(nil))
	f.Add(uint8(kindInt32), uint16(2), uint16(2), uint16(0), i64[:8], []byte(nil))
	f.Add(uint8(kindPlain), uint16(len(defs)), uint16(len(defs)), uint16(0), plainBody(w, defs, []string{"a", "", "ccc", "d"}), []byte(nil))
	f.Add(uint8(kindRequired), uint16(2), uint16(2), uint16(0), AppendPlain(nil, []string{"a", "bb"}), []byte(nil))
	f.Add(uint8(kindDict), uint16(len(defs)), uint16(len(defs)), uint16(2),
		w.AppendDictIndexes(w.AppendLevels(nil, defs), []int32{1, 0, 1, 1}, 2), AppendPlain(nil, []string{"x", "yy"}))
	reps, ldefs := []byte{0, 1, 0, 0, 1}, []byte{1, 1, 0, 1, 1}
	f.Add(uint8(kindList), uint16(3), uint16(5), uint16(0),
		AppendPlain(w.AppendLevels(w.AppendLevels(nil, reps), ldefs), []string{"k1", "k2", "k3", "k4"}),
		AppendPlain(w.AppendLevels(w.AppendLevels(nil, reps), ldefs), []string{"v1", "v2", "v3", "v4"}))
	f.Fuzz(func(t *testing.T, kind uint8, rows, values, dictN uint16, a, b []byte) {
		k := int(kind) % numKinds
		file := pageFile(t, k, int(rows), int(values), int(dictN), a, b)
		for _, step := range []int{int(rows), 3} {
			if step == 0 {
				continue
			}
			var outs [2]decoded
			var errs [2]error
			for i, raw := range []bool{false, true} {
				if raw && !rawKind(k) {
					break // the same parquet-go decoding again
				}
				outs[i], errs[i] = decodePages(file, k, int(rows), step, raw)
				if err := errs[i]; err != nil {
					msg := err.Error()
					if len(msg) > 6 && msg[:6] == "open: " {
						return // parquet-go refused the file itself
					}
					assert.Regexp(t, `^columns? [CV]`, msg)
				}
			}
			// The two page readers agree on whatever both accept.
			if rawKind(k) && errs[0] == nil && errs[1] == nil {
				assert.Equal(t, outs[0], outs[1])
			}
		}
	})
}

// A required column read from a page with definition levels refuses every
// null, also a run of 8 or more (which the level scan once skipped a word
// at a time, leaving the column a value short per null: a panic later).
func TestRequiredStringsRefuseNullRuns(t *testing.T) {
	w := NewWriter(new(bytes.Buffer))
	for _, nulls := range []int{1, 8, 9, 20} {
		defs := append(append([]byte{1}, make([]byte, nulls)...), 1)
		file := pageFile(t, kindPlain, len(defs), len(defs), 0, plainBody(w, defs, []string{"a", "b"}), nil)
		pf, err := parquet.OpenFile(bytes.NewReader(file), int64(len(file)))
		require.NoError(t, err)
		col := NewColumn(pf.RowGroups()[0].ColumnChunks()[0].Pages(), "C", 1)
		_, err = col.Strings(len(defs), nil, new(Values))
		col.Close()
		require.Error(t, err, "%d nulls", nulls)
		assert.Contains(t, err.Error(), "column C, page 1: null in a required column")
	}
}

func TestBytesEqualOne(t *testing.T) {
	for _, w := range []uint64{0, 1, 0x0101010101010101, 0x0201000101ff0180, 0xffffffffffffffff, 0x0100000000000000, 0x8181818181818181} {
		var want uint64
		for b := 0; b < 8; b++ {
			if byte(w>>(8*b)) == 1 {
				want |= 0x80 << (8 * b)
			}
		}
		assert.Equal(t, want, bytesEqualOne(w), "%#x", w)
	}
}

// FuzzRawPages hands arbitrary column chunk bytes (page headers
// included) to the read path's own page reader: it must never panic, and
// every error names the column.
func FuzzRawPages(f *testing.F) {
	w := NewWriter(new(bytes.Buffer))
	defs := []byte{0, 1, 1, 0, 1, 0, 0, 0, 0, 0, 1}
	for _, kind := range []int{kindPlain, kindDict, kindRequired} {
		var a, b []byte
		switch kind {
		case kindPlain:
			a = plainBody(w, defs, []string{"a", "", "ccc", "d"})
		case kindDict:
			a, b = w.AppendDictIndexes(w.AppendLevels(nil, defs), []int32{1, 0, 1, 1}, 2), AppendPlain(nil, []string{"x", "yy"})
		case kindRequired:
			a = AppendPlain(nil, []string{"a", "bb"})
		}
		file := pageFile(f, kind, len(defs), len(defs), 2, a, b)
		pf, err := parquet.OpenFile(bytes.NewReader(file), int64(len(file)))
		require.NoError(f, err)
		md := &pf.Metadata().RowGroups[0].Columns[0].MetaData
		chunk, err := ChunkBytes(NewMem(file), int64(len(file)), md)
		require.NoError(f, err)
		f.Add(chunk, kind == kindRequired, uint16(len(defs)), true)
		f.Add(chunk, kind == kindRequired, uint16(len(defs)), false) // not decompressed: garbage to the decoder
	}
	f.Fuzz(func(t *testing.T, chunk []byte, required bool, rows uint16, zstd bool) {
		codec := format.Uncompressed
		if zstd {
			codec = format.Zstd
		}
		maxDef := byte(1)
		if required {
			maxDef = 0
		}
		col := NewRawColumn(chunk, codec, "C", maxDef)
		defer col.Close()
		var vals Values
		for r := 0; r < int(rows); r += 3 {
			n := min(3, int(rows)-r)
			var err error
			if required {
				_, err = col.Strings(n, nil, &vals)
			} else {
				var refs []Ref
				_, refs, err = col.Sparse(n, nil, nil, &vals)
				for _, ref := range refs {
					_ = vals.String(ref) // every ref lies inside its arena
				}
			}
			if err != nil {
				assert.Regexp(t, `^column C`, err.Error())
				return
			}
		}
	})
}
