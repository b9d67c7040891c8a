// Package rawsource is the Windows capture path after the ETW session, on
// any OS: raw records (capture/raw) in capture order are decoded
// (capture/decode, one decoder per host), put in event-time order
// (capture/reorder), enriched (capture/enrich) and delivered as a
// pipeline.Source, while the raw records themselves go to the recording's
// raw layer, each linked to the Seq of the first event it produced.
//
//	records ─▶ decode (per host) ─▶ reorder ─▶ enrich ─▶ batches ─▶ edr live (record ▶ detect)
//	   └──────────────────────────▶ raw layer (capture order, Seq link)
//
// The ETW session (capture/etw, Windows) and the generator's raw records
// (capture/rawsynth) are its record sources.
package rawsource

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/edr-lab/edr/capture"
	"github.com/edr-lab/edr/capture/decode"
	"github.com/edr-lab/edr/capture/enrich"
	"github.com/edr-lab/edr/capture/raw"
	"github.com/edr-lab/edr/capture/reorder"
	"github.com/edr-lab/edr/event"
)

// Records delivers raw records in capture order to a Sink.
type Records interface {
	Run(ctx context.Context, sink Sink) error
}

// Sink takes a record source's input. It is called from one goroutine.
type Sink interface {
	// Record decodes r, which the sink now owns (it goes back to raw.Put
	// once decoded and recorded). A nil r is a heartbeat: what is ready is
	// delivered, and with Options.Now the reorder watermark moves to the
	// clock (a quiet session still releases its last events).
	Record(host string, r *raw.Record) error
	// Event takes an event normalized elsewhere (the hook for a Windows
	// Event Log subscription beside the ETW sessions): it joins the
	// reorder stage and enrichment like a decoded event, with no raw
	// record. The sink copies it.
	Event(e *event.Event) error
}

// RawRecorder is the recording's raw layer (recording.Writer.WriteRaw).
type RawRecorder interface {
	WriteRaw(host string, r *raw.Record, seq uint64) error
}

// RawEncoder is a RawRecorder that also takes records in an encoding of
// its own (recording.Writer.AppendRaw and WriteRawEncoded). The source then
// keeps each record waiting for its Seq as those bytes, not as the pooled
// record: in edr live's 4-host benchmark ~8,000 records wait (the reorder
// window and the raw writer's queue), ~1.5 KB each as raw.Records (12 MB
// of the live heap) and ~0.3 KB encoded.
type RawEncoder interface {
	RawRecorder
	AppendRaw(dst []byte, r *raw.Record) []byte
	WriteRawEncoded(host string, at int64, enc []byte, seq uint64) error
}

// Options configure a Source.
type Options struct {
	Records Records
	// Raw, when set, records every raw record. FirstSeq is then the Seq the
	// recorder will give the first event this source delivers
	// (recording.Writer.NextSeq before the run): the recorder numbers the
	// delivered events consecutively, so each record's link is known when
	// its first event leaves the reorder stage.
	Raw      RawRecorder
	FirstSeq uint64
	Decode   decode.Options // Host is set per host
	Reorder  reorder.Config
	Enrich   enrich.Config
	// Now is the clock heartbeats advance the reorder watermark to (Unix
	// ns); nil: only event times move it (deterministic).
	Now func() int64
}

// Stats counts the source's work. Records = records decoded; each record
// is recorded or counted in RawFailed when recording.
type Stats struct {
	Records        uint64 // raw records read
	Events         uint64 // events decoded
	Injected       uint64 // events handed in normalized (Sink.Event: the Event Log)
	Delivered      uint64 // events delivered (after reorder and enrichment): Events + Injected
	Unhandled      uint64 // records of templates the decoders do not decode
	UnknownVersion uint64 // records of a known event in an unknown version (kept by the decoder)
	ShortUserData  uint64 // records whose payload ended inside a template field (decoded as far as it went)
	Unresolved     uint64 // events emitted without the path a join should have given
	BadTime        uint64 // records dropped for a timestamp outside the years 1677-2262 (no Unix nanosecond time)
	Late           uint64 // events more than the reorder window late (delivered out of order)
	Overflow       uint64 // events the full reorder buffer released early
	RawRecorded    uint64
	RawFailed      uint64
	RawErr         string // the first raw-layer write error
	Enrich         enrich.Stats
}

