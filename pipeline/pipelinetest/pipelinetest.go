// Package pipelinetest holds test sources for the pipeline and its users.
package pipelinetest

import (
	"context"
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"github.com/edr-lab/edr/detect/detecttest"
	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/pipeline"
	"github.com/stretchr/testify/require"
)

// Slice delivers Evs in batches of N, reusing its batch buffer as the
// recording reader does, then returns Err.
type Slice struct {
	Evs []*event.Event
	N   int
	Err error
}

// Run implements pipeline.Source; it stops when ctx is done.
func (s *Slice) Run(ctx context.Context, fn func([]event.Event) error) error {
	buf := make([]event.Event, s.N)
	for i := 0; i < len(s.Evs); i += s.N {
		if err := ctx.Err(); err != nil {
			return err
		}
		j := min(i+s.N, len(s.Evs))
		b := buf[:j-i]
		for k := range b {
			b[k].CopyFrom(s.Evs[i+k])
		}
		if err := fn(b); err != nil {
			return err
		}
	}
	return s.Err
}

// Scenario builds a host's events with shipped-rule hits sprinkled in, in
// (time, host, seq) order.
func Scenario(host string, seed int64, n int) []*event.Event {
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

// Collect runs src to its end and returns copies of its events.
func Collect(t testing.TB, src pipeline.Source) []*event.Event {
	var got []*event.Event
	require.NoError(t, src.Run(context.Background(), func(batch []event.Event) error {
		for i := range batch {
			got = append(got, batch[i].Clone())
		}
		return nil
	}))
	return got
}
