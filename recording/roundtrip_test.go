package recording

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/edr-lab/edr/event"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const t0 = int64(1_764_000_000_000_000_000) // 2025-11-24T16:00:00Z

// writeAll writes events (cloned, so Seq assignment does not touch the
// caller's copies) and returns what the writer was given, with Seq set.
func writeAll(t testing.TB, dir string, opts WriterOptions, evs []*event.Event) []*event.Event {
	t.Helper()
	w, err := OpenWriter(dir, opts)
	require.NoError(t, err)
	out := make([]*event.Event, len(evs))
	for i, e := range evs {
		c := e.Clone()
		require.NoError(t, w.Write(c))
		out[i] = c
	}
	require.NoError(t, w.Close())
	return out
}

// readAll reads a recording into clones.
func readAll(t testing.TB, dir string, opts ReaderOptions) ([]*event.Event, ReadStats) {
	t.Helper()
	r, err := OpenReader(dir, opts)
	require.NoError(t, err)
	var out []*event.Event
	require.NoError(t, r.Run(func(b []event.Event) error {
		for i := range b {
			out = append(out, b[i].Clone())
		}
		return nil
	}))
	return out, r.Stats()
}

// sortKey orders events as the reader must.
func sortKey(evs []*event.Event) {
	sort.SliceStable(evs, func(i, j int) bool {
		a, b := evs[i], evs[j]
		if a.Time != b.Time {
			return a.Time < b.Time
		}
		if a.Host != b.Host {
			return a.Host < b.Host
		}
		return a.Seq < b.Seq
	})
}

func requireSame(t *testing.T, want, got []*event.Event) {
	t.Helper()
	require.Equal(t, len(want), len(got), "event count")
	for i := range want {
		if !event.Equal(want[i], got[i]) {
			require.Failf(t, "event differs", "index %d\nwant %s\ngot  %s", i, dump(want[i]), dump(got[i]))
		}
	}
}

func dump(e *event.Event) string {
	var b strings.Builder
	fmt.Fprintf(&b, "{T=%d H=%q C=%q P=%q ID=%d R=%d S=%d Src=%s F=%d", e.Time, e.Host, e.Channel, e.Provider, e.EventID, e.RecordID, e.Seq, e.Source, e.Flags)
	e.Range(func(id event.FieldID, v string) bool {
		fmt.Fprintf(&b, " %s=%q", id.Name(), v)
		return true
	})
	for _, kv := range e.Extra() {
		fmt.Fprintf(&b, " extra:%s=%q", kv.Key, kv.Value)
	}
	return b.String() + "}"
}

// defEvents builds, for every event type of the schema, events that set
// every field: one with distinct values, one with every field present and
// empty, one with only every other field (the rest absent).
func defEvents() []*event.Event {
	var out []*event.Event
	hosts := []string{"WS01.corp.example.com", "dc 01/ü", ""}
	for i, d := range event.Defs() {
		for variant := 0; variant < 3; variant++ {
			e := &event.Event{Time: t0 + int64(i)*1_000_000 + int64(variant), Host: hosts[(i+variant)%len(hosts)],
				Channel: d.Channel, Provider: d.Provider, EventID: d.EventID, RecordID: uint64(i*3 + variant + 1),
				Source: event.Source(variant + 1), Flags: event.Flags(variant)}
			for k, f := range d.Fields {
				switch variant {
				case 0:
					e.Set(f.ID, fmt.Sprintf("%s-%d-%s ✓ \"q\"\n", f.ID.Name(), i, d.Name))
				case 1:
					e.Set(f.ID, "")
				case 2:
					if k%2 == 0 {
						e.Set(f.ID, f.ID.Name())
					}
				}
			}
			if variant == 0 {
				e.AddExtra("UnknownField", "x")
				e.AddExtra("UnknownField", "duplicate key, later entry")
				e.AddExtra("", "")
				e.AddExtra("Binary", "\x00\xff")
			}
			out = append(out, e)
		}
	}
	return out
}

