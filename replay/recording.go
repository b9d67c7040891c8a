package replay

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/edr-lab/edr/detect/filescan"
	"github.com/edr-lab/edr/detect/sigma"
	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/pipeline"
	"github.com/edr-lab/edr/recording"
	"github.com/edr-lab/edr/recording/artifact"
)

// ReadOptions select what is replayed.
type ReadOptions struct {
	From, To int64    // event time range [From, To) in ns; 0 leaves a side open
	Hosts    []string // nil: every host
	Strict   bool     // fail on the first corrupt segment instead of skipping it
	Parallel int      // segment decoders per recording (0: GOMAXPROCS); never changes the output
}

// Recordings are one or more recordings opened for replay.
type Recordings struct {
	dirs    []string
	opts    ReadOptions
	readers []*recording.Reader
	stores  []*artifact.Store
}

// Open opens recordings for reading.
func Open(dirs []string, o ReadOptions) (*Recordings, error) {
	if len(dirs) == 0 {
		return nil, errors.New("no recording given")
	}
	r := &Recordings{dirs: dirs, opts: o}
	for _, d := range dirs {
		rd, err := recording.OpenReader(d, recording.ReaderOptions{From: o.From, To: o.To, Hosts: o.Hosts, Strict: o.Strict, Parallelism: o.Parallel})
		if err != nil {
			r.Close()
			return nil, err // names the recording, or the segment or directory in it
		}
		r.readers = append(r.readers, rd)
		// Only open artifact stores that exist: replay never writes into a
		// recording.
		if st, err := os.Stat(filepath.Join(d, artifact.Dir)); err == nil && st.IsDir() {
			s, err := artifact.Open(d, artifact.Options{})
			if err != nil {
				r.Close()
				return nil, fmt.Errorf("recording %s: artifact store: %w", d, err)
			}
			r.stores = append(r.stores, s)
		}
	}
	return r, nil
}

// Duplicate is a recording named more than once: Dup names the same
// directory as First (the same path, a trailing slash, a relative path or a
// symbolic link to it).
type Duplicate struct{ First, Dup string }

// UniqueDirs drops recordings named more than once, keeping the first
// naming of each, so that a replay never reads one recording twice (which
// would double every alert). Directories are compared by their absolute path
// with symbolic links resolved; one that cannot be resolved (it does not
// exist) is compared by its cleaned absolute path, and Open reports it.
func UniqueDirs(dirs []string) ([]string, []Duplicate) {
	var out []string
	var dups []Duplicate
	first := map[string]string{}
	for _, d := range dirs {
		key, err := filepath.Abs(d)
		if err == nil {
			if r, err := filepath.EvalSymlinks(key); err == nil {
				key = r
			}
		} else {
			key = filepath.Clean(d)
		}
		if f, ok := first[key]; ok {
			dups = append(dups, Duplicate{First: f, Dup: d})
			continue
		}
		first[key] = d
		out = append(out, d)
	}
	return out, dups
}

// Source merges the recordings in (time, host, seq) order.
func (r *Recordings) Source() pipeline.Source {
	srcs := make([]pipeline.Source, len(r.readers))
	for i, rd := range r.readers {
		srcs[i] = pipeline.FromBatches(rd)
	}
	return pipeline.Merge(srcs...)
}

// SysmonCover says, per host, which categories of Sysmon events that audit
// views stand in for (sigma.SysmonCategory) the replay will read, from the
// footers' per-channel/EventID counts, before any event is read: so the
// routing of scanner.sigma_security_audit = "auto" is fixed in advance and
// does not depend on event order. A segment counts when it is selected,
// i.e. it overlaps the --from/--to range (its first and last event times)
// even if the Sysmon events it holds fall outside the range; a corrupt
// segment skipped while reading still counts. Hosts without Sysmon events
// of any such category are absent.
func (r *Recordings) SysmonCover() map[string]sigma.AuditCategories {
	cover := map[string]sigma.AuditCategories{}
	for _, rd := range r.readers {
		addSysmonCover(cover, rd.Selected())
	}
	return cover
}

// addSysmonCover adds to cover the Sysmon categories the segments' footer
// counts hold, per host.
func addSysmonCover(cover map[string]sigma.AuditCategories, segs []*recording.SegmentMeta) {
	for _, m := range segs {
		for _, c := range m.Counts {
			if cat := sigma.SysmonCategory(c.EventID); c.Channel == event.ChannelSysmon && cat != 0 && c.Events > 0 {
				cover[m.Host] |= cat
			}
		}
	}
}

