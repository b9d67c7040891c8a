package recording

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/parquet-go/parquet-go"

	"github.com/edr-lab/edr/capture/raw"
	"github.com/edr-lab/edr/internal/fsutil"
	"github.com/edr-lab/edr/recording/internal/pqfile"
	"github.com/edr-lab/edr/recording/wal"
)

// RawDir is the raw layer's directory inside a recording: raw ETW records
// as delivered, in raw/host=…/date=…/<first-time>-<seq>.parquet, so a
// later decoder can re-normalize them (see doc.go).
const RawDir = "raw"

// rawSegmentMax bounds the records of one raw segment (and so what recovery
// of one raw WAL rewrites); rawRowGroup is its row group size, which bounds
// the rows held in memory per open raw segment, and rawRowGroupBytes ends a
// row group early once its payloads and string values reach it, so that
// large records (PowerShell script blocks, up to 64 KiB each) do not make
// an open raw segment hold 4096 of them: typical records (~150 bytes of
// values) never reach it, so it changes no typical file. 4096 rather than
// 8192 rows: edr live holds a raw segment per host open beside its event
// segment, and the raw encoders held ~13 MB of its live heap (4 hosts);
// half the rows made the raw files of its 1M-event benchmark ~4 % larger
// (35.7 to 37.3 MB; raw files are read by renormalize only, not replay).
// (Variables so that tests can make them small.)
var (
	rawSegmentMax    = 1 << 20
	rawRowGroup      = 4096
	rawRowGroupBytes = 4 << 20
)

// rawRow is one raw record as stored. Numeric property values are kept in
// U64 exactly as delivered (two's complement for signed kinds), and signed
// ones sign-extended in I64 too, so SQL sees the number and a reader gets
// the bits back. An empty UserData is stored as NULL (Parquet readers do
// not tell the two apart): no payload either way.
type rawRow struct {
	Time        int64        `parquet:"Time,timestamp(nanosecond)"`
	Host        string       `parquet:"Host"`
	Seq         *uint64      `parquet:"Seq,optional"`
	Provider    string       `parquet:"Provider"`
	EventID     uint16       `parquet:"EventID"`
	Version     uint8        `parquet:"Version"`
	Opcode      uint8        `parquet:"Opcode"`
	Level       uint8        `parquet:"Level"`
	Keywords    uint64       `parquet:"Keywords"`
	PID         uint32       `parquet:"PID"`
	TID         uint32       `parquet:"TID"`
	HeaderFlags uint16       `parquet:"HeaderFlags"`
	UserData    []byte       `parquet:"UserData,optional"`
	Props       []rawPropRow `parquet:"Props,list"`
}

type rawPropRow struct {
	Name  string  `parquet:"Name"`
	Kind  string  `parquet:"Kind"`
	U64   *uint64 `parquet:"U64,optional"`
	I64   *int64  `parquet:"I64,optional"`
	Str   *string `parquet:"Str,optional"`
	Bytes []byte  `parquet:"Bytes,optional"`
}

// RawRecord is one record of the raw layer: the host it was captured on,
// the Seq of the normalized event it produced (0: none) and the record.
type RawRecord struct {
	Host   string
	Seq    uint64
	Record *raw.Record
}

var kindByName = func() map[string]raw.Kind {
	m := map[string]raw.Kind{}
	for k := raw.U8; k <= raw.IP; k++ {
		m[k.String()] = k
	}
	return m
}()

// fromRawRow checks a stored row and turns it into a record; errors name
// the property at fault.
func fromRawRow(row *rawRow, r *raw.Record) error {
	r.Reset()
	id, err := raw.ParseGUID(row.Provider)
	if err != nil {
		return fmt.Errorf("provider %q: %w", row.Provider, err)
	}
	r.Provider, r.EventID, r.Version, r.Opcode, r.Level = id, row.EventID, row.Version, row.Opcode, row.Level
	r.Keywords, r.PID, r.TID, r.HeaderFlags = row.Keywords, row.PID, row.TID, row.HeaderFlags
	if row.Time%100 != 0 {
		return fmt.Errorf("time %d is not a whole FILETIME tick", row.Time)
	}
	r.Timestamp = row.Time/100 + 116444736000000000
	if len(row.UserData) > 0 {
		r.SetUserData(row.UserData)
	}
	for i := range row.Props {
		p := &row.Props[i]
		k, ok := kindByName[p.Kind]
		if !ok {
			return fmt.Errorf("property %d (%q): unknown kind %q", i, p.Name, p.Kind)
		}
		switch {
		case k.Numeric():
			if p.U64 == nil {
				return fmt.Errorf("property %d (%q): %s without U64", i, p.Name, p.Kind)
			}
			r.AddNum(p.Name, k, *p.U64)
		case k == raw.GUID || k == raw.Binary:
			r.AddBytes(p.Name, k, p.Bytes)
		default:
			if p.Str == nil {
				return fmt.Errorf("property %d (%q): %s without Str", i, p.Name, p.Kind)
			}
			r.AddString(p.Name, k, *p.Str)
		}
	}
	return nil
}

