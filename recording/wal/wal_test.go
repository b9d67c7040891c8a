package wal

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/klauspost/compress/s2"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func writeWAL(t testing.TB, records [][]string) []byte {
	return writeWALv(t, false, records)
}

// writeWALv writes a version 1 (zstd) WAL when v1, else the current one.
func writeWALv(t testing.TB, v1 bool, records [][]string) []byte {
	p := filepath.Join(t.TempDir(), "x.wal")
	w, err := create(p, false, v1)
	require.NoError(t, err)
	for _, rec := range records {
		var b Batch
		for _, s := range rec {
			b.Append(7, []byte(s))
		}
		require.NoError(t, w.Write(&b))
	}
	require.NoError(t, w.Close())
	data, err := os.ReadFile(p)
	require.NoError(t, err)
	return data
}

func readAllEntries(t testing.TB, data []byte) ([]string, Result, error) {
	var got []string
	res, err := Read(bytes.NewReader(data), func(kind byte, body []byte) error {
		got = append(got, fmt.Sprintf("%d:%s", kind, body))
		return nil
	})
	return got, res, err
}

func TestRoundTripAndTornTail(t *testing.T) {
	for _, v1 := range []bool{false, true} {
		t.Run(fmt.Sprintf("v1=%v", v1), func(t *testing.T) { testRoundTripAndTornTail(t, v1) })
	}
}

func testRoundTripAndTornTail(t *testing.T, v1 bool) {
	data := writeWALv(t, v1, [][]string{{"a", "bb"}, {""}, {"ccc"}})
	got, res, err := readAllEntries(t, data)
	require.NoError(t, err)
	assert.Equal(t, []string{"7:a", "7:bb", "7:", "7:ccc"}, got)
	assert.Equal(t, 3, res.Records)
	assert.NoError(t, res.Tail)
	assert.Equal(t, int64(len(data)), res.Good)

	// Every truncation yields a prefix of whole records and reports the tail.
	for n := len(Magic); n < len(data); n++ {
		got, res, err := readAllEntries(t, data[:n])
		require.NoError(t, err)
		assert.Less(t, res.Good, int64(len(data)))
		assert.LessOrEqual(t, res.Good, int64(n))
		if res.Good < int64(n) {
			assert.ErrorIs(t, res.Tail, ErrTorn)
		}
		for i, s := range got {
			assert.Equal(t, []string{"7:a", "7:bb", "7:", "7:ccc"}[i], s)
		}
	}
	// A flipped bit in a record drops that record and the rest.
	for pos := len(Magic); pos < len(data); pos++ {
		b := append([]byte(nil), data...)
		b[pos] ^= 0x10
		_, res, err := readAllEntries(t, b)
		require.NoError(t, err)
		assert.ErrorIs(t, res.Tail, ErrTorn, "flip at %d", pos)
	}
	_, _, err = readAllEntries(t, nil)
	assert.ErrorIs(t, err, ErrBadMagic)
	_, _, err = readAllEntries(t, []byte("NOTAWAL!"))
	assert.ErrorIs(t, err, ErrBadMagic)
}

// FuzzRead reads arbitrary bytes as a WAL: it must never panic, and a file
// it accepts must deliver only whole records.
func FuzzRead(f *testing.F) {
	f.Add(writeWAL(f, [][]string{{"a", "bb"}, {"ccc"}}))
	f.Add(writeWALv(f, true, [][]string{{"a", "bb"}, {"ccc"}}))
	f.Add([]byte(Magic))
	f.Add([]byte(MagicV1))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := Read(bytes.NewReader(data), func(byte, []byte) error { return nil })
		if err == nil {
			assert.LessOrEqual(t, res.Good, int64(len(data)))
			assert.Equal(t, int64(len(data)), res.Size)
		}
	})
}

// TestDamagedMagicStillReads: a WAL whose magic is damaged but whose first
// record checks out is read whole; one whose first record is damaged too is
// not a WAL, and Size still counts every byte (the caller keeps them).
func TestDamagedMagicStillReads(t *testing.T) {
	for _, v1 := range []bool{false, true} {
		t.Run(fmt.Sprintf("v1=%v", v1), func(t *testing.T) { testDamagedMagicStillReads(t, v1) })
	}
}

