package recording

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/recording/wal"
)

// recover turns every WAL left by a crash into a finished segment and
// removes unfinished segment files.
func (w *Writer) recover() error {
	root := filepath.Join(w.dir, walDir)
	var wals []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch {
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
	for _, p := range wals {
		if err := w.recoverWAL(root, p); err != nil {
			return fmt.Errorf("recording %s: recovery of %s: %w", w.dir, p, err)
		}
	}
	return nil
}

func (w *Writer) recoverWAL(root, path string) error {
	rel, err := filepath.Rel(root, strings.TrimSuffix(path, ".wal"))
	if err != nil {
		return err
	}
	final := filepath.Join(w.dir, rel)
	if _, err := os.Stat(final); err == nil {
		// Crashed between finishing the segment and removing its WAL.
		w.stats.StaleWALs++
		return os.Remove(path)
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var (
		sw  *segWriter
		dec *eventDecoder
		ev  event.Event
	)
	tmp := strings.TrimSuffix(path, ".wal") + ".tmp"
	res, err := wal.Read(f, func(kind byte, body []byte) error {
		if sw == nil && kind != walHeader {
			return fmt.Errorf("entry of kind %d before the header", kind)
		}
		switch kind {
		case walHeader:
			if sw != nil {
				return errors.New("second header")
			}
			var h walHeaderDoc
			if err := json.Unmarshal(body, &h); err != nil {
				return fmt.Errorf("header: %w", err)
			}
			dec = newEventDecoder(h.Fields)
			meta := SegmentMeta{SchemaVersion: event.SchemaVersion, Producer: h.Producer, Source: h.Source, Host: h.Host, Date: h.Date, Recovered: true}
			var err error
			sw, err = newSegWriter(tmp, w.opts.RowGroupRows, meta)
			return err
		case walEvent:
			if err := dec.decode(body, &ev); err != nil {
				return fmt.Errorf("event after %d: %w", sw.meta.Events, err)
			}
			return sw.add(&ev)
		case walSource:
			var si SourceInfo
			if err := json.Unmarshal(body, &si); err != nil {
				return fmt.Errorf("source: %w", err)
			}
			sw.meta.Sources = append(sw.meta.Sources, si)
			w.sources[si.ContentHash] = si
		case walState:
			sw.meta.State = append([]byte(nil), body...)
		case walLoss:
			var m map[string]uint64
			if err := json.Unmarshal(body, &m); err != nil {
				return fmt.Errorf("loss: %w", err)
			}
			if sw.meta.Loss == nil {
				sw.meta.Loss = map[string]uint64{}
			}
			for k, v := range m {
				sw.meta.Loss[k] += v
			}
		}
		return nil
	})
	if err != nil {
		if sw != nil {
			sw.abort()
		}
		if errors.Is(err, wal.ErrBadMagic) && res.Size <= int64(len(wal.Magic)) {
			// Crashed while creating the WAL: nothing was logged.
			f.Close()
			return os.Remove(path)
		}
		// Keep the evidence, out of the way of the next recovery.
		w.stats.RecoveryFailed++
		f.Close()
		w.opts.Logger.Error("recording: WAL unrecoverable", "wal", path, "err", err)
		return os.Rename(path, path+".bad")
	}
	w.stats.RecoveryDroppedBytes += res.Size - res.Good
	if sw == nil || sw.meta.Events == 0 {
		if sw != nil {
			sw.abort()
		}
		f.Close()
		return os.Remove(path)
	}
	sw.meta.RecoveryDroppedBytes = res.Size - res.Good
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
	w.stats.RecoveredSegments++
	w.stats.RecoveredEvents += sw.meta.Events
	f.Close()
	return os.Remove(path)
}