// appendRawEntry is the WAL encoding of a raw record (entry kind walRaw):
// seq, the header fields, UserData and the property bag, varint-framed.
func appendRawEntry(b []byte, seq uint64, r *raw.Record) []byte {
	return appendRawRecord(binary.AppendUvarint(b, seq), r)
}

// AppendRaw appends r in the raw layer's own encoding (its WAL entry
// without the Seq): WriteRawEncoded takes it. A record source that holds
// records until their Seq is known (capture/rawsource) keeps them so,
// about a fifth of the memory of a pooled raw.Record, and frees the record
// at once. The encoding depends only on r.
func (w *Writer) AppendRaw(dst []byte, r *raw.Record) []byte { return appendRawRecord(dst, r) }

// appendRawRecord is appendRawEntry after the seq.
func appendRawRecord(b []byte, r *raw.Record) []byte {
	b = append(b, r.Provider[:]...)
	b = binary.AppendUvarint(b, uint64(r.EventID))
	b = append(b, r.Version, r.Opcode, r.Level)
	b = binary.AppendUvarint(b, r.Keywords)
	b = binary.AppendUvarint(b, uint64(r.PID))
	b = binary.AppendUvarint(b, uint64(r.TID))
	b = binary.AppendVarint(b, r.Timestamp)
	b = binary.AppendUvarint(b, uint64(r.HeaderFlags))
	if len(r.UserData) == 0 { // an empty payload is none, as in the Parquet file
		b = append(b, 0)
	} else {
		b = append(b, 1)
		b = appendString(b, string(r.UserData))
	}
	b = binary.AppendUvarint(b, uint64(len(r.Props)))
	for i := range r.Props {
		p := &r.Props[i]
		b = appendString(b, p.Name)
		b = append(b, byte(p.Kind))
		switch {
		case p.Kind.Numeric():
			b = binary.AppendUvarint(b, p.Num)
		case p.Kind == raw.GUID || p.Kind == raw.Binary:
			b = appendString(b, string(p.Bytes))
		default:
			b = appendString(b, p.Str)
		}
	}
	return b
}

var errRawEntry = errors.New("malformed raw record entry")

// decodeRawEntry is the inverse of appendRawEntry. The record's strings
// alias body: a caller that keeps them past body's reuse copies them (the
// raw encoder copies what it keeps).
func decodeRawEntry(body []byte, r *raw.Record) (seq uint64, err error) {
	r.Reset()
	rd := rawReader{b: body, ok: true}
	seq = rd.uvarint()
	if len(rd.b) < 16 {
		return 0, errRawEntry
	}
	copy(r.Provider[:], rd.b[:16])
	rd.b = rd.b[16:]
	ev := rd.uvarint()
	r.Version, r.Opcode, r.Level = rd.byte(), rd.byte(), rd.byte()
	r.Keywords = rd.uvarint()
	pid, tid := rd.uvarint(), rd.uvarint()
	r.Timestamp = rd.varint()
	hf := rd.uvarint()
	if ev > 0xffff || pid > 0xffffffff || tid > 0xffffffff || hf > 0xffff {
		return 0, errRawEntry
	}
	if !raw.FileTimeInRange(r.Timestamp) {
		return 0, errRawEntry // the capture drops such records (rawsource's BadTime): never written
	}
	r.EventID, r.PID, r.TID, r.HeaderFlags = uint16(ev), uint32(pid), uint32(tid), uint16(hf)
	switch rd.byte() {
	case 0:
	case 1:
		ud := rd.str()
		if ud == "" {
			return 0, errRawEntry // written as flag 0
		}
		r.SetUserData([]byte(ud))
	default:
		return 0, errRawEntry
	}
	n := rd.uvarint()
	if !rd.ok || n > uint64(len(rd.b)) {
		return 0, errRawEntry
	}
	for i := uint64(0); i < n && rd.ok; i++ {
		name := rd.str()
		k := raw.Kind(rd.byte())
		switch {
		case k < raw.U8 || k > raw.IP:
			return 0, fmt.Errorf("%w: property %d has kind %d", errRawEntry, i, k)
		case k.Numeric():
			r.AddNum(name, k, rd.uvarint())
		case k == raw.GUID || k == raw.Binary:
			r.AddBytes(name, k, []byte(rd.str()))
		default:
			r.AddString(name, k, rd.str())
		}
	}
	if !rd.ok || len(rd.b) != 0 {
		return 0, errRawEntry
	}
	return seq, nil
}

