package reorder

import (
	"container/heap"
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edr-lab/edr/event"
)

var hosts = []string{"dc01", "ws01", "ws02"}

// stream makes n events in (Time, Host, Seq) order with repeated times.
func stream(r *rand.Rand, n int) []*event.Event {
	out := make([]*event.Event, n)
	t := int64(1_700_000_000_000_000_000)
	for i := range out {
		t += int64(r.IntN(3)) * int64(time.Millisecond) // 0 → same time as the last
		out[i] = &event.Event{Time: t, Host: hosts[r.IntN(len(hosts))], Seq: uint64(i)}
	}
	sort.Slice(out, func(i, j int) bool { return Less(out[i], out[j]) })
	return out
}

// arrive reorders events as a source with delivery delay below maxDelay
// would deliver them: by time + a random delay.
func arrive(r *rand.Rand, evs []*event.Event, maxDelay int64) []*event.Event {
	type a struct {
		at int64
		ev *event.Event
	}
	as := make([]a, len(evs))
	for i, ev := range evs {
		as[i] = a{ev.Time + r.Int64N(maxDelay), ev}
	}
	sort.SliceStable(as, func(i, j int) bool { return as[i].at < as[j].at })
	out := make([]*event.Event, len(evs))
	for i := range as {
		out[i] = as[i].ev
	}
	return out
}

func run(cfg Config, in []*event.Event) ([]*event.Event, *Stage) {
	var out []*event.Event
	s := New(cfg, func(ev *event.Event) { out = append(out, ev) })
	for _, ev := range in {
		s.Push(ev)
	}
	s.Flush()
	return out, s
}

func TestShuffledWithinWindowComeOutSorted(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	want := stream(r, 20000)
	in := arrive(r, want, int64(2*time.Second))
	require.NotEqual(t, want, in, "the input must actually be shuffled")
	out, s := run(Config{Window: 2 * time.Second}, in)
	assert.Equal(t, want, out)
	st := s.Stats()
	assert.Equal(t, uint64(0), st.Late)
	assert.Equal(t, uint64(0), st.Overflow)
	assert.Equal(t, uint64(20000), st.Out)
}

func TestLateEventsEmittedAndCounted(t *testing.T) {
	sec := int64(time.Second)
	ev := func(at int64, seq uint64) *event.Event { return &event.Event{Time: at * sec, Host: "h", Seq: seq} }
	in := []*event.Event{ev(10, 1), ev(11, 2), ev(14, 3), ev(9, 4) /* 5 s behind: late */, ev(12, 5), ev(13, 6)}
	out, s := run(Config{Window: 2 * time.Second}, in)
	var seqs []uint64
	for _, e := range out {
		seqs = append(seqs, e.Seq)
	}
	// 14 releases 10 and 11; 9 is late and goes at once; 12 and 13 are
	// within the window of 14 and come out in order before it.
	assert.Equal(t, []uint64{1, 2, 4, 5, 6, 3}, seqs)
	assert.Equal(t, uint64(1), s.Stats().Late)
}

func TestAdvanceReleasesQuietSource(t *testing.T) {
	var out []uint64
	s := New(Config{Window: time.Second}, func(ev *event.Event) { out = append(out, ev.Seq) })
	s.Push(&event.Event{Time: 5 * int64(time.Second), Seq: 1})
	s.Advance(int64(5500 * time.Millisecond))
	assert.Empty(t, out, "within the window")
	s.Advance(int64(7 * time.Second))
	assert.Equal(t, []uint64{1}, out)
	s.Advance(0) // a watermark never goes back
	s.Push(&event.Event{Time: 5 * int64(time.Second), Seq: 2})
	assert.Equal(t, []uint64{1, 2}, out)
	assert.Equal(t, uint64(1), s.Stats().Late)
}

func TestOverflowEmitsOldestAndCounts(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	want := stream(r, 100)
	out, s := run(Config{Window: time.Hour, MaxBuffered: 8}, arrive(r, want, int64(10*time.Millisecond)))
	require.Len(t, out, 100)
	st := s.Stats()
	assert.Equal(t, uint64(92), st.Overflow)
	assertSortedExceptLate(t, out, st.Late, nil)
	assert.LessOrEqual(t, s.Stats().Buffered, 8)
}

// assertSortedExceptLate checks that out holds every event once and that
// out less the events marked late is sorted.
func assertSortedExceptLate(t *testing.T, out []*event.Event, late uint64, isLate map[*event.Event]bool) {
	t.Helper()
	seen := map[*event.Event]bool{}
	var prev *event.Event
	var lateSeen uint64
	for _, ev := range out {
		require.False(t, seen[ev], "emitted twice")
		seen[ev] = true
		if isLate != nil && isLate[ev] {
			lateSeen++
			continue
		}
		if prev != nil && isLate != nil {
			require.False(t, Less(ev, prev), "out of order: %+v after %+v", ev, prev)
		}
		prev = ev
	}
	if isLate != nil {
		assert.Equal(t, late, lateSeen)
	}
}

