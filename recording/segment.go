package recording

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"

	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/internal/fsutil"
	"github.com/edr-lab/edr/recording/internal/pqfile"
	"github.com/parquet-go/parquet-go"
)

// ErrCorrupt wraps every error caused by the content of a segment file
// (as opposed to I/O errors such as a missing file).
var ErrCorrupt = pqfile.ErrCorrupt

// SegmentError names the segment a read error comes from.
type SegmentError struct {
	Path string
	Err  error
}

func (e *SegmentError) Error() string { return fmt.Sprintf("segment %s: %v", e.Path, e.Err) }
func (e *SegmentError) Unwrap() error { return e.Err }

// segFile is an open segment.
type segFile struct {
	path   string
	f      *os.File
	pf     *parquet.File
	src    io.ReaderAt // what pf reads: the file, or its bytes in memory (pqfile.Mem)
	size   int64
	meta   *SegmentMeta
	layout *fileLayout
}

// openMode says how much of a segment openSegFile verifies and loads.
type openMode uint8

const (
	// footerOnly verifies the footer checksum and reads only the footer
	// (Inspect, OpenReader's selection).
	footerOnly openMode = iota
	// fullData also verifies the data checksum before any page is decoded.
	fullData
	// unverified skips both checksums (verifySegment, to find the page
	// a data checksum mismatch damaged).
	unverified
)

// inMemoryMax: segments up to this size are verified and decoded from
// memory; larger ones are verified in a streaming pass and decoded from the
// file, so a reader with many hosts open at once holds no whole segments
// (measured: the same CPU per event either way).
var inMemoryMax int64 = 8 << 20

