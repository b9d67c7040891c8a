package recording

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/edr-lab/edr/event"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Out-of-order input: the reader must deliver (time, host, seq) order, and
// every segment must be sorted, within the reorder window, or small.
func TestDisorderedInput(t *testing.T) {
	mk := func(i int, ts int64) *event.Event {
		e := &event.Event{Time: ts, Host: "h", Channel: event.ChannelSysmon, EventID: 1, RecordID: uint64(i)}
		e.Set(event.FImage, fmt.Sprint(`C:\p`, i%97, ".exe"))
		return e
	}
	const n = 40000
	rng := rand.New(rand.NewPCG(3, 4))
	cases := map[string]func() []*event.Event{
		// live-like: times jitter by up to 2 s around arrival order
		"jitter": func() []*event.Event {
			var out []*event.Event
			for i := 0; i < n; i++ {
				out = append(out, mk(i, t0+int64(i)*1e6+int64(rng.IntN(2000))*1e6))
			}
			return out
		},
		// import of three files of the same span, in file order
		"files": func() []*event.Event {
			var out []*event.Event
			for f := 0; f < 3; f++ {
				for i := 0; i < n/3; i++ {
					out = append(out, mk(f*n+i, t0+int64(i)*3e6+int64(f)*1e6))
				}
			}
			return out
		},
		"reverse": func() []*event.Event {
			var out []*event.Event
			for i := n; i > 0; i-- {
				out = append(out, mk(i, t0+int64(i)*1e6))
			}
			return out
		},
	}
	for name, gen := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			opts := WriterOptions{ReorderWindow: 5 * time.Second, RowGroupRows: 4000}
			want := writeAll(t, dir, opts, gen())
			sortKey(want)
			for _, par := range []int{1, 2} {
				got, st := readAll(t, dir, ReaderOptions{Parallelism: par})
				requireSame(t, want, got)
				assert.Empty(t, st.Errors)
			}
			from, to := want[n/4].Time, want[n/2].Time
			var sel []*event.Event
			for _, e := range want {
				if e.Time >= from && e.Time < to {
					sel = append(sel, e)
				}
			}
			got, _ := readAll(t, dir, ReaderOptions{From: from, To: to})
			requireSame(t, sel, got)
			paths, err := listSegments(dir)
			require.NoError(t, err)
			for _, p := range paths {
				m, err := ReadSegmentMeta(p)
				require.NoError(t, err)
				ok := m.Sorted || m.MaxDisorder <= int64(opts.ReorderWindow) || m.Events <= unsortedMax
				assert.True(t, ok, "%s: %d events, disorder %v", p, m.Events, time.Duration(m.MaxDisorder))
			}
			t.Logf("%s: %d segments", name, len(paths))
		})
	}
}
