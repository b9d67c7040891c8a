package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/pipeline"
)

// progressInterval bounds the redraws: at most 4 a second.
const progressInterval = 250 * time.Millisecond

// terminalFile is w as a terminal, or nil: a progress bar is drawn only
// there, never into a file, a pipe or a test's buffer.
func terminalFile(w io.Writer) *os.File {
	if f, ok := w.(*os.File); ok && isTerminal(f) {
		return f
	}
	return nil
}

// replayProgress draws replay's progress bar (events, events/s, ETA from
// the selected segments' event counts) on a terminal. It counts the batches
// the source delivers and reads the wall clock for the rate only; nothing
// of it reaches the engine or the alerts, which stay byte-identical with or
// without it.
type replayProgress struct {
	bar   progressBar
	total int64 // events of the selected segments (0: unknown)
	n     atomic.Int64
	stopc chan struct{}
	wg    sync.WaitGroup
}

// startProgress starts drawing on tty every progressInterval; with tty nil
// it returns nil (no bar; nil is safe to use).
func startProgress(tty *os.File, total int64) *replayProgress {
	if tty == nil {
		return nil
	}
	p := &replayProgress{bar: progressBar{w: tty, start: time.Now(), width: termWidth(tty)}, total: total, stopc: make(chan struct{})}
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		t := time.NewTicker(progressInterval)
		defer t.Stop()
		for {
			select {
			case <-p.stopc:
				return
			case now := <-t.C:
				p.bar.drawLine(p.line(p.n.Load(), now.Sub(p.bar.start)))
			}
		}
	}()
	return p
}

// source counts the events src delivers and passes them on unchanged.
func (p *replayProgress) source(src pipeline.Source) pipeline.Source {
	if p == nil {
		return src
	}
	return countingSource{src, &p.n}
}

// stop ends the drawing and clears the line (the summary follows).
func (p *replayProgress) stop() {
	if p == nil {
		return
	}
	close(p.stopc)
	p.wg.Wait()
	p.bar.clear()
}

// line renders the progress after n events in elapsed.
func (p *replayProgress) line(n int64, elapsed time.Duration) string {
	el := elapsed.Seconds()
	rate := 0.0
	if el > 0 {
		rate = float64(n) / el
	}
	if p.total <= 0 {
		return fmt.Sprintf("%d events  %.0f events/s", n, rate)
	}
	frac := min(float64(n)/float64(p.total), 1)
	return fmt.Sprintf("%s  %d/%d events  %.0f events/s  ETA %s", barText(frac), n, p.total, rate, etaText(el, frac))
}

type countingSource struct {
	src pipeline.Source
	n   *atomic.Int64
}

func (c countingSource) Run(ctx context.Context, fn func([]event.Event) error) error {
	return c.src.Run(ctx, func(b []event.Event) error {
		c.n.Add(int64(len(b)))
		return fn(b)
	})
}