func TestRoundTripEverySchemaField(t *testing.T) {
	dir := t.TempDir()
	in := defEvents()
	want := writeAll(t, dir, WriterOptions{Source: event.SourceSynthetic, Producer: "test", RowGroupRows: 100}, in)
	sortKey(want)
	for _, par := range []int{1, 2, 4} {
		got, st := readAll(t, dir, ReaderOptions{Parallelism: par, BatchSize: 7})
		requireSame(t, want, got)
		assert.Empty(t, st.Errors)
		assert.Equal(t, int64(len(want)), st.Events)
	}
	// Every field of every def was present in some event and read back.
	seen := map[event.FieldID]bool{}
	got, _ := readAll(t, dir, ReaderOptions{})
	for _, e := range got {
		e.Range(func(id event.FieldID, v string) bool { seen[id] = true; return true })
	}
	for _, d := range event.Defs() {
		for _, f := range d.Fields {
			assert.True(t, seen[f.ID], "%s/%d field %s", d.Channel, d.EventID, f.ID.Name())
		}
	}
}

func TestRoundTripAbsentVersusEmpty(t *testing.T) {
	dir := t.TempDir()
	e := &event.Event{Time: t0, Host: "h", Channel: event.ChannelSysmon, EventID: 3}
	e.Set(mustF("Initiated"), "")
	e.Set(event.FImage, "")
	e.Set(event.FUser, "u")
	writeAll(t, dir, WriterOptions{}, []*event.Event{e})
	got, _ := readAll(t, dir, ReaderOptions{})
	require.Len(t, got, 1)
	v, ok := got[0].Get(mustF("Initiated"))
	assert.True(t, ok)
	assert.Equal(t, "", v)
	assert.True(t, got[0].Has(event.FImage))
	assert.False(t, got[0].Has(event.FCommandLine))
	assert.False(t, got[0].Has(mustF("DestinationIp")))
	assert.Equal(t, 3, got[0].Len())
}

func TestOrderAcrossOutOfOrderSegments(t *testing.T) {
	// Two interleaved "files" of the same host, a second host, written out of
	// time order, across rotations and days: the reader must merge them.
	dir := t.TempDir()
	var in []*event.Event
	day := int64(24 * 3600 * 1e9)
	for run := 0; run < 3; run++ {
		for i := 0; i < 500; i++ {
			ts := t0 + int64(i)*int64(3e9) + int64(run)*1e9 // runs interleave in time
			if i%50 == 0 {
				ts += day // a few events on the next day
			}
			e := &event.Event{Time: ts, Host: []string{"a", "b"}[i%2], Channel: event.ChannelSecurity, EventID: 4624, RecordID: uint64(i)}
			e.Set(mustF("TargetUserName"), fmt.Sprint("user", run, i))
			in = append(in, e)
		}
	}
	in = append(in, &event.Event{Time: t0 - 5, Host: "a", Channel: "X"}, &event.Event{Time: t0 - 5, Host: "a", Channel: "Y"})
	want := writeAll(t, dir, WriterOptions{RowGroupRows: 64, MaxSegmentAge: 20 * 60 * 1e9}, in)
	sortKey(want)
	for _, par := range []int{1, 3} {
		got, st := readAll(t, dir, ReaderOptions{Parallelism: par, BatchSize: 100})
		requireSame(t, want, got)
		assert.Greater(t, st.Segments, 4)
	}
}

func TestFiltersAndProjection(t *testing.T) {
	dir := t.TempDir()
	in := synthEvents(7, 3, 20000, 0)
	want := writeAll(t, dir, WriterOptions{RowGroupRows: 3000}, in)
	host := want[0].Host
	sortKey(want)
	from, to := want[5000].Time, want[15000].Time
	var sel []*event.Event
	for _, e := range want {
		if e.Host == host && e.Time >= from && e.Time < to {
			sel = append(sel, e)
		}
	}
	require.NotEmpty(t, sel)
	got, _ := readAll(t, dir, ReaderOptions{From: from, To: to, Hosts: []string{host}})
	requireSame(t, sel, got)

	fields := []event.FieldID{event.FImage, event.FCommandLine}
	got, _ = readAll(t, dir, ReaderOptions{Fields: fields})
	require.Len(t, got, len(want))
	for i, e := range want {
		p := &event.Event{Time: e.Time, Host: e.Host, Channel: e.Channel, Provider: e.Provider, EventID: e.EventID, RecordID: e.RecordID, Seq: e.Seq, Source: e.Source, Flags: e.Flags}
		for _, id := range fields {
			if v, ok := e.Get(id); ok {
				p.Set(id, v)
			}
		}
		require.True(t, event.Equal(p, got[i]), "projected event %d\nwant %s\ngot  %s", i, dump(p), dump(got[i]))
	}
}

