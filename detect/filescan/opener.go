package filescan

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Opener opens the file an event names. Live on Windows the event's path
// is a real path (OSOpener); tests and offline re-scans map Windows paths
// into a directory (DirOpener).
type Opener interface {
	Open(path string) (io.ReadCloser, error)
}

// OSOpener opens the path as it is.
type OSOpener struct{}

// Open opens path (NT prefixes \??\ and \\?\ removed).
func (OSOpener) Open(path string) (io.ReadCloser, error) { return os.Open(cleanPath(path)) }

// DirOpener maps an event path into Root: "C:\Users\a\x.exe" opens
// Root/C/Users/a/x.exe, "\\server\share\x" opens Root/UNC/server/share/x,
// "/usr/bin/x" opens Root/usr/bin/x. Paths that would leave Root ("..")
// are refused.
type DirOpener struct{ Root string }

// Open opens the mapped path.
func (d DirOpener) Open(path string) (io.ReadCloser, error) {
	local, err := d.Local(path)
	if err != nil {
		return nil, err
	}
	return os.Open(local)
}

// Local returns the file DirOpener opens for path.
func (d DirOpener) Local(path string) (string, error) {
	p := strings.ReplaceAll(cleanPath(path), `\`, "/")
	switch {
	case strings.HasPrefix(p, "//"):
		p = "UNC/" + p[2:]
	case len(p) >= 2 && p[1] == ':' && isLetter(p[0]):
		p = strings.ToUpper(p[:1]) + p[2:]
	}
	var parts []string
	for _, part := range strings.Split(p, "/") {
		switch part {
		case "", ".":
			continue
		case "..":
			return "", fmt.Errorf("filescan: path %q leaves the fixture root", path)
		}
		parts = append(parts, part)
	}
	if len(parts) == 0 {
		return "", fmt.Errorf("filescan: empty path %q", path)
	}
	return filepath.Join(append([]string{d.Root}, parts...)...), nil
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

type digests struct{ md5, sha1, sha256 string }

// sum computes the three digests in one pass over data.
func sum(data []byte) digests {
	m, s1, s256 := md5.New(), sha1.New(), sha256.New()
	w := io.MultiWriter(m, s1, s256)
	_, _ = w.Write(data)
	return digests{hex.EncodeToString(m.Sum(nil)), hex.EncodeToString(s1.Sum(nil)), hex.EncodeToString(s256.Sum(nil))}
}
