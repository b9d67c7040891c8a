package recording

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/recording/internal/pqfile"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// corruptFixture writes a recording of three segments (one per host) and
// returns it, the path of the segment to damage, and the events of the
// other two.
func corruptFixture(t *testing.T) (dir, victim string, others []*event.Event) {
	dir = t.TempDir()
	in := synthEvents(5, 3, 3000, 0)
	want := writeAll(t, dir, WriterOptions{RowGroupRows: 400}, in)
	paths, err := listSegments(dir)
	require.NoError(t, err)
	require.Len(t, paths, 3)
	victim = paths[1]
	vh, _ := partitionHost(victim)
	for _, e := range want {
		if e.Host != vh {
			others = append(others, e)
		}
	}
	sortKey(others)
	return dir, victim, others
}

// checkDamaged reads a recording whose victim segment is damaged: tolerant
// mode must deliver every event of the other segments, skip the victim with
// an error naming it, and never panic; strict mode must fail naming it.
func checkDamaged(t *testing.T, dir, victim string, others []*event.Event, what string) {
	t.Helper()
	got, st := readAll(t, dir, ReaderOptions{})
	require.Equal(t, 1, st.SegmentsSkipped, "%s: skipped", what)
	// Footer or data damage: counted the same way (selected includes the
	// skipped one, read is the rest).
	assert.Equal(t, 3, st.Segments, "%s: selected", what)
	assert.Equal(t, 2, st.SegmentsRead, "%s: read", what)
	require.Len(t, st.Errors, 1)
	var se *SegmentError
	require.True(t, errors.As(st.Errors[0], &se), "%s: %v is a SegmentError", what, st.Errors[0])
	assert.Equal(t, victim, se.Path)
	assert.Contains(t, st.Errors[0].Error(), victim)
	assert.ErrorIs(t, st.Errors[0], ErrCorrupt)
	// Nothing of the victim was delivered (checksums are verified before
	// any page is decoded), and everything else was.
	requireSame(t, others, got)

	r, err := OpenReader(dir, ReaderOptions{Strict: true})
	if err == nil {
		err = r.Run(func([]event.Event) error { return nil })
	}
	require.Error(t, err, "%s: strict", what)
	assert.Contains(t, err.Error(), victim)

	sum, err := Inspect(dir)
	require.NoError(t, err)
	_ = sum // footer-only: a damaged data region is only seen by a reader
}

func TestCorruptZeroLength(t *testing.T) {
	dir, victim, others := corruptFixture(t)
	require.NoError(t, os.Truncate(victim, 0))
	checkDamaged(t, dir, victim, others, "zero-length")
	sum, err := Inspect(dir)
	require.NoError(t, err)
	assert.Equal(t, 1, sum.CorruptSegments)
	assert.Contains(t, sum.Errors[0], victim)
}

func TestCorruptTruncated(t *testing.T) {
	dir, victim, others := corruptFixture(t)
	orig, err := os.ReadFile(victim)
	require.NoError(t, err)
	for _, n := range []int{1, 4, 8, len(orig) / 3, len(orig) / 2, len(orig) - 9, len(orig) - 8, len(orig) - 1} {
		require.NoError(t, os.WriteFile(victim, orig[:n], 0o644))
		checkDamaged(t, dir, victim, others, "truncated")
	}
}

func TestCorruptBitFlips(t *testing.T) {
	for _, streamed := range []bool{false, true} {
		t.Run(map[bool]string{false: "in-memory", true: "streamed"}[streamed], func(t *testing.T) {
			if streamed {
				defer func(v int64) { inMemoryMax = v }(inMemoryMax)
				inMemoryMax = 0 // verify in a streaming pass, decode from the file
			}
			testBitFlips(t)
		})
	}
}

