package recording

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edr-lab/edr/event"
	"github.com/parquet-go/parquet-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// openParquet opens a segment file with parquet-go (closed at the end of
// the test).
func openParquet(t *testing.T, path string) *parquet.File {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	st, err := f.Stat()
	require.NoError(t, err)
	pf, err := parquet.OpenFile(f, st.Size())
	require.NoError(t, err)
	return pf
}

// topColumns lists a segment file's top-level column names.
func topColumns(t *testing.T, path string) []string {
	t.Helper()
	pf := openParquet(t, path)
	var out []string
	for _, fl := range pf.Schema().Fields() {
		out = append(out, fl.Name())
	}
	return out
}

// TestColumnNamesUniqueIgnoringCase: no two columns of a segment differ
// only in case (DuckDB renames the later ones, Spark refuses the file), and
// every schema field has the column of its case-insensitive group.
func TestColumnNamesUniqueIgnoringCase(t *testing.T) {
	dir := t.TempDir()
	writeAll(t, dir, WriterOptions{}, synthEvents(1, 1, 10, t0))
	paths, err := listSegments(dir)
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	cols := topColumns(t, paths[0])
	seen := map[string]string{}
	for _, c := range cols {
		k := strings.ToLower(c)
		if o, dup := seen[k]; dup {
			t.Errorf("columns %s and %s differ only in case", o, c)
		}
		seen[k] = c
	}
	clashes := 0
	for _, f := range event.Fields() {
		if f.Virtual {
			continue
		}
		c, ok := seen[strings.ToLower(f.Name)]
		if assert.True(t, ok, "no column for %s", f.Name) {
			assert.Equal(t, f.Fold.Name(), c, "column of %s", f.Name)
		}
		if c != f.Name {
			clashes++
		}
	}
	// ProcessID, processid, LogonID, SourceProcessGUID, TargetProcessGUID,
	// CONSUMER, Id, CategoryID share a column with another spelling.
	assert.Equal(t, 8, clashes)
}

// spellingEvents are one event for each spelling the schema declares, one
// with a spelling its definition does not use, events the schema does not
// define, and one holding three spellings of one name at once.
func spellingEvents() []*event.Event {
	mk := func(i int, channel string, id uint16, kv ...string) *event.Event {
		e := &event.Event{Time: t0 + int64(i)*1e6, Host: "h", Channel: channel, EventID: id, RecordID: uint64(i)}
		for j := 0; j < len(kv); j += 2 {
			e.Set(event.MustField(kv[j]), kv[j+1])
		}
		return e
	}
	sys, sec, wmi := event.ChannelSysmon, event.ChannelSecurity, event.ChannelWMIActivity
	evs := []*event.Event{
		mk(0, sys, 1, "ProcessId", "1", "LogonId", "0x3e7", "Image", "a.exe"),
		mk(1, sec, 5156, "ProcessID", "2", "Application", "b.exe"),
		mk(2, wmi, 5859, "processid", "3"),
		mk(3, sys, 10, "SourceProcessGUID", "{g1}", "TargetProcessGUID", "{g2}"),
		mk(4, sys, 8, "SourceProcessGuid", "{g3}", "TargetProcessGuid", "{g4}"),
		mk(5, sec, 4825, "LogonID", "0x5"),
		mk(6, sys, 21, "Consumer", "c1"),
		mk(7, wmi, 5861, "CONSUMER", "c2"),
		mk(8, sys, 255, "ID", "x"),
		mk(9, wmi, 5858, "Id", "y"),
		mk(10, sec, 4719, "CategoryId", "%%1"),
		mk(11, event.ChannelDefender, 1116, "CategoryID", "34"),
		// Sysmon 10 spelled as Sysmon 8 does (an older Sysmon).
		mk(12, sys, 10, "SourceProcessGuid", "{g5}"),
		// events the schema does not define
		mk(13, sec, 4778, "LogonID", "0x6"),
		mk(14, "Microsoft-Windows-Bits-Client/Operational", 59, "Id", "{j}"),
		mk(15, "X", 1, "ProcessId", "4"),
		mk(16, "X", 1, "processid", "5", "ProcessID", "6", "ProcessId", "7", "CONSUMER", "8"),
	}
	evs[16].AddExtra("k", "v")
	evs[16].AddExtra("ProcessID", "an extra entry named like a field")
	return evs
}

