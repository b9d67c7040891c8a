package recording

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/internal/fsutil"
	"github.com/edr-lab/edr/recording/wal"
)

// recover turns every WAL left by a crash into a finished segment and
// removes unfinished segment files. A first pass over the WALs finds where
// the runs of each source not completed continue (see sources.go); the
// second builds the segments, keeping of such a source only its durable
// prefix.
func (w *Writer) recover() error {
	root := filepath.Join(w.dir, walDir)
	var wals, raws []string
	rawRoot := filepath.Join(root, RawDir)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if strings.HasPrefix(p, rawRoot+string(filepath.Separator)) && !fsutil.IsSpecial(d.Type()) {
			// The raw layer's WALs (rawlayer.go).
			switch {
			case strings.HasSuffix(p, segmentExt+".tmp"), strings.HasSuffix(p, ".wal.bad.tmp"):
				return os.Remove(p)
			case isWAL(p):
				raws = append(raws, p)
			}
			return nil
		}
		switch {
		case fsutil.IsSpecial(d.Type()):
			// Never opened, never removed: named and counted.
			w.stats.SpecialFiles = append(w.stats.SpecialFiles, (&fsutil.SpecialError{Path: p, Mode: d.Type()}).Error())
			w.opts.Logger.Warn("recording: special file skipped", "path", p)
		case strings.HasSuffix(p, ".wal.bad.tmp"):
			// keepAside's copy cut by a crash: its WAL is still there
			// (removed only after the copy is renamed).
			return os.Remove(p)
		case strings.HasSuffix(p, segmentExt+".tmp"):
			return os.Remove(p)
		case isWAL(p):
			wals = append(wals, p)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("recording %s: recovery: %w", w.dir, err)
	}
	for _, p := range raws {
		if err := w.recoverRaw(p); err != nil {
			return fmt.Errorf("recording %s: recovery of %s: %w", w.dir, p, err)
		}
	}
	if len(wals) == 0 {
		return nil
	}
	keep := w.durablePrefixes(root, wals)
	for _, p := range wals {
		if err := w.recoverWAL(root, p, keep); errors.Is(err, fsutil.ErrSpecial) {
			// A symbolic link to a special file: skipped like one.
			w.stats.SpecialFiles = append(w.stats.SpecialFiles, err.Error())
		} else if err != nil {
			return fmt.Errorf("recording %s: recovery of %s: %w", w.dir, p, err)
		}
	}
	return nil
}

// finalPath is the segment a WAL becomes.
func (w *Writer) finalPath(root, walPath string) (string, error) {
	rel, err := filepath.Rel(root, strings.TrimSuffix(walPath, ".wal"))
	if err != nil {
		return "", err
	}
	return filepath.Join(w.dir, rel), nil
}

// durablePrefixes returns, for every source that is not completed and has
// events in the WALs, how many of its first events survive.
func (w *Writer) durablePrefixes(root string, wals []string) map[string]int64 {
	runs := map[string][]idxRange{}
	for _, p := range wals {
		if final, err := w.finalPath(root, p); err != nil {
			continue
		} else if _, err := os.Stat(final); err == nil {
			continue // stale: its segment is finished
		}
		walRuns, err := scanRuns(p)
		if err != nil {
			continue // unreadable: recoverWAL sets it aside
		}
		for h, rs := range walRuns {
			runs[h] = append(runs[h], rs...)
		}
	}
	keep := map[string]int64{}
	for h, rs := range runs {
		if _, done := w.sources[h]; !done {
			keep[h] = durablePrefix(w.progress[h], rs)
		}
	}
	return keep
}

// scanRuns lists the index runs of every source in a WAL's good records.
// It reads the same records as recoverWAL (walScan) and fails on the same
// WALs.
func scanRuns(path string) (map[string][]idxRange, error) {
	f, err := fsutil.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string][]idxRange{}
	var open *idxRange
	var last srcCursor
	s := &walScan{onEvent: func(_ *event.Event, run srcCursor) error {
		if run.hash == "" {
			return nil
		}
		if open == nil || run != last {
			rs := append(out[run.hash], idxRange{run.next, run.next})
			out[run.hash] = rs
			open = &rs[len(rs)-1]
		}
		open.to++
		last = srcCursor{run.hash, run.next + 1}
		return nil
	}}
	_, err = s.read(f)
	return out, err
}

