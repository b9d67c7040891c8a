package wal

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func writeWAL(t testing.TB, records [][]string) []byte {
	p := filepath.Join(t.TempDir(), "x.wal")
	w, err := Create(p, false)
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
	data := writeWAL(t, [][]string{{"a", "bb"}, {""}, {"ccc"}})
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
	f.Add([]byte(Magic))
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
	data := writeWAL(t, [][]string{{"a"}, {"bb"}})
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
	recs := [][]string{{"r0"}, {"r1"}, {"r2"}, {"r3"}}
	data := writeWAL(t, recs)
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
	f.Add(uint8(5), uint16(40), []byte{0}, []byte(nil))
	f.Add(uint8(3), uint16(9), []byte("\xff\xff\xff\xff"), []byte(nil))
	f.Add(uint8(9), uint16(200), []byte{1, 2, 3}, []byte("junk\x28\xb5\x2f\xfd"))
	f.Fuzz(func(t *testing.T, n uint8, at uint16, patch, tail []byte) {
		var recs [][]string
		for i := 0; i < int(n%16)+1; i++ {
			recs = append(recs, []string{fmt.Sprintf("record %d %s", i, bytes.Repeat([]byte{'x'}, i*7))})
		}
		data := writeWAL(t, recs)
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
