package service

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// FileHash is one loaded file's SHA-256, as the operational log records it
// at start (config and rules): a changed rule or config shows as a changed
// hash between two starts, and a log reader can check a file against it.
type FileHash struct {
	Kind   string // "config", "sigma", "yara", "ioc"
	Path   string
	SHA256 string
	Size   int64
}

// HashFile hashes one file.
func HashFile(kind, path string) (FileHash, error) {
	f, err := os.Open(path)
	if err != nil {
		return FileHash{}, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := f.WriteTo(h)
	if err != nil {
		return FileHash{}, fmt.Errorf("%s: %w", path, err)
	}
	return FileHash{Kind: kind, Path: path, SHA256: hex.EncodeToString(h.Sum(nil)), Size: n}, nil
}

// HashTree hashes path, or every regular file under it when it is a
// folder (sorted by path), skipping what keep rejects (nil: keep all).
func HashTree(kind, path string, keep func(name string) bool) ([]FileHash, error) {
	var files []string
	err := filepath.Walk(path, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if fi.Mode().IsRegular() && (keep == nil || p == path || keep(p)) {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(files)
	out := make([]FileHash, 0, len(files))
	for _, p := range files {
		fh, err := HashFile(kind, p)
		if err != nil {
			return out, err
		}
		out = append(out, fh)
	}
	return out, nil
}

// Digest is one SHA-256 over a list of file hashes (kind, path and hash of
// each, in order): one value to compare two starts by.
func Digest(hs []FileHash) string {
	h := sha256.New()
	for _, f := range hs {
		fmt.Fprintf(h, "%s\x00%s\x00%s\n", f.Kind, f.Path, f.SHA256)
	}
	return hex.EncodeToString(h.Sum(nil))
}
