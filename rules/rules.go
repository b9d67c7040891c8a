// Package rules ships edr's own rules: a starter Sigma pack (sigma/), the
// example YARA rule (yara/) and example IOC lists (ioc/). They are embedded
// in the binary too, so commands fall back to them when rules/ is not on
// disk beside the working directory.
package rules

import (
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// FS holds sigma/, yara/ and ioc/ as shipped.
//
//go:embed sigma/*.yml yara/*.yar ioc/*.txt
var FS embed.FS

// Extract writes the embedded rules below dir (dir/sigma, dir/yara,
// dir/ioc) and returns dir.
func Extract(dir string) (string, error) {
	err := fs.WalkDir(FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(p))
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		data, err := FS.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
	if err != nil {
		return "", fmt.Errorf("extract shipped rules to %s: %w", dir, err)
	}
	return dir, nil
}
