package sink

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/edr-lab/edr/detect/ecs"
	"github.com/edr-lab/edr/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// writeAlerts sends n alerts through w and closes it.
func writeAlerts(t *testing.T, w *Writer, n int) error {
	t.Helper()
	for i := 0; i < n; i++ {
		if err := w.Alert(alertAt(time.Unix(1700000000, 0), uint64(i+1))); err != nil {
			break // the first write error stops the engine
		}
	}
	return w.Close()
}

// assertWholeLines checks that the file holds only whole lines, as many as
// the writer says it wrote, and that every queued alert is counted.
func assertWholeLines(t *testing.T, path string, s WriterStats) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	if len(b) > 0 {
		assert.Equal(t, byte('\n'), b[len(b)-1], "the file ends in a whole line")
	}
	assert.Equal(t, uint64(bytes.Count(b, []byte("\n"))), s.Written, "written = whole lines in the file")
	assert.Equal(t, s.Queued, s.Written+s.Failed, "every queued alert is written or counted as failed")
}

func TestAlertsToDevFullCountNothingWritten(t *testing.T) {
	f, err := os.OpenFile("/dev/full", os.O_WRONLY, 0)
	if err != nil {
		t.Skipf("no /dev/full here: %v", err)
	}
	defer f.Close()
	w := NewStreamWriter(f, WriterOptions{Queue: 4})
	err = writeAlerts(t, w, 3)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "no space left on device")
	s := w.Stats()
	assert.Zero(t, s.Written)
	assert.Equal(t, s.Queued, s.Failed)
	assert.NotZero(t, s.Failed)
}

func TestAlertsOnAFullDiskCountWholeLines(t *testing.T) {
	disk := testutil.TinyDisk(t, "64k")
	const n = 400 // about 200 KiB of alerts: three times the disk

	t.Run("stream", func(t *testing.T) {
		path := filepath.Join(disk, "alerts.json")
		f, err := os.Create(path)
		require.NoError(t, err)
		defer f.Close()
		w := NewStreamWriter(f, WriterOptions{Queue: 8})
		err = writeAlerts(t, w, n)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "no space left")
		s := w.Stats()
		assert.NotZero(t, s.Written)
		assert.NotZero(t, s.Failed)
		assertWholeLines(t, path, s)
		require.NoError(t, os.Remove(path))
	})
	t.Run("daily", func(t *testing.T) {
		w, err := NewFileWriter(disk, "alerts", WriterOptions{Queue: 8})
		require.NoError(t, err)
		err = writeAlerts(t, w, n)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "no space left")
		s := w.Stats()
		assert.NotZero(t, s.Written)
		assertWholeLines(t, filepath.Join(disk, "alerts."+Day(time.Unix(1700000000, 0))), s)
	})
}

// shortWriter takes the first limit bytes and then fails: a destination
// that cannot be truncated (a pipe) keeps a cut line, which is reported.
type shortWriter struct {
	buf   bytes.Buffer
	limit int
}

func (s *shortWriter) Write(p []byte) (int, error) {
	n := min(len(p), s.limit-s.buf.Len())
	s.buf.Write(p[:n])
	if n < len(p) {
		return n, errors.New("broken pipe")
	}
	return n, nil
}

func TestCutLineOnAPipeIsReported(t *testing.T) {
	one := ecs.AppendAlert(nil, alertAt(time.Unix(1700000000, 0), 1))
	sw := &shortWriter{limit: 2*len(one) + 10}
	w := NewStreamWriter(sw, WriterOptions{Queue: 8})
	err := writeAlerts(t, w, 5)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "cut line of 10 bytes")
	s := w.Stats()
	assert.Equal(t, uint64(2), s.Written)
	assert.GreaterOrEqual(t, s.Queued, uint64(3))
	assert.Equal(t, s.Queued-2, s.Failed)
}
