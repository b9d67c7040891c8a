package recording

import (
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sort"

	"github.com/edr-lab/edr/event"
)

// ReaderOptions select what a Reader delivers. The zero value reads
// everything, tolerantly, with GOMAXPROCS decode goroutines.
type ReaderOptions struct {
	// From and To bound event time, From <= Time < To (ns UTC); 0 leaves a
	// side open.
	From, To int64
	// Hosts keeps only these hosts (real names, as in Event.Host); nil: all.
	Hosts []string
	// Fields projects the schema fields to decode; nil decodes every field,
	// the key/value part and columns this build does not know (into
	// Extra). Header fields are always delivered.
	Fields []event.FieldID
	// Strict fails on the first corrupt segment instead of skipping it.
	Strict bool
	// Parallelism is the number of goroutines decoding segments ahead of
	// the merge (default GOMAXPROCS; 1 decodes inline). The output does not
	// depend on it.
	Parallelism int
	// BatchSize is the number of events per Run callback (default 1024).
	BatchSize int
}

// ReadStats counts what a Reader did.
type ReadStats struct {
	Events          int64 // events delivered
	Segments        int   // segments selected for reading, including those skipped because their footer is unreadable
	SegmentsRead    int   // segments read to the end (after Run: Segments - SegmentsSkipped)
	SegmentsSkipped int   // corrupt segments skipped (tolerant mode), wholly or from the point of corruption
	DirsSkipped     int   // directories that could not be read (tolerant mode; a *DirError each in Errors)
	Bytes           int64 // bytes of the selected segments whose footer was read
	Errors          []error
}

// Reader reads a recording in (time, host, seq) order.
type Reader struct {
	dir   string
	opts  ReaderOptions
	segs  []segInfo
	want  []bool
	stats ReadStats
	batch []event.Event
	// chunks are recycled across cursors (only the Run goroutine touches
	// this list; decode workers fill chunks handed to them).
	chunks []*chunk
}

func (r *Reader) getChunk() *chunk {
	if n := len(r.chunks); n > 0 {
		ch := r.chunks[n-1]
		r.chunks = r.chunks[:n-1]
		return ch
	}
	return new(chunk)
}

// putChunk recycles a chunk: events delivered from it hold only strings,
// which stay valid; its slices are reused.
func (r *Reader) putChunk(ch *chunk) {
	if ch != nil && len(r.chunks) < 64 {
		r.chunks = append(r.chunks, ch)
	}
}

type segInfo struct {
	path string
	meta *SegmentMeta
	size int64
}

// OpenReader lists the recording's segments and reads their footers,
// keeping those that match the host filter and time range. In tolerant mode
// a segment whose footer is corrupt, or a directory that cannot be read, is
// skipped and reported in Stats; in strict mode it is an error.
func OpenReader(dir string, opts ReaderOptions) (*Reader, error) {
	if opts.Parallelism <= 0 {
		opts.Parallelism = runtime.GOMAXPROCS(0)
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 1024
	}
	r := &Reader{dir: dir, opts: opts}
	if opts.Fields != nil {
		r.want = make([]bool, event.NumFields())
		for _, id := range opts.Fields {
			if int(id) < len(r.want) {
				r.want[id] = true
			}
		}
	}
	paths, badDirs, err := listSegmentsSkipping(dir)
	if err != nil {
		return nil, fmt.Errorf("recording %s: %w", dir, err)
	}
	for _, err := range badDirs {
		if r.opts.Strict {
			return nil, err
		}
		r.stats.DirsSkipped++
		r.stats.Errors = append(r.stats.Errors, err)
	}
	// A segment whose footer cannot be read cannot be filtered by its time
	// range: it counts as selected (and skipped), the same as one whose data
	// turns out corrupt during Run, so the two kinds of damage give the same
	// "selected, read, skipped" counts.
	unreadable := 0
	for _, p := range paths {
		if h, ok := partitionHost(p); ok && opts.Hosts != nil && !slices.Contains(opts.Hosts, h) {
			continue
		}
		s, err := openSegFile(p, footerOnly)
		if err != nil {
			if err := r.segmentFailed(err); err != nil {
				return nil, err
			}
			unreadable++
			continue
		}
		s.close()
		m := s.meta
		if opts.Hosts != nil && !slices.Contains(opts.Hosts, m.Host) {
			continue
		}
		if opts.To != 0 && m.FirstTime >= opts.To || opts.From != 0 && m.LastTime < opts.From || m.Events == 0 {
			continue
		}
		r.segs = append(r.segs, segInfo{path: p, meta: m, size: s.size})
		r.stats.Bytes += s.size
	}
	r.stats.Segments = len(r.segs) + unreadable
	sort.SliceStable(r.segs, func(i, j int) bool {
		a, b := r.segs[i].meta, r.segs[j].meta
		if a.FirstTime != b.FirstTime {
			return a.FirstTime < b.FirstTime
		}
		if a.Host != b.Host {
			return a.Host < b.Host
		}
		return a.FirstSeq < b.FirstSeq
	})
	return r, nil
}

