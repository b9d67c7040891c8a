//go:build unix

package recording

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/edr-lab/edr/event"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// noHang runs fn and fails the test when it has not returned within 10 s
// (a FIFO opened for reading blocks until a writer appears).
func noHang(t *testing.T, what string, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s hangs", what)
	}
}

// specialKinds makes a FIFO or a unix socket at a path.
var specialKinds = map[string]func(t *testing.T, path string){
	"fifo": func(t *testing.T, path string) { require.NoError(t, syscall.Mkfifo(path, 0o644)) },
	"socket": func(t *testing.T, path string) {
		l, err := net.Listen("unix", path)
		if err != nil {
			t.Skipf("unix socket at %s: %v", path, err)
		}
		t.Cleanup(func() { l.Close() })
	},
}

// finishedRecording writes a recording of one finished segment and returns
// its dir and the segment's partition directory.
func finishedRecording(t *testing.T) (dir, part string) {
	dir, err := os.MkdirTemp("", "edrfault") // short: unix socket paths are limited
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	w, err := OpenWriter(dir, WriterOptions{})
	require.NoError(t, err)
	require.NoError(t, w.Write(&event.Event{Time: t0, Host: "h", Channel: "c"}))
	require.NoError(t, w.Close())
	segs, err := listSegments(dir)
	require.NoError(t, err)
	require.Len(t, segs, 1)
	return dir, filepath.Dir(segs[0])
}

// TestFaultSpecialSegment: a FIFO or socket in place of a segment is not
// opened by inspect or the reader: it is named and skipped, and fails a
// strict reader as a corrupt segment.
func TestFaultSpecialSegment(t *testing.T) {
	for kind, mk := range specialKinds {
		t.Run(kind, func(t *testing.T) {
			dir, part := finishedRecording(t)
			bad := filepath.Join(part, "zz.parquet")
			mk(t, bad)
			noHang(t, "Inspect", func() {
				s, err := Inspect(dir)
				require.NoError(t, err)
				assert.Equal(t, 1, s.CorruptSegments)
				require.Len(t, s.Errors, 1)
				assert.Contains(t, s.Errors[0], bad)
				assert.Equal(t, int64(1), s.Events)
			})
			noHang(t, "Verify", func() {
				s, err := Verify(dir)
				require.NoError(t, err)
				assert.Equal(t, 1, s.CorruptSegments)
			})
			noHang(t, "reader", func() {
				got, st := readAll(t, dir, ReaderOptions{})
				assert.Len(t, got, 1)
				assert.Equal(t, 1, st.SegmentsSkipped)
				require.Len(t, st.Errors, 1)
				assert.Contains(t, st.Errors[0].Error(), bad)
				_, err := OpenReader(dir, ReaderOptions{Strict: true})
				require.ErrorIs(t, err, ErrCorrupt)
				assert.Contains(t, err.Error(), bad)
			})
			noHang(t, "writer", func() {
				w, err := OpenWriter(dir, WriterOptions{})
				require.NoError(t, err)
				require.NoError(t, w.Close())
			})
		})
	}
}

// TestFaultSpecialInWALDir: FIFOs and sockets named as a WAL or an
// unfinished segment under .wal/ are skipped by recovery (not opened, not
// removed) and named.
func TestFaultSpecialInWALDir(t *testing.T) {
	for kind, mk := range specialKinds {
		t.Run(kind, func(t *testing.T) {
			dir, part := finishedRecording(t)
			rel, err := filepath.Rel(dir, part)
			require.NoError(t, err)
			wdir := filepath.Join(dir, walDir, rel)
			require.NoError(t, os.MkdirAll(wdir, 0o755))
			names := []string{filepath.Join(wdir, "a.parquet.wal"), filepath.Join(wdir, "b.parquet.tmp")}
			for _, p := range names {
				mk(t, p)
			}
			noHang(t, "OpenWriter", func() {
				w, err := OpenWriter(dir, WriterOptions{})
				require.NoError(t, err)
				st := w.Stats()
				require.NoError(t, w.Close())
				assert.Len(t, st.SpecialFiles, 2)
				joined := strings.Join(st.SpecialFiles, "\n")
				for _, p := range names {
					assert.Contains(t, joined, p)
					assert.FileExists(t, p, "not removed") // FileExists accepts any non-directory
				}
			})
			noHang(t, "Inspect", func() {
				s, err := Inspect(dir)
				require.NoError(t, err)
				assert.Len(t, s.SpecialFiles, 2)
				assert.Zero(t, s.PendingWALs)
			})
		})
	}
}

// TestFaultSpecialWriterFiles: a FIFO or socket in place of the lock file,
// the sources log or sources.json makes OpenWriter fail with an error
// naming it, at once; readers name it too.
func TestFaultSpecialWriterFiles(t *testing.T) {
	for kind, mk := range specialKinds {
		for _, name := range []string{lockFile, filepath.Join(walDir, sourcesLog), sourcesFile} {
			t.Run(kind+"/"+name, func(t *testing.T) {
				dir, _ := finishedRecording(t)
				p := filepath.Join(dir, name)
				os.Remove(p)
				mk(t, p)
				noHang(t, "OpenWriter", func() {
					_, err := OpenWriter(dir, WriterOptions{})
					require.Error(t, err)
					assert.Contains(t, err.Error(), p)
				})
				noHang(t, "Inspect", func() {
					s, err := Inspect(dir)
					require.NoError(t, err)
					if name != lockFile {
						require.NotEmpty(t, s.Errors)
						assert.Contains(t, strings.Join(s.Errors, "\n"), p)
					}
				})
			})
		}
	}
}
