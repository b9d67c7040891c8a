package recording

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/recording/wal"
)

// walSyncDoc makes an event WAL record readable without the records before
// it, so that recovery can go on past a damaged record (recover.go). The
// writer puts it first in every record after the first (openSeg.begin):
//
//   - Record and Events: how many records and event entries the WAL held
//     before this record, so that the records and events lost in a damaged
//     range are counted exactly;
//   - Fields: a digest of the header's field table, so that the events can
//     be decoded when the first record (the header) is the damaged one,
//     with this build's table if it has the same digest, and a record of
//     another segment's WAL is not taken for one of this;
//   - Run: the source run the record's first events continue (what the
//     walRun entries before it set up), so that their source indexes are
//     exact (sources.go).
//
// Every other entry a record holds depends on nothing before it except the
// header: walSource and walLoss are self-contained, walState occurs only
// in the first record.
type walSyncDoc struct {
	Record, Events int64
	Fields         uint64
	Run            srcCursor
}

func appendSync(b []byte, d walSyncDoc) []byte {
	b = binary.AppendUvarint(b, uint64(d.Record))
	b = binary.AppendUvarint(b, uint64(d.Events))
	b = binary.LittleEndian.AppendUint64(b, d.Fields)
	return appendRun(b, d.Run)
}

func parseSync(b []byte) (walSyncDoc, error) {
	var d walSyncDoc
	rec, n := binary.Uvarint(b)
	if n <= 0 || rec > 1<<62 {
		return d, errors.New("malformed sync entry")
	}
	b = b[n:]
	ev, n := binary.Uvarint(b)
	if n <= 0 || ev > 1<<62 || len(b[n:]) < 8 {
		return d, errors.New("malformed sync entry")
	}
	b = b[n:]
	d.Record, d.Events, d.Fields = int64(rec), int64(ev), binary.LittleEndian.Uint64(b)
	var err error
	d.Run, err = parseRun(b[8:])
	return d, err
}

// fieldsDigest identifies a field table: the first 8 bytes of the SHA-256
// of its names, each followed by a NUL.
func fieldsDigest(names []string) uint64 {
	sum := sha256.Sum256([]byte(strings.Join(names, "\x00") + "\x00"))
	return binary.LittleEndian.Uint64(sum[:8])
}

// thisBuild is this build's field table and its digest.
var thisBuild = sync.OnceValues(func() ([]string, uint64) {
	names := fieldNames()
	return names, fieldsDigest(names)
})

// begin starts a new WAL record of s with its walSync entry when the
// batch is empty and the header record was written: call it before
// appending any entry to s.batch.
func (s *openSeg) begin() {
	if s.batch.Len() > 0 || s.records == 0 {
		return
	}
	_, digest := thisBuild()
	s.batch.AppendFunc(walSync, func(b []byte) []byte {
		return appendSync(b, walSyncDoc{Record: s.records, Events: s.walEvents, Fields: digest, Run: s.run})
	})
}

// walScan reads an event WAL for recovery, past damaged records when the
// records after them are self-describing (walSyncDoc). recoverWAL and
// scanRuns both read through it, so that they read the same records.
type walScan struct {
	hdr    *walHeaderDoc
	dec    *eventDecoder
	digest uint64 // of the header's field table
	// host and date of the WAL's events: the header's, or, when the header
	// is lost, the first event's. Every event of a WAL has them.
	host, date string
	known      bool
	run        srcCursor
	// base+n is the index of the n-th record read (records in damaged
	// ranges have indexes too); events counts event entries read or lost.
	base, events int64
	maxSeq       uint64
	// resynced: the next entry is the walSync of a record accept took
	// after a damaged range; lost says what that range held.
	resynced bool
	gap      wal.Gap
	lost     RecoveryGap
	gaps     []RecoveryGap
	scratch  event.Event

	ev      event.Event
	onEvent func(e *event.Event, run srcCursor) error // run.hash "" for an event of no source; run.next is its index
	onEntry func(kind byte, body []byte) error        // header (after hs.hdr is set), source, state, loss
}

// read reads the WAL in f through fn's handlers.
func (s *walScan) read(f *os.File) (wal.Result, error) {
	st, err := f.Stat()
	if err != nil {
		return wal.Result{}, err
	}
	res, err := wal.Scan(f, st.Size(), wal.Options{Resync: s.accept}, s.entry)
	for _, g := range res.Gaps {
		if g.ToEnd {
			s.gaps = append(s.gaps, RecoveryGap{From: g.From, To: g.To, ToEnd: true, Reason: g.Reason.Error()})
		}
	}
	return res, err
}

