package evtx

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/internal/testutil"
)

// seedLen keeps seeds small (the fuzzing engine slows to a crawl on
// inputs of a full 64 KiB chunk): the file header and the first records of
// the first chunk, which define their templates inline.
const seedLen = fileHeaderSize + 2560

// fuzzSeeds are real files, cut to seedLen, when the corpus is there.
func fuzzSeeds(f *testing.F) {
	dir := testutil.CorpusDir()
	for _, rel := range []string{
		"evtx-parser-samples/samples/Security_short_selected.evtx",
		"evtx-parser-samples/samples/issue_201.evtx",
		"evtx-parser-samples/samples/Microsoft-Windows-HelloForBusiness%4Operational.evtx",
		"evtx-parser-samples/samples/E_Windows_system32_winevt_logs_Microsoft-Windows-CAPI2%4Operational.evtx",
	} {
		if dir == "" {
			break
		}
		data, err := os.ReadFile(filepath.Join(dir, rel))
		if err == nil && len(data) >= seedLen {
			f.Add(data[:seedLen])
		}
	}
	f.Add([]byte("ElfFile\x00"))
	f.Add(append(make([]byte, fileHeaderSize), []byte("ElfChnk\x00")...))
}

// FuzzReadEVTX: corrupted files never panic, and every record is either
// delivered or counted as failed.
func FuzzReadEVTX(f *testing.F) {
	fuzzSeeds(f)
	d := NewDecoder(Options{})
	f.Fuzz(func(t *testing.T, data []byte) {
		n := int64(0)
		st, _ := d.Read(bytesReaderAt(data), int64(len(data)), "fuzz.evtx", func(e *event.Event) error {
			n++
			_ = e.Clone()
			return nil
		})
		if n != st.Records {
			t.Fatalf("delivered %d, counted %d", n, st.Records)
		}
	})
}

// FuzzChunk mutates the chunk body behind a valid file header and chunk
// magic, where the BinXML decoder does its work.
func FuzzChunk(f *testing.F) {
	dir := testutil.CorpusDir()
	if dir != "" {
		for _, rel := range []string{"evtx-parser-samples/samples/Security_short_selected.evtx", "evtx-parser-samples/samples/issue_201.evtx"} {
			if data, err := os.ReadFile(filepath.Join(dir, rel)); err == nil && len(data) >= seedLen {
				f.Add(data[fileHeaderSize+8 : seedLen])
			}
		}
	}
	f.Add(make([]byte, 600))
	hdr := make([]byte, fileHeaderSize)
	copy(hdr, fileMagic)
	d := NewDecoder(Options{})
	f.Fuzz(func(t *testing.T, body []byte) {
		data := append(append(append([]byte(nil), hdr...), chunkMagic...), body...)
		_, _ = d.Read(bytesReaderAt(data), int64(len(data)), "fuzz.evtx", func(*event.Event) error { return nil })
	})
}
