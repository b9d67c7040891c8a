package replay

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/edr-lab/edr/detect"
	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/pipeline"
	"github.com/edr-lab/edr/recording"
)

// Start is the state a replay begins with, so that it attaches the process
// context a replay of the whole recording would: for each host of each
// recording, the state snapshot of its first selected segment (written by
// the recording's producer when the segment opened), and the events
// between that segment's start and ReadOptions.From, which Run applies to
// the state only (no rule runs on them, no alert comes from them).
//
// Equality with a full replay is exact when the recording was written in
// event-time order per host (edr generate; an import of several files is
// in file order), each snapshot held its host's whole state (within
// detect.SnapshotLimits: 16,384 processes, 4,096 DNS answers, 4 MiB), the
// engine's process table evicted nothing before From, and no Sigma
// correlation window spans From (correlation state is not in snapshots).
type Start struct {
	Snapshots []HostSnapshot
	// Warnings name segments whose snapshot could not be read (their
	// hosts start with an empty state).
	Warnings []error

	catchUp []pipeline.Source
}

// HostSnapshot is the segment-start state of one host's first selected
// segment.
type HostSnapshot struct {
	Recording, Host, Segment string
	FirstTime                int64
	FirstSeq                 uint64
	State                    []byte // nil when the producer wrote none
}

// Start finds each host's first selected segment and its snapshot, and
// prepares the catch-up reads for segments that begin before From.
func (r *Recordings) Start() (*Start, error) {
	st := &Start{}
	for i, rd := range r.readers {
		firstSeq := map[string]uint64{} // host → first seq of its catch-up
		var hosts []string
		var from int64
		seen := map[string]bool{}
		for _, seg := range rd.Segments() {
			part := hostPartition(seg)
			if seen[part] {
				continue
			}
			seen[part] = true
			m, err := recording.ReadSegmentMeta(seg)
			if err != nil {
				// The reader reports (or, strict, fails on) the segment;
				// its host starts from an empty state.
				st.Warnings = append(st.Warnings, fmt.Errorf("segment %s: no state snapshot: %w", seg, err))
				continue
			}
			st.Snapshots = append(st.Snapshots, HostSnapshot{Recording: r.dirs[i], Host: m.Host, Segment: seg,
				FirstTime: m.FirstTime, FirstSeq: m.FirstSeq, State: m.State})
			if r.opts.From != 0 && m.FirstTime < r.opts.From {
				if _, dup := firstSeq[m.Host]; !dup {
					hosts = append(hosts, m.Host)
				}
				firstSeq[m.Host] = m.FirstSeq
				if from == 0 || m.FirstTime < from {
					from = m.FirstTime
				}
			}
		}
		if len(hosts) == 0 {
			continue
		}
		cr, err := recording.OpenReader(r.dirs[i], recording.ReaderOptions{From: from, To: r.opts.From, Hosts: hosts,
			Strict: r.opts.Strict, Parallelism: r.opts.Parallel})
		if err != nil {
			return nil, fmt.Errorf("recording %s: %w", r.dirs[i], err)
		}
		st.catchUp = append(st.catchUp, &filtered{src: pipeline.FromBatches(cr), keep: func(ev *event.Event) bool {
			// The snapshot holds every event of its host written before
			// the segment's first one.
			s, ok := firstSeq[ev.Host]
			return ok && ev.Seq >= s
		}})
	}
	return st, nil
}

// hostPartition is the host=… directory of a segment path (one footer read
// per host is enough to find its first segment).
func hostPartition(seg string) string {
	for _, part := range strings.Split(filepath.ToSlash(seg), "/") {
		if strings.HasPrefix(part, "host=") {
			return part
		}
	}
	return seg
}

// restore brings a new engine to the start state: every snapshot (a
// snapshot that does not decode is a warning; its host starts empty), then
// the catch-up events through the state update only.
func (st *Start) restore(ctx context.Context, eng *detect.Engine) ([]error, error) {
	warnings := append([]error(nil), st.Warnings...)
	for _, s := range st.Snapshots {
		if s.State == nil {
			continue
		}
		if err := eng.RestoreState(s.State); err != nil {
			warnings = append(warnings, fmt.Errorf("segment %s: state snapshot of host %q not restored (the host starts with an empty process table): %w",
				s.Segment, s.Host, err))
		}
	}
	if len(st.catchUp) == 0 {
		return warnings, nil
	}
	return warnings, pipeline.Merge(st.catchUp...).Run(ctx, eng.ObserveStateBatch)
}

// filtered passes on the events keep accepts, in the source's order.
type filtered struct {
	src  pipeline.Source
	keep func(*event.Event) bool
	buf  []event.Event
}

func (f *filtered) Run(ctx context.Context, fn func([]event.Event) error) error {
	return f.src.Run(ctx, func(batch []event.Event) error {
		all := true
		for i := range batch {
			if !f.keep(&batch[i]) {
				all = false
				break
			}
		}
		if all {
			return fn(batch)
		}
		f.buf = f.buf[:0]
		for i := range batch {
			if !f.keep(&batch[i]) {
				continue
			}
			if len(f.buf) < cap(f.buf) {
				f.buf = f.buf[:len(f.buf)+1] // keep the slot's storage
			} else {
				f.buf = append(f.buf, event.Event{})
			}
			f.buf[len(f.buf)-1].CopyFrom(&batch[i])
		}
		if len(f.buf) == 0 {
			return nil
		}
		return fn(f.buf)
	})
}