func (s *walScan) entry(kind byte, body []byte) error {
	if s.dec == nil && kind != walHeader && kind != walSync {
		return fmt.Errorf("entry of kind %d before the header", kind)
	}
	switch kind {
	case walHeader:
		if s.dec != nil {
			return errors.New("second header")
		}
		var h walHeaderDoc
		if err := json.Unmarshal(body, &h); err != nil {
			return fmt.Errorf("header: %w", err)
		}
		s.hdr, s.dec, s.digest = &h, newEventDecoder(h.Fields), fieldsDigest(h.Fields)
		s.host, s.date, s.known = h.Host, h.Date, true
	case walSync:
		if !s.resynced {
			return nil // read in order: the entries before it said the same
		}
		d, err := parseSync(body)
		if err != nil {
			return err
		}
		s.resynced = false
		s.lost.Records = d.Record - s.base - int64(s.gap.Records)
		s.lost.Events = d.Events - s.events
		s.gaps = append(s.gaps, s.lost)
		s.base, s.events, s.run = d.Record-int64(s.gap.Records), d.Events, d.Run
		if s.dec == nil {
			names, _ := thisBuild()
			s.dec = newEventDecoder(names)
		}
		return nil
	case walEvent:
		if err := s.dec.decode(body, &s.ev); err != nil {
			return fmt.Errorf("event %d: %w", s.events, err)
		}
		s.events++
		s.maxSeq = max(s.maxSeq, s.ev.Seq)
		if !s.known {
			s.host, s.date, s.known = s.ev.Host, dateOf(s.ev.Time), true
		}
		run := s.run
		if run.hash != "" {
			s.run.next++
		}
		return s.onEvent(&s.ev, run)
	case walRun:
		c, err := parseRun(body)
		if err != nil {
			return err
		}
		s.run = c
		return nil
	}
	if s.onEntry != nil {
		return s.onEntry(kind, body)
	}
	return nil
}

// accept says whether rec, an intact record after the damaged range g, can
// be read without the records before it, and it guards against a false
// frame (bytes inside a damaged record that happen to form one, or that an
// event's data crafted to). It takes the record only when it begins with
// a walSync entry that is consistent with what was read (no fewer records
// and events before it, the same field table; this build's when the
// header is lost) and every later entry is one a record after the first
// may hold and is well-formed: every event decodes, has this WAL's host and
// date, and a Seq above every Seq read so far, increasing.
func (s *walScan) accept(g wal.Gap, rec wal.Record) bool {
	first, maxSeq := true, s.maxSeq
	host, date, known := s.host, s.date, s.known
	dec := s.dec
	var d walSyncDoc
	reject := errors.New("rejected")
	err := rec.Entries(func(kind byte, body []byte) error {
		if first {
			first = false
			var err error
			if kind != walSync {
				return reject
			}
			if d, err = parseSync(body); err != nil {
				return reject
			}
			if d.Record < s.base+int64(g.Records) || d.Events < s.events {
				return reject
			}
			if dec == nil {
				names, digest := thisBuild()
				if d.Fields != digest {
					return reject // written with a field table this build does not know
				}
				dec = newEventDecoder(names)
			} else if d.Fields != s.digest {
				return reject
			}
			return nil
		}
		switch kind {
		case walEvent:
			e := &s.scratch
			if dec.decode(body, e) != nil || e.Seq <= maxSeq {
				return reject
			}
			if !known {
				host, date, known = e.Host, dateOf(e.Time), true
			}
			if e.Host != host || dateOf(e.Time) != date {
				return reject
			}
			maxSeq = e.Seq
		case walRun:
			if _, err := parseRun(body); err != nil {
				return reject
			}
		case walSource:
			var si SourceInfo
			if json.Unmarshal(body, &si) != nil {
				return reject
			}
		case walLoss:
			var m map[string]uint64
			if json.Unmarshal(body, &m) != nil {
				return reject
			}
		default: // a header, a state snapshot (first record only), anything else
			return reject
		}
		return nil
	})
	if err != nil || first {
		return false
	}
	s.resynced, s.gap = true, g
	s.lost = RecoveryGap{From: g.From, To: g.To, Reason: g.Reason.Error()}
	return true
}
