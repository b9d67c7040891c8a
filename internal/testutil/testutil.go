// Package testutil finds the read-only shared material (../shared: corpus,
// reference, ETW records) for tests, and skips a test with a clear message
// when it is absent.
package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// SharedDir returns the shared directory: $EDR_SHARED if set, else the first
// "shared" directory found beside the module root or any of its parents
// (a checkout at X/edr finds X/shared; a worktree at X/wt/edr finds it too).
// It returns "" when there is none.
func SharedDir() string {
	if d := os.Getenv("EDR_SHARED"); d != "" {
		return d
	}
	if c := os.Getenv("EDR_CORPUS"); c != "" {
		return filepath.Dir(filepath.Clean(c))
	}
	root := moduleRoot()
	for dir := root; ; {
		parent := filepath.Dir(dir)
		cand := filepath.Join(parent, "shared")
		if st, err := os.Stat(filepath.Join(cand, "corpus")); err == nil && st.IsDir() {
			return cand
		}
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// CorpusDir returns $EDR_CORPUS, else SharedDir()/corpus, or "".
func CorpusDir() string {
	if c := os.Getenv("EDR_CORPUS"); c != "" {
		return c
	}
	if s := SharedDir(); s != "" {
		return filepath.Join(s, "corpus")
	}
	return ""
}

// Shared returns SharedDir()/rel, skipping the test when it does not exist.
func Shared(t testing.TB, rel string) string {
	t.Helper()
	s := SharedDir()
	if s == "" {
		t.Skip("shared material not found: set EDR_SHARED or put ../shared beside the checkout")
	}
	p := filepath.Join(s, rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared material %s absent: %v", p, err)
	}
	return p
}

// Corpus returns CorpusDir()/rel, skipping the test when it does not exist.
func Corpus(t testing.TB, rel string) string {
	t.Helper()
	c := CorpusDir()
	if c == "" {
		t.Skip("corpus not found: set EDR_CORPUS or put ../shared/corpus beside the checkout")
	}
	p := filepath.Join(c, rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("corpus %s absent: %v", p, err)
	}
	return p
}

// moduleRoot walks up from the working directory (a package directory under
// go test) to the directory holding go.mod.
func moduleRoot() string {
	dir, err := os.Getwd()
	if err != nil {
		return "."
	}
	for d := dir; ; {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		parent := filepath.Dir(d)
		if parent == d {
			return dir
		}
		d = parent
	}
}

// TinyDisk mounts a tmpfs of size (e.g. "64k") on a temporary directory and
// returns it, so that writes fail with ENOSPC. It skips the test with a
// message where that cannot be done (not root, no mount).
func TinyDisk(t testing.TB, size string) string {
	t.Helper()
	dir := t.TempDir()
	if os.Geteuid() != 0 {
		t.Skip("full-disk test: needs root to mount a small tmpfs")
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("full-disk test: cannot mount a tmpfs: %v %s", err, out)
	}
	// lazy: a file a failed writer left open must not fail the cleanup
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
	return dir
}
