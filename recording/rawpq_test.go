package recording

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/parquet-go/parquet-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edr-lab/edr/capture/raw"
	"github.com/edr-lab/edr/recording/internal/pqfile"
)

// TestRawSchemaLeaves: the encoder's leaf table is rawSchema's leaves in
// order, with their types and level depths.
func TestRawSchemaLeaves(t *testing.T) {
	s := parquet.SchemaOf(rawRow{})
	var leaves []leaf
	var walk func(n parquet.Node, path []string, rep, def int)
	walk = func(n parquet.Node, path []string, rep, def int) {
		if n.Repeated() {
			rep, def = rep+1, def+1
		} else if n.Optional() {
			def++
		}
		if n.Leaf() {
			leaves = append(leaves, leaf{path, *n.Type().PhysicalType(), rep, def})
			return
		}
		for _, f := range n.Fields() {
			walk(f, append(append([]string{}, path...), f.Name()), rep, def)
		}
	}
	for _, f := range s.Fields() {
		walk(f, []string{f.Name()}, 0, 0)
	}
	want := append([]leaf{{[]string{"Time"}, 0, 0, 0}}, rawLeaves...)
	require.Len(t, leaves, len(want))
	for i := range leaves {
		assert.Equal(t, want[i].path, leaves[i].path)
		if i > 0 {
			assert.Equal(t, int(want[i].typ), int(leaves[i].typ), "%v", want[i].path)
		}
		assert.Equal(t, want[i].maxRep, leaves[i].maxRep, "%v", want[i].path)
		assert.Equal(t, want[i].maxDef, leaves[i].maxDef, "%v", want[i].path)
	}
}

// TestRawEncoderMatchesGenericWriter: the same records written by the raw
// encoder and by parquet-go's GenericWriter (the writer it replaces) read
// back through parquet-go as the same rows, with the same schema: records
// without properties, without Seq, with empty and long payloads, over
// several row groups and pages.
func TestRawEncoderMatchesGenericWriter(t *testing.T) {
	defer func(g int) { rawRowGroup = g }(rawRowGroup)
	rawRowGroup = 50
	var recs []*raw.Record
	for i := 0; i < 140; i++ {
		r := extremeRecord(i)
		switch {
		case i >= 100: // the last row group: no property and no payload in any row
			r.Props = r.Props[:0]
			r.SetUserData(nil)
		case i%7 == 1:
			r.Props = r.Props[:0]
		case i%7 == 2:
			r.SetUserData(nil)
		case i%7 == 3:
			r.SetUserData(bytes.Repeat([]byte{byte(i)}, 300<<10)) // pages split by size
		case i%7 == 4:
			r.Props = r.Props[:1]
		}
		recs = append(recs, r)
	}
	seqOf := func(i int) uint64 { return uint64(i%3) * uint64(i) }
	dir := t.TempDir()

	rf, err := newRawFile(filepath.Join(dir, "new.tmp"), "dc 01/ü%", pqfile.LevelDefault)
	require.NoError(t, err)
	for i, r := range recs {
		require.NoError(t, rf.add(seqOf(i), r))
	}
	require.NoError(t, rf.finish(filepath.Join(dir, "new.parquet"), false))

	f, err := os.Create(filepath.Join(dir, "old.parquet"))
	require.NoError(t, err)
	gw := parquet.NewGenericWriter[rawRow](f, parquet.Compression(&parquet.Zstd))
	for i, r := range recs {
		_, err := gw.Write([]rawRow{toRawRow("dc 01/ü%", seqOf(i), r)})
		require.NoError(t, err)
	}
	require.NoError(t, gw.Close())
	require.NoError(t, f.Close())

	read := func(name string) ([]rawRow, *parquet.File) {
		f, err := os.Open(filepath.Join(dir, name))
		require.NoError(t, err)
		t.Cleanup(func() { f.Close() })
		st, _ := f.Stat()
		pf, err := parquet.OpenFile(f, st.Size())
		require.NoError(t, err)
		rd := parquet.NewGenericReader[rawRow](pf)
		rows := make([]rawRow, len(recs)+1)
		n, err := rd.Read(rows)
		if !errors.Is(err, io.EOF) {
			require.NoError(t, err)
		}
		return rows[:n], pf
	}
	want, oldF := read("old.parquet")
	got, newF := read("new.parquet")
	require.Len(t, got, len(recs))
	for i := range want {
		require.Equal(t, want[i], got[i], "record %d", i)
	}
	assert.Equal(t, oldF.Metadata().Schema, newF.Metadata().Schema)
	assert.Len(t, newF.RowGroups(), 3)
	// and the first row group of 50 records was written in several pages
	enc := newRawEncoder(pqfile.NewWriter(io.Discard))
	for i, r := range recs[:rawRowGroup] {
		enc.add("h", seqOf(i), r)
	}
	assert.GreaterOrEqual(t, len(enc.rg.pages()), 2)
}