func testDamagedMagicStillReads(t *testing.T, v1 bool) {
	data := writeWALv(t, v1, [][]string{{"a"}, {"bb"}})
	for pos := 0; pos < len(Magic); pos++ {
		b := append([]byte(nil), data...)
		b[pos] ^= 0xff
		got, res, err := readAllEntries(t, b)
		require.NoError(t, err, "flip at %d", pos)
		assert.True(t, res.MagicDamaged)
		assert.Equal(t, []string{"7:a", "7:bb"}, got)
		assert.Equal(t, int64(len(b)), res.Good)
		assert.Equal(t, int64(len(b)), res.Size)
	}
	b := append([]byte(nil), data...)
	b[0] ^= 0xff
	b[len(Magic)+9] ^= 0xff // inside the first record
	got, res, err := readAllEntries(t, b)
	assert.ErrorIs(t, err, ErrBadMagic)
	assert.Empty(t, got)
	assert.Zero(t, res.Good)
	assert.Equal(t, int64(len(b)), res.Size)
}

func TestIsPartialHeader(t *testing.T) {
	assert.True(t, IsPartialHeader(nil))
	assert.True(t, IsPartialHeader([]byte(Magic[:3])))
	assert.True(t, IsPartialHeader(make([]byte, 7)))
	assert.False(t, IsPartialHeader([]byte(Magic)), "a whole magic is a WAL (with no records)")
	assert.False(t, IsPartialHeader([]byte("EDRx")))
	assert.False(t, IsPartialHeader([]byte{0, 0, 1}))
}

// acceptAll resynchronises on any intact record.
func acceptAll(Gap, Record) bool { return true }

// scanAll reads data with resynchronisation, returning the entries of
// each record read (one string per record) and the result.
func scanAll(t testing.TB, data []byte, accept func(Gap, Record) bool) ([]string, Result, error) {
	var got []string
	res, err := Scan(bytes.NewReader(data), int64(len(data)), Options{Resync: accept}, func(kind byte, body []byte) error {
		got = append(got, fmt.Sprintf("%d:%s", kind, body))
		return nil
	})
	return got, res, err
}

// TestScanResync: past a damaged record (payload, checksum or length
// field), Scan finds the next intact record and reads on; the gap is
// exactly the damaged record; a damaged last record is a gap to the end.
func TestScanResync(t *testing.T) {
	for _, v1 := range []bool{false, true} {
		t.Run(fmt.Sprintf("v1=%v", v1), func(t *testing.T) { testScanResync(t, v1) })
	}
}

