package recording

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edr-lab/edr/capture/raw"
	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/internal/testutil"
)

// fixtureRecords loads every raw ETW fixture record (skips without
// EDR_SHARED).
func fixtureRecords(t testing.TB) []*raw.Record {
	dir := testutil.Shared(t, "etw/rustinel-fixtures/tests/fixtures/etw")
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	var out []*raw.Record
	for _, p := range paths {
		fx, err := raw.LoadFixtureFile(p)
		require.NoError(t, err)
		out = append(out, fx.Records...)
	}
	return out
}

// extremeRecord carries the values a lossy layer would damage: u64 above
// 2^53 (float64 precision), negative signed ints, bytes with NUL and 0xff,
// an empty binary, a payload.
func extremeRecord(i int) *raw.Record {
	r := &raw.Record{Provider: raw.MustGUID("22fb2cd6-0e7b-422b-a0c7-2fad1fd0e716"), EventID: uint16(i), Version: 2, Opcode: 10,
		Level: 4, Keywords: 1<<63 | 1<<53 | 1, PID: 0xfffffffe, TID: uint32(i), HeaderFlags: 0x240,
		Timestamp: 133_766_400_000_000_000 + int64(i)*10_000} // 2024-11-21 + i ms
	r.AddNum("Big", raw.U64, 1<<53+1)
	r.AddNum("Max", raw.U64, ^uint64(0))
	r.AddNum("Neg8", raw.I8, 0xff)
	r.AddNum("Neg64", raw.I64, uint64(1<<64-5))
	r.AddNum("Ptr", raw.Pointer, 0xffff_8000_1234_5678)
	r.AddNum("FT", raw.FileTime, 133_766_400_000_000_001)
	r.AddString("S", raw.String, "C:\\x\x00y é")
	r.AddString("Sid", raw.SID, "S-1-5-18")
	r.AddString("Addr", raw.IP, "fe80::1")
	r.AddBytes("Bin", raw.Binary, []byte{0, 0xff, 0, 1})
	r.AddBytes("Empty", raw.Binary, []byte{})
	r.AddBytes("G", raw.GUID, []byte("0123456789abcdef"))
	r.AddNum("Index", raw.U32, uint64(i))
	r.SetUserData([]byte{0, 1, 2, 0xff})
	return r
}

// rawView is a record as compared: every field, property values exact.
type rawView struct {
	Host                   string
	Seq                    uint64
	Provider               raw.ProviderID
	EventID                uint16
	Version, Opcode, Level uint8
	Keywords               uint64
	PID, TID               uint32
	Timestamp              int64
	HeaderFlags            uint16
	UserData               []byte
	Props                  []string
	Nums                   []uint64
	Bytes                  [][]byte
}

func viewOf(host string, seq uint64, r *raw.Record) rawView {
	v := rawView{Host: host, Seq: seq, Provider: r.Provider, EventID: r.EventID, Version: r.Version, Opcode: r.Opcode, Level: r.Level,
		Keywords: r.Keywords, PID: r.PID, TID: r.TID, Timestamp: r.Timestamp, HeaderFlags: r.HeaderFlags}
	if len(r.UserData) > 0 { // an empty payload is stored as none
		v.UserData = append([]byte{}, r.UserData...)
	}
	for _, p := range r.Props {
		v.Props = append(v.Props, p.Name+"/"+p.Kind.String()+"/"+p.Str)
		v.Nums = append(v.Nums, p.Num)
		b := []byte(nil)
		if p.Kind == raw.Binary || p.Kind == raw.GUID {
			b = append([]byte{}, p.Bytes...) // nil and empty compare equal: the kind says binary
		}
		v.Bytes = append(v.Bytes, b)
	}
	return v
}

func readRawViews(t testing.TB, dir string, f RawFilter) []rawView {
	var got []rawView
	require.NoError(t, ReadRaw(dir, f, func(r *RawRecord) error {
		got = append(got, viewOf(r.Host, r.Seq, r.Record))
		return nil
	}))
	return got
}

// rawEvent is a normalized event standing for what record i produced.
func rawEvent(r *raw.Record, host string, i int) *event.Event {
	e := &event.Event{Time: r.UnixNano(), Host: host, Channel: event.ChannelSysmon, Provider: event.ProviderSysmon,
		EventID: 1, Source: event.SourceETW, RecordID: uint64(i + 1)}
	e.Set(event.FImage, "proc"+strconv.Itoa(i))
	return e
}