// toRawRow is the row parquet-go's GenericWriter was given per record
// before rawEncoder: the reference the encoder's files are compared with.
func toRawRow(host string, seq uint64, r *raw.Record) rawRow {
	row := rawRow{Time: r.UnixNano(), Host: host, Provider: r.Provider.String(), EventID: r.EventID, Version: r.Version,
		Opcode: r.Opcode, Level: r.Level, Keywords: r.Keywords, PID: r.PID, TID: r.TID, HeaderFlags: r.HeaderFlags}
	if seq != 0 {
		row.Seq = &seq
	}
	if len(r.UserData) > 0 {
		row.UserData = append([]byte{}, r.UserData...)
	}
	row.Props = make([]rawPropRow, len(r.Props))
	for i := range r.Props {
		p := &r.Props[i]
		pr := &row.Props[i]
		pr.Name, pr.Kind = p.Name, p.Kind.String()
		switch {
		case p.Kind.Numeric():
			n := p.Num
			pr.U64 = &n
			if p.Kind.Signed() {
				v := p.Int()
				pr.I64 = &v
			}
		case p.Kind == raw.GUID || p.Kind == raw.Binary:
			pr.Bytes = append([]byte{}, p.Bytes...)
		default:
			s := p.Str
			pr.Str = &s
		}
	}
	return row
}

// TestRawFileEncoderErrorSurfaces: raw pages are written by the encoder
// goroutine; a write that fails there is returned by the next add once the
// encoder has seen it, naming the file, and finish leaves no file behind.
func TestRawFileEncoderErrorSurfaces(t *testing.T) {
	defer func(g int) { rawRowGroup = g }(rawRowGroup)
	rawRowGroup = 4
	dir := t.TempDir()
	tmp := filepath.Join(dir, "x.tmp")
	rf, err := newRawFile(tmp, "h", pqfile.LevelDefault)
	require.NoError(t, err)
	require.NoError(t, rf.f.Close()) // every page write now fails
	rng := rand.New(rand.NewSource(1))
	payload := make([]byte, 64<<10)
	for i := 0; i < 12; i++ {
		rng.Read(payload) // incompressible: pages overflow the writer's 256 KiB buffer
		r := extremeRecord(i)
		r.SetUserData(payload)
		rf.add(uint64(i+1), r)
	}
	require.Error(t, rf.q.sync(), "the encoder wrote a row group into a closed file")
	err = rf.add(11, extremeRecord(11))
	require.Error(t, err, "add reports the encoder's error")
	assert.Contains(t, err.Error(), "raw segment "+tmp)
	require.Error(t, rf.finish(filepath.Join(dir, "x.parquet"), false))
	assert.NoFileExists(t, filepath.Join(dir, "x.parquet"))
	assert.NoFileExists(t, tmp)
}

