package recording

import "github.com/edr-lab/edr/event"

// Tracker is the state an Ingest keeps current beside the recording: the
// hosts' process state (detect's state tracker). Snapshot gives a host's
// state when one of its segments opens, so that the segment replays on its
// own; Observe sees every event once it is written.
type Tracker interface {
	Observe(e *event.Event)
	Snapshot(host string, at int64) []byte
}

// Ingest is the one way events enter a recording (generate, import, and
// next live capture): write, then observe. The order matters: the writer
// takes a new segment's snapshot before the event that opens the segment,
// so the tracker must not have seen that event yet.
//
// It is the Writer with Write replaced; BeginSource, AddSource, Close and
// the rest are the Writer's.
type Ingest struct {
	*Writer
	tracker Tracker
}

// OpenIngest opens a Writer on dir whose segments start with t's snapshots
// (opts.Snapshot is replaced). A nil t records no state.
func OpenIngest(dir string, opts WriterOptions, t Tracker) (*Ingest, error) {
	if t != nil {
		opts.Snapshot = t.Snapshot
	}
	w, err := OpenWriter(dir, opts)
	if err != nil {
		return nil, err
	}
	return &Ingest{Writer: w, tracker: t}, nil
}

// Write writes e to the recording, then shows it to the tracker.
func (in *Ingest) Write(e *event.Event) error {
	if err := in.Writer.Write(e); err != nil {
		return err
	}
	if in.tracker != nil {
		in.tracker.Observe(e)
	}
	return nil
}