// Source is a pipeline.Source of decoded events.
type Source struct {
	opt      Options
	decoders map[string]*decode.Decoder
	hosts    []string // decoders' hosts, sorted
	reorder  *reorder.Stage
	enrich   *enrich.Enricher

	free    []*event.Event // events back from the reorder stage
	out     []event.Event  // the batch being filled
	deliver func([]event.Event) error
	err     error // the first delivery error

	// The raw layer: records wait in capture order until the first event
	// each produced has left the reorder stage (its Seq is then known).
	// pending[i] is the record numbered base+i in capture order; the first
	// event of a record carries that number + 1 through the reorder stage
	// as its tag (0: no record to link).
	pending []pendingRec
	head    int
	base    uint64
	cur     int // the record being decoded: its index in pending, or -1
	nextSeq uint64
	// With a RawEncoder, the pending records' encodings, in capture order
	// (pendingRec.off, n); compacted with pending.
	enc  RawEncoder
	penc []byte

	// The raw layer is written on its own goroutine (a quarter of the
	// source's work): ready records go there in batches, in capture order.
	// Written batches come back on rawFree for reuse.
	rawBatch *rawBatch
	rawQ     chan *rawBatch
	rawFree  chan *rawBatch
	rawDone  chan struct{}

	// Counted by Run's goroutine (delivered) and the raw writer (under mu),
	// published with the decoders' counts.
	delivered, injected, rawRecorded, rawFailed uint64
	badTime                                     uint64
	rawErr                                      string

	mu    sync.Mutex
	stats Stats
}

type pendingRec struct {
	host    string
	r       *raw.Record // nil: encoded (RawEncoder) at off, n
	seq     uint64
	at      int64 // the record's time, when encoded
	off, n  int
	linked  bool // one of its events has been seen
	waiting bool // its first event is in the reorder stage
}

// rawBatch is records on their way to the raw writer; buf holds the
// encoded ones' bytes.
type rawBatch struct {
	recs []pendingRec
	buf  []byte
}

// New makes a Source.
func New(o Options) (*Source, error) {
	en, err := enrich.New(o.Enrich)
	if err != nil {
		return nil, fmt.Errorf("enrichment: %w", err)
	}
	s := &Source{opt: o, decoders: map[string]*decode.Decoder{}, enrich: en, cur: -1,
		out: make([]event.Event, 0, capture.BatchSize), nextSeq: o.FirstSeq}
	s.reorder = reorder.NewTagged(o.Reorder, s.released)
	s.enc, _ = o.Raw.(RawEncoder)
	return s, nil
}

// Stats returns the counters as of the last delivered batch (safe while
// Run runs; exact once it has returned).
func (s *Source) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Run reads the records until their source ends or ctx is done, then
// drains: held registry writes, the reorder buffer and the raw records
// still waiting are all delivered or recorded before Run returns.
func (s *Source) Run(ctx context.Context, fn func([]event.Event) error) error {
	s.deliver = fn
	defer s.enrich.Close()
	if s.opt.Raw != nil {
		s.rawQ, s.rawFree, s.rawDone = make(chan *rawBatch, 8), make(chan *rawBatch, 9), make(chan struct{})
		s.rawBatch = s.newRawBatch()
		go s.rawWriter()
	}
	err := s.opt.Records.Run(ctx, sink{s})
	// End of input: every decoder's held writes (hosts in order: map order
	// must not reach the output), then the reorder buffer.
	s.cur = -1
	for _, h := range s.hosts {
		s.decoders[h].Flush(s.decoded)
	}
	s.reorder.Flush()
	s.writeRaw(true)
	if s.rawQ != nil {
		close(s.rawQ)
		<-s.rawDone
	}
	s.flush()
	s.publish()
	if s.err != nil {
		return s.err
	}
	return err
}