// openWAL opens a WAL to recover and says which file it becomes; f is nil
// when that file exists already (the stale WAL is then removed).
func (w *Writer) openWAL(root, path string) (final string, f *os.File, err error) {
	final, err = w.finalPath(root, path)
	if err != nil {
		return "", nil, err
	}
	if _, err := os.Stat(final); err == nil {
		// Crashed between finishing the segment and removing its WAL.
		w.stats.StaleWALs++
		return final, nil, os.Remove(path)
	}
	f, err = fsutil.Open(path)
	return final, f, err
}

// walReport begins the report of a WAL that was read.
func walReport(path string, res wal.Result) WALRecovery {
	rep := WALRecovery{WAL: path, Records: res.Records, Resynced: res.Resynced, Bytes: res.Size, MagicDamaged: res.MagicDamaged}
	if res.Tail != nil {
		rep.Reason = res.Tail.Error()
	}
	return rep
}

// walUnreadable disposes of a WAL wal.Read could not read at all (rerr)
// and closes f: removed when provably what a crash while creating it
// leaves, else renamed whole to <wal>.bad, out of the way of the next
// recovery, and reported.
func (w *Writer) walUnreadable(f *os.File, path string, res wal.Result, rerr error, rep WALRecovery) error {
	defer f.Close()
	rep.Reason = rerr.Error()
	if errors.Is(rerr, wal.ErrBadMagic) && res.Size < int64(len(wal.Magic)) {
		if head, err := fsutil.ReadFile(path); err == nil && wal.IsPartialHeader(head) {
			// Crashed while creating the WAL: provably nothing was
			// logged (see doc.go).
			f.Close()
			return os.Remove(path)
		}
	}
	w.stats.RecoveryFailed++
	rep.KeptAside, rep.KeptFrom, rep.BadFile = res.Size, 0, path+".bad"
	rep.Gaps = []RecoveryGap{{From: 0, To: res.Size, ToEnd: true, Reason: rerr.Error()}}
	w.opts.Logger.Error("recording: WAL unreadable, kept aside", "wal", path, "bad", rep.BadFile, "bytes", res.Size, "err", rerr)
	f.Close()
	w.noteRecovery(rep)
	return os.Rename(path, rep.BadFile)
}

// keepGaps copies the bytes of a WAL not recovered (damaged ranges, a torn
// tail) aside before the WAL is removed: they are never deleted. The
// ranges are in rep.Gaps.
func (w *Writer) keepGaps(f *os.File, path string, gaps []RecoveryGap, rep *WALRecovery) error {
	rep.Gaps = gaps
	for _, g := range gaps {
		rep.KeptAside += g.To - g.From
		rep.LostRecords += g.Records
		rep.LostEvents += g.Events
	}
	if rep.KeptAside > 0 {
		rep.KeptFrom, rep.BadFile = gaps[0].From, path+".bad"
		if err := keepAside(f, gaps, rep.BadFile, w.opts.Fsync); err != nil {
			return fmt.Errorf("keeping aside the unreadable bytes: %w", err)
		}
		w.opts.Logger.Warn("recording: WAL damaged, unreadable bytes kept aside", "wal", path, "bad", rep.BadFile,
			"from", rep.KeptFrom, "bytes", rep.KeptAside, "ranges", len(gaps), "why", rep.Reason)
	}
	w.stats.RecoveryDroppedBytes += rep.KeptAside
	w.stats.RecoveryLostRecords += rep.LostRecords
	w.stats.RecoveryLostEvents += rep.LostEvents
	return nil
}

// tailGaps are the gaps of a WAL read without resynchronisation (raw WALs):
// at most its damaged or cut rest.
func tailGaps(res wal.Result) []RecoveryGap {
	var out []RecoveryGap
	for _, g := range res.Gaps {
		out = append(out, RecoveryGap{From: g.From, To: g.To, ToEnd: g.ToEnd, Reason: g.Reason.Error()})
	}
	return out
}

