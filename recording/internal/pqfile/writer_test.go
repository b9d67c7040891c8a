package pqfile

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// writeInts writes a one-row-group file of an INT64 column A (min/max
// statistics) and an INT32 column B with the Writer alone.
func writeInts(t testing.TB, i64 []int64, i32 []int32) ([]byte, []format.ColumnChunk) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	start := w.Offset()
	cols := []format.ColumnChunk{w.Int64Column("A", i64, true), w.Int32Column("B", i32)}
	require.NoError(t, w.Err())
	md := format.FileMetaData{Version: 1, NumRows: int64(len(i64)),
		Schema: []format.SchemaElement{{Name: "t", NumChildren: thrift.New(int32(2))},
			{Name: "A", Type: thrift.New(format.Int64), RepetitionType: thrift.New(format.Required)},
			{Name: "B", Type: thrift.New(format.Int32), RepetitionType: thrift.New(format.Required)}},
		RowGroups: []format.RowGroup{{Columns: cols, NumRows: int64(len(i64)), FileOffset: start, TotalCompressedSize: w.Offset() - start}}}
	require.NoError(t, w.Close(&md))
	return buf.Bytes(), cols
}

// readInts checks both checksums and reads the columns back with
// parquet-go, page by page; pagesA is the number of pages of A.
func readInts(t testing.TB, file []byte) (i64 []int64, i32 []int32, pagesA int) {
	footer, err := ReadFooter(bytes.NewReader(file), int64(len(file)))
	require.NoError(t, err)
	require.NoError(t, VerifyFooter(footer))
	_, err = VerifyData(bytes.NewReader(file), int64(len(file)), footer, 0)
	require.NoError(t, err)
	pf, err := parquet.OpenFile(bytes.NewReader(file), int64(len(file)))
	require.NoError(t, err)
	for c, cc := range pf.RowGroups()[0].ColumnChunks() {
		pages := cc.Pages()
		for {
			p, err := pages.ReadPage()
			if err != nil {
				break
			}
			data := p.Data()
			if c == 0 {
				pagesA++
				i64 = append(i64, data.Int64()...)
			} else {
				i32 = append(i32, data.Int32()...)
			}
			parquet.Release(p)
		}
		pages.Close()
	}
	return i64, i32, pagesA
}

// TestWriterRoundTrip writes more rows than a page holds with the Writer
// alone and reads them back: values, page splits, statistics and both
// checksums hold without the segment layer.
func TestWriterRoundTrip(t *testing.T) {
	n := PageRows + 5
	i64 := make([]int64, n)
	i32 := make([]int32, n)
	for i := range i64 {
		i64[i] = int64(i*7 - 3)
		i32[i] = int32(-i)
	}
	file, cols := writeInts(t, i64, i32)
	st := cols[0].MetaData.Statistics
	assert.Equal(t, []int64{-3, int64((n-1)*7 - 3)}, []int64{int64(binary.LittleEndian.Uint64(st.MinValue)), int64(binary.LittleEndian.Uint64(st.MaxValue))})
	got64, got32, pagesA := readInts(t, file)
	assert.Equal(t, 2, pagesA, "PageRows splits the column")
	assert.Equal(t, i64, got64)
	assert.Equal(t, i32, got32)
}

// FuzzWriterInts: any values written by the Writer read back unchanged
// through parquet-go, with valid checksums.
func FuzzWriterInts(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0, 0, 0, 0, 0x80})
	f.Fuzz(func(t *testing.T, data []byte) {
		var i64 []int64
		var i32 []int32
		for ; len(data) >= 8; data = data[8:] {
			v := binary.LittleEndian.Uint64(data)
			i64, i32 = append(i64, int64(v)), append(i32, int32(v>>13))
		}
		if len(i64) == 0 {
			return
		}
		file, _ := writeInts(t, i64, i32)
		got64, got32, _ := readInts(t, file)
		assert.Equal(t, i64, got64)
		assert.Equal(t, i32, got32)
	})
}

// TestWriterKeepsNoPageBuffersBetweenRowGroups: after TrimBuffers (a row
// group's end) a writer holds no page buffer of its own, so files open
// side by side do not each keep theirs; the next page still writes, and
// the file reads back.
func TestWriterKeepsNoPageBuffersBetweenRowGroups(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	vals := make([]int64, 50_000)
	for i := range vals {
		vals[i] = int64(i * i)
	}
	w.Int64Column("A", vals, true)
	require.Positive(t, cap(w.page)+cap(w.comp))
	w.TrimBuffers()
	assert.Zero(t, cap(w.page)+cap(w.comp), "page buffers kept by an idle writer")

	file, _ := writeInts(t, vals, make([]int32, len(vals)))
	got, _, _ := readInts(t, file)
	assert.Equal(t, vals, got)
}