func TestReopenContinuesSeqAndIsDeterministic(t *testing.T) {
	mk := func(n, off int) []*event.Event { return synthEvents(int64(off), 2, n, t0+int64(off)*1e12) }
	a, b := t.TempDir(), t.TempDir()
	for _, dir := range []string{a, b} {
		w1 := writeAll(t, dir, WriterOptions{RowGroupRows: 500}, mk(3000, 1))
		w2 := writeAll(t, dir, WriterOptions{RowGroupRows: 500}, mk(2000, 2))
		assert.Equal(t, uint64(1), w1[0].Seq)
		assert.Equal(t, uint64(3001), w2[0].Seq)
		all := append(w1, w2...)
		sortKey(all)
		got, _ := readAll(t, dir, ReaderOptions{})
		requireSame(t, all, got)
	}
	assert.Equal(t, treeDigest(t, a), treeDigest(t, b), "same input must give byte-identical recordings")
}

// treeDigest lists every file of a recording with its content.
func treeDigest(t *testing.T, dir string) map[string]string {
	out := map[string]string{}
	require.NoError(t, filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		require.NoError(t, err)
		if !info.IsDir() {
			b, err := os.ReadFile(p)
			require.NoError(t, err)
			rel, _ := filepath.Rel(dir, p)
			out[rel] = string(b)
		}
		return nil
	}))
	return out
}

func TestHostPathEncoding(t *testing.T) {
	seen := map[string]string{}
	for _, h := range []string{"WS01.corp", "", "_", ".", "..", "a/b c", "ü%", `DOM\host`} {
		enc := encodeHost(h)
		assert.NotContains(t, enc, "/")
		assert.NotContains(t, enc, `\`)
		assert.NotEqual(t, ".", enc)
		assert.NotEqual(t, "..", enc)
		assert.Equal(t, h, decodeHost(enc), "host %q via %q", h, enc)
		seen[enc] = h
	}
	assert.Len(t, seen, 8, "encodings are distinct")
}

func TestInspect(t *testing.T) {
	dir := t.TempDir()
	in := defEvents()
	want := writeAll(t, dir, WriterOptions{Producer: "test"}, in)
	w, err := OpenWriter(dir, WriterOptions{})
	require.NoError(t, err)
	assert.False(t, w.HasSource("sha256:abc"))
	require.NoError(t, w.Write(want[0].Clone()))
	w.AddLoss("etw_lost", 3)
	require.NoError(t, w.AddSource(SourceInfo{ContentHash: "sha256:abc", Path: "x.evtx", Events: 1}))
	assert.True(t, w.HasSource("sha256:abc"))
	require.NoError(t, w.Close())
	w, err = OpenWriter(dir, WriterOptions{})
	require.NoError(t, err)
	assert.True(t, w.HasSource("sha256:abc"))
	require.NoError(t, w.Close())

	s, err := Inspect(dir)
	require.NoError(t, err)
	assert.Equal(t, int64(len(want)+1), s.Events)
	byCh := map[string]int64{}
	for _, e := range want {
		byCh[e.Channel]++
	}
	byCh[want[0].Channel]++
	assert.Equal(t, byCh, s.ByChannel)
	assert.Equal(t, []string{"", "WS01.corp.example.com", "dc 01/ü"}, s.Hosts)
	assert.Equal(t, uint64(3), s.Loss["etw_lost"])
	require.Len(t, s.Sources, 1)
	assert.Equal(t, "x.evtx", s.Sources[0].Path)
	assert.Equal(t, []int{event.SchemaVersion}, s.SchemaVersions)
	assert.Zero(t, s.CorruptSegments)
	assert.Zero(t, s.PendingWALs)
}