// TestFoldedSpellingsRoundTrip: every spelling comes back under its own
// name, in full reads and in projections.
func TestFoldedSpellingsRoundTrip(t *testing.T) {
	dir := t.TempDir()
	want := writeAll(t, dir, WriterOptions{}, spellingEvents())
	got, _ := readAll(t, dir, ReaderOptions{})
	requireSame(t, want, got)

	paths, err := listSegments(dir)
	require.NoError(t, err)
	require.Len(t, paths, 1)
	cols := topColumns(t, paths[0])
	assert.Contains(t, cols, "ProcessId")
	assert.Contains(t, cols, spellingsColumn)
	assert.NotContains(t, cols, "ProcessID")
	assert.NotContains(t, cols, "processid")

	for _, name := range []string{"ProcessID", "processid", "ProcessId", "SourceProcessGuid", "Id", "CONSUMER"} {
		id := event.MustField(name)
		proj, _ := readAll(t, dir, ReaderOptions{Fields: []event.FieldID{id}})
		require.Len(t, proj, len(want), name)
		for i := range want {
			v, ok := want[i].Get(id)
			gv, gok := proj[i].Get(id)
			assert.Equal(t, ok, gok, "%s in event %d", name, i)
			assert.Equal(t, v, gv, "%s in event %d", name, i)
			assert.Empty(t, proj[i].Extra(), "a projection has no Extra")
			if ok {
				assert.Equal(t, 1, proj[i].Len(), "only the wanted spelling in event %d", i)
			} else {
				assert.Zero(t, proj[i].Len(), "event %d", i)
			}
		}
	}
}

// TestSchema1SegmentDecodesByColumnName reads a segment written by the
// schema-1 build (before case-insensitive groups shared a column;
// testdata/schema1-casefold.json imported with `edr import --format json`
// at commit 638d023): every value comes back under exactly the name of its
// column.
func TestSchema1SegmentDecodesByColumnName(t *testing.T) {
	dir := filepath.Join("testdata", "schema1-casefold")
	paths, err := listSegments(dir)
	require.NoError(t, err)
	require.Len(t, paths, 1)
	cols := topColumns(t, paths[0])
	for _, c := range []string{"ProcessId", "ProcessID", "processid", "LogonId", "LogonID", "Consumer", "CONSUMER"} {
		require.Contains(t, cols, c, "the old layout has a column per spelling")
	}
	meta, err := ReadSegmentMeta(paths[0])
	require.NoError(t, err)
	require.Equal(t, 1, meta.SchemaVersion)

	// The values of every schema column, row by row, read by parquet-go.
	pf := openParquet(t, paths[0])
	leaves := pf.Schema().Columns()
	var rows []map[string]string
	for _, rg := range pf.RowGroups() {
		rr := rg.Rows()
		buf := make([]parquet.Row, 64)
		for {
			n, err := rr.ReadRows(buf)
			for _, row := range buf[:n] {
				m := map[string]string{}
				for _, v := range row {
					path := leaves[v.Column()]
					if len(path) != 1 || v.IsNull() {
						continue
					}
					if id, ok := event.FieldByName(path[0]); ok && !id.Virtual() {
						m[path[0]] = v.String()
					}
				}
				rows = append(rows, m)
			}
			if err != nil {
				break
			}
		}
		rr.Close()
	}

	got, _ := readAll(t, dir, ReaderOptions{})
	require.Len(t, got, len(rows))
	spellings := map[string]bool{}
	for i, e := range got {
		assert.Equal(t, len(rows[i]), e.Len(), "fields of event %d", i)
		for name, v := range rows[i] {
			gv, ok := e.Get(event.MustField(name))
			assert.True(t, ok, "event %d lacks %s", i, name)
			assert.Equal(t, v, gv, "event %d %s", i, name)
			if event.MustField(name).Folded() {
				spellings[name] = true
			}
		}
	}
	assert.Len(t, spellings, 15, "the file has every spelling of the seven groups: %v", spellings)
}