func testScanResync(t *testing.T, v1 bool) {
	recs := [][]string{{"r0"}, {"r1"}, {"r2"}, {"r3"}}
	data := writeWALv(t, v1, recs)
	var starts []int64
	for off := int64(len(Magic)); off < int64(len(data)); off += recordHeader + int64(uint32(data[off])|uint32(data[off+1])<<8) {
		starts = append(starts, off)
	}
	require.Len(t, starts, 4)
	for _, at := range []int64{0, 2, 5, 9, 12} { // length, checksum, payload
		b := append([]byte(nil), data...)
		b[starts[1]+at] ^= 0x5a
		got, res, err := scanAll(t, b, acceptAll)
		require.NoError(t, err)
		assert.Equal(t, []string{"7:r0", "7:r2", "7:r3"}, got, "damage at +%d", at)
		require.Len(t, res.Gaps, 1)
		assert.Equal(t, Gap{From: starts[1], To: starts[2], Records: 1}, Gap{From: res.Gaps[0].From, To: res.Gaps[0].To, Records: res.Gaps[0].Records})
		assert.ErrorIs(t, res.Gaps[0].Reason, ErrTorn)
		assert.Equal(t, 3, res.Records)
		assert.Equal(t, 2, res.Resynced)
		assert.Equal(t, starts[1], res.Good)

		// Without Resync: the old stop at the damage.
		got, res, err = readAllEntries(t, b)
		require.NoError(t, err)
		assert.Equal(t, []string{"7:r0"}, got)
		require.Len(t, res.Gaps, 1)
		assert.True(t, res.Gaps[0].ToEnd)
	}
	b := append([]byte(nil), data...)
	b[starts[3]+10] ^= 1
	got, res, err := scanAll(t, b, acceptAll)
	require.NoError(t, err)
	assert.Equal(t, []string{"7:r0", "7:r1", "7:r2"}, got)
	require.Len(t, res.Gaps, 1)
	assert.Equal(t, [2]int64{starts[3], int64(len(b))}, [2]int64{res.Gaps[0].From, res.Gaps[0].To})
	assert.True(t, res.Gaps[0].ToEnd)

	// A record Resync refuses is not read: the search goes on past it.
	b = append([]byte(nil), data...)
	b[starts[1]+10] ^= 1
	got, res, err = scanAll(t, b, func(_ Gap, r Record) bool {
		return r.Entries(func(_ byte, body []byte) error {
			if string(body) == "r2" {
				return ErrTorn
			}
			return nil
		}) == nil
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"7:r0", "7:r3"}, got)
	require.Len(t, res.Gaps, 1)
	assert.Equal(t, [2]int64{starts[1], starts[3]}, [2]int64{res.Gaps[0].From, res.Gaps[0].To})

	// Damaged magic and first record: a WAL all the same when a later
	// record checks out.
	b = append([]byte(nil), data...)
	b[1] ^= 0xff
	b[starts[0]+10] ^= 1
	got, res, err = scanAll(t, b, acceptAll)
	require.NoError(t, err)
	assert.True(t, res.MagicDamaged)
	assert.Equal(t, []string{"7:r1", "7:r2", "7:r3"}, got)
}

// FuzzScanResync damages a WAL of records with distinct contents (the
// fuzzer picks the records, where to damage, and the bytes written there;
// or the bytes appended to a WAL) and scans it with resynchronisation on
// any intact record: it must never panic; every record read must be one
// that was written, in the order written, never one twice; and the gaps
// must be in order, disjoint and inside the file.
func FuzzScanResync(f *testing.F) {
	f.Add(uint8(5), uint16(40), []byte{0}, []byte(nil), false)
	f.Add(uint8(3), uint16(9), []byte("\xff\xff\xff\xff"), []byte(nil), false)
	f.Add(uint8(9), uint16(200), []byte{1, 2, 3}, []byte("junk\x28\xb5\x2f\xfd"), false)
	f.Add(uint8(9), uint16(200), []byte{1, 2, 3}, []byte("junk\xedWAL\x01"), false)
	f.Add(uint8(5), uint16(40), []byte{0}, []byte(nil), true)
	f.Add(uint8(4), uint16(30), []byte("\xedWAL\x01"), []byte("\x28\xb5\x2f\xfd"), true)
	f.Fuzz(func(t *testing.T, n uint8, at uint16, patch, tail []byte, v1 bool) {
		var recs [][]string
		for i := 0; i < int(n%16)+1; i++ {
			recs = append(recs, []string{fmt.Sprintf("record %d %s", i, bytes.Repeat([]byte{'x'}, i*7))})
		}
		data := writeWALv(t, v1, recs)
		if int(at) < len(data) {
			copy(data[at:], patch)
		}
		data = append(data, tail...)
		got, res, err := scanAll(t, data, acceptAll)
		if err != nil {
			require.ErrorIs(t, err, ErrBadMagic)
			return
		}
		next := 0
		for _, g := range got {
			i := next
			for i < len(recs) && "7:"+recs[i][0] != g {
				i++
			}
			require.Less(t, i, len(recs), "read %q, which was not written (or out of order)", g)
			next = i + 1
		}
		require.Equal(t, int64(len(data)), res.Size)
		end := int64(len(Magic))
		for _, g := range res.Gaps {
			require.LessOrEqual(t, end, g.From)
			require.Less(t, g.From, g.To)
			end = g.To
		}
		require.LessOrEqual(t, end, int64(len(data)))
		if len(res.Gaps) > 0 {
			require.True(t, res.Gaps[len(res.Gaps)-1].ToEnd || res.Gaps[len(res.Gaps)-1].To < int64(len(data)))
		}
	})
}

