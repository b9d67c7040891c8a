package recording

import (
	"github.com/edr-lab/edr/event"
	"github.com/parquet-go/parquet-go/deprecated"
	"github.com/parquet-go/parquet-go/encoding/thrift"
	"github.com/parquet-go/parquet-go/format"
)

// The segment schema is derived from the event schema table at init: the
// header columns, one optional UTF-8 column per (non-virtual) schema field in
// FieldID order, Spellings, and Extra, the key/value part as
// LIST<STRUCT<Key, Value>>. Column names are the schema names, so a reader
// maps columns to fields by name and segments written by older or newer
// builds stay readable.
//
// Since schema version 2, names that differ only in case (ProcessId,
// ProcessID, processid: FieldID.Fold) share one column, named after the
// first of them: DuckDB, which ignores case, renamed the later ones
// (ProcessID_1) and Spark refused the file. Which spelling a value has
// follows from the row's event definition (Def.Spelling); a row whose
// fields spell it otherwise (an event the schema does not define, or a
// foreign spelling) lists those names in Spellings, null for every other
// row. An event with two spellings of one name at once keeps the second in
// Extra, marked "+Name" in Spellings.

// foldMembers lists, by the Fold of a case-insensitive group, the group's
// fields.
var foldMembers = func() map[event.FieldID][]event.FieldID {
	out := map[event.FieldID][]event.FieldID{}
	for _, f := range event.Fields() {
		if !f.Virtual && f.ID.Folded() {
			out[f.Fold] = append(out[f.Fold], f.ID)
		}
	}
	return out
}()

// spellingsColumn names the column of per-row spelling exceptions; the
// encoder keeps it after the data columns, at index spellingsCol.
const spellingsColumn = "Spellings"

var spellingsCol = int32(len(dataFields))

// dataFields lists the FieldIDs that have a column, in column order: every
// non-virtual field that is its own Fold.
var dataFields = func() []event.FieldID {
	var out []event.FieldID
	for _, f := range event.Fields() {
		if !f.Virtual && f.Fold == f.ID {
			out = append(out, f.ID)
		}
	}
	return out
}()

// fieldColumn maps a FieldID to the index in dataFields of its Fold's
// column (-1 for virtual).
var fieldColumn = func() []int32 {
	out := make([]int32, event.NumFields())
	for i := range out {
		out[i] = -1
	}
	for i, id := range dataFields {
		out[id] = int32(i)
	}
	for _, f := range event.Fields() {
		if !f.Virtual && f.Fold != f.ID {
			out[f.ID] = out[f.Fold]
		}
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
	s := []format.SchemaElement{{Name: "edr", NumChildren: thrift.New(int32(int(numHeaderRoles) + len(dataFields) + 2))}}
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
	s = append(s, utf8Leaf(spellingsColumn, format.Optional),
		format.SchemaElement{Name: "Extra", RepetitionType: thrift.New(format.Required), NumChildren: thrift.New(int32(1)),
			ConvertedType: thrift.New(deprecated.List), LogicalType: format.LogicalType{Value: &format.ListType{}}},
		format.SchemaElement{Name: "list", RepetitionType: thrift.New(format.Repeated), NumChildren: thrift.New(int32(1))},
		format.SchemaElement{Name: "element", RepetitionType: thrift.New(format.Required), NumChildren: thrift.New(int32(2))},
		utf8Leaf("Key", format.Required), utf8Leaf("Value", format.Required))
	return s
}()

// leafCount is the number of leaf columns.
var leafCount = int(numHeaderRoles) + len(dataFields) + 3