// rawHeaderDoc is the first entry of a raw segment's WAL.
type rawHeaderDoc struct {
	Host string `json:"host"`
	Date string `json:"date"`
}

// rawSeg is an open raw segment: its WAL and its file being written.
type rawSeg struct {
	key   segKey
	rel   string // recording-relative path of the final file (under raw/)
	wal   *wal.Writer
	batch wal.Batch
	file  *rawFile
}

// rawFile writes a raw segment's Parquet file (rawEncoder), one row group
// per rawRowGroup records, to a temporary path; finish renames it into
// place. The records travel to an encoder goroutine as their WAL entries
// (encQueue), so encoding and compressing raw pages does not hold the
// Writer's lock: edr live's event recorder and raw writer then run in
// parallel instead of taking turns.
type rawFile struct {
	f    *os.File
	enc  *rawEncoder
	host string
	n    int
	q    *encQueue
	rec  raw.Record // encoder goroutine's record
}

func newRawFile(tmp, host string, level pqfile.Level) (*rawFile, error) {
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, err
	}
	rf := &rawFile{f: f, enc: newRawEncoder(pqfile.NewWriterLevel(f, level)), host: host}
	rf.q = startQueue(rf.encode, rf.enc.flushRowGroup, func(err error) error { return fmt.Errorf("raw segment %s: %w", tmp, err) })
	return rf, nil
}

// addEntry appends a record given its appendRawEntry encoding (the WAL
// entry its caller wrote anyway); seq 0 is stored as NULL.
func (rf *rawFile) addEntry(entry []byte) error {
	rf.q.push(entry)
	rf.n++
	return rf.q.encErr()
}

// encode adds one queued record (on the encoder goroutine).
func (rf *rawFile) encode(entry []byte) error {
	seq, err := decodeRawEntry(entry, &rf.rec)
	if err != nil {
		return err
	}
	rf.enc.add(rf.host, seq, &rf.rec)
	if rf.enc.rg.n < rawRowGroup && len(rf.enc.rg.arena) < rawRowGroupBytes {
		return nil
	}
	return rf.enc.flushRowGroup()
}

// finish completes the file and renames it to final; on error the
// temporary file is removed.
func (rf *rawFile) finish(final string, fsync bool) error {
	err := rf.q.stop()
	if err == nil {
		err = rf.enc.close()
	}
	if err == nil && fsync {
		err = rf.f.Sync()
	}
	if cerr := rf.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.MkdirAll(filepath.Dir(final), 0o755)
	}
	if err == nil {
		err = os.Rename(rf.f.Name(), final)
	}
	if err != nil {
		os.Remove(rf.f.Name())
		return fmt.Errorf("raw segment %s: %w", final, err)
	}
	if fsync {
		if err := syncDir(filepath.Dir(final)); err != nil {
			// The caller keeps the WAL: the next open finds the file
			// (and drops the WAL) or, after a crash lost the rename,
			// recovers it.
			return fmt.Errorf("raw segment %s: %w", final, err)
		}
	}
	return nil
}

func (rf *rawFile) abort() {
	rf.q.stop()
	rf.f.Close()
	os.Remove(rf.f.Name())
}

// WriteRaw appends a raw record captured on host to the raw layer. seq is
// the Seq of the normalized event the record produced (Write sets it), 0
// when it produced none. The record is not retained. Raw records go through
// the same WAL machinery as events: durable within FlushInterval, recovered
// as an exact prefix after a crash.
func (w *Writer) WriteRaw(host string, r *raw.Record, seq uint64) error {
	return w.writeRaw(host, r.UnixNano(), seq, func(b []byte) []byte { return appendRawEntry(b, seq, r) })
}

// WriteRawEncoded is WriteRaw for a record in AppendRaw's encoding (enc is
// not retained); at is its time (raw.Record.UnixNano).
func (w *Writer) WriteRawEncoded(host string, at int64, enc []byte, seq uint64) error {
	return w.writeRaw(host, at, seq, func(b []byte) []byte { return append(binary.AppendUvarint(b, seq), enc...) })
}

