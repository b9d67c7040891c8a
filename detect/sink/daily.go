// Package sink writes alerts and operational logs: daily files
// (<dir>/<name>.YYYY-MM-DD), stdout, memory for tests, and an alert writer
// that never drops an alert silently.
package sink

import (
	"bufio"
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
	w         *bufio.Writer
	sync      bool
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

// Day formats the file suffix of a time (UTC).
func Day(t time.Time) string { return t.UTC().Format("2006-01-02") }

// PathFor returns the file a record of day would go to.
func (d *DailyFile) PathFor(day string) string {
	return filepath.Join(d.dir, d.name+"."+day)
}

// WriteDay appends p to the file of day.
func (d *DailyFile) WriteDay(day string, p []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if day != d.day || d.f == nil {
		if err := d.closeLocked(); err != nil {
			return err
		}
		path := d.PathFor(day)
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("open %s: %w", path, err)
		}
		d.f, d.w, d.day = f, bufio.NewWriterSize(f, 64<<10), day
	}
	if _, err := d.w.Write(p); err != nil {
		return fmt.Errorf("write %s: %w", d.PathFor(d.day), err)
	}
	return nil
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
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.flushLocked()
}

func (d *DailyFile) flushLocked() error {
	if d.w == nil {
		return nil
	}
	if err := d.w.Flush(); err != nil {
		return fmt.Errorf("flush %s: %w", d.PathFor(d.day), err)
	}
	if d.sync {
		if err := d.f.Sync(); err != nil {
			return fmt.Errorf("fsync %s: %w", d.PathFor(d.day), err)
		}
	}
	return nil
}

func (d *DailyFile) closeLocked() error {
	if d.f == nil {
		return nil
	}
	err := d.flushLocked()
	if cerr := d.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close %s: %w", d.PathFor(d.day), cerr)
	}
	d.f, d.w = nil, nil
	return err
}

// Close flushes and closes the current file.
func (d *DailyFile) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.closeLocked()
}