// openSegFile opens a segment and reads its footer. It never panics; every
// error names the segment, and errors caused by the file's content wrap
// ErrCorrupt.
func openSegFile(path string, mode openMode) (s *segFile, err error) {
	f, err := fsutil.Open(path)
	if se := (*fsutil.SpecialError)(nil); errors.As(err, &se) {
		// In place of a segment: its data is missing, so it counts as a
		// corrupt segment (skipped, or fatal in strict mode).
		return nil, &SegmentError{path, fmt.Errorf("%w: %s, %w: not opened", ErrCorrupt, fsutil.Kind(se.Mode), fsutil.ErrSpecial)}
	}
	if err != nil {
		return nil, &SegmentError{path, err}
	}
	defer func() {
		if err != nil {
			f.Close()
			err = &SegmentError{path, err}
		}
	}()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	s = &segFile{path: path, f: f, size: st.Size()}
	if s.size == 0 {
		return nil, fmt.Errorf("%w: empty file", ErrCorrupt)
	}
	var src io.ReaderAt = f
	if mode != unverified {
		footer, err := pqfile.ReadFooter(f, s.size)
		if err != nil {
			return nil, err
		}
		if err := pqfile.VerifyFooter(footer); err != nil {
			return nil, err
		}
		if mode == fullData {
			if src, err = pqfile.VerifyData(f, s.size, footer, inMemoryMax); err != nil {
				return nil, err
			}
		}
	}
	if err := s.open(src); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *segFile) open(src io.ReaderAt) (err error) {
	defer pqfile.Guard(&err)
	s.src = src
	pf, err := parquet.OpenFile(src, s.size, parquet.SkipPageIndex(true), parquet.SkipBloomFilters(true))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	s.pf = pf
	doc, ok := pf.Lookup(MetaSegment)
	if !ok {
		return fmt.Errorf("%w: no %s metadata (not an edr segment)", ErrCorrupt, MetaSegment)
	}
	if s.meta, err = parseMeta(doc); err != nil {
		return fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if v, ok := pf.Lookup(MetaSchemaVersion); ok {
		if n, err := strconv.Atoi(v); err != nil || n != s.meta.SchemaVersion {
			return fmt.Errorf("%w: %s %q disagrees with the segment metadata", ErrCorrupt, MetaSchemaVersion, v)
		}
	}
	if s.layout, err = layoutOf(pf.Schema(), s.meta.SchemaVersion >= foldedLayout); err != nil {
		return fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	var rows int64
	for _, rg := range pf.RowGroups() {
		rows += rg.NumRows()
	}
	if rows != s.meta.Events {
		return fmt.Errorf("%w: %d rows but metadata says %d events", ErrCorrupt, rows, s.meta.Events)
	}
	return nil
}

func (s *segFile) close() {
	if s.f != nil {
		s.f.Close()
		s.f = nil
	}
}

// ReadSegmentMeta reads a segment's metadata (footer only, checksum
// verified): time span, counts, sources, the segment-start state snapshot.
func ReadSegmentMeta(path string) (*SegmentMeta, error) { return readSegmentMeta(path) }

// readSegmentMeta reads only a segment's metadata.
func readSegmentMeta(path string) (*SegmentMeta, error) {
	s, err := openSegFile(path, footerOnly)
	if err != nil {
		return nil, err
	}
	defer s.close()
	return s.meta, nil
}

// timeRange returns a row group's min and max Time from its statistics.
func (s *segFile) timeRange(rg int) (lo, hi int64, ok bool) {
	md := s.pf.Metadata()
	if rg >= len(md.RowGroups) {
		return 0, 0, false
	}
	cols := md.RowGroups[rg].Columns
	leaf := s.layout.header[roleTime]
	if leaf >= len(cols) {
		return 0, 0, false
	}
	st := cols[leaf].MetaData.Statistics
	mn, mx := st.MinValue, st.MaxValue
	if len(mn) != 8 || len(mx) != 8 {
		return 0, 0, false
	}
	return int64(binary.LittleEndian.Uint64(mn)), int64(binary.LittleEndian.Uint64(mx)), true
}

// allNull reports whether a column chunk holds only nulls, from metadata.
func (s *segFile) allNull(rg, leaf int) bool {
	md := s.pf.Metadata()
	cols := md.RowGroups[rg].Columns
	if leaf >= len(cols) {
		return false
	}
	cm := cols[leaf].MetaData
	return cm.Statistics.NullCount > 0 && cm.Statistics.NullCount == cm.NumValues
}

// rgDecoder decodes one row group chunk by chunk.
type rgDecoder struct {
	seg    *segFile
	rg     int
	rows   int
	done   int
	header [numHeaderRoles]*pqfile.Column
	strs   []*pqfile.Column
	specs  []colSpec // of strs
	exKey  *pqfile.Column
	exVal  *pqfile.Column
	want   []bool // the projection, nil for none
}

// wanted reports whether a projection needs a column: a folded column
// when any spelling of its name is wanted.
func wanted(spec colSpec, want []bool) bool {
	if spec.role != roleField {
		return false
	}
	if !spec.fold {
		return want[spec.id]
	}
	for _, id := range foldMembers[spec.id] {
		if want[id] {
			return true
		}
	}
	return false
}

// newRGDecoder prepares the readers of the needed columns; want[id] says
// which schema fields to decode (nil: all, foreign and Extra included).
func newRGDecoder(s *segFile, rg int, want []bool) (d *rgDecoder, err error) {
	defer pqfile.Guard(&err)
	g := s.pf.RowGroups()[rg]
	d = &rgDecoder{seg: s, rg: rg, rows: int(g.NumRows()), want: want}
	defer func() {
		if err != nil {
			d.close()
		}
	}()
	for role, leaf := range s.layout.header {
		if leaf >= 0 {
			d.header[role] = s.column(g, leaf, 0)
		}
	}
	wantFold := false
	for _, spec := range s.layout.strs {
		if want != nil && !wanted(spec, want) {
			continue
		}
		if s.allNull(rg, spec.leaf) {
			continue
		}
		wantFold = wantFold || spec.fold
		if err := d.addStrings(g, spec); err != nil {
			return nil, err
		}
	}
	// A projection has no Extra, except that Spellings' "+Name" values
	// live there.
	spellExtra := false
	if want != nil && wantFold {
		for _, spec := range s.layout.strs {
			if spec.role == roleSpellings && !s.allNull(rg, spec.leaf) {
				if err := d.addStrings(g, spec); err != nil {
					return nil, err
				}
				spellExtra = true
			}
		}
	}
	if (want == nil || spellExtra) && s.layout.extraKey >= 0 && !s.allNullExtra(rg) {
		d.exKey = s.column(g, s.layout.extraKey, s.layout.extraDef)
		d.exVal = s.column(g, s.layout.extraVal, s.layout.extraDef)
	}
	return d, nil
}

// column starts the page decoder of a leaf column of row group g.
func (s *segFile) column(g parquet.RowGroup, leaf int, maxDef byte) *pqfile.Column {
	return pqfile.NewColumn(g.ColumnChunks()[leaf].Pages(), s.layout.names[leaf], maxDef)
}

// ownPages: flat string columns are read by pqfile's own page reader
// where it can (tests turn it off to compare with parquet-go's reading).
var ownPages = true

// addStrings starts the decoder of a flat string column: the read path's
// own page reader where it can read the chunk (pqfile.RawChunk), which
// costs less than parquet-go's on the sparse columns most fields are,
// else parquet-go's.
func (d *rgDecoder) addStrings(g parquet.RowGroup, spec colSpec) error {
	s := d.seg
	var c *pqfile.Column
	if cols := s.pf.Metadata().RowGroups[d.rg].Columns; ownPages && spec.leaf < len(cols) && pqfile.RawChunk(&cols[spec.leaf].MetaData, int(spec.maxDef), 0) {
		md := &cols[spec.leaf].MetaData
		chunk, err := pqfile.ChunkBytes(s.src, s.size, md)
		if err != nil {
			return fmt.Errorf("column %s: %w", spec.name, err)
		}
		c = pqfile.NewRawColumn(chunk, md.Codec, spec.name, spec.maxDef)
	} else {
		c = s.column(g, spec.leaf, spec.maxDef)
	}
	d.strs = append(d.strs, c)
	d.specs = append(d.specs, spec)
	return nil
}

// allNullExtra: every row has an empty Extra list, so no value is defined.
func (s *segFile) allNullExtra(rg int) bool {
	cm := s.pf.Metadata().RowGroups[rg].Columns[s.layout.extraKey].MetaData
	return cm.Statistics.NullCount == cm.NumValues && cm.NumValues > 0
}

func (d *rgDecoder) close() {
	for _, c := range d.header {
		if c != nil {
			c.Close()
		}
	}
	for _, c := range d.strs {
		c.Close()
	}
	if d.exKey != nil {
		d.exKey.Close()
		d.exVal.Close()
	}
}

// remaining is the number of rows not yet decoded.
func (d *rgDecoder) remaining() int { return d.rows - d.done }

// decode fills ch with the next rows (at most chunkRows).
func (d *rgDecoder) decode(ch *chunk) (err error) {
	defer pqfile.Guard(&err)
	n := min(chunkRows, d.rows-d.done)
	ch.n = n
	ch.vals.Reset()
	h := &d.header
	ch.time = grow(ch.time, n)
	ch.seq = grow(ch.seq, n)
	if err := h[roleTime].Int64s(ch.time, n); err != nil {
		return err
	}
	if err := h[roleSeq].Int64s(ch.seq, n); err != nil {
		return err
	}
	ch.recID = grow(ch.recID, n)
	if err := optInt64(h[roleRecordID], ch.recID, n); err != nil {
		return err
	}
	ch.eventID = grow(ch.eventID, n)
	if err := optInt32(h[roleEventID], ch.eventID, n); err != nil {
		return err
	}
	ch.flags = grow(ch.flags, n)
	if err := optInt32(h[roleFlags], ch.flags, n); err != nil {
		return err
	}
	for _, x := range []struct {
		role colRole
		dst  *strCol
	}{{roleHost, &ch.host}, {roleChannel, &ch.channel}, {roleProvider, &ch.provider}, {roleSource, &ch.source}} {
		if err := optStrings(h[x.role], x.dst, n, &ch.vals); err != nil {
			return err
		}
	}
	if cap(ch.cols) < len(d.strs) {
		ch.cols = make([]strCol, 0, len(d.strs))
	}
	ch.cols = ch.cols[:len(d.strs)]
	k := 0
	ch.rowSlab, ch.refSlab = ch.rowSlab[:0], ch.refSlab[:0]
	for i, c := range d.strs {
		spec := &d.specs[i]
		out := &ch.cols[k]
		out.id, out.foreign, out.fold, out.spell = spec.id, "", spec.fold, spec.role == roleSpellings
		if spec.role == roleForeign {
			out.foreign = spec.name
		}
		a := len(ch.rowSlab)
		var err error
		if ch.rowSlab, ch.refSlab, err = c.Sparse(n, ch.rowSlab, ch.refSlab, &ch.vals); err != nil {
			return err
		}
		if b := len(ch.rowSlab); b > a {
			out.rows, out.refs = ch.rowSlab[a:b:b], ch.refSlab[a:b:b]
			k++
		}
	}
	ch.cols = ch.cols[:k]
	ch.want = d.want
	if ch.defs == nil {
		ch.defs = make(map[uint64]*event.Def)
	} else {
		clear(ch.defs) // the arenas differ chunk to chunk
	}
	ch.transpose()
	ch.parseSources()
	ch.extraOff, ch.extra = ch.extraOff[:0], ch.extra[:0]
	if d.exKey != nil {
		ch.extraOff, ch.extra, err = pqfile.Extras(d.exKey, d.exVal, n, ch.extraOff, ch.extra, newKV)
		if err != nil {
			return err
		}
	}
	d.done += n
	return nil
}

func newKV(k, v string) event.KV { return event.KV{Key: k, Value: v} }

func optInt64(c *pqfile.Column, dst []int64, n int) error {
	if c == nil {
		clear(dst[:n])
		return nil
	}
	return c.Int64s(dst, n)
}

func optInt32(c *pqfile.Column, dst []int32, n int) error {
	if c == nil {
		clear(dst[:n])
		return nil
	}
	return c.Int32s(dst, n)
}

func optStrings(c *pqfile.Column, dst *strCol, n int, vals *pqfile.Values) error {
	dst.refs = dst.refs[:0] // column missing: empty values
	if c == nil {
		return nil
	}
	var err error
	dst.refs, err = c.Strings(n, dst.refs, vals)
	return err
}

// transpose prepares the per-row entry lists from the sparse columns (a
// counting sort by row): it counts each row's entries and sets up each
// column's fill; fillRows then fills the entries of a block of rows when
// an event first needs them. A folded column's value is resolved to the
// row's spelling there rather than per event.
//
// The entries of a full chunk (~16 bytes × fields × 8192 rows) outgrow
// the CPU caches, and each column scatters its values over all of them.
// Filled for the whole chunk on the decode worker, they were written to
// memory and read back from it when the events were materialized (the
// stores were most of transpose's time); filled a block of transposeBlock
// rows at a time just before its events, they stay in one cache-sized
// buffer per chunk, written and read while still cached.
func (ch *chunk) transpose() {
	off := grow(ch.rowOff, ch.n+1)
	clear(off)
	for i := range ch.cols {
		for _, r := range ch.cols[i].rows {
			off[r+1]++
		}
	}
	for r := 0; r < ch.n; r++ {
		off[r+1] += off[r]
	}
	ch.rowOff = off
	fills := grow(ch.fills, len(ch.cols))
	for i := range ch.cols {
		c := &ch.cols[i]
		f := entry{id: c.id}
		switch {
		case c.foreign != "":
			f.kind, f.id = entForeign, event.FieldID(i)
		case c.fold:
			f.kind = entFold
		case c.spell:
			f.kind = entSpell
		}
		fills[i] = f
	}
	ch.fills = fills
	ch.blkStart, ch.blkEnd = 0, 0
}

// rowEntries is row r's entries, filling its block's first.
//
// Events are mostly materialized in row order, a block after the other;
// a chunk whose rows are read out of order (a segment not sorted by time)
// has all its entries filled at its first step back, so that no block is
// filled more than twice.
func (ch *chunk) rowEntries(r int) []entry {
	if r < ch.blkStart || r >= ch.blkEnd {
		start := r - r%transposeBlock
		end := min(start+transposeBlock, ch.n)
		if r < ch.blkStart {
			start, end = 0, ch.n
		}
		ch.fillRows(start, end)
	}
	base := ch.rowOff[ch.blkStart]
	return ch.entries[ch.rowOff[r]-base : ch.rowOff[r+1]-base]
}

// fillRows fills the entries of rows [start, end).
func (ch *chunk) fillRows(start, end int) {
	off := ch.rowOff
	base := off[start]
	ch.entries = grow(ch.entries, int(off[end]-base))
	// cur[r-start] is where row r's next entry goes
	cur := grow(ch.fillAt, end-start)
	for i := range cur {
		cur[i] = off[start+i] - base
	}
	entries := ch.entries
	for i := range ch.cols {
		// The fill's state lives in locals through the loop, and only
		// folded columns test the row's type.
		c, en := &ch.cols[i], ch.fills[i]
		rows, refs := c.rows, c.refs[:len(c.rows)]
		j, _ := slices.BinarySearch(rows, int32(start))
		if en.kind == entFold {
			var def *event.Def
			first := true
			for ; j < len(rows) && int(rows[j]) < end; j++ {
				r := rows[j]
				if d := ch.defOf(int(r)); d != def || first {
					first = false
					def, en.id = d, d.Spelling(c.id)
				}
				en.ref = refs[j]
				k := &cur[int(r)-start]
				entries[*k] = en
				*k++
			}
		} else {
			for ; j < len(rows) && int(rows[j]) < end; j++ {
				r := rows[j]
				en.ref = refs[j]
				k := &cur[int(r)-start]
				entries[*k] = en
				*k++
			}
		}
	}
	ch.fillAt = cur
	ch.blkStart, ch.blkEnd = start, end
}

// transposeBlock is fillRows' block of rows: its entries (~16 bytes ×
// the fields of a row) stay well inside a core's L2 cache.
const transposeBlock = 1024

// defOf is the event definition of row r (what rowDef gives for the
// event materialized from it), cached by the channel value's place and the
// event ID: folded columns need it for most rows, and rows of many event
// types interleave.
func (ch *chunk) defOf(r int) *event.Def {
	eid := uint16(ch.eventID[r])
	if len(ch.channel.refs) == 0 {
		return event.Lookup("", eid)
	}
	ref := ch.channel.refs[r]
	if ref.Arena > 0xffff {
		return event.Lookup(ch.vals.String(ref), eid)
	}
	// A value's arena and offset name it within the chunk.
	key := uint64(ref.Arena)<<48 | uint64(ref.Off)<<16 | uint64(eid)
	d, ok := ch.defs[key]
	if !ok {
		d = event.Lookup(ch.vals.String(ref), eid)
		ch.defs[key] = d
	}
	return d
}

// parseSources parses the Source column once per distinct value place.
func (ch *chunk) parseSources() {
	ch.sources = ch.sources[:0]
	var last pqfile.Ref
	var src event.Source
	for i, ref := range ch.source.refs {
		if i == 0 || ref != last {
			src, _ = event.ParseSource(ch.vals.String(ref))
			last = ref
		}
		ch.sources = append(ch.sources, src)
	}
}

// event materializes row r of the chunk into e.
func (ch *chunk) event(r int, e *event.Event, host string) {
	e.Reset()
	e.Time = ch.time[r]
	e.Seq = uint64(ch.seq[r])
	e.RecordID = uint64(ch.recID[r])
	e.EventID = uint16(ch.eventID[r])
	e.Flags = event.Flags(ch.flags[r])
	if len(ch.host.refs) > 0 {
		e.Host = ch.vals.String(ch.host.refs[r])
	} else {
		e.Host = host
	}
	if len(ch.channel.refs) > 0 {
		e.Channel = ch.vals.String(ch.channel.refs[r])
	}
	if len(ch.provider.refs) > 0 {
		e.Provider = ch.vals.String(ch.provider.refs[r])
	}
	if len(ch.sources) > 0 {
		e.Source = ch.sources[r]
	}
	spell, folds := "", false
	// last is the highest field set so far: the columns come in FieldID
	// order, so a row's fields mostly do, and each above it is appended
	// (event.Append) without Set's search for its place (~0.25× the cost).
	var last event.FieldID
	ents := ch.rowEntries(r)
	for i := range ents {
		en := &ents[i]
		v := ch.vals.String(en.ref)
		switch en.kind {
		case entField, entFold:
			if en.id > last && !en.id.Virtual() {
				e.Append(en.id, v)
				last = en.id
			} else {
				e.Set(en.id, v)
			}
			folds = folds || en.kind == entFold
		case entSpell:
			spell = v
		default:
			e.AddExtra(ch.cols[en.id].foreign, v)
		}
	}
	var kvs []event.KV
	if len(ch.extraOff) > 0 {
		kvs = ch.extra[ch.extraOff[r]:ch.extraOff[r+1]]
	}
	if spell != "" {
		kvs = respell(e, ch.rowDef(e), spell, kvs)
	}
	if ch.want != nil {
		// A projection has no Extra, and of the names that folded columns
		// and Spellings' "+Name" values spell, only the wanted ones.
		if folds || spell != "" {
			ch.drop = ch.drop[:0]
			e.Range(func(id event.FieldID, _ string) bool {
				if !ch.want[id] {
					ch.drop = append(ch.drop, id)
				}
				return true
			})
			for _, id := range ch.drop {
				e.Del(id)
			}
		}
		return
	}
	for _, kv := range kvs {
		e.AddExtra(kv.Key, kv.Value)
	}
}

// rowDef is the event definition of e, cached for runs of one event type.
func (ch *chunk) rowDef(e *event.Event) *event.Def {
	if !ch.defOK || ch.defEventID != e.EventID || ch.defChannel != e.Channel {
		ch.defChannel, ch.defEventID = e.Channel, e.EventID
		ch.def, ch.defOK = event.Lookup(e.Channel, e.EventID), true
	}
	return ch.def
}
