// Package importer brings EVTX files and JSON exports (Sysmon/Winlogbeat/
// Elastic, evtx_dump, OTRF Security-Datasets, zipped or not) into a
// recording, the way `edr import` does.
//
// Files are read in a fixed order (arguments in order, directories walked
// by name) and their events written in file order, so the same input gives
// the same recording bytes. Decoding runs one file ahead of the writer on a
// second goroutine. Every source file is identified by the SHA-256 of its
// bytes, recorded with recording.Writer.AddSource once its events are
// written; a file whose hash the recording already holds is not imported
// again. An import cut off in the middle of a file (Ctrl-C, a crash, a
// kill) leaves a prefix of that file's events in the recording
// (recording.Writer.BeginSource, SourceProgress): importing the file again
// skips that many events of its (deterministic) decoding and writes the
// rest, so every event lands exactly once. Damaged records are counted and
// named, never fatal.
package importer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"sync/atomic"
	"time"

	"github.com/edr-lab/edr/corpus/evtx"
	"github.com/edr-lab/edr/corpus/jsonl"
	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/internal/rank"
	"github.com/edr-lab/edr/recording"
)

// Options configure an import.
type Options struct {
	Out      string // recording directory (created if needed)
	Host     string // partition host for every event (default: its Computer)
	Format   Format // auto, evtx, json or mordor
	Producer string // recorded in segment metadata
	Stdin    io.Reader
	// Progress, when set, receives progress reports about every 200 ms and
	// once at the end (see Progress).
	Progress func(Progress)
	// MaxFailures bounds the failures named per file (0: 1000).
	MaxFailures int
	// Writer overrides recording options (Source and Producer are set by
	// the importer).
	Writer recording.WriterOptions
	// State, when set, is the state tracker the recording's segments take
	// their start state from; it sees every event once it is written
	// (recording.Ingest).
	State recording.Tracker
}

// Status is what became of one source file.
type Status uint8

const (
	Imported        Status = iota // read (possibly with failed records) and written
	AlreadyImported               // its content hash is in the recording already
	Unreadable                    // nothing could be read from it
)

var statusNames = [...]string{"imported", "already imported", "unreadable"}

func (s Status) String() string { return statusNames[s] }

// FileResult is the outcome of one source file.
type FileResult struct {
	Path     string
	Format   Format
	Hash     string // "sha256:<hex>"
	Size     int64
	Status   Status
	Records  int64    // events written
	Resumed  int64    // events already in the recording from an interrupted import of the file (not written again)
	Failed   int64    // records or documents that could not be read
	Failures []string // named failures (file, chunk/line, record, reason), bounded
	Notes    []string
	Err      string // why the file is unreadable
}

// Summary is the outcome of an import.
type Summary struct {
	Files      []FileResult
	Skipped    []string // files in directories that hold no events
	Records    int64
	Resumed    int64 // events not written again: already there from an interrupted import
	Failed     int64
	Bytes      int64
	PerChannel map[string]int64 // events written per channel ("" = none named)
	// Recovery is what opening the recording for writing recovered of a
	// crashed writer's logs (the Recovery* and KeptAside* counters).
	Recovery recording.WriterStats
}

// ExitCode is edr import's exit code: 0 when every record of every file was
// imported (or was already), 3 when some records or files failed, 1 when
// nothing could be read at all: no source held an event (an empty file or
// directory, an EVTX file with only a header) or every source failed.
func (s *Summary) ExitCode() int {
	read, bad := false, false
	for _, f := range s.Files {
		switch f.Status {
		case Imported:
			read = read || f.Records+f.Resumed > 0
			bad = bad || f.Failed > 0
		case AlreadyImported:
			read = true
			bad = bad || f.Failed > 0
		case Unreadable:
			bad = true
		}
	}
	switch {
	case !read:
		return 1
	case bad:
		return 3
	}
	return 0
}

// Channels lists PerChannel by count (descending), then name.
func (s *Summary) Channels() []ChannelCount {
	out := make([]ChannelCount, 0, len(s.PerChannel))
	for _, e := range rank.ByCount(s.PerChannel) {
		out = append(out, ChannelCount{e.Key, e.Count})
	}
	return out
}

// ChannelCount is a number of events of one channel.
type ChannelCount struct {
	Channel string
	Events  int64
}

// Progress is a progress report.
type Progress struct {
	Files, FilesDone int
	Bytes, BytesDone int64 // Bytes is 0 when unknown (stdin)
	Records          int64
	File             string // being read
	Done             bool
}

// batchSize events go from the decoder to the writer at once; 4 batches
// wait in the pool (an imported event with its message can take 5 KB).
const batchSize = 256