// Selected returns the footers of the segments the reader will read (those
// of the selected hosts that overlap [From, To)), in read order. They are
// shared: do not modify them.
func (r *Reader) Selected() []*SegmentMeta {
	out := make([]*SegmentMeta, len(r.segs))
	for i := range r.segs {
		out[i] = r.segs[i].meta
	}
	return out
}

// segmentFailed records a segment error: in strict mode it is returned.
func (r *Reader) segmentFailed(err error) error {
	if r.opts.Strict {
		return err
	}
	r.stats.SegmentsSkipped++
	r.stats.Errors = append(r.stats.Errors, err)
	return nil
}

// Stats returns the counters so far (complete after Run).
func (r *Reader) Stats() ReadStats { return r.stats }

// SelectedEvents is the number of events in the selected segments, from
// their footers: what Run delivers when no time range cuts a segment, an
// upper bound otherwise (a progress bar's total).
func (r *Reader) SelectedEvents() int64 {
	var n int64
	for _, s := range r.segs {
		n += s.meta.Events
	}
	return n
}

// Segments lists the paths of the selected segments in read order.
func (r *Reader) Segments() []string {
	out := make([]string, len(r.segs))
	for i, s := range r.segs {
		out[i] = s.path
	}
	return out
}

// Run calls fn with consecutive batches of events in (time, host, seq)
// order. The batch and its events are reused after fn returns: Clone what
// must outlive the call. An error from fn stops Run and is returned.
func (r *Reader) Run(fn func(batch []event.Event) error) error {
	if r.batch == nil {
		r.batch = make([]event.Event, r.opts.BatchSize)
	}
	pool := newPool(r.opts.Parallelism)
	defer pool.stop()
	var h cursorHeap
	defer func() {
		for _, c := range h {
			c.close()
		}
	}()
	next := 0
	n := 0
	for {
		for next < len(r.segs) && (len(h) == 0 || r.segs[next].meta.FirstTime <= h[0].t) {
			c, err := r.startCursor(r.segs[next], pool)
			next++
			if err != nil {
				if err := r.segmentFailed(err); err != nil {
					return err
				}
				continue
			}
			if c.valid {
				h.push(c)
			} else {
				c.close()
				r.stats.SegmentsRead++
			}
		}
		if len(h) == 0 {
			break
		}
		c := h[0]
		c.emit(&r.batch[n])
		n++
		if err := c.advance(); err != nil {
			h.pop()
			c.close()
			if err := r.segmentFailed(err); err != nil {
				return err
			}
		} else if !c.valid {
			h.pop()
			c.close()
			r.stats.SegmentsRead++
		} else {
			h.fix()
		}
		if n == len(r.batch) {
			r.stats.Events += int64(n)
			if err := fn(r.batch[:n]); err != nil {
				return err
			}
			n = 0
		}
	}
	if n > 0 {
		r.stats.Events += int64(n)
		if err := fn(r.batch[:n]); err != nil {
			return err
		}
	}
	return nil
}

