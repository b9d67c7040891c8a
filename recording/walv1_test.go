package recording

import (
	"encoding/binary"
	"hash/crc32"
	"os"
	"testing"

	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/recording/wal"
)

// toWALv1 rewrites a version 2 WAL as the version 1 writer wrote it (magic
// EDRWAL1, each payload one zstd frame of the same entries), and returns
// where its records start.
func toWALv1(t *testing.T, v2 []byte) ([]byte, []int64) {
	z, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1), zstd.WithNoEntropyCompression(true))
	require.NoError(t, err)
	require.Equal(t, wal.Magic, string(v2[:8]))
	out := []byte(wal.MagicV1)
	var starts []int64
	for off := 8; off < len(v2); {
		n := int(binary.LittleEndian.Uint32(v2[off:]))
		payload := v2[off+8 : off+8+n]
		require.Equal(t, "\xedWAL\x01", string(payload[:5]))
		plain, err := s2.Decode(nil, payload[5:])
		require.NoError(t, err)
		frame := z.EncodeAll(plain, nil)
		starts = append(starts, int64(len(out)))
		out = binary.LittleEndian.AppendUint32(out, uint32(len(frame)))
		out = binary.LittleEndian.AppendUint32(out, crc32.Checksum(frame, crc32.MakeTable(crc32.Castagnoli)))
		out = append(out, frame...)
		off += 8 + n
	}
	return out, starts
}

// TestRecoverVersion1WAL: the WAL of a crashed older edr (version 1, zstd
// records) recovers every event; damaged, it recovers the records around
// the damage and keeps the damaged one aside, as with version 2.
func TestRecoverVersion1WAL(t *testing.T) {
	rel, data, _, want := crashedWALOf(t, 6, 3, "")
	v1, starts := toWALv1(t, data)
	require.Len(t, starts, 6)

	dir, walPath, st := recoverDamaged(t, rel, v1)
	got, _ := readAll(t, dir, ReaderOptions{})
	requireSame(t, want, got)
	assert.NoFileExists(t, walPath)
	assert.NoFileExists(t, walPath+".bad")
	assert.Equal(t, int64(len(want)), st.RecoveredEvents)

	bad := append([]byte(nil), v1...)
	bad[starts[2]+12] ^= 0xff
	dir, walPath, _ = recoverDamaged(t, rel, bad)
	got, _ = readAll(t, dir, ReaderOptions{})
	requireSame(t, append(append([]*event.Event(nil), want[:6]...), want[9:]...), got)
	kept, err := os.ReadFile(walPath + ".bad")
	require.NoError(t, err)
	assert.Equal(t, bad[starts[2]:starts[3]], kept)
}
