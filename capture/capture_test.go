package capture

import (
	"context"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/edr-lab/edr/corpus/jsonl"
	"github.com/edr-lab/edr/corpus/synth"
	"github.com/edr-lab/edr/event"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const doc = `{"Event":{"System":{"Provider":{"Name":"Microsoft-Windows-Sysmon"},"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","Computer":"ws1","TimeCreated":{"#attributes":{"SystemTime":"2026-02-02T10:00:00.000Z"}},"EventRecordID":7},"EventData":{"Image":"C:\\Windows\\System32\\whoami.exe","ProcessId":"42"}}}`

// TestNDJSONDeliversBeforeTheNextRead: on a pipe, each complete document
// reaches the pipeline while the writer is still open (a live source does
// not wait for a batch to fill).
func TestNDJSONDeliversBeforeTheNextRead(t *testing.T) {
	pr, pw, err := os.Pipe()
	require.NoError(t, err)
	defer pw.Close()
	got := make(chan string, 10)
	src := NewNDJSON(pr, "stdin", jsonl.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- src.Run(ctx, func(b []event.Event) error {
			for i := range b {
				got <- b[i].Value(event.FImage)
			}
			return nil
		})
	}()
	for i := 0; i < 3; i++ {
		_, err := io.WriteString(pw, doc+"\n")
		require.NoError(t, err)
		select {
		case img := <-got:
			assert.Equal(t, `C:\Windows\System32\whoami.exe`, img)
		case <-time.After(10 * time.Second):
			t.Fatalf("document %d not delivered while the pipe is open", i)
		}
	}
	// Cancelling returns although the pipe stays open and quiet.
	cancel()
	select {
	case err := <-done:
		assert.ErrorIs(t, err, context.Canceled)
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel on a quiet pipe")
	}
}

// TestNDJSONBadDocumentsAreReportedAndSkipped: a bad document is reported
// (file and line) as it happens; the rest is delivered.
func TestNDJSONBadDocumentsAreReportedAndSkipped(t *testing.T) {
	in := doc + "\n{oops\n" + doc + "\n" + `{"x":1}` + "\n"
	var fails []jsonl.Failure
	src := NewNDJSON(strings.NewReader(in), "ev.json", jsonl.Options{OnFailure: func(f jsonl.Failure) { fails = append(fails, f) }})
	n := 0
	require.NoError(t, src.Run(context.Background(), func(b []event.Event) error { n += len(b); return nil }))
	assert.Equal(t, 2, n)
	require.Len(t, fails, 2)
	assert.Equal(t, "ev.json", fails[0].File)
	assert.EqualValues(t, 2, fails[0].Line)
	assert.EqualValues(t, 4, fails[1].Line)
	assert.Contains(t, fails[1].Err, "not a Windows event")
	assert.EqualValues(t, 2, src.Stats().Failed)
}

// TestSyntheticRate: at RATE events/s the source waits so that event k is
// not delivered before k/RATE seconds (fake clock).
func TestSyntheticRate(t *testing.T) {
	var mu sync.Mutex
	now := time.Unix(1000, 0)
	s := NewSynthetic(synth.Options{Seed: 1, Events: 5000}, 1000)
	s.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s.Sleep = func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	delivered := 0
	require.NoError(t, s.Run(context.Background(), func(b []event.Event) error {
		// The batch after k delivered events is released at k/RATE s.
		want := time.Unix(1000, 0).Add(time.Duration(delivered) * time.Millisecond)
		assert.False(t, s.Now().Before(want), "batch at %d events released early", delivered)
		assert.LessOrEqual(t, len(b), 10, "small batches at low rates")
		delivered += len(b)
		return nil
	}))
	assert.Equal(t, 5000, delivered)
	assert.Equal(t, time.Unix(1000, 0).Add(4990*time.Millisecond), s.Now(), "5000 events at 1000/s: the last batch at 4.99 s")
	// Event time advances at about the wall rate: 4 hosts at 1000 events/s
	// is a mean gap of 4 ms per host.
	assert.Equal(t, 4*time.Millisecond, s.Options.MeanGap)
}
