package evtx

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/internal/testutil"
)

// readBytes decodes an EVTX image and returns one line per event (record
// number, host, channel, event ID, every field) and the stats.
func readBytes(t *testing.T, b []byte) ([]string, Stats) {
	t.Helper()
	var out []string
	st, err := NewDecoder(Options{}).Read(bytesReaderAt(b), int64(len(b)), "damaged.evtx", func(e *event.Event) error {
		out = append(out, fmt.Sprintf("%d %s %s %d %s", e.RecordID, e.Host, e.Channel, e.EventID, e.Value(event.FComputer)))
		return nil
	})
	require.NoError(t, err)
	return out, st
}

// TestDamagedChunkMagic: a flipped byte in a chunk's magic, with the rest
// of the header intact, no longer loses the chunk's records: every byte of
// the magic, flipped whole or by one bit, in a real file, gives the same
// events as the undamaged file, with the damage counted and noted. With the
// header checksum damaged too, a well-formed header still is read; a slot
// whose header is not a chunk's stays a bad chunk.
func TestDamagedChunkMagic(t *testing.T) {
	for _, rel := range []string{"evtx-parser-samples/samples/post-Security.evtx", "evtx-parser-samples/samples/sysmon.evtx"} {
		orig, err := os.ReadFile(testutil.Corpus(t, rel))
		require.NoError(t, err)
		want, wst := readBytes(t, orig)
		require.Zero(t, wst.DamagedMagic)
		require.GreaterOrEqual(t, wst.Chunks, 2, rel)
		chunk := fileHeaderSize + chunkSize // chunk 1
		for i := 0; i < len(chunkMagic); i++ {
			for _, x := range []byte{0xff, 1, 0x80} {
				b := append([]byte(nil), orig...)
				b[chunk+i] ^= x
				got, st := readBytes(t, b)
				what := fmt.Sprintf("%s: magic byte %d ^ %#x", filepath.Base(rel), i, x)
				require.Equal(t, len(want), len(got), what)
				assert.Equal(t, want, got, what)
				assert.Equal(t, 1, st.DamagedMagic, what)
				assert.Equal(t, wst.Chunks, st.Chunks, what)
				assert.Equal(t, wst.BadChunks, st.BadChunks, what)
				assert.Equal(t, wst.Failed, st.Failed, what)
				assert.Equal(t, wst.ChecksumErrors, st.ChecksumErrors, what)
				assert.Contains(t, strings.Join(st.Notes, "\n"), fmt.Sprintf("chunk 1 (offset %#x): chunk magic damaged", chunk), what)
			}
		}
		// Magic and header checksum damaged: the header's structure decides.
		b := append([]byte(nil), orig...)
		b[chunk+2] ^= 0x10
		b[chunk+125] ^= 0x01
		got, st := readBytes(t, b)
		assert.Equal(t, want, got, "%s: magic and checksum", rel)
		assert.Equal(t, 1, st.DamagedMagic)
		assert.Equal(t, wst.ChecksumErrors+1, st.ChecksumErrors, "the checksum mismatch is counted")
		// Not a chunk's header: still a bad chunk, its records failed.
		b[chunk+40] ^= 0x01 // header size no longer 128
		got, st = readBytes(t, b)
		assert.Less(t, len(got), len(want), rel)
		assert.Zero(t, st.DamagedMagic)
		assert.Equal(t, wst.BadChunks+1, st.BadChunks)
	}
}