// Store returns the recordings' artifact stores as one (nil when none has
// one).
func (r *Recordings) Store() *MultiStore {
	if len(r.stores) == 0 {
		return nil
	}
	return &MultiStore{stores: r.stores}
}

// Fill copies the readers' counters into a summary.
func (r *Recordings) Fill(s *Summary) {
	for _, rd := range r.readers {
		st := rd.Stats()
		s.Segments += st.Segments
		s.SegmentsRead += st.SegmentsRead
		s.SegmentsSkipped += st.SegmentsSkipped
		s.DirsSkipped += st.DirsSkipped
		s.ReadErrors = append(s.ReadErrors, st.Errors...)
	}
}

// RecoveryLoss sums what crash recovery could not read of the write-ahead
// logs of the selected segments (recording.SegmentMeta.RecoveryGaps):
// segments rebuilt around damaged ranges, the events known lost in those
// ranges, and the log bytes not recovered.
func (r *Recordings) RecoveryLoss() (segments int, events, bytes int64) {
	for _, rd := range r.readers {
		for _, m := range rd.Selected() {
			if len(m.RecoveryGaps) == 0 {
				continue
			}
			segments++
			for _, g := range m.RecoveryGaps {
				events += g.Events
				bytes += g.To - g.From
			}
		}
	}
	return segments, events, bytes
}

// SelectedEvents is the events of the selected segments (see
// recording.Reader.SelectedEvents).
func (r *Recordings) SelectedEvents() int64 {
	var n int64
	for _, rd := range r.readers {
		n += rd.SelectedEvents()
	}
	return n
}

// Close releases the artifact stores.
func (r *Recordings) Close() {
	for _, s := range r.stores {
		s.Close()
	}
	r.stores = nil
}

// MultiStore looks files up in several recordings' artifact stores, in the
// order the recordings were given. It is read-only. It is a
// filescan.LinkStore, so replay over several recordings also finds the
// image of a process start recorded without Hashes (through the link the
// live check made in the recording that holds it).
type MultiStore struct{ stores []*artifact.Store }

var _ filescan.LinkStore = (*MultiStore)(nil)

// Put refuses: replay never writes into a recording.
func (m *MultiStore) Put([]byte) (string, bool, error) {
	return "", false, errReadOnly
}

// Link refuses: replay never writes into a recording.
func (m *MultiStore) Link(string, string) error { return errReadOnly }

var errReadOnly = errors.New("replay: artifact stores are read-only")

// Lookup returns the first store's file for a Sysmon Hashes value.
func (m *MultiStore) Lookup(hashes string) ([]byte, string, error) {
	var data []byte
	var sum string
	err := m.first(func(s *artifact.Store) (err error) {
		data, sum, err = s.Lookup(hashes)
		return err
	})
	return data, sum, err
}

// Get returns the first store's file of a SHA-256.
func (m *MultiStore) Get(sha256 string) ([]byte, error) {
	var data []byte
	err := m.first(func(s *artifact.Store) (err error) {
		data, err = s.Get(sha256)
		return err
	})
	return data, err
}

// Linked returns the SHA-256 the first store that has the link holds for
// key.
func (m *MultiStore) Linked(key string) (string, error) {
	var sha string
	err := m.first(func(s *artifact.Store) (err error) {
		sha, err = s.Linked(key)
		return err
	})
	return sha, err
}

// first calls fn on each store until one succeeds. When none does, the
// error is the first that is not "not found" (a corrupt entry says more
// than a missing one), else the first.
func (m *MultiStore) first(fn func(*artifact.Store) error) error {
	var firstErr error
	for _, s := range m.stores {
		err := fn(s)
		if err == nil {
			return nil
		}
		if firstErr == nil || errors.Is(firstErr, artifact.ErrNotFound) && !errors.Is(err, artifact.ErrNotFound) {
			firstErr = err
		}
	}
	if firstErr == nil {
		firstErr = fmt.Errorf("%w: no artifact store", artifact.ErrNotFound)
	}
	return firstErr
}

var _ pipeline.Batches = (*recording.Reader)(nil)
