package rawsource

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edr-lab/edr/capture"
	"github.com/edr-lab/edr/capture/raw"
	"github.com/edr-lab/edr/capture/rawsynth"
	"github.com/edr-lab/edr/capture/reorder"
	"github.com/edr-lab/edr/corpus/synth"
	"github.com/edr-lab/edr/event"
)

// genRecords is the generator's stream as raw records; cancel, when set,
// is called after that many records.
type genRecords struct {
	src    *rawsynth.Source
	after  int
	cancel func()
	n      int
}

func (g *genRecords) Run(ctx context.Context, s Sink) error {
	return g.src.Run(ctx, func(host string, r *raw.Record) error {
		g.n++
		if g.cancel != nil && g.n == g.after {
			g.cancel()
		}
		return s.Record(host, r)
	}, s.Event)
}

// rawRec is one WriteRaw call.
type rawRec struct {
	host string
	time int64
	id   uint16
	seq  uint64
}

type fakeRaw struct{ recs []rawRec }

func (f *fakeRaw) WriteRaw(host string, r *raw.Record, seq uint64) error {
	f.recs = append(f.recs, rawRec{host, r.UnixNano(), r.EventID, seq})
	return nil
}

// run drives a Source and returns the delivered events (copies).
func run(t *testing.T, ctx context.Context, s *Source) []*event.Event {
	t.Helper()
	var got []*event.Event
	err := s.Run(ctx, func(b []event.Event) error {
		require.LessOrEqual(t, len(b), 256)
		for i := range b {
			got = append(got, b[i].Clone())
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		require.NoError(t, err)
	}
	return got
}

const firstSeq = 1000

// TestRawRecordsDecodedOrderedEnrichedAndLinked: every record is decoded,
// the events come out in (time, host) order, enriched (ParentImage from
// the process table), and every record reaches the raw layer once, in
// capture order, the first one of each event linked to the Seq the
// recorder gives that event.
func TestRawRecordsDecodedOrderedEnrichedAndLinked(t *testing.T) {
	gen := rawsynth.NewSource(synth.Options{Seed: 3, Hosts: 3, Events: 30_000}, 0)
	fr := &fakeRaw{}
	s, err := New(Options{Records: &genRecords{src: gen}, Raw: fr, FirstSeq: firstSeq})
	require.NoError(t, err)
	got := run(t, context.Background(), s)
	st := s.Stats()
	require.NotEmpty(t, got)
	assert.Equal(t, uint64(len(got)), st.Events+st.Injected)
	assert.Equal(t, st.Events+st.Injected, st.Delivered)
	assert.Equal(t, gen.EventLog.Load(), st.Injected)
	assert.Positive(t, st.Injected, "Security 4688 and the like, as the Event Log delivers them")
	assert.Equal(t, st.Records, st.RawRecorded)
	assert.Equal(t, uint64(len(fr.recs)), st.Records)
	assert.Zero(t, st.Unhandled+st.UnknownVersion+st.Late+st.Overflow+st.RawFailed)
	assert.Equal(t, uint64(30_000), gen.Generated.Load())
	assert.Equal(t, gen.Generated.Load()-gen.Skipped.Load(), uint64(len(got))) // one event per encoded or Event Log event

	parents := 0
	for i := 1; i < len(got); i++ {
		require.False(t, reorder.Less(got[i], got[i-1]), "event %d out of order", i)
	}
	for _, e := range got {
		if e.Channel == event.ChannelSysmon && e.EventID == 1 && e.Value(event.MustField("ParentImage")) != "" {
			parents++
		}
	}
	assert.Positive(t, parents, "enrichment fills parents from the process table")

	// Capture order per host is time order here (the generator's), and
	// each linked record names its event.
	last := map[string]int64{}
	linked := 0
	for _, r := range fr.recs {
		assert.GreaterOrEqual(t, r.time, last[r.host])
		last[r.host] = r.time
		if r.seq == 0 {
			continue
		}
		linked++
		e := got[r.seq-firstSeq]
		assert.Equal(t, r.time, e.Time, "seq %d", r.seq)
		assert.Equal(t, r.host, e.Host, "seq %d", r.seq)
	}
	assert.Equal(t, st.Events, uint64(linked), "one linked record per decoded event")
}

// TestCancelDrains: cancelling stops the records; what was read is still
// decoded, delivered and recorded.
func TestCancelDrains(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	g := &genRecords{src: rawsynth.NewSource(synth.Options{Seed: 4, Hosts: 2, Events: 50_000}, 0), after: 5000, cancel: cancel}
	fr := &fakeRaw{}
	s, err := New(Options{Records: g, Raw: fr, FirstSeq: 1})
	require.NoError(t, err)
	got := run(t, ctx, s)
	st := s.Stats()
	assert.Less(t, g.n, 10_000, "the source stopped soon after the cancel")
	assert.Equal(t, uint64(g.n), st.Records)
	assert.Equal(t, st.Records, uint64(len(fr.recs)))
	assert.Equal(t, st.Delivered, uint64(len(got)))
	assert.Equal(t, st.Events+st.Injected, st.Delivered)
	assert.Positive(t, len(got))
}

// script feeds records and events by hand.
type script func(s Sink) error

func (f script) Run(_ context.Context, s Sink) error { return f(s) }

func procStart(host string, t time.Time, pid uint64, image string) *raw.Record {
	r := raw.Get()
	r.Provider, r.EventID, r.Version, r.Timestamp = capture.KernelProcess, 1, 4, int64(event.UnixNanoToFileTime(t.UnixNano()))
	r.AddNum("ProcessID", raw.U32, pid)
	r.AddNum("ParentProcessID", raw.U32, 4)
	r.AddString("ImageName", raw.String, image)
	return r
}

// TestHeartbeatReleasesByClockAndEventHook: with Now, a heartbeat releases
// an event once the clock is a window past it (no later event needed), and
// an event handed to Sink.Event is delivered in order with no raw record.
func TestHeartbeatReleasesByClockAndEventHook(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	now := t0
	var s *Source
	seen := func() uint64 { return s.Stats().Delivered }
	var afterFirstBeat, afterSecondBeat uint64
	fr := &fakeRaw{}
	recs := script(func(k Sink) error {
		require.NoError(t, k.Record("h1", procStart("h1", t0, 100, `C:\a.exe`)))
		var e event.Event
		e.Time, e.Host, e.Channel, e.Provider, e.EventID = t0.Add(-time.Millisecond).UnixNano(), "h1", event.ChannelSecurity, "Microsoft-Windows-Security-Auditing", 4624
		require.NoError(t, k.Event(&e))
		now = t0.Add(time.Second) // inside the window
		require.NoError(t, k.Record("", nil))
		afterFirstBeat = seen()
		now = t0.Add(3 * time.Second)
		require.NoError(t, k.Record("", nil))
		afterSecondBeat = seen()
		return nil
	})
	s, err := New(Options{Records: recs, Raw: fr, FirstSeq: 1, Now: func() int64 { return now.UnixNano() }})
	require.NoError(t, err)
	got := run(t, context.Background(), s)
	assert.Equal(t, uint64(0), afterFirstBeat, "still inside the reorder window")
	assert.Equal(t, uint64(2), afterSecondBeat, "the clock passed the window: both released")
	require.Len(t, got, 2)
	st := s.Stats()
	assert.Equal(t, Stats{Records: 1, Events: 1, Injected: 1, Delivered: 2, RawRecorded: 1}, Stats{Records: st.Records, Events: st.Events,
		Injected: st.Injected, Delivered: st.Delivered, RawRecorded: st.RawRecorded})
	assert.Equal(t, uint16(4624), got[0].EventID, "the hooked event is earlier")
	assert.Equal(t, uint16(1), got[1].EventID)
	require.Len(t, fr.recs, 1)
	assert.Equal(t, uint64(2), fr.recs[0].seq, "the record links to the second event delivered")
}

// TestEventStorageIsReused: the events the pipeline hands back (swapped,
// as edr live's queues do) carry their field storage back into the source,
// so decoding allocates little per event.
func TestEventStorageIsReused(t *testing.T) {
	const n = 60_000
	gen := rawsynth.NewSource(synth.Options{Seed: 5, Hosts: 2, Events: n}, 0)
	s, err := New(Options{Records: &genRecords{src: gen}})
	require.NoError(t, err)
	slot := make([]event.Event, 0, 256)
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	var got uint64
	require.NoError(t, s.Run(context.Background(), func(b []event.Event) error {
		slot = slot[:len(b)]
		for i := range b {
			slot[i], b[i] = b[i], slot[i] // live's swapInto
		}
		got += uint64(len(b))
		return nil
	}))
	runtime.ReadMemStats(&ms1)
	require.Positive(t, got)
	perEvent := float64(ms1.TotalAlloc-ms0.TotalAlloc) / float64(got)
	t.Logf("%.0f bytes allocated per event (generator, encoder, decoder, enrichment included)", perEvent)
	assert.Less(t, perEvent, 3000.0)
}

// renderRaw is a record's whole content as text.
func renderRaw(r *raw.Record) string {
	return fmt.Sprintf("%x %d %d %d %d %x %d %d %d %d %q %+v", r.Provider, r.EventID, r.Version, r.Opcode, r.Level,
		r.Keywords, r.PID, r.TID, r.Timestamp, r.HeaderFlags, r.UserData, r.Props)
}

// fullRaw records each record's whole content; with enc it is a
// RawEncoder whose encoding is that text.
type fullRaw struct{ recs []string }

func (f *fullRaw) WriteRaw(host string, r *raw.Record, seq uint64) error {
	f.recs = append(f.recs, fmt.Sprintf("%s %d %d %s", host, r.UnixNano(), seq, renderRaw(r)))
	return nil
}

type encRaw struct{ fullRaw }

func (f *encRaw) AppendRaw(dst []byte, r *raw.Record) []byte { return append(dst, renderRaw(r)...) }

func (f *encRaw) WriteRawEncoded(host string, at int64, enc []byte, seq uint64) error {
	f.recs = append(f.recs, fmt.Sprintf("%s %d %d %s", host, at, seq, enc))
	return nil
}

// releasedRecords checks, after the sink took each record, whether the
// record already went back to the pool (raw.Put empties it).
type releasedRecords struct {
	genRecords
	kept int
}

func (g *releasedRecords) Run(ctx context.Context, s Sink) error {
	return g.src.Run(ctx, func(host string, r *raw.Record) error {
		err := s.Record(host, r)
		if r.Timestamp != 0 || len(r.Props) > 0 {
			g.kept++
		}
		return err
	}, s.Event)
}

// TestEncodedRawRecordsReleasedAtOnce: with a RawEncoder the records
// waiting for their Seq are held encoded, so each record goes back to the
// pool as soon as it is decoded, and the raw layer gets the same records,
// links and order as through WriteRaw.
func TestEncodedRawRecordsReleasedAtOnce(t *testing.T) {
	opts := synth.Options{Seed: 6, Hosts: 3, Events: 30_000}
	plain := &fullRaw{}
	s, err := New(Options{Records: &genRecords{src: rawsynth.NewSource(opts, 0)}, Raw: plain, FirstSeq: firstSeq})
	require.NoError(t, err)
	want := run(t, context.Background(), s)

	enc := &encRaw{}
	recs := &releasedRecords{genRecords: genRecords{src: rawsynth.NewSource(opts, 0)}}
	s, err = New(Options{Records: recs, Raw: enc, FirstSeq: firstSeq})
	require.NoError(t, err)
	got := run(t, context.Background(), s)
	st := s.Stats()

	require.Equal(t, len(want), len(got))
	assert.Equal(t, st.Records, st.RawRecorded)
	require.Equal(t, len(plain.recs), len(enc.recs))
	assert.Greater(t, len(enc.recs), 30_000, "the raw layer got every record")
	for i := range plain.recs {
		require.Equal(t, plain.recs[i], enc.recs[i], "raw record %d", i)
	}
	assert.Zero(t, recs.kept, "records kept out of the pool after decoding")
}

// TestBadTimeDroppedAndCounted: a record whose FILETIME has no Unix
// nanosecond time (its conversion would wrap) is counted and dropped
// before the decoder, the raw layer or the WAL hold it; the records
// around it are delivered and recorded as usual.
func TestBadTimeDroppedAndCounted(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	bad := procStart("h", t0, 200, `\Device\HarddiskVolume2\bad.exe`)
	bad.Timestamp = raw.MaxFileTime + 1
	low := procStart("h", t0, 201, `\Device\HarddiskVolume2\low.exe`)
	low.Timestamp = -4459060090898233457 // the fuzzer's WAL entry
	recs := []*raw.Record{procStart("h", t0, 100, `\Device\HarddiskVolume2\a.exe`), bad, low,
		procStart("h", t0.Add(time.Second), 101, `\Device\HarddiskVolume2\b.exe`)}
	fr := &fakeRaw{}
	s, err := New(Options{Records: script(func(k Sink) error {
		for _, r := range recs {
			if err := k.Record("h", r); err != nil {
				return err
			}
		}
		return nil
	}), Raw: fr, FirstSeq: 1})
	require.NoError(t, err)
	got := run(t, context.Background(), s)
	st := s.Stats()
	assert.Equal(t, uint64(2), st.BadTime)
	assert.Equal(t, uint64(2), st.Records, "dropped records are not decoded")
	require.Len(t, got, 2)
	require.Len(t, fr.recs, 2)
	for i, r := range fr.recs {
		assert.GreaterOrEqual(t, r.time, t0.UnixNano(), "raw record %d", i)
	}
}
