package pqfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sealedFile builds a minimal file the way the segment writer frames one:
// magic, data, a footer ending in FooterKeyValues (thrift-like: a field
// header byte, a length varint, the bytes), sealed, its length, magic.
func sealedFile(t testing.TB, data string) []byte {
	file := append(append([]byte(nil), Magic...), data...)
	var footer []byte
	for _, kv := range FooterKeyValues(crcOf(file)) {
		for _, s := range kv {
			footer = append(footer, 0x18)
			footer = binary.AppendUvarint(footer, uint64(len(s)))
			footer = append(footer, s...)
		}
	}
	footer = append(footer, 0)
	require.NoError(t, Seal(footer))
	file = append(file, footer...)
	file = binary.LittleEndian.AppendUint32(file, uint32(len(footer)))
	return append(file, Magic...)
}

func crcOf(b []byte) uint32 { return crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)) }

func TestSealedFileVerifies(t *testing.T) {
	file := sealedFile(t, "pages")
	footer, err := ReadFooter(bytes.NewReader(file), int64(len(file)))
	require.NoError(t, err)
	require.NoError(t, VerifyFooter(footer))
	_, err = VerifyData(bytes.NewReader(file), int64(len(file)), footer, 1<<20)
	require.NoError(t, err)
	_, err = VerifyData(bytes.NewReader(file), int64(len(file)), footer, 0) // streaming
	require.NoError(t, err)
}

// TestChecksumsNameTheDamage: a flipped data byte fails the data checksum
// (naming the region), a flipped footer byte the footer checksum; Reseal
// makes both pass again.
func TestChecksumsNameTheDamage(t *testing.T) {
	file := sealedFile(t, "pages")
	file[5] ^= 1
	footer, err := ReadFooter(bytes.NewReader(file), int64(len(file)))
	require.NoError(t, err)
	require.NoError(t, VerifyFooter(footer))
	_, err = VerifyData(bytes.NewReader(file), int64(len(file)), footer, 1<<20)
	require.ErrorIs(t, err, ErrDataChecksum)
	assert.Contains(t, err.Error(), "bytes 0..9")

	file = sealedFile(t, "pages")
	file[len(file)-9] ^= 1 // the footer's last byte, after the checksum
	footer, err = ReadFooter(bytes.NewReader(file), int64(len(file)))
	require.NoError(t, err)
	err = VerifyFooter(footer)
	require.ErrorIs(t, err, ErrCorrupt)
	assert.Contains(t, err.Error(), "footer checksum mismatch")

	file = sealedFile(t, "pages")
	file[5] ^= 1
	file[len(file)-9] ^= 1
	require.True(t, Reseal(file))
	footer, err = ReadFooter(bytes.NewReader(file), int64(len(file)))
	require.NoError(t, err)
	require.NoError(t, VerifyFooter(footer))
	_, err = VerifyData(bytes.NewReader(file), int64(len(file)), footer, 1<<20)
	require.NoError(t, err)
}

func TestReadFooterTruncated(t *testing.T) {
	file := sealedFile(t, "pages")
	for _, c := range []struct {
		file []byte
		want string
	}{
		{file[:11], "too short"},
		{file[:len(file)-1], "no Parquet magic"},
		{append([]byte("PAR1"), append([]byte{0xff, 0xff, 0, 0}, Magic...)...), "exceeds the file"},
	} {
		_, err := ReadFooter(bytes.NewReader(c.file), int64(len(c.file)))
		require.ErrorIs(t, err, ErrCorrupt)
		assert.Contains(t, err.Error(), c.want)
	}
}

// FuzzFooter feeds hostile files to the footer reader and checksums: they
// never panic, every content error wraps ErrCorrupt and says what is wrong,
// and a file Reseal accepts then verifies.
func FuzzFooter(f *testing.F) {
	f.Add(sealedFile(f, "pages"))
	f.Add(sealedFile(f, ""))
	f.Add([]byte("PAR1\x00\x00\x00\x00PAR1"))
	f.Add([]byte("PAR1crc32c:zzzzzzzzedr.data_crc32c\x18\x08\x04\x00\x00\x00PAR1"))
	f.Fuzz(func(t *testing.T, file []byte) {
		check := func(err error) {
			if err == nil {
				return
			}
			require.ErrorIs(t, err, ErrCorrupt)
			msg := strings.TrimPrefix(err.Error(), ErrCorrupt.Error()+": ")
			assert.NotEmpty(t, msg, "error says what is wrong")
		}
		size := int64(len(file))
		footer, err := ReadFooter(bytes.NewReader(file), size)
		check(err)
		if err == nil {
			check(VerifyFooter(footer))
			_, err = FooterValue(footer, DataCRCKey)
			check(err)
			for _, max := range []int64{0, size} {
				_, err = VerifyData(bytes.NewReader(file), size, footer, max)
				if err != nil && !errors.Is(err, ErrCorrupt) {
					t.Fatalf("data check: %v", err)
				}
			}
		}
		resealed := append([]byte(nil), file...)
		if Reseal(resealed) {
			footer, err := ReadFooter(bytes.NewReader(resealed), size)
			require.NoError(t, err)
			require.NoError(t, VerifyFooter(footer))
			_, err = VerifyData(bytes.NewReader(resealed), size, footer, size)
			require.NoError(t, err)
		}
	})
}