// TestRawLayerRoundTrip writes every fixture record and the extreme ones
// into a recording beside normalized events and reads them back field by
// field: the normalized reader sees only the events, the raw reader every
// record with its Seq link, in capture order per partition.
func TestRawLayerRoundTrip(t *testing.T) {
	recs := fixtureRecords(t)
	for i := 0; i < 3; i++ {
		recs = append(recs, extremeRecord(i))
	}
	dir := t.TempDir()
	w, err := OpenWriter(dir, WriterOptions{})
	require.NoError(t, err)
	var want []rawView
	events := 0
	for i, r := range recs {
		var seq uint64
		if i%3 != 2 { // every third record produced no event
			e := rawEvent(r, "h1", i)
			require.NoError(t, w.Write(e))
			seq = e.Seq
			events++
		}
		require.NoError(t, w.WriteRaw("h1", r, seq))
		want = append(want, viewOf("h1", seq, r))
	}
	st := w.Stats()
	require.NoError(t, w.Close())
	assert.Equal(t, int64(len(recs)), st.RawRecords)

	// Files are read in path order: by date, then in capture order.
	sort.SliceStable(want, func(i, j int) bool {
		return dateOf(raw.FileTimeToUnixNano(want[i].Timestamp)) < dateOf(raw.FileTimeToUnixNano(want[j].Timestamp))
	})
	got := readRawViews(t, dir, RawFilter{})
	require.Len(t, got, len(want))
	for i := range want {
		require.Equal(t, want[i], got[i], "record %d", i)
	}
	var last rawView
	for _, v := range got {
		if len(v.Props) > 0 && strings.HasPrefix(v.Props[0], "Big/") {
			last = v
		}
	}
	require.NotEmpty(t, last.Nums, "extreme records read back")
	assert.Equal(t, uint64(1<<53+1), last.Nums[0], "u64 above 2^53 exact")
	assert.Equal(t, ^uint64(0), last.Nums[1])
	assert.Equal(t, []byte{0, 0xff, 0, 1}, last.Bytes[9], "bytes exact")

	evs, _ := readAll(t, dir, ReaderOptions{Strict: true})
	assert.Len(t, evs, events, "the normalized reader does not see the raw layer")

	// Filters: host and time range.
	assert.Empty(t, readRawViews(t, dir, RawFilter{Host: "h2", HostSet: true}))
	assert.Len(t, readRawViews(t, dir, RawFilter{Host: "h1", HostSet: true}), len(want))
	from := raw.FileTimeToUnixNano(extremeRecord(1).Timestamp)
	ranged := readRawViews(t, dir, RawFilter{From: from, To: from + 1})
	require.Len(t, ranged, 1)
	assert.Equal(t, uint16(1), ranged[0].EventID)
}

// TestRawLayerDeterministic: the same input gives byte-identical raw files,
// whether the records come as raw.Records (WriteRaw) or in their encoding
// (AppendRaw, WriteRawEncoded).
func TestRawLayerDeterministic(t *testing.T) {
	write := func(encoded bool) map[string]string {
		dir := t.TempDir()
		w, err := OpenWriter(dir, WriterOptions{})
		require.NoError(t, err)
		for i := 0; i < 50; i++ {
			r := extremeRecord(i)
			if encoded {
				require.NoError(t, w.WriteRawEncoded("h", r.UnixNano(), w.AppendRaw(nil, r), uint64(i)))
				continue
			}
			require.NoError(t, w.WriteRaw("h", r, uint64(i)))
		}
		require.NoError(t, w.Close())
		return treeDigest(t, dir)
	}
	a := write(false)
	require.NotEmpty(t, a)
	assert.Equal(t, a, write(false))
	assert.Equal(t, a, write(true))
}

// TestRawEntryRoundTrip: the WAL encoding gives back every field, and a
// truncated entry is an error, never a panic or a shorter record.
func TestRawEntryRoundTrip(t *testing.T) {
	r := extremeRecord(7)
	b := appendRawEntry(nil, 42, r)
	var got raw.Record
	seq, err := decodeRawEntry(b, &got)
	require.NoError(t, err)
	assert.Equal(t, viewOf("", 42, r), viewOf("", seq, &got))
	for n := 0; n < len(b); n++ {
		_, err := decodeRawEntry(b[:n], &got)
		require.Error(t, err, "cut at %d", n)
	}
}