// writeRaw appends the raw record that entry appends (its WAL entry) to
// the raw segment of host and of the day of ns.
func (w *Writer) writeRaw(host string, ns int64, seq uint64, entry func([]byte) []byte) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.usable(); err != nil {
		return err
	}
	key := segKey{host, dayOf(ns)}
	s := w.raws[key]
	if s != nil && s.file.n >= rawSegmentMax {
		if err := w.closeRaw(s); err != nil {
			return w.fail(err)
		}
		s = nil
	}
	if s == nil {
		var err error
		if s, err = w.openRaw(key, ns); err != nil {
			return w.fail(err)
		}
	}
	if err := s.file.addEntry(s.batch.AppendFunc(walRaw, entry)); err != nil {
		return w.fail(err)
	}
	w.stats.RawRecords++
	if s.batch.Size() >= walBatchMax || w.opts.FlushInterval < 0 {
		if err := w.fl.write(s.wal, &s.batch); err != nil {
			return w.fail(err)
		}
	}
	if w.opts.FlushInterval < 0 {
		return w.fail2(w.fl.wait())
	}
	return nil
}

// openRaw starts a raw segment, named <seq>-<n>-<first-time>.parquet: seq
// is the Seq the next event gets and n numbers the raw segments opened
// since that Seq was handed out (in this partition), both fixed width, so
// that a partition's files sort in capture order even when records arrive
// slightly out of time order, and the same input gives the same names.
func (w *Writer) openRaw(key segKey, first int64) (*rawSeg, error) {
	date := dateOf(first)
	part := filepath.Join(RawDir, partitionDir(key.host, date))
	prefix := fmt.Sprintf("%012d-", w.nextSeq)
	n := 0
	for _, d := range []string{filepath.Join(w.dir, part), filepath.Join(w.dir, walDir, part)} {
		ents, _ := os.ReadDir(d) // absent: no raw segment there yet
		for _, e := range ents {
			if v, ok := strings.CutPrefix(e.Name(), prefix); ok && len(v) > 6 {
				if k, err := strconv.Atoi(v[:6]); err == nil && k >= n {
					n = k + 1
				}
			}
		}
	}
	rel := filepath.Join(part, fmt.Sprintf("%s%06d-%s", prefix, n, segmentName(first, 0)[:len("20060102T150405.000000000Z")])+segmentExt)
	tmp := filepath.Join(w.dir, walDir, rel)
	if err := os.MkdirAll(filepath.Dir(tmp), 0o755); err != nil {
		return nil, err
	}
	wl, err := w.createWAL(tmp + ".wal")
	if err != nil {
		return nil, err
	}
	rf, err := newRawFile(tmp+".tmp", key.host, w.level)
	if err != nil {
		wl.Close()
		return nil, err
	}
	s := &rawSeg{key: key, rel: rel, wal: wl, file: rf}
	hb, _ := json.Marshal(rawHeaderDoc{Host: key.host, Date: date})
	s.batch.Append(walHeader, hb)
	w.raws[key] = s
	return s, nil
}

// closeRaw writes a raw segment's Parquet file, renames it into raw/ and
// removes its WAL, in the order closeSeg uses (a crash at any point leaves
// either the WAL or the finished file).
func (w *Writer) closeRaw(s *rawSeg) error {
	delete(w.raws, s.key)
	defer s.wal.Close()
	err := w.fl.write(s.wal, &s.batch)
	if err == nil {
		err = w.fl.wait()
	}
	if err != nil {
		s.file.abort()
		return err
	}
	if err := s.file.finish(filepath.Join(w.dir, s.rel), w.opts.Fsync); err != nil {
		return err
	}
	s.wal.Close()
	return os.Remove(s.wal.Name())
}

// sortedRaw lists open raw segments in a fixed order.
func (w *Writer) sortedRaw() []*rawSeg {
	out := make([]*rawSeg, 0, len(w.raws))
	for _, s := range w.raws {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].rel < out[j].rel })
	return out
}

