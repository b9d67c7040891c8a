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