// sink is the Source as its records' Sink.
type sink struct{ s *Source }

func (k sink) Record(host string, r *raw.Record) error { return k.s.record(host, r) }

func (k sink) Event(e *event.Event) error {
	if k.s.err == nil {
		k.s.injected++
		k.s.decoded(e)
		k.s.writeRaw(false)
	}
	return k.s.err
}

// record decodes one record (nil: a heartbeat).
func (s *Source) record(host string, r *raw.Record) error {
	if s.err != nil {
		if r != nil {
			raw.Put(r)
		}
		return s.err
	}
	if r == nil {
		if s.opt.Now != nil {
			s.reorder.Advance(s.opt.Now())
		}
		s.writeRaw(false)
		s.flush()
		return s.err
	}
	if !raw.FileTimeInRange(r.Timestamp) {
		// Its time would wrap in the event, the raw row and the WAL
		// entry: counted and dropped before any of them holds it.
		s.badTime++
		raw.Put(r)
		return nil
	}
	d := s.decoders[host]
	if d == nil {
		o := s.opt.Decode
		o.Host = host
		d = decode.New(o)
		s.decoders[host] = d
		s.hosts = append(s.hosts, host)
		sort.Strings(s.hosts)
	}
	_ = d.Fill(r) // a short payload is counted (ShortUserData) and decoded as far as it goes
	if s.opt.Raw != nil {
		s.cur = len(s.pending)
		s.pending = append(s.pending, pendingRec{host: host, r: r})
	}
	d.Decode(r, s.decoded)
	switch {
	case s.opt.Raw == nil:
		raw.Put(r)
	case s.enc != nil:
		// Kept as its encoding until its Seq is known: the record goes
		// back to the pool now.
		p := &s.pending[s.cur]
		p.off, p.at = len(s.penc), r.UnixNano()
		s.penc = s.enc.AppendRaw(s.penc, r)
		p.n, p.r = len(s.penc)-p.off, nil
		raw.Put(r)
		fallthrough
	default:
		s.cur = -1
		s.writeRaw(false)
	}
	return s.err
}

// decoded takes a copy of a decoded event into the reorder stage.
func (s *Source) decoded(e *event.Event) {
	var ev *event.Event
	if n := len(s.free); n > 0 {
		ev, s.free = s.free[n-1], s.free[:n-1]
	} else {
		ev = &event.Event{}
	}
	ev.CopyFrom(e)
	var tag uint64
	if s.cur >= 0 && !s.pending[s.cur].linked {
		p := &s.pending[s.cur]
		p.linked, p.waiting = true, true
		tag = s.base + uint64(s.cur) + 1
	}
	s.reorder.PushTagged(ev, tag)
}

// released receives the reorder stage's events in order: enrich, number,
// batch. A tag names the record ev is the first event of: it is still
// pending (writeRaw stops at a waiting record).
func (s *Source) released(ev *event.Event, tag uint64) {
	s.enrich.Enrich(ev)
	if tag != 0 {
		p := &s.pending[tag-1-s.base]
		p.seq, p.waiting = s.nextSeq, false
	}
	s.nextSeq++
	// Reslice, not append: the slot keeps the storage of the event it held
	// last (the pipeline hands batches back swapped), which ev takes for
	// the next decoded event; a fresh event would allocate its field
	// storage once per event.
	k := len(s.out)
	s.out = s.out[:k+1]
	s.out[k], *ev = *ev, s.out[k] // the batch takes the event, ev the slot's old storage
	s.free = append(s.free, ev)
	if len(s.out) == cap(s.out) {
		s.flush()
	}
}

// flush delivers the batch.
func (s *Source) flush() {
	if len(s.out) == 0 || s.err != nil {
		return
	}
	if err := s.deliver(s.out); err != nil {
		s.err = err
	}
	s.delivered += uint64(len(s.out))
	s.out = s.out[:0]
	s.publish()
}

// rawBatchSize is how many ready raw records go to the writer at once.
const rawBatchSize = 256