// recoverRaw turns a raw segment's WAL left by a crash into its file: the
// records of every good WAL record, an exact prefix of what was written.
// An unreadable tail is kept aside as for event WALs.
func (w *Writer) recoverRaw(path string) error {
	final, f, err := w.openWAL(filepath.Join(w.dir, walDir), path)
	if f == nil || err != nil {
		return err
	}
	defer f.Close()
	var (
		hdr  *rawHeaderDoc
		rf   *rawFile
		rec  raw.Record
		rows int
	)
	defer func() {
		if rf != nil {
			rf.abort() // not finished: an error ended recovery
		}
	}()
	res, err := wal.Read(f, func(kind byte, body []byte) error {
		switch {
		case kind == walHeader && hdr == nil:
			hdr = &rawHeaderDoc{}
			return json.Unmarshal(body, hdr)
		case kind == walRaw && hdr != nil:
			// Decoded here only to check it: the encoder gets the entry.
			if _, err := decodeRawEntry(body, &rec); err != nil {
				return fmt.Errorf("raw record %d: %w", rows, err)
			}
			if rf == nil {
				var err error
				if rf, err = newRawFile(strings.TrimSuffix(path, ".wal")+".tmp", hdr.Host, w.level); err != nil {
					return err
				}
			}
			rows++
			return rf.addEntry(body)
		}
		return fmt.Errorf("unexpected entry of kind %d after %d raw records", kind, rows)
	})
	rep := walReport(path, res)
	if err != nil {
		return w.walUnreadable(f, path, res, err, rep)
	}
	if err := w.keepGaps(f, path, tailGaps(res), &rep); err != nil {
		return err
	}
	if rf != nil {
		err := rf.finish(final, w.opts.Fsync)
		rf = nil
		if err != nil {
			return err
		}
		rep.Segment = final
	}
	rep.Events = int64(rows)
	w.stats.RecoveredRawRecords += int64(rows)
	w.noteRecovery(rep)
	f.Close()
	return os.Remove(path)
}

// RawFilter selects raw records: Time in [From, To) (To 0: no bound) and,
// when HostSet, only Host's.
type RawFilter struct {
	From, To int64
	Host     string
	HostSet  bool
}

// ListRaw returns the raw layer's files, sorted by path (host, date, then
// first time).
func ListRaw(dir string) ([]string, error) {
	root := filepath.Join(dir, RawDir)
	if _, err := os.Stat(root); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return listSegments(root)
}

// ReadRaw calls fn for every raw record matching f: files in path order,
// each file's records in arrival order, so a host's records reach fn in the
// order they were captured. The record passed to fn is reused afterwards.
// A file that cannot be read or holds an invalid row fails ReadRaw naming
// the file and the row.
func ReadRaw(dir string, f RawFilter, fn func(*RawRecord) error) error {
	paths, err := ListRaw(dir)
	if err != nil {
		return err
	}
	rr := &RawRecord{Record: &raw.Record{}}
	for _, p := range paths {
		rel, _ := filepath.Rel(dir, p)
		if h, ok := partitionHost(rel); f.HostSet && ok && h != f.Host {
			continue
		}
		if err := readRawFile(p, f, rr, fn); err != nil {
			return err
		}
	}
	return nil
}

// readRawFile reads one raw segment; every error but fn's names the file
// (a parquet-go panic on a damaged file included).
func readRawFile(path string, f RawFilter, rr *RawRecord, fn func(*RawRecord) error) error {
	var fnErr error
	err := decodeRawFile(path, f, rr, func(r *RawRecord) error {
		fnErr = fn(r)
		return fnErr
	})
	var se *SegmentError
	if err != nil && fnErr == nil && !errors.As(err, &se) {
		err = &SegmentError{Path: path, Err: err}
	}
	return err
}

func decodeRawFile(path string, f RawFilter, rr *RawRecord, fn func(*RawRecord) error) (err error) {
	defer pqfile.Guard(&err)
	file, err := fsutil.Open(path)
	if err != nil {
		return err
	}
	defer file.Close()
	st, err := file.Stat()
	if err != nil {
		return err
	}
	pf, err := parquet.OpenFile(file, st.Size())
	if err != nil {
		return &SegmentError{Path: path, Err: err}
	}
	rd := parquet.NewGenericReader[rawRow](pf)
	defer rd.Close()
	rows := make([]rawRow, 256)
	for i := 0; ; {
		n, rerr := rd.Read(rows)
		for j := 0; j < n; j, i = j+1, i+1 {
			row := &rows[j]
			if row.Time < f.From || f.To != 0 && row.Time >= f.To || f.HostSet && row.Host != f.Host {
				continue
			}
			if err := fromRawRow(row, rr.Record); err != nil {
				return &SegmentError{Path: path, Err: fmt.Errorf("row %d: %w", i, err)}
			}
			rr.Host, rr.Seq = row.Host, 0
			if row.Seq != nil {
				rr.Seq = *row.Seq
			}
			if err := fn(rr); err != nil {
				return err
			}
		}
		if rerr != nil {
			if errors.Is(rerr, io.EOF) {
				return nil
			}
			return &SegmentError{Path: path, Err: rerr}
		}
	}
}