// msg is what the decoding goroutine hands the writer: a batch of events
// or, at the end of a file, its result.
type msg struct {
	batch *[]event.Event
	n     int
	file  *FileResult
	begin string // content hash of the file whose events follow
	path  string // and its path
}

// Run imports srcs (files, directories, "-" for opts.Stdin) into the
// recording opts.Out. The error is non-nil when the import could not run
// (bad arguments, the recording cannot be written, ctx cancelled); damaged
// inputs are reported in the Summary.
func Run(ctx context.Context, srcs []string, opts Options) (*Summary, error) {
	if opts.Out == "" {
		return nil, errors.New("no output recording")
	}
	if opts.MaxFailures <= 0 {
		opts.MaxFailures = 1000
	}
	if opts.Format == "" {
		opts.Format = FormatAuto
	}
	inputs, skipped, err := expand(srcs, opts.Format)
	if err != nil {
		return nil, err
	}
	for i := range inputs {
		if inputs[i].path == "-" {
			cleanup, err := spoolStdin(&inputs[i], opts)
			if err != nil {
				return nil, err
			}
			defer cleanup()
		}
	}
	wopts := opts.Writer
	wopts.Source = sourceOf(inputs, opts.Format)
	if wopts.MaxSegmentAge == 0 {
		// Imported logs are sparse in time (a few events an hour over
		// months): hour-long segments would make hundreds of tiny files.
		// Segments still never span a UTC day.
		wopts.MaxSegmentAge = 24 * time.Hour
	}
	wopts.Producer = opts.Producer
	w, err := recording.OpenIngest(opts.Out, wopts, opts.State)
	if err != nil {
		return nil, err
	}
	sum := &Summary{Skipped: skipped, PerChannel: map[string]int64{}, Recovery: w.Stats()}
	werr := run(ctx, w, inputs, opts, sum)
	if cerr := w.Close(); werr == nil {
		werr = cerr
	}
	return sum, werr
}

// run drives the decoder goroutine and writes what it hands over.
func run(ctx context.Context, w *recording.Ingest, inputs []input, opts Options, sum *Summary) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var total int64
	for _, in := range inputs {
		total += in.size
	}
	prog := newTracker(len(inputs), total, opts.Progress)
	defer prog.stop()

	pool := make(chan *[]event.Event, 4)
	for i := 0; i < cap(pool); i++ {
		b := make([]event.Event, batchSize)
		pool <- &b
	}
	out := make(chan msg, cap(pool))
	dec := &decoder{ctx: ctx, w: w.Writer, opts: opts, pool: pool, out: out, prog: prog, seen: map[string]bool{}}
	go dec.run(inputs)

	var werr error
	var cur fileWrites // the file whose events are arriving
	for m := range out {
		if werr != nil {
			if m.batch != nil {
				pool <- m.batch
			}
			continue // drain so the decoder can finish
		}
		if m.begin != "" {
			cur = fileWrites{path: m.path, hash: m.begin}
			if err := w.BeginSource(m.begin); err != nil {
				werr = err
				cancel()
			}
			continue
		}
		if m.batch != nil {
			evs := (*m.batch)[:m.n]
			for i := range evs {
				if err := w.Write(&evs[i]); err != nil {
					if errors.Is(err, recording.ErrEventRejected) {
						// Only this event (its host's partition) is
						// affected: name it and go on with the rest.
						cur.reject(&evs[i], err, opts.MaxFailures)
						continue
					}
					werr = err
					cancel()
					break
				}
				cur.written++
				sum.PerChannel[evs[i].Channel]++
			}
			pool <- m.batch
			continue
		}
		f := m.file
		if f.Hash == cur.hash && cur.hash != "" {
			cur.apply(f)
		}
		cur = fileWrites{}
		sum.add(f)
		if f.Status == Imported {
			if err := w.AddSource(recording.SourceInfo{ContentHash: f.Hash, Path: f.Path, Format: string(f.Format),
				Size: f.Size, Events: f.Records + f.Resumed, Skipped: f.Failed}); err != nil {
				werr = err
				cancel()
			}
		}
		prog.fileDone()
	}
	if werr != nil {
		if cur.hash != "" {
			// The file being written when the recording failed: what
			// was written of it is in the summary, counted.
			sum.add(cur.unfinished(werr))
		}
		return werr
	}
	return ctx.Err()
}

// add counts a file's result in the summary.
func (s *Summary) add(f *FileResult) {
	s.Files = append(s.Files, *f)
	s.Records += f.Records
	s.Resumed += f.Resumed
	s.Failed += f.Failed
	s.Bytes += f.Size
}

// fileWrites is what the writer did with one file's events.
type fileWrites struct {
	path, hash string
	written    int64
	rejected   int64
	failures   []string
}