// writeRaw hands the waiting raw records whose link is known to the raw
// writer, in capture order (all of them at the end).
func (s *Source) writeRaw(all bool) {
	if s.opt.Raw == nil {
		return
	}
	for s.head < len(s.pending) {
		p := &s.pending[s.head]
		if p.waiting && !all {
			break
		}
		b := s.rawBatch
		q := *p
		if q.r == nil {
			q.off = len(b.buf)
			b.buf = append(b.buf, s.penc[p.off:p.off+p.n]...)
		}
		b.recs = append(b.recs, q)
		if len(b.recs) == rawBatchSize {
			s.rawQ <- b
			s.rawBatch = s.newRawBatch()
		}
		*p = pendingRec{}
		s.head++
	}
	if all && len(s.rawBatch.recs) > 0 {
		s.rawQ <- s.rawBatch
		s.rawBatch = s.newRawBatch()
	}
	if s.head == len(s.pending) || s.head > 4096 && s.head > len(s.pending)/2 {
		// The records still waiting move to the front: their numbers
		// (base + index, in the tags of their events) stay the same, and
		// so do their encodings.
		s.pending = s.pending[:copy(s.pending, s.pending[s.head:])]
		s.base += uint64(s.head)
		s.head = 0
		s.compactEncodings()
	}
}

// compactEncodings moves the pending records' encodings to the front of
// penc.
func (s *Source) compactEncodings() {
	if s.enc == nil {
		return
	}
	if len(s.pending) == 0 {
		s.penc = s.penc[:0]
		return
	}
	from := s.pending[0].off
	s.penc = s.penc[:copy(s.penc, s.penc[from:])]
	for i := range s.pending {
		s.pending[i].off -= from
	}
}

// newRawBatch returns a written batch, or a new one.
func (s *Source) newRawBatch() *rawBatch {
	select {
	case b := <-s.rawFree:
		return b
	default:
		return &rawBatch{recs: make([]pendingRec, 0, rawBatchSize)}
	}
}

// rawWriter records the raw layer's batches until rawQ is closed.
func (s *Source) rawWriter() {
	defer close(s.rawDone)
	for b := range s.rawQ {
		var ok, failed uint64
		var first error
		for _, p := range b.recs {
			var err error
			if p.r != nil {
				err = s.opt.Raw.WriteRaw(p.host, p.r, p.seq)
				raw.Put(p.r)
			} else {
				err = s.enc.WriteRawEncoded(p.host, p.at, b.buf[p.off:p.off+p.n], p.seq)
			}
			if err != nil {
				if first == nil {
					first = err
				}
				failed++
			} else {
				ok++
			}
		}
		s.mu.Lock()
		if first != nil && s.rawFailed == 0 {
			s.rawErr = first.Error()
		}
		s.rawRecorded += ok
		s.rawFailed += failed
		s.mu.Unlock()
		clear(b.recs) // no record or host kept alive by a spare batch
		b.recs, b.buf = b.recs[:0], b.buf[:0]
		select {
		case s.rawFree <- b:
		default:
		}
	}
}

// publish refreshes the counters Stats reads.
func (s *Source) publish() {
	var st Stats
	for _, h := range s.hosts {
		ds := &s.decoders[h].Stats
		st.Records += ds.Records
		st.Events += ds.Emitted
		st.ShortUserData += ds.ShortUserData
		st.Unresolved += ds.Unresolved
		for _, n := range ds.Unhandled {
			st.Unhandled += n
		}
		for _, n := range ds.UnknownVersion {
			st.UnknownVersion += n
		}
	}
	rs := s.reorder.Stats()
	st.Late, st.Overflow = rs.Late, rs.Overflow
	st.Enrich = s.enrich.Stats()
	st.Delivered, st.Injected, st.BadTime = s.delivered, s.injected, s.badTime
	s.mu.Lock()
	st.RawRecorded, st.RawFailed, st.RawErr = s.rawRecorded, s.rawFailed, s.rawErr
	s.stats = st
	s.mu.Unlock()
}
