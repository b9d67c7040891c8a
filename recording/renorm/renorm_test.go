package renorm

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edr-lab/edr/capture/decode"
	"github.com/edr-lab/edr/capture/raw"
	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/internal/testutil"
	"github.com/edr-lab/edr/recording"
)

// fixture is one recorded fixture file: its records, captured on host.
type fixture struct {
	host string
	recs []*raw.Record
}

func fixtures(t *testing.T) []fixture {
	dir := testutil.Shared(t, "etw/rustinel-fixtures/tests/fixtures/etw")
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	require.NoError(t, err)
	var out []fixture
	for _, p := range paths {
		fx, err := raw.LoadFixtureFile(p)
		require.NoError(t, err)
		if fx.Provenance.Synthetic() {
			continue // not a recording (shared/etw/README.md)
		}
		out = append(out, fixture{"host-" + strings.TrimSuffix(filepath.Base(p), ".json"), fx.Records})
	}
	require.NotEmpty(t, out)
	return out
}

// canon renders an event for comparison: every header field but Seq (the
// output numbers events afresh), every field and the key/value part.
func canon(e *event.Event) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d|%s|%s|%s|%d|%d|%v|%d", e.Time, e.Host, e.Channel, e.Provider, e.EventID, e.RecordID, e.Source, e.Flags)
	e.Range(func(id event.FieldID, v string) bool {
		fmt.Fprintf(&b, "|%d=%q", id, v)
		return true
	})
	for _, kv := range e.Extra() {
		fmt.Fprintf(&b, "|x:%q=%q", kv.Key, kv.Value)
	}
	return b.String()
}

func readEvents(t *testing.T, dir string) (bySeq map[uint64]string, all []string) {
	rd, err := recording.OpenReader(dir, recording.ReaderOptions{Strict: true})
	require.NoError(t, err)
	bySeq = map[uint64]string{}
	require.NoError(t, rd.Run(func(batch []event.Event) error {
		for i := range batch {
			c := canon(&batch[i])
			bySeq[batch[i].Seq] = c
			all = append(all, c)
		}
		return nil
	}))
	sort.Strings(all)
	return bySeq, all
}

func synthEvent(i int) *event.Event {
	e := &event.Event{Time: 1_700_000_000_000_000_000 + int64(i), Host: "imported", Channel: event.ChannelSysmon,
		Provider: event.ProviderSysmon, EventID: 1, RecordID: uint64(i), Source: event.SourceEVTX}
	e.Set(event.FImage, `C:\imported.exe`)
	e.AddExtra("k", fmt.Sprint(i))
	return e
}

// source writes the recording an old, broken decoder would have left: the
// raw records with no event at all but one wrong ETW event, beside events
// imported from EVTX.
func source(t *testing.T, dir string, fxs []fixture) {
	w, err := recording.OpenWriter(dir, recording.WriterOptions{})
	require.NoError(t, err)
	for _, fx := range fxs {
		for _, r := range fx.recs {
			require.NoError(t, w.WriteRaw(fx.host, r, 0))
		}
		bad := &event.Event{Time: fx.recs[0].UnixNano(), Host: fx.host, Channel: event.ChannelSysmon, EventID: 99, Source: event.SourceETW}
		require.NoError(t, w.Write(bad))
	}
	for i := 0; i < 5; i++ {
		require.NoError(t, w.Write(synthEvent(i)))
	}
	require.NoError(t, w.Close())
}

// TestRenormalizeMatchesDirectDecoding: renormalizing gives exactly the
// events today's decoders make of the fixtures, plus the imported events
// unchanged; the old ETW event is gone; the raw layer is copied record for
// record, each linked to the first event it yields.
func TestRenormalizeMatchesDirectDecoding(t *testing.T) {
	fxs := fixtures(t)
	src, dst := t.TempDir(), filepath.Join(t.TempDir(), "out")
	source(t, src, fxs)

	var want []string
	firstOf := map[string]string{} // host/record index → first event decoded from it
	for _, fx := range fxs {
		d := decode.New(decode.Options{Host: fx.host})
		for i, r := range fx.recs {
			key := fmt.Sprint(fx.host, "/", i)
			d.Decode(r, func(e *event.Event) {
				c := canon(e)
				want = append(want, c)
				if _, ok := firstOf[key]; !ok {
					firstOf[key] = c
				}
			})
		}
		d.Flush(func(e *event.Event) { want = append(want, canon(e)) })
	}
	for i := 0; i < 5; i++ {
		want = append(want, canon(synthEvent(i)))
	}
	sort.Strings(want)

	st, err := Run(src, dst, recording.WriterOptions{})
	require.NoError(t, err)
	t.Logf("%+v", st)
	bySeq, got := readEvents(t, dst)
	require.Equal(t, len(want), len(got))
	for i := range want {
		require.Equal(t, want[i], got[i], "event %d", i)
	}
	assert.EqualValues(t, 5, st.Copied)
	assert.EqualValues(t, len(fxs), st.Replaced)
	assert.EqualValues(t, len(want)-5, st.Emitted)
	assert.Positive(t, st.Emitted)

	// The raw layer: the same records, each linked to its first event.
	type rec struct {
		host string
		ts   int64
		id   uint16
	}
	var srcRecs, dstRecs []rec
	require.NoError(t, recording.ReadRaw(src, recording.RawFilter{}, func(r *recording.RawRecord) error {
		srcRecs = append(srcRecs, rec{r.Host, r.Record.Timestamp, r.Record.EventID})
		return nil
	}))
	idx := map[string]int{}
	linked := 0
	require.NoError(t, recording.ReadRaw(dst, recording.RawFilter{}, func(r *recording.RawRecord) error {
		dstRecs = append(dstRecs, rec{r.Host, r.Record.Timestamp, r.Record.EventID})
		key := fmt.Sprint(r.Host, "/", idx[r.Host])
		idx[r.Host]++
		if first, ok := firstOf[key]; ok {
			require.Equal(t, first, bySeq[r.Seq], "raw record %s links to its first event", key)
			linked++
		} else {
			require.Zero(t, r.Seq, "raw record %s yielded no event", key)
		}
		return nil
	}))
	assert.Equal(t, srcRecs, dstRecs)
	assert.Equal(t, int64(len(srcRecs)), st.RawRecords)
	assert.Equal(t, len(firstOf), linked)
}

func digest(t *testing.T, dir string) map[string]string {
	out := map[string]string{}
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(p, ".writer.lock") {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		h := sha256.Sum256(b)
		out[rel] = hex.EncodeToString(h[:])
		return nil
	}))
	return out
}

// TestRenormalizeDeterministic: two runs give byte-identical recordings.
func TestRenormalizeDeterministic(t *testing.T) {
	fxs := fixtures(t)
	src := t.TempDir()
	source(t, src, fxs)
	a, b := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	_, err := Run(src, a, recording.WriterOptions{})
	require.NoError(t, err)
	_, err = Run(src, b, recording.WriterOptions{})
	require.NoError(t, err)
	da := digest(t, a)
	require.NotEmpty(t, da)
	assert.Equal(t, da, digest(t, b))
}

func TestRenormalizeRefusesNonEmptyOutput(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dst, "x"), nil, 0o644))
	_, err := Run(src, dst, recording.WriterOptions{})
	assert.ErrorContains(t, err, "is not empty")
}