// TestReadsVersion1File: a WAL written by the version 1 writer (zstd
// records; testdata/v1-zstd.wal was written by edr at a16d73c, before S2)
// still reads whole, so a crash of an older edr still recovers.
func TestReadsVersion1File(t *testing.T) {
	data, err := os.ReadFile("testdata/v1-zstd.wal")
	require.NoError(t, err)
	require.Equal(t, MagicV1, string(data[:len(MagicV1)]))
	got, res, err := readAllEntries(t, data)
	require.NoError(t, err)
	assert.Equal(t, []string{"7:a", "7:bb", "7:", "7:ccc", "7:" + strings.Repeat("compressible ", 200)}, got)
	assert.Equal(t, 3, res.Records)
	assert.NoError(t, res.Tail)
	assert.False(t, res.MagicDamaged)
	assert.Equal(t, int64(len(data)), res.Good)
	// The test writer of version 1 still writes what that edr wrote.
	again := writeWALv(t, true, [][]string{{"a", "bb"}, {""}, {"ccc", strings.Repeat("compressible ", 200)}})
	assert.Equal(t, data, again)
}

// TestNewFilesAreVersion2: Create writes the version 2 magic and S2
// records that are smaller than their entries when these compress.
func TestNewFilesAreVersion2(t *testing.T) {
	body := strings.Repeat("compressible ", 200)
	data := writeWAL(t, [][]string{{body}})
	require.Equal(t, Magic, string(data[:len(Magic)]))
	payload := data[len(Magic)+recordHeader:]
	assert.Equal(t, append(append([]byte(nil), recordMarker...), codecS2), payload[:5])
	assert.Less(t, len(payload), len(body)/4)
}

// record2 is a version 2 record of codec c and body, with a valid checksum.
func record2(c byte, body []byte) []byte {
	payload := append(append(append([]byte(nil), recordMarker...), c), body...)
	rec := binary.LittleEndian.AppendUint32(nil, uint32(len(payload)))
	rec = binary.LittleEndian.AppendUint32(rec, crc32.Checksum(payload, castagnoli))
	return append(rec, payload...)
}

// TestVersion2RecordErrors: a record whose checksum holds but whose
// payload cannot be read (unknown codec, bad S2 block, a decoded length
// past MaxRecord, entries that overrun) is a damaged record naming its
// byte offset and the cause, never a panic or a huge allocation; the
// records before it are read.
func TestVersion2RecordErrors(t *testing.T) {
	good := writeWAL(t, [][]string{{"ok"}})
	var entry Batch
	entry.Append(7, []byte("x"))
	overrun := append([]byte{7, 0xff, 0, 0, 0}, "x"...)
	for _, c := range []struct {
		name, want string
		rec        []byte
	}{
		{"unknown codec", "unknown codec 9", record2(9, s2.Encode(nil, entry.buf))},
		{"bad s2", "does not decompress (s2)", record2(codecS2, []byte{0x05, 0xff, 0xff})},
		{"too large", "more than", record2(codecS2, binary.AppendUvarint(nil, MaxRecord+1))},
		{"marker only", "neither", append(binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(nil, 4), crc32.Checksum(recordMarker, castagnoli)), recordMarker...)},
		{"entry overrun", "entry 0 malformed", record2(codecS2, s2.Encode(nil, overrun))},
	} {
		data := append(append([]byte(nil), good...), c.rec...)
		got, res, err := readAllEntries(t, data)
		require.NoError(t, err, c.name)
		assert.Equal(t, []string{"7:ok"}, got, c.name)
		assert.Equal(t, int64(len(good)), res.Good, c.name)
		require.ErrorIs(t, res.Tail, ErrTorn, c.name)
		assert.Contains(t, res.Tail.Error(), c.want, c.name)
		assert.Contains(t, res.Tail.Error(), fmt.Sprintf("byte %d", len(good)), c.name)
	}
	// The same S2 block under a known codec reads: the cases above fail
	// for their own reason.
	data := append(append([]byte(nil), good...), record2(codecS2, s2.Encode(nil, entry.buf))...)
	got, res, err := readAllEntries(t, data)
	require.NoError(t, err)
	assert.Equal(t, []string{"7:ok", "7:x"}, got)
	assert.NoError(t, res.Tail)
}