// TestPropertyRandomStreams checks, over random seeds, windows and delays
// (some beyond the window), that every event comes out exactly once, that
// the late count is exactly the events that arrived more than a window
// behind the latest time seen before them (computed here independently),
// and that the rest come out sorted.
func TestPropertyRandomStreams(t *testing.T) {
	for seed := uint64(0); seed < 200; seed++ {
		r := rand.New(rand.NewPCG(seed, 99))
		window := int64(1+r.IntN(5)) * int64(time.Millisecond)
		evs := stream(r, 1+r.IntN(2000))
		in := arrive(r, evs, window*int64(1+r.IntN(3)))
		isLate := map[*event.Event]bool{}
		var late uint64
		maxSeen, any := int64(0), false
		for _, ev := range in {
			if any && ev.Time < maxSeen-window {
				isLate[ev] = true
				late++
			}
			if !any || ev.Time > maxSeen {
				maxSeen, any = ev.Time, true
			}
		}
		out, s := run(Config{Window: time.Duration(window)}, in)
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			require.Len(t, out, len(in))
			assert.Equal(t, late, s.Stats().Late)
			assertSortedExceptLate(t, out, late, isLate)
		})
	}
}

func TestPushDoesNotAllocate(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	in := arrive(r, stream(r, 4096), int64(time.Millisecond))
	s := New(Config{Window: time.Millisecond, MaxBuffered: 1024}, func(*event.Event) {})
	i := 0
	allocs := testing.AllocsPerRun(4000, func() {
		s.Push(in[i%len(in)])
		i++
	})
	assert.Zero(t, allocs)
}

func BenchmarkPush(b *testing.B) {
	r := rand.New(rand.NewPCG(7, 8))
	in := arrive(r, stream(r, 1<<16), int64(2*time.Millisecond))
	span := in[len(in)-1].Time - in[0].Time + int64(time.Second)
	s := New(Config{Window: 2 * time.Millisecond}, func(*event.Event) {})
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		j := i & (len(in) - 1)
		if j == 0 && i > 0 {
			// Next pass, later in time (else every event would be late).
			s.Flush()
			for _, ev := range in {
				ev.Time += span
			}
		}
		s.Push(in[j])
	}
	b.StopTimer()
	if s.Stats().Late != 0 {
		b.Fatalf("%d late events: the benchmark measures the wrong path", s.Stats().Late)
	}
}

// refHeap is the stage's heap as it was on container/heap, the reference
// for the order of events with equal keys.
type refHeap []*event.Event

func (h refHeap) Len() int           { return len(h) }
func (h refHeap) Less(i, j int) bool { return Less(h[i], h[j]) }
func (h refHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *refHeap) Push(x any)        { *h = append(*h, x.(*event.Event)) }
func (h *refHeap) Pop() any {
	old := *h
	ev := old[len(old)-1]
	*h = old[:len(old)-1]
	return ev
}

// TestEqualKeysLeaveAsWithContainerHeap: decoded events carry no Seq yet,
// so equal (Time, Host) keys are common; the stage's own heap sifts as
// container/heap did, so such events leave in the same order as before
// (a live recording's Seq numbering, and so its alerts, stay the same).
func TestEqualKeysLeaveAsWithContainerHeap(t *testing.T) {
	// Runs of 50 events with one key (none is late: keys never decrease),
	// so the heap's sifting alone decides their order.
	in := make([]*event.Event, 20000)
	for i := range in {
		in[i] = &event.Event{Time: int64(i / 50), Host: "ws01", RecordID: uint64(i)}
	}
	const max = 64
	var want []uint64
	h := &refHeap{}
	for _, ev := range in { // the stage's Push, Overflow and Flush paths, no watermark release (window > span)
		if h.Len() >= max {
			want = append(want, heap.Pop(h).(*event.Event).RecordID)
		}
		heap.Push(h, ev)
	}
	for h.Len() > 0 {
		want = append(want, heap.Pop(h).(*event.Event).RecordID)
	}
	out, s := run(Config{Window: time.Hour, MaxBuffered: max}, in)
	got := make([]uint64, len(out))
	for i, ev := range out {
		got[i] = ev.RecordID
	}
	require.Equal(t, want, got)
	assert.NotZero(t, s.Stats().Overflow)
	assert.Zero(t, s.Stats().Late)
	assert.False(t, sort.SliceIsSorted(got, func(i, j int) bool { return got[i] < got[j] }), "the heap reorders equal keys: the test compares its sifting")
}

// TestTagsTravelWithTheirEvents: every event comes out with the tag it was
// pushed with, whether it left in order, early (overflow) or at once
// (late), so a caller can link an event to what it came from without a map.
func TestTagsTravelWithTheirEvents(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	want := stream(r, 5000)
	in := arrive(r, want, int64(3*time.Second)) // some arrive more than the window late
	tagOf := map[*event.Event]uint64{}
	got := map[*event.Event]uint64{}
	s := NewTagged(Config{Window: 2 * time.Second, MaxBuffered: 64}, func(ev *event.Event, tag uint64) {
		_, dup := got[ev]
		require.False(t, dup, "emitted twice")
		got[ev] = tag
	})
	for i, ev := range in {
		tagOf[ev] = uint64(i)*7 + 1
		s.PushTagged(ev, tagOf[ev])
	}
	s.Flush()
	st := s.Stats()
	require.Positive(t, st.Late, "the late path is exercised")
	require.Positive(t, st.Overflow, "the overflow path is exercised")
	assert.Equal(t, tagOf, got)
}
