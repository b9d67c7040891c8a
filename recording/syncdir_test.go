package recording

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var errDirSync = errors.New("injected directory fsync failure")

// failDirSync makes syncDir fail for the directories fail selects, until
// the returned function restores it.
func failDirSync(t *testing.T, fail func(dir string) bool) (restore func()) {
	old := syncDir
	syncDir = func(dir string) error {
		if fail(dir) {
			return errDirSync
		}
		return old(dir)
	}
	restore = func() { syncDir = old }
	t.Cleanup(restore)
	return restore
}

// TestDirSyncFailureAtSegmentClose: with Fsync, a partition directory that
// cannot be synced after a segment's rename fails Close; the WAL stays, so
// the next open keeps every event, once.
func TestDirSyncFailureAtSegmentClose(t *testing.T) {
	dir := t.TempDir()
	restore := failDirSync(t, func(d string) bool {
		return strings.Contains(d, "date=") && !strings.Contains(d, walDir)
	})
	in := synthEvents(3, 2, 2000, t0)
	w, err := OpenWriter(dir, WriterOptions{Fsync: true})
	require.NoError(t, err)
	for _, e := range in {
		require.NoError(t, w.Write(e))
	}
	err = w.Close()
	require.ErrorIs(t, err, errDirSync)
	assert.Contains(t, err.Error(), "date=", "the error names the segment")

	restore()
	w, err = OpenWriter(dir, WriterOptions{Fsync: true})
	require.NoError(t, err)
	require.NoError(t, w.Close())
	got, _ := readAll(t, dir, ReaderOptions{Strict: true})
	sortKey(in)
	requireSame(t, in, got)
}

// TestDirSyncFailureAtSegmentOpen: a new WAL whose directory cannot be
// synced fails the Write that opens the segment, and leaves no WAL behind;
// what was written before stays.
func TestDirSyncFailureAtSegmentOpen(t *testing.T) {
	dir := t.TempDir()
	in := synthEvents(4, 1, 10, t0)
	w, err := OpenWriter(dir, WriterOptions{Fsync: true})
	require.NoError(t, err)
	require.NoError(t, w.Write(in[0]))
	require.NoError(t, w.Close())

	failDirSync(t, func(d string) bool { return strings.Contains(d, walDir) })
	w, err = OpenWriter(dir, WriterOptions{Fsync: true})
	require.NoError(t, err)
	err = w.Write(in[1])
	require.ErrorIs(t, err, errDirSync)
	assert.Contains(t, err.Error(), dir)
	w.Close()
	wals, _ := filepath.Glob(filepath.Join(dir, walDir, "*", "*", "*.wal"))
	assert.Empty(t, wals)
	got, _ := readAll(t, dir, ReaderOptions{Strict: true})
	requireSame(t, in[:1], got)
}
