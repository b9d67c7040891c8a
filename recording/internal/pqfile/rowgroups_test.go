package pqfile

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
	"github.com/stretchr/testify/require"
)

// rowGroup is a row group of a few columns, varied by i.
func rowGroup(i int) format.RowGroup {
	var cols []format.ColumnChunk
	for c := 0; c < 1+i%5; c++ {
		cc := ChunkMeta([]string{fmt.Sprintf("col%d", c)}, format.ByteArray, []format.Encoding{format.Plain, format.RLE}, 100+i,
			format.Statistics{NullCount: int64(i * c)})
		cc.FileOffset = int64(4 + i*1000 + c)
		cc.MetaData.DataPageOffset = cc.FileOffset
		if c == 0 {
			cc.MetaData.Statistics.MinValue, cc.MetaData.Statistics.MaxValue = []byte{byte(i)}, []byte{byte(i), 0xff}
		}
		cols = append(cols, cc)
	}
	return format.RowGroup{Columns: cols, NumRows: int64(100 + i), FileOffset: int64(4 + i*1000), TotalByteSize: int64(i * 7),
		TotalCompressedSize: int64(i * 5), Ordinal: int16(i)}
}

// The spliced footer is byte for byte what thrift gives for the metadata
// with its row groups, for lists of every header form (short, 14, 15 and
// long counts), and CloseRowGroups writes the same file as Close.
func TestRowGroupsFooterMatchesMarshal(t *testing.T) {
	for _, n := range []int{0, 1, 2, 14, 15, 16, 300} {
		md := func() *format.FileMetaData {
			return &format.FileMetaData{Version: 1, Schema: []format.SchemaElement{{Name: "schema"}, {Name: "col0"}}, NumRows: int64(n),
				KeyValueMetadata: []format.KeyValue{{Key: "k", Value: "v"}}, CreatedBy: "test"}
		}
		var rgs RowGroups
		want := md()
		want.RowGroups = []format.RowGroup{}
		for i := range n {
			rg := rowGroup(i)
			require.NoError(t, rgs.Add(&rg))
			want.RowGroups = append(want.RowGroups, rg)
		}
		require.Equal(t, n, rgs.Len())
		wb, err := thrift.Marshal(new(thrift.CompactProtocol), want)
		require.NoError(t, err)
		got, err := rgs.footer(md())
		require.NoError(t, err)
		require.Equal(t, wb, got, "%d row groups", n)

		var a, b bytes.Buffer
		wa, wb2 := NewWriter(&a), NewWriter(&b)
		for _, w := range []*Writer{wa, wb2} {
			w.WritePage(DataPageHeader(3, format.Plain, 0), []byte("abc"))
		}
		require.NoError(t, wa.Close(want))
		require.NoError(t, wb2.CloseRowGroups(md(), &rgs))
		require.Equal(t, a.Bytes(), b.Bytes(), "%d row groups", n)
	}
}

func TestRowGroupsFooterRefusesRowGroupsTwice(t *testing.T) {
	var rgs RowGroups
	_, err := rgs.footer(&format.FileMetaData{RowGroups: []format.RowGroup{rowGroup(1)}})
	require.Error(t, err)
}
