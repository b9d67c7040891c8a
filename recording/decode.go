package recording

import (
	"errors"
	"fmt"
	"strings"

	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/recording/internal/pqfile"
	"github.com/parquet-go/parquet-go"
)

// A row group is decoded in chunks of at most chunkRows rows: every needed
// leaf column keeps its own page decoder (pqfile.Column) and position, and
// a chunk holds, per string column, references (pqfile.Ref) into strings
// made once per dictionary or plain page and shared by every row that uses
// them.

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
}

// fileLayout is how a segment file's leaf columns map to the event.
type fileLayout struct {
	header   [numHeaderRoles]int // leaf index, -1 when missing
	strs     []colSpec           // schema, foreign and Spellings string columns
	extraKey int
	extraVal int
	extraDef byte
	names    []string // leaf index → column path, for errors
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
		l.names = append(l.names, strings.Join(path, "."))
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
	sources  []event.Source  // source per row, parsed once per value
	vals     pqfile.Values   // the arenas of every column's values
	cols     []strCol        // string columns with at least one value in the chunk
	want     []bool          // the projection (nil: none); its Extra is decoded only for Spellings' "+Name" values
	drop     []event.FieldID // scratch of event()
	// the last row's event definition (rowDef), and the definitions by
	// channel value and event ID (defOf)
	defChannel string
	defEventID uint16
	def        *event.Def
	defOK      bool
	defs       map[uint64]*event.Def
	// rowOff[r]..rowOff[r+1] are row r's entries: its present values,
	// transposed from cols so that materializing an event touches only
	// its own fields. entries holds those of rows [blkStart, blkEnd)
	// (filled by fillRows when an event first needs them), entries[0]
	// being entry rowOff[blkStart].
	rowOff   []int32
	entries  []entry
	blkStart int
	blkEnd   int
	fillAt   []int32 // scratch of fillRows
	fills    []entry // the entry each column's values fill in (a folded one's id set per row)
	extraOff []int32 // rows+1 offsets into extra, empty when the file has no Extra values
	extra    []event.KV
	// slabs holding every optional column's rows and values, reused chunk
	// to chunk (columns take consecutive sub-slices)
	rowSlab []int32
	refSlab []pqfile.Ref
}

// entry is one present value of a row and the field it sets, resolved
// when the chunk is decoded (on a decode worker): for a folded column the
// row's own spelling, for a foreign one the column's index. It holds no
// pointer, so the garbage collector never scans a chunk's entries, and
// materializing an event reads its entries in a row.
type entry struct {
	ref  pqfile.Ref
	id   event.FieldID // the field, or (entForeign) the index into chunk.cols
	kind entryKind
}

type entryKind uint8

const (
	entField   entryKind = iota // e.Set(id, v)
	entFold                     // e.Set(id, v), id the row's spelling of a folded column
	entSpell                    // the Spellings value
	entForeign                  // e.AddExtra(cols[id].foreign, v)
)

// strCol is one string column of a chunk: a required header column's
// value per row (rows nil), or an optional column's present rows and their
// values; and what the event needs to know of it.
type strCol struct {
	rows    []int32
	refs    []pqfile.Ref
	id      event.FieldID
	foreign string // name, for roleForeign
	fold    bool   // colSpec.fold
	spell   bool   // the Spellings column
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n, n+n/4)
	}
	return s[:n]
}
