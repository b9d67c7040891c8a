package recording

import (
	"encoding/binary"
	"sync"
)

// encQueue hands length-prefixed entries (WAL encodings the caller made
// anyway) to an encoder goroutine, so that Parquet encoding and page
// compression run outside the Writer's lock. Entries go in buffers of
// queueEntries entries or about queueBytes, whichever comes first; at most
// 2 buffers wait and 2 are kept for reuse, so a queue holds a few MB at
// most. The encoder handles entries in the order they were queued, so what
// it writes depends only on the entries, never on timing.
type encQueue struct {
	buf     []byte // queued entries: u32 length | entry bytes
	queued  int
	work    chan []byte
	free    chan []byte
	pending sync.WaitGroup
	done    chan struct{}
	mu      sync.Mutex
	err     error // first encoder error
}

// Queue bounds: see encQueue. A recording has a queue per open segment and
// raw segment (8 in edr live's 4-host benchmark), each holding up to 6
// buffers (filling, 2 waiting, encoding, 2 free): 512 entries or 256 KiB
// per buffer kept ~7 MB of them alive near the benchmark's peak; a quarter
// of that costs a hand-off per 128 entries instead of 512, which is noise
// beside encoding them.
const (
	queueEntries = 128
	queueBytes   = 64 << 10
)

// cutMarker, in place of an entry's length, asks the encoder to end its
// row group.
const cutMarker = ^uint32(0)

// startQueue starts the encoder goroutine: entry gets each entry (its bytes
// are only valid during the call) and cut each cut marker; the first error
// either returns is kept (wrapped by wrap) and stops the encoding.
func startQueue(entry func([]byte) error, cut func() error, wrap func(error) error) *encQueue {
	q := &encQueue{work: make(chan []byte, 2), free: make(chan []byte, 2), done: make(chan struct{})}
	go q.run(entry, cut, wrap)
	return q
}

func (q *encQueue) run(entry func([]byte) error, cut func() error, wrap func(error) error) {
	defer close(q.done)
	for b := range q.work {
		for p := b; len(p) >= 4 && q.encErr() == nil; {
			n := binary.LittleEndian.Uint32(p)
			var err error
			if n == cutMarker {
				err, p = cut(), p[4:]
			} else {
				err, p = entry(p[4:4+n]), p[4+n:]
			}
			if err != nil {
				q.mu.Lock()
				q.err = wrap(err)
				q.mu.Unlock()
			}
		}
		select {
		case q.free <- b:
		default:
		}
		q.pending.Done()
	}
}

// appendEntry queues the entry that enc appends to the buffer it is given
// and returns the entry's length.
func (q *encQueue) appendEntry(enc func([]byte) []byte) int {
	at := len(q.buf)
	q.buf = enc(append(q.buf, 0, 0, 0, 0))
	n := len(q.buf) - at - 4
	binary.LittleEndian.PutUint32(q.buf[at:], uint32(n))
	q.entered()
	return n
}

// push queues a copy of entry.
func (q *encQueue) push(entry []byte) {
	q.buf = binary.LittleEndian.AppendUint32(q.buf, uint32(len(entry)))
	q.buf = append(q.buf, entry...)
	q.entered()
}

func (q *encQueue) entered() {
	q.queued++
	if q.queued == queueEntries || len(q.buf) >= queueBytes {
		q.send()
	}
}

// cut queues a cut marker and sends the buffer.
func (q *encQueue) cut() {
	q.buf = binary.LittleEndian.AppendUint32(q.buf, cutMarker)
	q.queued++
	q.send()
}

func (q *encQueue) send() {
	if q.queued == 0 {
		return
	}
	q.pending.Add(1)
	q.work <- q.buf
	q.queued = 0
	select {
	case b := <-q.free:
		q.buf = b[:0]
	default:
		q.buf = make([]byte, 0, queueBytes+queueBytes/4)
	}
}

func (q *encQueue) encErr() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.err
}

// sync waits until the encoder has handled every queued entry.
func (q *encQueue) sync() error {
	q.send()
	q.pending.Wait()
	return q.encErr()
}

// stop ends the encoder goroutine after the queued entries.
func (q *encQueue) stop() error {
	err := q.sync()
	close(q.work)
	<-q.done
	return err
}
