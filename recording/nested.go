package recording

import (
	"os"
	"path/filepath"
	"strings"
)

// Enclosing returns the recording that dir lies inside, or "" when none
// does: the nearest ancestor of dir (not dir itself, nor a .wal, host=… or
// date=… directory, which are parts of a recording) that holds a host=…
// partition directory, a .wal directory or the writer lock file. A writer must not
// create a recording there: its segments would be read as part of the
// enclosing recording (a glob over REC/**/*.parquet, edr replay REC) and
// the enclosing recording's writer would not know of them.
func Enclosing(dir string) string {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return ""
	}
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		abs = r
	}
	for p := filepath.Dir(abs); ; p = filepath.Dir(p) {
		if !isRecordingPart(filepath.Base(p)) && isRecordingDir(p) {
			return p
		}
		if filepath.Dir(p) == p {
			return ""
		}
	}
}

func isRecordingPart(name string) bool {
	return name == walDir || strings.HasPrefix(name, "host=") || strings.HasPrefix(name, "date=")
}

// isRecordingDir reports whether dir looks like a recording's root.
func isRecordingDir(dir string) bool {
	if st, err := os.Lstat(filepath.Join(dir, walDir)); err == nil && st.IsDir() {
		return true
	}
	if _, err := os.Lstat(filepath.Join(dir, lockFile)); err == nil {
		return true
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range ents {
		if e.IsDir() && strings.HasPrefix(e.Name(), "host=") {
			return true
		}
	}
	return false
}
