package pqfile

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// packBits packs vals of width bits LSB first (Parquet's bit-packed order).
func packBits(vals []uint32, width int) []byte {
	out := make([]byte, (len(vals)*width+7)/8)
	for i, v := range vals {
		for b := range width {
			if v>>b&1 != 0 {
				bit := i*width + b
				out[bit>>3] |= 1 << (bit & 7)
			}
		}
	}
	return out
}

// TestUnpackEveryWidth: the word-at-a-time unpacking gives back what was
// packed bit by bit, at every width, including the values of the last
// bytes (read without a full 8-byte window) and a count short of the run.
func TestUnpackEveryWidth(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 12))
	for width := 0; width <= 32; width++ {
		for _, n := range []int{1, 7, 8, 9, 63, 64, 200} {
			want := make([]uint32, n)
			for i := range want {
				if width > 0 {
					want[i] = uint32(rng.Uint64() & (1<<width - 1))
				}
			}
			run := packBits(want, width)
			for _, k := range []int{n, n / 2} {
				got := unpack(run, width, k, nil)
				require.Len(t, got, k, "width %d n %d k %d", width, n, k)
				for i := range k {
					require.Equal(t, int32(want[i]), got[i], "width %d n %d value %d", width, n, i)
				}
			}
		}
	}
}

// TestHybridBitPackedRun: a bit-packed run of hybrid decodes through
// unpack, stopping at n values although the run's last group is padded.
func TestHybridBitPackedRun(t *testing.T) {
	vals := []uint32{5, 0, 1023, 7, 300, 2, 9, 1000, 512, 3}
	groups := (len(vals) + 7) / 8
	padded := append(append([]uint32(nil), vals...), make([]uint32, groups*8-len(vals))...)
	b := binary.AppendUvarint(nil, uint64(groups)<<1|1)
	b = append(b, packBits(padded, 10)...)
	got, err := hybrid(b, 10, len(vals), nil)
	require.NoError(t, err)
	want := make([]int32, len(vals))
	for i, v := range vals {
		want[i] = int32(v)
	}
	require.Equal(t, want, got)
}

// TestPresentLevelsRunsAndPacks: the positions of the 1s of RLE runs and
// bit-packed groups, appended after what pres held, and none past n.
func TestPresentLevelsRunsAndPacks(t *testing.T) {
	var b []byte
	b = binary.AppendUvarint(b, 3<<1) // 3 zeros
	b = append(b, 0)
	b = binary.AppendUvarint(b, 4<<1) // 4 ones: levels 3..6
	b = append(b, 1)
	b = binary.AppendUvarint(b, 2<<1|1) // 16 packed levels from 7
	b = append(b, 0b1000_0101, 0b1111_0000)
	got, err := presentLevels(b, 7+14, []int32{-1}) // levels 21, 22 are past n
	require.NoError(t, err)
	require.Equal(t, []int32{-1, 3, 4, 5, 6, 7, 9, 14, 19, 20}, got)
}