// recoverWAL turns an event WAL into its segment. A damaged range is
// skipped when the records after it are self-describing (walScan): their
// events are recovered in order after those before it. Of a source not
// completed, only events below its durable prefix are kept (keep): its
// events in a damaged range leave a hole in its index runs, which ends
// the prefix there, so that the recovered events of every such source
// stay an exact prefix and a resumed import writes the rest exactly once.
func (w *Writer) recoverWAL(root, path string, keep map[string]int64) error {
	final, f, err := w.openWAL(root, path)
	if f == nil || err != nil {
		return err
	}
	defer f.Close()
	var (
		sw      *segWriter
		meta    SegmentMeta // until sw exists
		dropped int64
	)
	tmp := strings.TrimSuffix(path, ".wal") + ".tmp"
	m := func() *SegmentMeta {
		if sw != nil {
			return &sw.meta
		}
		return &meta
	}
	s := &walScan{}
	s.onEvent = func(ev *event.Event, run srcCursor) error {
		if sw == nil {
			meta.SchemaVersion, meta.Host, meta.Date, meta.Recovered = event.SchemaVersion, s.host, s.date, true
			if h := s.hdr; h != nil {
				meta.Producer, meta.Source = h.Producer, h.Source
			}
			var err error
			if sw, err = newSegWriter(tmp, w.opts.RowGroupRows, w.opts.MaxBufferBytes, w.level, meta); err != nil {
				return err
			}
		}
		if run.hash == "" {
			return sw.add(ev)
		}
		if k, partial := keep[run.hash]; partial && run.next >= k {
			dropped++ // past the source's durable prefix: the importer writes it again
			return nil
		}
		sw.spans.add(run.hash, run.next)
		return sw.add(ev)
	}
	s.onEntry = func(kind byte, body []byte) error {
		switch kind {
		case walSource:
			var si SourceInfo
			if err := json.Unmarshal(body, &si); err != nil {
				return fmt.Errorf("source: %w", err)
			}
			m().Sources = append(m().Sources, si)
		case walState:
			m().State = append([]byte(nil), body...)
		case walLoss:
			var lm map[string]uint64
			if err := json.Unmarshal(body, &lm); err != nil {
				return fmt.Errorf("loss: %w", err)
			}
			addLossTo(m(), lm)
		}
		return nil
	}
	res, err := s.read(f)
	rep := walReport(path, res)
	if err != nil {
		if sw != nil {
			sw.abort()
		}
		// Nothing of it becomes a segment.
		return w.walUnreadable(f, path, res, err, rep)
	}
	if err := w.keepGaps(f, path, s.gaps, &rep); err != nil {
		if sw != nil {
			sw.abort()
		}
		return err
	}
	w.stats.RecoveryDroppedEvents += dropped
	// Seqs of dropped events are not handed out again.
	w.nextSeq = max(w.nextSeq, s.maxSeq+1)
	if sw == nil || sw.meta.Events == 0 {
		if sw != nil {
			sw.abort()
		}
		f.Close()
		w.noteRecovery(rep)
		return os.Remove(path)
	}
	sw.meta.RecoveryDroppedBytes = rep.KeptAside
	sw.meta.RecoveryGaps = rep.Gaps
	addLossTo(&sw.meta, map[string]uint64{LossWALRecords: uint64(rep.LostRecords), LossWALEvents: uint64(rep.LostEvents)})
	if err := sw.finish(w.opts.Fsync); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return err
	}
	if err := os.Rename(tmp, final); err != nil {
		return err
	}
	w.noteSegment(&sw.meta)
	w.stats.RecoveredSegments++
	w.stats.RecoveredEvents += sw.meta.Events
	rep.Events, rep.Segment = sw.meta.Events, final
	w.noteRecovery(rep)
	f.Close()
	return os.Remove(path)
}

// Loss counters recovery adds to a segment rebuilt from a WAL with damaged
// ranges: the records and events known to have been in them (counted from
// the intact record after each; what a damaged or cut rest of the WAL held
// is not known).
const (
	LossWALRecords = "wal_damaged_records"
	LossWALEvents  = "wal_damaged_events"
)

// addLossTo adds the non-zero counters of lm to m.Loss.
func addLossTo(m *SegmentMeta, lm map[string]uint64) {
	for k, v := range lm {
		if v == 0 {
			continue
		}
		if m.Loss == nil {
			m.Loss = map[string]uint64{}
		}
		m.Loss[k] += v
	}
}

// noteRecovery records what recovering one WAL did.
func (w *Writer) noteRecovery(r WALRecovery) {
	w.stats.RecoveredWALs++
	w.stats.KeptAsideBytes += r.KeptAside
	w.stats.Recovery = append(w.stats.Recovery, r)
}

// keepAside copies the bytes of f in the ranges of gaps, in order, into bad
// (through a temporary file, so bad is whole or absent). It runs before the
// recovered segment is renamed into place: a crash in between redoes the
// recovery, which writes the same bytes again.
func keepAside(f *os.File, gaps []RecoveryGap, bad string, fsync bool) error {
	tmp := bad + ".tmp"
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	for _, g := range gaps {
		if err == nil {
			_, err = io.Copy(out, io.NewSectionReader(f, g.From, g.To-g.From))
		}
	}
	if err == nil && fsync {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, bad)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}
