package recording

import (
	"encoding/binary"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestVerifyFindsDataDamage: a byte changed in a segment's data pages
// leaves its footer intact, so Inspect (footers only, and says so) finds
// nothing, while Verify reads every page, counts the segment corrupt and
// names it; where the damage breaks a page, the row group, column and page.
func TestVerifyFindsDataDamage(t *testing.T) {
	dir, victim, _ := corruptFixture(t)
	orig, err := os.ReadFile(victim)
	require.NoError(t, err)
	dataEnd := len(orig) - 8 - int(binary.LittleEndian.Uint32(orig[len(orig)-8:]))
	rng := rand.New(rand.NewPCG(4, 4))
	placed := 0
	for i := 0; i < 40; i++ {
		pos := 4 + rng.IntN(dataEnd-4)
		b := append([]byte(nil), orig...)
		b[pos] ^= 0xff
		require.NoError(t, os.WriteFile(victim, b, 0o644))

		s, err := Inspect(dir)
		require.NoError(t, err)
		assert.Zero(t, s.CorruptSegments, "byte %d: footers are intact", pos)
		assert.Equal(t, "footers", s.Checked)

		s, err = Verify(dir)
		require.NoError(t, err)
		assert.Equal(t, "all pages", s.Checked)
		require.Equal(t, 1, s.CorruptSegments, "byte %d", pos)
		require.Len(t, s.Errors, 1)
		assert.Contains(t, s.Errors[0], "segment "+victim+": corrupt segment: data checksum mismatch")
		if strings.Contains(s.Errors[0], "row group") {
			assert.Regexp(t, `row group \d+, column [A-Za-z.]+, page \d+`, s.Errors[0])
			placed++
		}
	}
	t.Logf("%d of 40 damaged bytes located to a page", placed)
	assert.Positive(t, placed, "some damage is located to its page")

	require.NoError(t, os.WriteFile(victim, orig, 0o644))
	s, err := Verify(dir)
	require.NoError(t, err)
	assert.Zero(t, s.CorruptSegments)
	assert.Empty(t, s.Errors)
	assert.Equal(t, int64(3000), s.Events)
}
