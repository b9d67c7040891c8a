package eventlog

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"unicode/utf16"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edr-lab/edr/event"
)

// TestSink: a parsed record is delivered as its own copy and counted; a
// refused one is counted and reported with its channel, and the next
// record still goes through.
func TestSink(t *testing.T) {
	cfg := Config{Host: "LAB"}
	cfg.defaults()
	out := make(chan *event.Event, 2)
	var c counters
	var errs []error
	cfg.OnError = func(err error) { errs = append(errs, err) }
	s := newSink(&cfg, "Security", out, &c)
	ctx := context.Background()
	require.True(t, s.handle(ctx, []byte(sample4688)))
	require.True(t, s.handle(ctx, []byte("<Event><EventData>")))
	require.True(t, s.handle(ctx, []byte(sample4688)))
	assert.Equal(t, Stats{Events: 2, ParseErrors: 1}, c.stats())
	require.Len(t, errs, 1)
	assert.Contains(t, errs[0].Error(), "eventlog Security: event XML at byte ")
	var pe *Error
	assert.True(t, errors.As(errs[0], &pe))
	a, b := <-out, <-out
	assert.NotSame(t, a, b)
	assert.True(t, event.Equal(a, b))
	assert.Equal(t, "LAB", a.Host)
	assert.Equal(t, uint16(4688), a.EventID)

	// A full queue waits for the reader; a cancelled context ends the wait.
	out <- a
	out <- b
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	assert.False(t, s.handle(cctx, []byte(sample4688)))
	assert.Equal(t, uint64(2), c.stats().Events)
}

func TestAppendUTF16(t *testing.T) {
	s := "<Data>é C:\\x 😀</Data>"
	assert.Equal(t, s, string(appendUTF16(nil, utf16.Encode([]rune(s)))))
	assert.Equal(t, "a\uFFFDb\uFFFD", string(appendUTF16([]byte("a"), []uint16{0xD800, 'b', 0xDC00})))
}

func TestStartOutsideWindows(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows subscribes for real")
	}
	s, err := Start(context.Background(), Config{})
	assert.ErrorIs(t, err, ErrUnsupported)
	assert.Nil(t, s)
}