// cursor delivers one segment's rows in (time, seq) order.
type cursor struct {
	r     *Reader
	pool  *pool
	seg   *segFile
	host  string
	rgs   []int
	rgi   int
	dec   *rgDecoder
	cur   *chunk
	pos   int
	spare *chunk
	fut   chan decodeResult
	done  bool // no more chunks after cur

	// unsorted segments: every chunk, and the row order
	all   []*chunk
	order []rowRef
	oi    int

	// bounded reorder (segments with a small MaxDisorder): rows wait in a
	// heap until no later row can precede them
	reorder bool
	window  int64
	maxSeen int64
	rheap   []rowRef
	refs    []int32 // rows of each chunk in all still in the heap

	valid bool
	t     int64
	seq   uint64
}

type rowRef struct {
	t   int64
	seq uint64
	ch  int32
	row int32
}

type decodeResult struct {
	ch  *chunk
	err error
}

func (r *Reader) startCursor(si segInfo, p *pool) (*cursor, error) {
	s, err := openSegFile(si.path, fullData)
	if err != nil {
		return nil, err
	}
	c := &cursor{r: r, pool: p, seg: s, host: s.meta.Host}
	for rg := range s.pf.RowGroups() {
		if lo, hi, ok := s.timeRange(rg); ok && (r.opts.To != 0 && lo >= r.opts.To || r.opts.From != 0 && hi < r.opts.From) {
			continue
		}
		c.rgs = append(c.rgs, rg)
	}
	switch m := s.meta; {
	case m.Sorted:
		err = c.startSorted()
	case m.MaxDisorder > 0 && m.Events > unsortedMax:
		err = c.startReorder(m.MaxDisorder)
	default:
		err = c.startUnsorted()
	}
	if err != nil {
		c.close()
		return nil, &SegmentError{si.path, err}
	}
	return c, nil
}

func (c *cursor) close() {
	if c.fut != nil {
		res := <-c.fut // let the in-flight decode finish before closing its file
		c.fut = nil
		c.r.putChunk(res.ch)
	}
	c.r.putChunk(c.cur)
	c.r.putChunk(c.spare)
	for _, ch := range c.all {
		c.r.putChunk(ch)
	}
	c.cur, c.spare, c.all = nil, nil, nil
	if c.dec != nil {
		c.dec.close()
		c.dec = nil
	}
	c.seg.close()
}

// decodeNext decodes the next chunk of the segment into ch; ch.n == 0 at
// the end.
func (c *cursor) decodeNext(ch *chunk) error {
	for c.dec == nil || c.dec.remaining() == 0 {
		if c.dec != nil {
			c.dec.close()
			c.dec = nil
		}
		if c.rgi == len(c.rgs) {
			ch.n = 0
			return nil
		}
		d, err := newRGDecoder(c.seg, c.rgs[c.rgi], c.r.want)
		c.rgi++
		if err != nil {
			return err
		}
		c.dec = d
	}
	return c.dec.decode(ch)
}

func (c *cursor) prefetch() {
	if c.pool.workers == 0 {
		return
	}
	ch := c.spare
	c.spare = nil
	if ch == nil {
		ch = c.r.getChunk()
	}
	fut := make(chan decodeResult, 1)
	c.fut = fut
	c.pool.submit(func() {
		err := c.decodeNext(ch)
		fut <- decodeResult{ch, err}
	})
}

