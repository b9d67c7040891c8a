// Package sink writes alerts and operational logs: daily files
// (<dir>/<name>.YYYY-MM-DD), stdout, memory for tests, and an alert writer
// that never drops an alert silently.
package sink

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// DailyFile appends to <dir>/<name>.YYYY-MM-DD, switching files when the
// day of the records changes. The day comes from the caller (the alert's
// event time, or the wall clock for operational logs), so replayed alert
// files are deterministic. It is safe for concurrent use.
type DailyFile struct {
	dir, name string
	mu        sync.Mutex
	day       string
	f         *os.File
	w         *lineBuffer
	sync      bool
	header    []byte // written at the start of each new (empty) file
}

// NewDailyFile prepares daily files in dir (created if needed). With sync
// set every Flush also fsyncs.
func NewDailyFile(dir, name string, sync bool) (*DailyFile, error) {
	if name == "" {
		return nil, fmt.Errorf("daily file in %s: empty file name", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("daily file directory: %w", err)
	}
	return &DailyFile{dir: dir, name: name, sync: sync}, nil
}

func (d *DailyFile) setHeader(h []byte) {
	d.mu.Lock()
	d.header = h
	d.mu.Unlock()
}

// Day formats the file suffix of a time (UTC).
func Day(t time.Time) string { return t.UTC().Format("2006-01-02") }

// PathFor returns the file a record of day would go to.
func (d *DailyFile) PathFor(day string) string {
	return filepath.Join(d.dir, d.name+"."+day)
}

// WriteDay appends p to the file of day.
func (d *DailyFile) WriteDay(day string, p []byte) error {
	_, err := d.writeLines(day, p)
	return err
}

// writeLines appends p (whole lines) to the file of day and counts the
// lines that reached a file or were lost on the way.
func (d *DailyFile) writeLines(day string, p []byte) (lines, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var l lines
	if day != d.day || d.f == nil {
		// An error closing the old day's file loses its lines, not p's:
		// p goes to the new file.
		cl, err := d.closeLocked()
		l.add(cl)
		path := d.PathFor(day)
		f, oerr := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if oerr != nil {
			l.lost += bytes.Count(p, newline)
			return l, errors.Join(err, fmt.Errorf("open %s: %w", path, oerr))
		}
		d.f, d.w, d.day = f, newLineBuffer(f), day
		if d.header != nil {
			if st, err := f.Stat(); err == nil && st.Size() == 0 {
				d.w.writeHeader(d.header)
			}
		}
		wl, werr := d.w.write(p)
		l.add(wl)
		return l, errors.Join(err, d.wrap("write", werr))
	}
	wl, err := d.w.write(p)
	l.add(wl)
	return l, d.wrap("write", err)
}

func (d *DailyFile) wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s %s: %w", op, d.PathFor(d.day), err)
}

// Write implements io.Writer using the wall-clock day (operational logs).
func (d *DailyFile) Write(p []byte) (int, error) {
	if err := d.WriteDay(Day(time.Now()), p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Flush writes buffered data (and fsyncs when configured).
func (d *DailyFile) Flush() error {
	_, err := d.flushLines()
	return err
}

func (d *DailyFile) flushLines() (lines, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.flushLocked()
}

func (d *DailyFile) flushLocked() (lines, error) {
	if d.w == nil {
		return lines{}, nil
	}
	l, err := d.w.flush()
	if err != nil {
		return l, d.wrap("flush", err)
	}
	if d.sync {
		if err := d.f.Sync(); err != nil {
			return l, d.wrap("fsync", err)
		}
	}
	return l, nil
}

func (d *DailyFile) closeLocked() (lines, error) {
	if d.f == nil {
		return lines{}, nil
	}
	l, err := d.flushLocked()
	if cerr := d.f.Close(); err == nil && cerr != nil {
		err = d.wrap("close", cerr)
	}
	d.f, d.w = nil, nil
	return l, err
}

// Close flushes and closes the current file.
func (d *DailyFile) Close() error {
	_, err := d.closeLines()
	return err
}

func (d *DailyFile) closeLines() (lines, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.closeLocked()
}