// reject notes an event the recording refused (recording.ErrEventRejected).
func (c *fileWrites) reject(e *event.Event, err error, max int) {
	c.rejected++
	if len(c.failures) < max {
		c.failures = append(c.failures, fmt.Sprintf("%s: record %d: not written: %v", c.path, e.RecordID, err))
	}
}

// apply corrects a decoded file's result by the events the recording
// refused: they were read, but are not in the recording.
func (c *fileWrites) apply(f *FileResult) {
	if c.rejected == 0 {
		return
	}
	f.Records -= c.rejected
	f.Failed += c.rejected
	f.Failures = append(f.Failures, c.failures...)
}

// unfinished is the result of a file cut off by a recording error.
func (c *fileWrites) unfinished(err error) *FileResult {
	f := &FileResult{Path: c.path, Hash: c.hash, Status: Imported, Records: c.written, Failed: c.rejected + 1}
	f.Failures = append(c.failures, fmt.Sprintf("%s: not finished: %v (%d events of it were written; importing it again resumes after them)", c.path, err, c.written))
	return f
}

// decoder reads the inputs in order on its own goroutine.
type decoder struct {
	ctx  context.Context
	w    *recording.Writer
	opts Options
	pool chan *[]event.Event
	out  chan msg
	prog *tracker
	seen map[string]bool // hashes imported in this run

	cur   *[]event.Event
	n     int
	skip  int64 // events of the current file already in the recording
	index int64 // events of the current file decoded so far
	ev    *evtx.Decoder
	js    *jsonl.Decoder
}

func (d *decoder) run(inputs []input) {
	defer close(d.out)
	d.ev = evtx.NewDecoder(evtx.Options{Host: d.opts.Host, MaxFailures: d.opts.MaxFailures})
	d.js = jsonl.NewDecoder(jsonl.Options{Host: d.opts.Host, MaxFailures: d.opts.MaxFailures})
	for _, in := range inputs {
		if d.ctx.Err() != nil {
			return
		}
		res := d.file(in)
		if d.ctx.Err() != nil {
			return
		}
		d.flush()
		d.out <- msg{file: &res}
	}
}

// emit copies an event into the current batch, unless the recording holds
// it already (the first d.skip events of a file whose import was cut off).
func (d *decoder) emit(e *event.Event) error {
	d.index++
	if d.index <= d.skip {
		return nil
	}
	if d.cur == nil {
		select {
		case d.cur = <-d.pool:
		case <-d.ctx.Done():
			return d.ctx.Err()
		}
		d.n = 0
	}
	(*d.cur)[d.n].CopyFrom(e)
	d.n++
	d.prog.record()
	if d.n == len(*d.cur) {
		d.flush()
	}
	return nil
}

func (d *decoder) flush() {
	if d.cur != nil && d.n > 0 {
		d.out <- msg{batch: d.cur, n: d.n}
		d.cur = nil
	} else if d.cur != nil {
		d.pool <- d.cur
		d.cur = nil
	}
}

// file imports one input.
func (d *decoder) file(in input) FileResult {
	res := FileResult{Path: in.path, Size: in.size, Format: in.kind.format()}
	if d.opts.Format != FormatAuto {
		res.Format = normalize(d.opts.Format)
	}
	d.prog.startFile(in.path)
	unreadable := func(err error) FileResult {
		res.Status, res.Err = Unreadable, err.Error()
		return res
	}
	if res.Format == "" {
		return unreadable(errors.New("neither EVTX nor JSON (use --format to force one)"))
	}
	f, err := os.Open(in.open)
	if err != nil {
		return unreadable(err)
	}
	defer f.Close()
	hash, err := hashFile(f)
	if err != nil {
		return unreadable(err)
	}
	res.Hash = hash
	done, complete := d.w.SourceProgress(hash)
	if d.seen[hash] || complete {
		res.Status = AlreadyImported
		d.prog.add(in.size)
		return res
	}
	d.seen[hash] = true
	// The writer goroutine begins the source before this file's first
	// batch; the decoding (the same every time) skips what an interrupted
	// import of the file already wrote.
	d.out <- msg{begin: hash, path: in.path}
	d.skip, d.index = done, 0
	defer func() { d.skip, d.index = 0, 0 }()
	r := &countingReaderAt{r: f, prog: d.prog}
	switch {
	case res.Format == FormatEVTX:
		st, err := d.ev.Read(r, in.size, in.path, d.emit)
		res.Records, res.Failed, res.Notes = st.Records, st.Failed, st.Notes
		for _, fl := range st.Failures {
			res.Failures = append(res.Failures, fl.String())
		}
		if err != nil && d.ctx.Err() == nil {
			if st.Records == 0 {
				return unreadable(err)
			}
			res.Failed++
			res.Failures = append(res.Failures, err.Error())
		}
	default:
		var st jsonl.Stats
		if in.kind == kindZip {
			st, err = d.js.ReadZip(r, in.size, in.path, d.emit)
		} else {
			st, err = d.js.Read(io.NewSectionReader(r, 0, in.size), in.path, d.emit)
		}
		res.Records, res.Failed = st.Records, st.Failed
		for _, fl := range st.Failures {
			res.Failures = append(res.Failures, fl.String())
		}
		if err != nil && d.ctx.Err() == nil {
			res.Failed++
			res.Failures = append(res.Failures, err.Error())
		}
	}
	res.Resumed = min(done, res.Records)
	res.Records -= res.Resumed
	if done > res.Resumed {
		res.Notes = append(res.Notes, fmt.Sprintf("the recording holds %d events of this file from an interrupted import, but it decodes to %d events now", done, res.Resumed))
	}
	if res.Resumed > 0 {
		res.Notes = append(res.Notes, fmt.Sprintf("resumed an interrupted import: %d events were already in the recording", res.Resumed))
	}
	if res.Records+res.Resumed == 0 && res.Failed > 0 {
		res.Status = Unreadable
		res.Err = fmt.Sprintf("no record could be read (%d failed)", res.Failed)
		return res
	}
	res.Status = Imported
	return res
}

