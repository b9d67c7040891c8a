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

// TestWriterRoundTrip writes a file with the Writer alone (more rows than
// a page holds) and reads it back with parquet-go: values, page splits and
// both checksums hold without the segment layer.
func TestWriterRoundTrip(t *testing.T) {
	n := PageRows + 5
	i64 := make([]int64, n)
	i32 := make([]int32, n)
	for i := range i64 {
		i64[i] = int64(i*7 - 3)
		i32[i] = int32(-i)
	}
	var buf bytes.Buffer
	w := NewWriter(&buf)
	start := w.Offset()
	cols := []format.ColumnChunk{w.Int64Column("A", i64, true), w.Int32Column("B", i32)}
	require.NoError(t, w.Err())
	md := format.FileMetaData{Version: 1, NumRows: int64(n),
		Schema: []format.SchemaElement{{Name: "t", NumChildren: thrift.New(int32(2))},
			{Name: "A", Type: thrift.New(format.Int64), RepetitionType: thrift.New(format.Required)},
			{Name: "B", Type: thrift.New(format.Int32), RepetitionType: thrift.New(format.Required)}},
		RowGroups: []format.RowGroup{{Columns: cols, NumRows: int64(n), FileOffset: start, TotalCompressedSize: w.Offset() - start}}}
	require.NoError(t, w.Close(&md))
	file := buf.Bytes()

	footer, err := ReadFooter(bytes.NewReader(file), int64(len(file)))
	require.NoError(t, err)
	require.NoError(t, VerifyFooter(footer))
	_, err = VerifyData(bytes.NewReader(file), int64(len(file)), footer, 0)
	require.NoError(t, err)

	pf, err := parquet.OpenFile(bytes.NewReader(file), int64(len(file)))
	require.NoError(t, err)
	rg := pf.RowGroups()[0]
	st := cols[0].MetaData.Statistics
	assert.Equal(t, []int64{-3, int64((n-1)*7 - 3)}, []int64{int64(binary.LittleEndian.Uint64(st.MinValue)), int64(binary.LittleEndian.Uint64(st.MaxValue))})
	var got64 []int64
	var got32 []int32
	pagesA := 0
	for c, cc := range rg.ColumnChunks() {
		pages := cc.Pages()
		for {
			p, err := pages.ReadPage()
			if err != nil {
				break
			}
			data := p.Data()
			if c == 0 {
				pagesA++
				got64 = append(got64, data.Int64()...)
			} else {
				got32 = append(got32, data.Int32()...)
			}
			parquet.Release(p)
		}
		pages.Close()
	}
	assert.Equal(t, 2, pagesA, "PageRows splits the column")
	assert.Equal(t, i64, got64)
	assert.Equal(t, i32, got32)
}