// nextChunk makes the following chunk current.
func (c *cursor) nextChunk() error {
	old := c.cur
	var res decodeResult
	if c.fut != nil {
		res = <-c.fut
		c.fut = nil
	} else {
		ch := c.spare
		if ch == nil {
			ch = c.r.getChunk()
		}
		res = decodeResult{ch, c.decodeNext(ch)}
	}
	c.cur, c.pos, c.spare = res.ch, 0, old
	if res.err != nil {
		return res.err
	}
	if c.cur.n == 0 {
		c.done = true
		return nil
	}
	c.prefetch()
	return nil
}

func (c *cursor) startSorted() error {
	if err := c.nextChunk(); err != nil {
		return err
	}
	return c.settle()
}

// settle moves to the first row at or after the current position that is
// inside the time range, loading chunks as needed, and sets the head key.
func (c *cursor) settle() error {
	from, to := c.r.opts.From, c.r.opts.To
	for !c.done {
		for ; c.pos < c.cur.n; c.pos++ {
			t := c.cur.time[c.pos]
			if to != 0 && t >= to {
				c.valid = false // sorted: nothing later qualifies
				return nil
			}
			if from == 0 || t >= from {
				c.valid, c.t, c.seq = true, t, uint64(c.cur.seq[c.pos])
				return nil
			}
		}
		if err := c.nextChunk(); err != nil {
			return err
		}
	}
	c.valid = false
	return nil
}

func (c *cursor) startUnsorted() error {
	from, to := c.r.opts.From, c.r.opts.To
	for {
		ch := c.r.getChunk()
		if err := c.decodeNext(ch); err != nil {
			c.r.putChunk(ch)
			return err
		}
		if ch.n == 0 {
			c.r.putChunk(ch)
			break
		}
		ci := int32(len(c.all))
		c.all = append(c.all, ch)
		for i := 0; i < ch.n; i++ {
			if t := ch.time[i]; (from == 0 || t >= from) && (to == 0 || t < to) {
				c.order = append(c.order, rowRef{t: t, seq: uint64(ch.seq[i]), ch: ci, row: int32(i)})
			}
		}
	}
	sort.Slice(c.order, func(i, j int) bool {
		a, b := c.order[i], c.order[j]
		return a.t < b.t || a.t == b.t && a.seq < b.seq
	})
	c.done = true
	return c.settleUnsorted()
}

func (c *cursor) settleUnsorted() error {
	if c.oi >= len(c.order) {
		c.valid = false
		for _, ch := range c.all {
			c.r.putChunk(ch)
		}
		c.all = nil
		return nil
	}
	o := c.order[c.oi]
	c.valid, c.t, c.seq = true, o.t, o.seq
	return nil
}

// startReorder reads a segment whose rows lag the largest time before them
// by at most window: a row is emitted once the rows read reach its time +
// window (a later row cannot precede it: its time is at least that minus
// window, and on equal times its larger Seq sorts it after).
func (c *cursor) startReorder(window int64) error {
	c.reorder, c.window, c.maxSeen = true, window, math.MinInt64
	return c.fillReorder()
}

func (c *cursor) fillReorder() error {
	from, to := c.r.opts.From, c.r.opts.To
	for {
		if len(c.rheap) > 0 && (c.done || c.rheap[0].t <= c.maxSeen-c.window) {
			c.valid, c.t, c.seq = true, c.rheap[0].t, c.rheap[0].seq
			return nil
		}
		if c.done {
			c.valid = false
			return nil
		}
		ch := c.r.getChunk()
		if err := c.decodeNext(ch); err != nil {
			return err
		}
		if ch.n == 0 {
			c.r.putChunk(ch)
			c.done = true
			continue
		}
		ci := int32(len(c.all))
		c.all = append(c.all, ch)
		c.refs = append(c.refs, 0)
		for i := 0; i < ch.n; i++ {
			t := ch.time[i]
			c.maxSeen = max(c.maxSeen, t)
			if (from == 0 || t >= from) && (to == 0 || t < to) {
				c.pushRow(rowRef{t: t, seq: uint64(ch.seq[i]), ch: ci, row: int32(i)})
				c.refs[ci]++
			}
		}
		if c.refs[ci] == 0 {
			c.r.putChunk(ch)
			c.all[ci] = nil
		}
	}
}

