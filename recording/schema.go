package recording

import (
	"github.com/edr-lab/edr/event"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

// The segment schema is derived from the event schema table at init: the
// header columns, one optional UTF-8 column per (non-virtual) schema field in
// FieldID order, and Extra, the key/value part as LIST<STRUCT<Key, Value>>.
// Column names are the schema names, so a reader maps columns to fields by
// name and segments written by older or newer builds stay readable.

// dataFields lists the FieldIDs that have a column, in column order.
var dataFields = func() []event.FieldID {
	var out []event.FieldID
	for _, f := range event.Fields() {
		if !f.Virtual {
			out = append(out, f.ID)
		}
	}
	return out
}()

// fieldColumn maps a FieldID to its index in dataFields (-1 for virtual).
var fieldColumn = func() []int32 {
	out := make([]int32, event.NumFields())
	for i := range out {
		out[i] = -1
	}
	for i, id := range dataFields {
		out[id] = int32(i)
	}
	return out
}()

func utf8Leaf(name string, rep format.FieldRepetitionType) format.SchemaElement {
	return format.SchemaElement{
		Type:           thrift.New(format.ByteArray),
		RepetitionType: thrift.New(rep),
		Name:           name,
		ConvertedType:  thrift.New(deprecated.UTF8),
		LogicalType:    format.LogicalType{Value: &format.StringType{}},
	}
}

func intLeaf(name string, t format.Type) format.SchemaElement {
	return format.SchemaElement{Type: thrift.New(t), RepetitionType: thrift.New(format.Required), Name: name}
}

// segmentSchema is the flattened Parquet schema (depth first).
var segmentSchema = func() []format.SchemaElement {
	s := []format.SchemaElement{{Name: "edr", NumChildren: thrift.New(int32(int(numHeaderRoles) + len(dataFields) + 1))}}
	// Time is a TIMESTAMP(NANOS) holding UTC. isAdjustedToUTC is false
	// because DuckDB reads an adjusted one as TIMESTAMPTZ, which has only
	// microseconds; unadjusted it is TIMESTAMP_NS and keeps every digit.
	timeCol := intLeaf("Time", format.Int64)
	timeCol.LogicalType = format.LogicalType{Value: &format.TimestampType{IsAdjustedToUTC: false, Unit: format.TimeUnit{Value: &format.NanoSeconds{}}}}
	s = append(s, timeCol,
		utf8Leaf("Host", format.Required), utf8Leaf("Channel", format.Required), utf8Leaf("Provider", format.Required),
		intLeaf("EventID", format.Int32), intLeaf("RecordID", format.Int64), intLeaf("Seq", format.Int64),
		utf8Leaf("Source", format.Required), intLeaf("Flags", format.Int32))
	for _, id := range dataFields {
		s = append(s, utf8Leaf(id.Name(), format.Optional))
	}
	s = append(s,
		format.SchemaElement{Name: "Extra", RepetitionType: thrift.New(format.Required), NumChildren: thrift.New(int32(1)),
			ConvertedType: thrift.New(deprecated.List), LogicalType: format.LogicalType{Value: &format.ListType{}}},
		format.SchemaElement{Name: "list", RepetitionType: thrift.New(format.Repeated), NumChildren: thrift.New(int32(1))},
		format.SchemaElement{Name: "element", RepetitionType: thrift.New(format.Required), NumChildren: thrift.New(int32(2))},
		utf8Leaf("Key", format.Required), utf8Leaf("Value", format.Required))
	return s
}()

// leafCount is the number of leaf columns.
var leafCount = int(numHeaderRoles) + len(dataFields) + 2
