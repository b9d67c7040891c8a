package replay

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

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
	readers []*recording.Reader
	stores  []*artifact.Store
}

// Open opens recordings for reading.
func Open(dirs []string, o ReadOptions) (*Recordings, error) {
	if len(dirs) == 0 {
		return nil, errors.New("no recording given")
	}
	r := &Recordings{dirs: dirs}
	for _, d := range dirs {
		rd, err := recording.OpenReader(d, recording.ReaderOptions{From: o.From, To: o.To, Hosts: o.Hosts, Strict: o.Strict, Parallelism: o.Parallel})
		if err != nil {
			r.Close()
			return nil, fmt.Errorf("recording %s: %w", d, err)
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

// Source merges the recordings in (time, host, seq) order.
func (r *Recordings) Source() Source {
	srcs := make([]Source, len(r.readers))
	for i, rd := range r.readers {
		srcs[i] = rd
	}
	return Merge(srcs...)
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
		s.ReadErrors = append(s.ReadErrors, st.Errors...)
	}
}

// Close releases the artifact stores.
func (r *Recordings) Close() {
	for _, s := range r.stores {
		s.Close()
	}
	r.stores = nil
}

// MultiStore looks files up in several recordings' artifact stores, in the
// order the recordings were given. It is read-only.
type MultiStore struct{ stores []*artifact.Store }

// Put refuses: replay never writes into a recording.
func (m *MultiStore) Put([]byte) (string, bool, error) {
	return "", false, errors.New("replay: artifact stores are read-only")
}

// Lookup returns the first store's file for a Sysmon Hashes value.
func (m *MultiStore) Lookup(hashes string) ([]byte, string, error) {
	var first error
	for _, s := range m.stores {
		data, sum, err := s.Lookup(hashes)
		if err == nil {
			return data, sum, nil
		}
		if first == nil {
			first = err
		}
	}
	return nil, "", first
}

var _ Source = (*recording.Reader)(nil)
