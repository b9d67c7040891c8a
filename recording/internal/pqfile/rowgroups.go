package pqfile

import (
	"encoding/binary"
	"errors"

	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

// RowGroups keeps a file's row group metadata thrift-encoded as each row
// group completes. A format.RowGroup of the segment schema holds 406
// ColumnChunk structs of 560 bytes (~240 kB in memory) against ~20 kB
// encoded, and a segment of 128 MiB written in row groups of ~16k events
// has hundreds of them: held as structs until the footer, they grew a
// long edr live run's heap by tens of MB per open segment.
type RowGroups struct {
	n   int
	enc []byte // the encoded row groups, one after the other
}

// Add encodes rg and keeps the bytes.
func (r *RowGroups) Add(rg *format.RowGroup) error {
	b, err := thrift.Marshal(new(thrift.CompactProtocol), rg)
	if err != nil {
		return err
	}
	r.enc = append(r.enc, b...)
	r.n++
	return nil
}

// Len is the number of row groups added.
func (r *RowGroups) Len() int { return r.n }

// thrift compact protocol: a list header holds its size (below 15) in the
// high nibble and the element type in the low one; type 12 is a struct.
const (
	listOfStruct = 0x0c
	listLongSize = 0xf0
)

// footer encodes md (whose RowGroups must be empty) with the row groups
// spliced in: md is encoded with an empty list, whose header is found as
// the first byte that differs from md encoded with a list of one empty
// row group, and replaced by the list's header and elements. The compact
// protocol encodes a struct the same way wherever it stands, so the
// result is the bytes thrift.Marshal gives for md with the row groups.
func (r *RowGroups) footer(md *format.FileMetaData) ([]byte, error) {
	if len(md.RowGroups) != 0 {
		return nil, errors.New("pqfile: footer: row groups given twice")
	}
	md.RowGroups = []format.RowGroup{}
	empty, err := thrift.Marshal(new(thrift.CompactProtocol), md)
	if err != nil {
		return nil, err
	}
	md.RowGroups = []format.RowGroup{{}}
	one, err := thrift.Marshal(new(thrift.CompactProtocol), md)
	md.RowGroups = []format.RowGroup{}
	if err != nil {
		return nil, err
	}
	at := 0
	for at < len(empty) && at < len(one) && empty[at] == one[at] {
		at++
	}
	if at == len(empty) || empty[at] != listOfStruct || one[at] != 1<<4|listOfStruct {
		return nil, errors.New("pqfile: footer: row group list not found in the encoded metadata")
	}
	out := make([]byte, 0, len(empty)+len(r.enc)+binary.MaxVarintLen64)
	out = append(out, empty[:at]...)
	if r.n < 15 {
		out = append(out, byte(r.n<<4)|listOfStruct)
	} else {
		out = append(out, listLongSize|listOfStruct)
		out = binary.AppendUvarint(out, uint64(r.n))
	}
	out = append(out, r.enc...)
	return append(out, empty[at+1:]...), nil
}

// CloseRowGroups is Close for a file whose row groups were kept encoded:
// md.RowGroups must be empty; the footer lists rgs.
func (w *Writer) CloseRowGroups(md *format.FileMetaData, rgs *RowGroups) error {
	if w.err != nil {
		return w.err
	}
	w.footerKeys(md)
	b, err := rgs.footer(md)
	if err != nil {
		return err
	}
	return w.writeFooter(b)
}