// sourceOf is the recording-level source: EVTX or JSON when every input is
// one of them (each event carries its own Source anyway).
func sourceOf(inputs []input, format Format) event.Source {
	src := event.SourceUnknown
	for i, in := range inputs {
		f := in.kind.format()
		if format != FormatAuto {
			f = normalize(format)
		}
		s := event.SourceJSON
		if f == FormatEVTX {
			s = event.SourceEVTX
		}
		if i > 0 && s != src {
			return event.SourceUnknown
		}
		src = s
	}
	return src
}

func hashFile(f *os.File) (string, error) {
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// countingReaderAt reports bytes read to the progress tracker.
type countingReaderAt struct {
	r    io.ReaderAt
	prog *tracker
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.prog.add(int64(n))
	return n, err
}

// spoolStdin copies stdin to a temporary file: the content hash must be
// known before any event is written, and the stream can be read only once.
func spoolStdin(in *input, opts Options) (func(), error) {
	if opts.Stdin == nil {
		return nil, errors.New("stdin (-) given but no standard input")
	}
	f, err := os.CreateTemp("", "edr-import-stdin-*.json")
	if err != nil {
		return nil, err
	}
	n, err := io.Copy(f, opts.Stdin)
	cerr := f.Close()
	if err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(f.Name())
		return nil, fmt.Errorf("reading stdin: %w", err)
	}
	head := make([]byte, 512)
	if g, err := os.Open(f.Name()); err == nil {
		k, _ := io.ReadFull(g, head)
		g.Close()
		in.kind = sniffBytes(head[:k], "stdin.json")
		if in.kind != kindZip {
			in.kind = kindJSON
		}
	}
	in.open, in.size = f.Name(), n
	return func() { os.Remove(f.Name()) }, nil
}

// tracker counts progress for the reporter.
type tracker struct {
	files        int
	total        int64
	filesDone    atomic.Int64
	bytes        atomic.Int64
	records      atomic.Int64
	cur          atomic.Value
	report       func(Progress)
	stopCh, done chan struct{}
}

func (t *tracker) add(n int64)        { t.bytes.Add(n) }
func (t *tracker) record()            { t.records.Add(1) }
func (t *tracker) fileDone()          { t.filesDone.Add(1) }
func (t *tracker) startFile(p string) { t.cur.Store(p) }

func (t *tracker) snapshot(done bool) Progress {
	cur, _ := t.cur.Load().(string)
	return Progress{Files: t.files, FilesDone: int(t.filesDone.Load()), Bytes: t.total, BytesDone: t.bytes.Load(),
		Records: t.records.Load(), File: cur, Done: done}
}

const reportEvery = 200 * time.Millisecond

func newTracker(files int, total int64, report func(Progress)) *tracker {
	t := &tracker{files: files, total: total, report: report, stopCh: make(chan struct{}), done: make(chan struct{})}
	if report == nil {
		close(t.done)
		return t
	}
	go func() {
		defer close(t.done)
		tick := time.NewTicker(reportEvery)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				t.report(t.snapshot(false))
			case <-t.stopCh:
				t.report(t.snapshot(true))
				return
			}
		}
	}()
	return t
}

func (t *tracker) stop() {
	if t.report != nil {
		close(t.stopCh)
	}
	<-t.done
}