// BenchmarkWrite compresses and writes batches of event-like entries
// (the log's hot path on the flusher goroutine), version 2 (S2) against
// version 1 (zstd); reports MB/s of entries and the log's bytes per
// entry byte.
func BenchmarkWrite(b *testing.B) {
	var batch Batch
	for i := 0; batch.Size() < 1<<20; i++ {
		batch.Append(1, fmt.Appendf(nil, "Microsoft-Windows-Sysmon/Operational\x00%d\x00C:\\Windows\\System32\\svchost.exe\x00-k netsvcs -p -s Schedule %d\x00{%08x-1a2b-4c5d-8e9f-00aa00bb%04x}", i%29, i*7919, i*2654435761, i%997))
	}
	for _, v1 := range []bool{false, true} {
		b.Run(fmt.Sprintf("v1=%v", v1), func(b *testing.B) {
			w, err := create(filepath.Join(b.TempDir(), "x.wal"), false, v1)
			require.NoError(b, err)
			defer w.Close()
			b.SetBytes(int64(batch.Size()))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				require.NoError(b, w.Write(&batch))
			}
			b.ReportMetric(float64(w.Size())/float64(b.N)/float64(batch.Size()), "ratio")
		})
	}
}

// TestIncompressibleMaxRecordRefused: a batch of MaxRecord incompressible
// bytes compresses to more than MaxRecord, which Read would refuse, so
// Write refuses it and writes nothing; a slightly smaller one is written
// and reads back.
func TestIncompressibleMaxRecordRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("64 MiB of random bytes")
	}
	noise := make([]byte, MaxRecord-entryHeader)
	_, _ = rand.NewChaCha8([32]byte{7}).Read(noise)
	for _, v1 := range []bool{false, true} {
		p := filepath.Join(t.TempDir(), "x.wal")
		w, err := create(p, false, v1)
		require.NoError(t, err)
		var b Batch
		b.Append(1, noise)
		err = w.Write(&b)
		require.Error(t, err, "v1=%v", v1)
		assert.Contains(t, err.Error(), "compresses to")
		assert.Equal(t, int64(len(Magic)), w.Size())

		b.Reset()
		b.Append(1, noise[:MaxRecord-64<<10])
		require.NoError(t, w.Write(&b))
		require.NoError(t, w.Close())
		data, err := os.ReadFile(p)
		require.NoError(t, err)
		res, err := Read(bytes.NewReader(data), func(_ byte, body []byte) error {
			assert.Equal(t, noise[:MaxRecord-64<<10], body)
			return nil
		})
		require.NoError(t, err)
		assert.Equal(t, 1, res.Entries)
		assert.NoError(t, res.Tail)
	}
}

// TestWritersKeepNoOutputBuffer: a recording has a WAL per open segment,
// all written by one goroutine; each Writer keeping the buffer its last
// record was compressed into held a batch-sized buffer per open WAL
// (8 MB of them for 8 WALs of 1 MiB records), where a shared pool holds
// about one.
func TestWritersKeepNoOutputBuffer(t *testing.T) {
	const writers, size = 8, 1 << 20
	payload := make([]byte, size)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range payload {
		payload[i] = byte(rng.Uint32()) // incompressible: the record is as large as the batch
	}
	var b Batch
	b.Append(7, payload)
	dir := t.TempDir()
	ws := make([]*Writer, writers)
	for i := range ws {
		w, err := Create(filepath.Join(dir, fmt.Sprintf("%d.wal", i)), false)
		require.NoError(t, err)
		ws[i] = w
	}
	heap := func() uint64 {
		var ms runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&ms)
		return ms.HeapAlloc
	}
	before := heap()
	for _, w := range ws {
		require.NoError(t, w.Write(&b))
	}
	after := heap()
	for _, w := range ws {
		require.NoError(t, w.Close())
	}
	var grew uint64
	if after > before {
		grew = after - before
	}
	assert.Less(t, grew, uint64(3*size), "%d writers of %d-byte records retained %d bytes", writers, size, grew)
	runtime.KeepAlive(ws)
	runtime.KeepAlive(&b)
}
