package enrich

import (
	"os"
	"sync"
)

// PEReader returns the version resource of an image file. ok is false when
// the image has none (or cannot be read: err says why).
type PEReader interface {
	VersionInfo(path string) (vi VersionInfo, ok bool, err error)
}

// FilePEReader reads version resources from the file system, caching them
// by path + size + modification time so that an image replaced in place is
// read again. Safe for concurrent use.
type FilePEReader struct {
	mu    sync.Mutex
	cache *boundedCache[peKey, peResult]
}

type peKey struct {
	path  string
	size  int64
	mtime int64
}

type peResult struct {
	vi VersionInfo
	ok bool
}

// NewFilePEReader makes a reader caching at most max files.
func NewFilePEReader(max int) *FilePEReader {
	return &FilePEReader{cache: newBoundedCache[peKey, peResult](max)}
}

func (r *FilePEReader) VersionInfo(path string) (VersionInfo, bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return VersionInfo{}, false, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return VersionInfo{}, false, err
	}
	k := peKey{path, st.Size(), st.ModTime().UnixNano()}
	r.mu.Lock()
	res, hit := r.cache.get(k)
	r.mu.Unlock()
	if hit {
		return res.vi, res.ok, nil
	}
	vi, ok, err := ReadVersionInfo(path, f)
	if err != nil {
		return vi, false, err // not cached: a file being written may parse later
	}
	r.mu.Lock()
	r.cache.put(k, peResult{vi, ok})
	r.mu.Unlock()
	return vi, ok, nil
}