// TestRawEntryRejectsTimeOutOfRange: an entry whose FILETIME has no Unix
// nanosecond time is corrupt (the capture drops such records, so edr never
// writes one): before, it decoded and its raw row's time wrapped.
func TestRawEntryRejectsTimeOutOfRange(t *testing.T) {
	r := extremeRecord(1)
	var got raw.Record
	for _, ft := range []int64{raw.MinFileTime, raw.MaxFileTime} {
		r.Timestamp = ft
		_, err := decodeRawEntry(appendRawEntry(nil, 5, r), &got)
		require.NoError(t, err, "%d", ft)
		assert.Equal(t, ft, got.Timestamp)
	}
	for _, ft := range []int64{raw.MinFileTime - 1, raw.MaxFileTime + 1, -4459060090898233457} {
		r.Timestamp = ft
		_, err := decodeRawEntry(appendRawEntry(nil, 5, r), &got)
		require.ErrorIs(t, err, errRawEntry, "%d", ft)
	}
}

// TestRawRowRejectsBadRows: a stored row that is not a record names the
// place at fault.
func TestRawRowRejectsBadRows(t *testing.T) {
	row := toRawRow("h", 1, extremeRecord(0))
	var r raw.Record
	require.NoError(t, fromRawRow(&row, &r))
	bad := row
	bad.Props = append([]rawPropRow{}, row.Props...)
	bad.Props[2].Kind = "u128"
	assert.ErrorContains(t, fromRawRow(&bad, &r), `property 2 ("Neg8"): unknown kind "u128"`)
	bad.Props[2] = rawPropRow{Name: "Neg8", Kind: "i8"}
	assert.ErrorContains(t, fromRawRow(&bad, &r), "without U64")
	bad = row
	bad.Provider = "nope"
	assert.ErrorContains(t, fromRawRow(&bad, &r), `provider "nope"`)
}

func FuzzDecodeRawEntry(f *testing.F) {
	f.Add(appendRawEntry(nil, 3, extremeRecord(1)))
	f.Add(appendRawEntry(nil, 0, &raw.Record{}))
	f.Fuzz(func(t *testing.T, b []byte) {
		var r raw.Record
		seq, err := decodeRawEntry(b, &r)
		if err != nil {
			return
		}
		// One record, one encoding: what decodes re-encodes to the input.
		require.Equal(t, b, appendRawEntry(nil, seq, &r))
		row := toRawRow("h", seq, &r)
		var back raw.Record
		if fromRawRow(&row, &back) == nil {
			require.Equal(t, viewOf("h", seq, &r), viewOf("h", seq, &back))
		}
	})
}

// The raw crash test kills a child writing raw records (TestRawCrashChild)
// three times on one recording: what recovery keeps must be exactly a prefix
// of the record sequence, holding at least every record flushed before the
// child said so.
const rawCrashEnv = "EDR_RAW_CRASH_DIR"

func TestRawCrashChild(t *testing.T) {
	dir := os.Getenv(rawCrashEnv)
	if dir == "" {
		t.Skip("raw crash-test child process only")
	}
	w, err := OpenWriter(dir, WriterOptions{FlushInterval: 10 * time.Millisecond})
	require.NoError(t, err)
	n := 0
	require.NoError(t, ReadRaw(dir, RawFilter{}, func(*RawRecord) error { n++; return nil }))
	var mu sync.Mutex
	for i := n; ; i++ {
		require.NoError(t, w.WriteRaw("crash", extremeRecord(i), uint64(i+1)))
		if i%100 == 99 {
			require.NoError(t, w.Flush())
			mu.Lock()
			fmt.Fprintf(os.Stdout, "flushed %d\n", i+1)
			mu.Unlock()
		}
	}
}

func TestRawCrashKeepsPrefix(t *testing.T) {
	if testing.Short() {
		t.Skip("spawns writer processes")
	}
	dir := t.TempDir()
	for round := 0; round < 3; round++ {
		c := startChild(t, "TestRawCrashChild", []string{rawCrashEnv + "=" + dir}, "flushed")
		c.await(t, "flushed")
		time.Sleep(time.Duration(20+round*40) * time.Millisecond)
		lines, _ := c.kill(t)
		flushed := 0
		for _, l := range lines {
			if v, ok := strings.CutPrefix(l.s, "flushed "); ok {
				flushed, _ = strconv.Atoi(v)
			}
		}
		w, err := OpenWriter(dir, WriterOptions{})
		require.NoError(t, err)
		st := w.Stats()
		require.NoError(t, w.Close())
		got := readRawViews(t, dir, RawFilter{})
		t.Logf("round %d: %d records kept, %d flushed before the kill, %d recovered", round, len(got), flushed, st.RecoveredRawRecords)
		require.GreaterOrEqual(t, len(got), flushed, "a record flushed before the kill was lost")
		for i, v := range got {
			require.Equal(t, viewOf("crash", uint64(i+1), extremeRecord(i)), v, "record %d", i)
		}
	}
}