// TestRawRowGroupsCutByBytes: records with large payloads end a raw row
// group at rawRowGroupBytes, long before rawRowGroup records, and the row
// groups together hold every record, in order, payload intact.
func TestRawRowGroupsCutByBytes(t *testing.T) {
	defer func(g, b int) { rawRowGroup, rawRowGroupBytes = g, b }(rawRowGroup, rawRowGroupBytes)
	rawRowGroup, rawRowGroupBytes = 8192, 1<<20
	const n, payload = 40, 300 << 10
	dir := t.TempDir()
	rf, err := newRawFile(filepath.Join(dir, "x.tmp"), "h", pqfile.LevelDefault)
	require.NoError(t, err)
	for i := range n {
		r := extremeRecord(i)
		r.SetUserData(bytes.Repeat([]byte{byte(i)}, payload))
		require.NoError(t, rf.add(uint64(i+1), r))
		require.NoError(t, rf.q.sync()) // the encoder goroutine owns the row group
		assert.Less(t, len(rf.enc.rg.arena), rawRowGroupBytes+payload+1024, "record %d: the open row group stays near the bound", i)
	}
	require.NoError(t, rf.finish(filepath.Join(dir, "x.parquet"), false))

	f, err := os.Open(filepath.Join(dir, "x.parquet"))
	require.NoError(t, err)
	defer f.Close()
	st, err := f.Stat()
	require.NoError(t, err)
	pf, err := parquet.OpenFile(f, st.Size())
	require.NoError(t, err)
	assert.Len(t, pf.RowGroups(), 10, "4 records of 300 KiB reach 1 MiB")
	rows := make([]rawRow, n+1)
	got, err := parquet.NewGenericReader[rawRow](pf).Read(rows)
	if !errors.Is(err, io.EOF) {
		require.NoError(t, err)
	}
	require.Equal(t, n, got)
	for i, row := range rows[:n] {
		require.NotNil(t, row.Seq)
		assert.Equal(t, uint64(i+1), *row.Seq)
		assert.Equal(t, bytes.Repeat([]byte{byte(i)}, payload), row.UserData, "record %d", i)
	}
}

// add appends a record to a raw file as WriteRaw does, through its WAL
// entry (tests hold records, not entries).
func (rf *rawFile) add(seq uint64, r *raw.Record) error {
	return rf.addEntry(appendRawEntry(nil, seq, r))
}

// TestRawFlushReusesIndexScratch: a row group's property name and kind
// indexes (4 bytes each per property) were made anew at every flush, about
// a twentieth of edr live's allocations; the encoder keeps them.
func TestRawFlushReusesIndexScratch(t *testing.T) {
	const rows, props = 2048, 16
	r := raw.Get()
	defer raw.Put(r)
	for i := 0; i < props; i++ {
		r.AddNum(fmt.Sprintf("P%d", i), raw.U32, uint64(i))
	}
	enc := newRawEncoder(pqfile.NewWriter(io.Discard))
	group := func() uint64 {
		for i := 0; i < rows; i++ {
			enc.add("h", uint64(i+1), r)
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		before := ms.TotalAlloc
		require.NoError(t, enc.flushRowGroup())
		runtime.ReadMemStats(&ms)
		return ms.TotalAlloc - before
	}
	group() // the first flushes grow every buffer (and warm the shared zstd encoders)
	group()
	got := group()
	// the two index slices alone were 2 * rows * props * 4 = 256 KiB
	assert.Less(t, got, uint64(rows*props*4), "a warm flush allocated %d bytes", got)
}

// TestRawRowGroupMetadataKeptEncoded: the metadata of a raw file's finished
// row groups waits for the footer encoded (~0.6 kB a row group), not as
// format.RowGroup structs (~10 kB), which grew edr live's heap all run;
// the file still lists every row group.
func TestRawRowGroupMetadataKeptEncoded(t *testing.T) {
	const groups = 300
	r := extremeRecord(1)
	path := filepath.Join(t.TempDir(), "raw.parquet")
	out, err := os.Create(path)
	require.NoError(t, err)
	defer out.Close()
	enc := newRawEncoder(pqfile.NewWriter(out))
	heap := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	enc.add("h", 1, r)
	require.NoError(t, enc.flushRowGroup())
	before := heap()
	for i := 1; i < groups; i++ {
		enc.add("h", uint64(i+1), r)
		require.NoError(t, enc.flushRowGroup())
	}
	grown := int64(heap()) - int64(before)
	assert.Less(t, grown, int64(groups*2<<10), "heap grown by %d bytes over %d row groups", grown, groups)

	require.NoError(t, enc.close())
	pf := openParquet(t, path)
	assert.Len(t, pf.Metadata().RowGroups, groups)
	assert.Equal(t, int64(groups), pf.NumRows())
}