func testBitFlips(t *testing.T) {
	dir, victim, others := corruptFixture(t)
	orig, err := os.ReadFile(victim)
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(9, 9))
	positions := []int{0, 3, 4, len(orig) - 1, len(orig) - 5, len(orig) - 8}
	for i := 0; i < 80; i++ {
		positions = append(positions, rng.IntN(len(orig)))
	}
	for _, pos := range positions {
		b := append([]byte(nil), orig...)
		b[pos] ^= 1 << rng.IntN(8)
		require.NoError(t, os.WriteFile(victim, b, 0o644))
		checkDamaged(t, dir, victim, others, "bit flip")
	}
}

func TestCorruptNotAParquetFile(t *testing.T) {
	dir, victim, others := corruptFixture(t)
	require.NoError(t, os.WriteFile(victim, []byte("PAR1 this is not parquet at all PAR1"), 0o644))
	checkDamaged(t, dir, victim, others, "garbage")
	// A stray non-segment file that only looks like one.
	stray := filepath.Join(filepath.Dir(victim), "stray.parquet")
	require.NoError(t, os.WriteFile(stray, nil, 0o644))
	_, st := readAll(t, dir, ReaderOptions{})
	assert.Equal(t, 2, st.SegmentsSkipped)
}

// FuzzSegmentReader damages a segment and reads it: the reader must never
// panic, and every error must name the segment. Inputs are small so the
// fuzzer stays fast (a segment is ~80 KB, mostly footer): data[0] picks the
// mode, bit 0 recomputes the checksums over the damage (pqfile.Reseal) so
// the fuzzer reaches the page decoder itself, bit 1 uses the rest as raw file bytes; otherwise the rest is a
// list of 3-byte patches (16-bit offset scaled to the file, xor byte)
// applied to a valid segment, the last 2 bytes truncating it when odd.
//
// No directory outlives the target: fuzz workers are stopped with SIGINT,
// which skips f's cleanups (f.TempDir used here left one directory per
// worker in /tmp), so the seed segment's directory is removed before
// fuzzing starts and each input uses its own t.TempDir.
func FuzzSegmentReader(f *testing.F) {
	valid := fuzzSeedSegment(f)
	f.Add([]byte{0})
	f.Add([]byte{1, 0x10, 0x00, 0xff})
	f.Add([]byte{1, 0x80, 0x00, 0x01, 0x40, 0x00, 0x80})
	f.Add([]byte{3, 'P', 'A', 'R', '1'})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		var file []byte
		if data[0]&2 != 0 {
			file = data[1:]
		} else {
			file = append([]byte(nil), valid...)
			p := data[1:]
			for len(p) >= 3 {
				off := (int(p[0])<<8 | int(p[1])) * len(file) >> 16
				file[off] ^= p[2]
				p = p[3:]
			}
			if len(p) == 2 && p[1]&1 == 1 {
				file = file[:(int(p[0])<<8|int(p[1]))*len(file)>>16]
			}
		}
		readDamaged(t, file, data[0]&1 == 1)
	})
}

// fuzzSeedSegment writes a small segment and returns its bytes, removing
// the recording before it returns.
func fuzzSeedSegment(f *testing.F) []byte {
	dir, err := os.MkdirTemp("", "edr-fuzz-seed-*")
	require.NoError(f, err)
	defer os.RemoveAll(dir)
	e := &event.Event{Time: t0, Host: "h", Channel: "c", EventID: 1}
	e.Set(event.FImage, "img")
	e.Set(event.FUser, "")
	e.AddExtra("k", "v")
	e2 := e.Clone()
	e2.Set(event.FCommandLine, "cmd")
	// a folded column and Spellings ("ProcessID +processid": no definition)
	e3 := e.Clone()
	e3.Set(event.MustField("ProcessID"), "1")
	e3.Set(event.MustField("processid"), "2")
	writeAll(f, dir, WriterOptions{RowGroupRows: 2}, []*event.Event{e, e2, e3, e2, e})
	paths, err := listSegments(dir)
	require.NoError(f, err)
	valid, err := os.ReadFile(paths[0])
	require.NoError(f, err)
	return valid
}

