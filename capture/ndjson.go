package capture

import (
	"context"
	"errors"
	"io"
	"os"

	"github.com/edr-lab/edr/corpus/jsonl"
	"github.com/edr-lab/edr/event"
)

// BatchSize is the most events a source delivers at once.
const BatchSize = 256

// NDJSON reads JSON events (every form corpus/jsonl reads: one object per
// line, concatenated, arrays; evtx_dump, Winlogbeat, NXLog) from r. name
// names the input in failures (file:line). Bad documents are reported to
// opts.OnFailure and skipped; reading goes on.
type NDJSON struct {
	r    io.Reader
	name string
	opts jsonl.Options
	st   jsonl.Stats
}

// NewNDJSON returns a source reading r until EOF.
func NewNDJSON(r io.Reader, name string, opts jsonl.Options) *NDJSON {
	return &NDJSON{r: r, name: name, opts: opts}
}

// Stats are the decoder's counts once Run returned.
func (s *NDJSON) Stats() jsonl.Stats { return s.st }

// Run delivers the events in input order. The batch collected so far is
// handed on before every read of the input, so on a pipe each event reaches
// fn as soon as its document is complete, not when a batch is full. When
// ctx is done and r is an io.Closer (a file, stdin), r is closed so that a
// read blocked on a quiet pipe returns.
func (s *NDJSON) Run(ctx context.Context, fn func([]event.Event) error) error {
	batch := make([]event.Event, 0, BatchSize)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := fn(batch)
		batch = batch[:0]
		return err
	}
	stop := context.AfterFunc(ctx, func() {
		if c, ok := s.r.(io.Closer); ok {
			c.Close()
		}
	})
	defer stop()
	in := &flushingReader{r: s.r, flush: flush, ctx: ctx}
	st, err := jsonl.NewDecoder(s.opts).Read(in, s.name, func(e *event.Event) error {
		batch = batch[:len(batch)+1]
		batch[len(batch)-1].CopyFrom(e)
		if len(batch) == cap(batch) {
			return flush()
		}
		return nil
	})
	s.st = st
	if err == nil {
		err = flush()
	}
	if ctx.Err() != nil && (err == nil || errors.Is(err, os.ErrClosed)) {
		return ctx.Err()
	}
	return err
}

// flushingReader hands the pending batch on before each read of the input,
// which may block.
type flushingReader struct {
	r     io.Reader
	flush func() error
	ctx   context.Context
}

func (f *flushingReader) Read(p []byte) (int, error) {
	if err := f.flush(); err != nil {
		return 0, err
	}
	if err := f.ctx.Err(); err != nil {
		return 0, err
	}
	return f.r.Read(p)
}
