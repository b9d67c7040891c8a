package replay

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand"
	"strings"
	"sync"
	"testing"

	"github.com/edr-lab/edr/detect"
	"github.com/edr-lab/edr/detect/detecttest"
	"github.com/edr-lab/edr/detect/sink"
	"github.com/edr-lab/edr/event"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sliceSource delivers events in batches of n, reusing its batch buffer as
// the recording reader does.
type sliceSource struct {
	evs []*event.Event
	n   int
	err error
}

func (s *sliceSource) Run(fn func([]event.Event) error) error {
	buf := make([]event.Event, s.n)
	for i := 0; i < len(s.evs); i += s.n {
		j := min(i+s.n, len(s.evs))
		b := buf[:j-i]
		for k := range b {
			b[k].CopyFrom(s.evs[i+k])
		}
		if err := fn(b); err != nil {
			return err
		}
	}
	return s.err
}

// scenario builds a host's events with shipped-rule hits sprinkled in, in
// (time, host, seq) order.
func scenario(host string, seed int64, n int) []*event.Event {
	r := rand.New(rand.NewSource(seed))
	var evs []*event.Event
	t := int64(1_715_000_000_000_000_000)
	for i := 0; i < n; i++ {
		t += int64(r.Intn(3)) * 1e6 // ties in time across hosts happen
		img := []string{`C:\Windows\System32\notepad.exe`, `C:\Windows\System32\whoami.exe`, `C:\Windows\System32\vssadmin.exe`}[r.Intn(3)]
		cl := "x /all"
		if strings.HasSuffix(img, "vssadmin.exe") {
			cl = "vssadmin delete shadows /all /quiet"
		}
		ev := detecttest.Sysmon(1, t, host, "ProcessGuid", fmt.Sprintf("{%08d-0000-0000-0000-%012d}", seed, i), "ProcessId", fmt.Sprint(1000+i),
			"Image", img, "CommandLine", cl, "ParentImage", `C:\Windows\explorer.exe`)
		ev.Seq = uint64(i + 1)
		evs = append(evs, ev)
	}
	return evs
}

func shippedRules(t *testing.T) *Rules {
	r, err := LoadRules(RuleOptions{SigmaPaths: []string{"../rules/sigma"}, IOC: IOCFiles("../rules/ioc"), SigmaRuleset: "edr/rules", MatchDebug: detect.MatchDebugSummary})
	require.NoError(t, err)
	require.Empty(t, r.Errors)
	t.Cleanup(r.Close)
	return r
}

func collect(t *testing.T, src Source) []*event.Event {
	var got []*event.Event
	require.NoError(t, src.Run(func(batch []event.Event) error {
		for i := range batch {
			got = append(got, batch[i].Clone())
		}
		return nil
	}))
	return got
}

func TestMergeOrdersAcrossSources(t *testing.T) {
	a, b := scenario("WS-A", 1, 3000), scenario("WS-B", 2, 2500)
	got := collect(t, Merge(&sliceSource{evs: a, n: 7}, &sliceSource{evs: b, n: 1000}))
	require.Len(t, got, len(a)+len(b))
	for i := 1; i < len(got); i++ {
		require.False(t, Less(got[i], got[i-1]), "out of order at %d", i)
	}
	// Equal keys in two sources: the first source's event comes first.
	x := scenario("WS-A", 1, 5)
	y := scenario("WS-A", 1, 5)
	for _, ev := range y {
		ev.AddExtra("from", "second")
	}
	got = collect(t, Merge(&sliceSource{evs: y, n: 2}, &sliceSource{evs: x, n: 3}))
	require.Len(t, got, 10)
	for i := 0; i < 10; i += 2 {
		v, _ := got[i].LookupExtra("from")
		assert.Equal(t, "second", v, "tie at %d goes to the source listed first", i)
	}
}

func TestMergePropagatesErrors(t *testing.T) {
	boom := errors.New("segment x: corrupt")
	err := Merge(&sliceSource{evs: scenario("A", 1, 50), n: 10, err: boom}, &sliceSource{evs: scenario("B", 2, 5000), n: 10}).Run(func([]event.Event) error { return nil })
	require.ErrorIs(t, err, boom)
	stop := errors.New("sink full")
	err = Merge(&sliceSource{evs: scenario("A", 1, 5000), n: 10}, &sliceSource{evs: scenario("B", 2, 5000), n: 10}).Run(func([]event.Event) error { return stop })
	require.ErrorIs(t, err, stop)
}

// replayBytes replays the sources and returns the alert stream as written by
// the real alert writer (and validates every line as ECS).
func replayBytes(t *testing.T, rules *Rules, srcs ...Source) ([]byte, *Summary) {
	var out bytes.Buffer
	w := sink.NewStreamWriter(&out, sink.WriterOptions{Queue: 3})
	vs := detecttest.NewSink(t)
	s, err := Run(Merge(srcs...), Options{Rules: rules, Sink: sink.Multi{w, vs}, MatchDebug: detect.MatchDebugSummary})
	require.NoError(t, err)
	require.NoError(t, w.Close())
	require.Equal(t, s.Alerts, w.Stats().Written)
	return out.Bytes(), s
}

func TestReplayIsByteIdenticalWhateverBatchingAndScheduling(t *testing.T) {
	rules := shippedRules(t)
	a, b := scenario("WS-A", 1, 600), scenario("WS-B", 2, 600)
	ref, sum := replayBytes(t, rules, &sliceSource{evs: a, n: 1024}, &sliceSource{evs: b, n: 1024})
	require.NotEmpty(t, ref)
	assert.Equal(t, uint64(1200), sum.Events)
	assert.Greater(t, sum.Alerts, uint64(400))
	for _, line := range bytes.Split(bytes.TrimSpace(ref), []byte("\n")) {
		require.Contains(t, string(line), `"replayed":true`)
	}
	// Other batch sizes, and replays running concurrently (own engines,
	// shared compiled rules), give the same bytes.
	var wg sync.WaitGroup
	outs := make([][]byte, 4)
	for i := range outs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i], _ = replayBytes(t, rules, &sliceSource{evs: a, n: 1 + i*97}, &sliceSource{evs: b, n: 3 + i*211})
		}()
	}
	wg.Wait()
	for i, o := range outs {
		assert.True(t, bytes.Equal(ref, o), "run %d differs", i)
	}
	var text bytes.Buffer
	sum.Write(&text)
	assert.Contains(t, text.String(), "replay: 1200 events")
	assert.Contains(t, text.String(), "Shadow Copy Deletion or Backup Catalog Removal")
}