func rowLess(a, b rowRef) bool { return a.t < b.t || a.t == b.t && a.seq < b.seq }

func (c *cursor) pushRow(x rowRef) {
	h := append(c.rheap, x)
	for i := len(h) - 1; i > 0; {
		p := (i - 1) / 2
		if !rowLess(h[i], h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
	c.rheap = h
}

func (c *cursor) popRow() rowRef {
	h := c.rheap
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	for i := 0; ; {
		l := 2*i + 1
		if l >= len(h) {
			break
		}
		m := l
		if r := l + 1; r < len(h) && rowLess(h[r], h[l]) {
			m = r
		}
		if !rowLess(h[m], h[i]) {
			break
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
	c.rheap = h
	return top
}

func (c *cursor) emit(e *event.Event) {
	if c.reorder {
		o := c.rheap[0]
		c.all[o.ch].event(int(o.row), e, c.host)
		return
	}
	if c.order != nil {
		o := c.order[c.oi]
		c.all[o.ch].event(int(o.row), e, c.host)
		return
	}
	c.cur.event(c.pos, e, c.host)
}

func (c *cursor) advance() error {
	if c.reorder {
		o := c.popRow()
		if c.refs[o.ch]--; c.refs[o.ch] == 0 {
			c.r.putChunk(c.all[o.ch]) // every row of the chunk was delivered
			c.all[o.ch] = nil
		}
		if err := c.fillReorder(); err != nil {
			return &SegmentError{c.seg.path, err}
		}
		return nil
	}
	if c.order != nil {
		c.oi++
		return c.settleUnsorted()
	}
	c.pos++
	if err := c.settle(); err != nil {
		return &SegmentError{c.seg.path, err}
	}
	return nil
}

func (c *cursor) less(d *cursor) bool {
	if c.t != d.t {
		return c.t < d.t
	}
	if c.host != d.host {
		return c.host < d.host
	}
	return c.seq < d.seq
}

// cursorHeap is a min-heap of cursors by head key.
type cursorHeap []*cursor

func (h *cursorHeap) push(c *cursor) {
	*h = append(*h, c)
	s := *h
	for i := len(s) - 1; i > 0; {
		p := (i - 1) / 2
		if !s[i].less(s[p]) {
			break
		}
		s[i], s[p] = s[p], s[i]
		i = p
	}
}

func (h *cursorHeap) pop() {
	s := *h
	last := len(s) - 1
	s[0] = s[last]
	s[last] = nil
	*h = s[:last]
	h.fix()
}

// fix restores the heap after the head's key grew.
func (h *cursorHeap) fix() {
	s := *h
	for i := 0; ; {
		l := 2*i + 1
		if l >= len(s) {
			return
		}
		m := l
		if r := l + 1; r < len(s) && s[r].less(s[l]) {
			m = r
		}
		if !s[m].less(s[i]) {
			return
		}
		s[i], s[m] = s[m], s[i]
		i = m
	}
}

// pool runs decode tasks on a fixed set of goroutines.
type pool struct {
	workers int
	tasks   chan func()
	done    chan struct{}
}

func newPool(parallelism int) *pool {
	p := &pool{}
	if parallelism <= 1 {
		return p
	}
	p.workers = parallelism
	p.tasks = make(chan func(), 64)
	p.done = make(chan struct{})
	for i := 0; i < parallelism; i++ {
		go func() {
			for t := range p.tasks {
				t()
			}
			p.done <- struct{}{}
		}()
	}
	return p
}

func (p *pool) submit(t func()) {
	p.tasks <- t
}

func (p *pool) stop() {
	if p.workers == 0 {
		return
	}
	close(p.tasks)
	for i := 0; i < p.workers; i++ {
		<-p.done
	}
}

var _ = errors.New
var _ = fmt.Sprint