// TestRawSegmentsRotateAndSplitRowGroups: a raw segment ends at
// rawSegmentMax records and is written in row groups; records read back in
// capture order across row groups and segments.
func TestRawSegmentsRotateAndSplitRowGroups(t *testing.T) {
	defer func(m, g int) { rawSegmentMax, rawRowGroup = m, g }(rawSegmentMax, rawRowGroup)
	rawSegmentMax, rawRowGroup = 500, 64
	dir := t.TempDir()
	w, err := OpenWriter(dir, WriterOptions{})
	require.NoError(t, err)
	const n = 1300
	// Time runs backwards: files must still sort in capture order.
	rec := func(i int) *raw.Record {
		r := extremeRecord(i)
		r.Timestamp = extremeRecord(n - i).Timestamp
		return r
	}
	for i := 0; i < n; i++ {
		require.NoError(t, w.WriteRaw("h", rec(i), uint64(i+1)))
	}
	require.NoError(t, w.Close())
	files, err := ListRaw(dir)
	require.NoError(t, err)
	require.Len(t, files, 3, "500 + 500 + 300 records")
	for i, f := range files {
		// No event written: every segment starts at Seq 1, numbered.
		assert.Equal(t, fmt.Sprintf("000000000001-%06d-", i), filepath.Base(f)[:20])
	}
	got := readRawViews(t, dir, RawFilter{})
	require.Len(t, got, n)
	for i, v := range got {
		require.Equal(t, viewOf("h", uint64(i+1), rec(i)), v, "record %d", i)
	}
}

// FuzzReadRawFile: a damaged raw segment is an error naming the file, never
// a panic, and whatever reads is a valid record.
func FuzzReadRawFile(f *testing.F) {
	seed := f.TempDir()
	w, err := OpenWriter(seed, WriterOptions{})
	require.NoError(f, err)
	for i := 0; i < 3; i++ {
		require.NoError(f, w.WriteRaw("h", extremeRecord(i), uint64(i)))
	}
	require.NoError(f, w.Close())
	files, err := ListRaw(seed)
	require.NoError(f, err)
	require.Len(f, files, 1)
	b, err := os.ReadFile(files[0])
	require.NoError(f, err)
	f.Add(b)
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		p := filepath.Join(dir, RawDir, "host=h", "date=2024-11-21", "x.parquet")
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, data, 0o644))
		err := ReadRaw(dir, RawFilter{}, func(r *RawRecord) error {
			for _, pr := range r.Record.Props {
				require.NotEqual(t, raw.KindNone, pr.Kind)
			}
			return nil
		})
		if err != nil {
			require.Contains(t, err.Error(), p)
		}
	})
}

// TestRawWALDamagedTailKeptAside: recovery of a raw WAL whose last record
// is damaged keeps the records before it, in order, and copies the rest
// to <wal>.bad instead of deleting it.
func TestRawWALDamagedTailKeptAside(t *testing.T) {
	live := t.TempDir()
	w, err := OpenWriter(live, WriterOptions{FlushInterval: -1}) // one WAL record per raw record
	require.NoError(t, err)
	for i := 0; i < 10; i++ {
		require.NoError(t, w.WriteRaw("h", extremeRecord(i), uint64(i+1)))
	}
	rec := filepath.Join(t.TempDir(), "rec")
	require.NoError(t, os.CopyFS(rec, os.DirFS(live))) // what a crash leaves
	require.NoError(t, w.Close())
	wals, err := filepath.Glob(filepath.Join(rec, walDir, RawDir, "*", "*", "*.wal"))
	require.NoError(t, err)
	require.Len(t, wals, 1)
	data, err := os.ReadFile(wals[0])
	require.NoError(t, err)
	data[len(data)-3] ^= 0xff // inside the last record
	require.NoError(t, os.WriteFile(wals[0], data, 0o644))

	w, err = OpenWriter(rec, WriterOptions{})
	require.NoError(t, err)
	st := w.Stats()
	require.NoError(t, w.Close())
	got := readRawViews(t, rec, RawFilter{})
	require.Len(t, got, 9)
	for i, v := range got {
		require.Equal(t, viewOf("h", uint64(i+1), extremeRecord(i)), v, "record %d", i)
	}
	assert.EqualValues(t, 9, st.RecoveredRawRecords)
	assert.Positive(t, st.KeptAsideBytes)
	bad, err := os.ReadFile(wals[0] + ".bad")
	require.NoError(t, err)
	assert.Equal(t, data[len(data)-len(bad):], bad, "the damaged rest, byte for byte")
	assert.NoFileExists(t, wals[0])
}