// readDamaged reads file as a one-segment recording. With reseal, the
// file's checksums are first recomputed over the damage, so that the page
// decoder, not the checksum, meets it.
func readDamaged(t *testing.T, file []byte, reseal bool) {
	if reseal {
		file = append([]byte(nil), file...)
		pqfile.Reseal(file)
	}
	rec := t.TempDir()
	p := filepath.Join(rec, "host=h", "date=2025-11-24", "x.parquet")
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, file, 0o644))
	r, err := OpenReader(rec, ReaderOptions{Parallelism: 1})
	require.NoError(t, err)
	require.NoError(t, r.Run(func(b []event.Event) error { return nil }))
	for _, err := range r.Stats().Errors {
		var se *SegmentError
		require.True(t, errors.As(err, &se), "%v", err)
	}
	_, err = Inspect(rec)
	require.NoError(t, err)
}

// FuzzWALEvent decodes arbitrary WAL event entries (the recovery path).
func FuzzWALEvent(f *testing.F) {
	e := &event.Event{Time: t0, Host: "h", Channel: "c", EventID: 1, Seq: 3}
	e.Set(event.FImage, "img")
	e.AddExtra("k", "v")
	f.Add(appendEvent(nil, e))
	f.Add([]byte{})
	d := newEventDecoder(fieldNames())
	f.Fuzz(func(t *testing.T, data []byte) {
		var ev, again event.Event
		if err := d.decode(data, &ev); err == nil {
			// The decoder accepts only appendEvent's own encodings: what
			// decodes re-encodes to the same bytes, and decodes again to
			// the same event.
			enc := appendEvent(nil, &ev)
			require.Equal(t, data, enc, "%s", dump(&ev))
			require.NoError(t, d.decode(enc, &again))
			assert.True(t, event.Equal(&ev, &again), "%s\n%s", dump(&ev), dump(&again))
		}
	})
}

// TestWALEventDecoderRejectsNonCanonical: inputs that decoded once but
// re-encoded differently (testdata/fuzz/FuzzWALEvent) are errors now.
func TestWALEventDecoderRejectsNonCanonical(t *testing.T) {
	d := newEventDecoder(fieldNames())
	img := uint64(event.FImage)
	user := uint64(event.FUser)
	require.Less(t, img, uint64(0x80))
	require.Less(t, user, uint64(0x80))
	// header: time 24, seq/rec/eid 48, source, flags, host "0", channel "0", provider "".
	hdr := []byte("0000\x00\x00\x010\x010\x00")
	ev := func(fields, extra []byte) []byte {
		return append(append(append([]byte(nil), hdr...), fields...), extra...)
	}
	var e event.Event
	require.NoError(t, d.decode(ev([]byte{1, byte(img), 1, 'x'}, []byte{0}), &e), "a valid entry")
	assert.Equal(t, ev([]byte{1, byte(img), 1, 'x'}, []byte{0}), appendEvent(nil, &e))
	for _, c := range []struct {
		name string
		in   []byte
		want string
	}{
		// The smoke run's input: field index 0 names EventID, a header field.
		{"header field as data", []byte("000000\x010\x010\x00\x01\x00\x00\x00"), "header field"},
		{"repeated field", ev([]byte{2, byte(img), 1, 'a', byte(img), 1, 'b'}, []byte{0}), "out of order or repeated"},
		{"descending fields", ev([]byte{2, byte(max(img, user)), 0, byte(min(img, user)), 0}, []byte{0}), "out of order or repeated"},
		{"non-minimal varint", ev([]byte{0x81, 0x00, byte(img), 0}, []byte{0}), "truncated"},
		{"non-minimal time", append([]byte{0xb0, 0x00}, ev([]byte{0}, []byte{0})[1:]...), "truncated"},
	} {
		err := d.decode(c.in, &e)
		require.Error(t, err, c.name)
		assert.Contains(t, err.Error(), c.want, c.name)
	}
}
