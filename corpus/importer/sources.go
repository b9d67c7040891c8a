package importer

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/edr-lab/edr/internal/fsutil"
)

// Format names an input format.
type Format string

const (
	FormatAuto = Format("auto")
	FormatEVTX = Format("evtx")
	FormatJSON = Format("json")
	// FormatMordor is JSON lines as in the OTRF Security-Datasets, zipped or
	// not; the JSON reader recognizes the dialect per line, so it reads like
	// FormatJSON.
	FormatMordor = Format("mordor")
)

// ParseFormat checks a --format value.
func ParseFormat(s string) (Format, error) {
	switch f := Format(strings.ToLower(s)); f {
	case "", FormatAuto:
		return FormatAuto, nil
	case FormatEVTX, FormatJSON, FormatMordor:
		return f, nil
	}
	return "", fmt.Errorf("unknown format %q (auto, evtx, json or mordor)", s)
}

// kind is what a file holds, by its first bytes.
type kind uint8

const (
	kindUnknown kind = iota
	kindEVTX
	kindJSON
	kindZip
)

func (k kind) format() Format {
	switch k {
	case kindEVTX:
		return FormatEVTX
	case kindJSON, kindZip:
		return FormatJSON
	}
	return ""
}

// sniff classifies a file by content, falling back to its extension (an
// EVTX whose file header is damaged can still hold readable chunks).
func sniff(path string) kind {
	f, err := fsutil.Open(path)
	if err != nil {
		return kindUnknown
	}
	defer f.Close()
	head := make([]byte, 512)
	n, _ := io.ReadFull(f, head)
	return sniffBytes(head[:n], path)
}

func sniffBytes(head []byte, path string) kind {
	switch {
	case bytes.HasPrefix(head, []byte("ElfFile\x00")):
		return kindEVTX
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return kindZip
	}
	t := bytes.TrimLeft(bytes.TrimPrefix(head, []byte("\xef\xbb\xbf")), " \t\r\n")
	if len(t) > 0 && (t[0] == '{' || t[0] == '[') {
		return kindJSON
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".evtx":
		return kindEVTX
	case ".json", ".jsonl", ".ndjson":
		return kindJSON
	case ".zip":
		return kindZip
	}
	return kindUnknown
}

// input is one source file to import.
type input struct {
	path     string // as named (or "-" for stdin)
	open     string // where to read it (stdin is spooled to a file)
	explicit bool   // named on the command line (not found in a directory)
	kind     kind
	size     int64
}

// expand turns the SRC arguments into inputs: files as given, directories
// walked recursively in name order, "-" once for stdin. Files in
// directories that hold no events by their content (and extension) are
// skipped; a named file is always taken.
func expand(srcs []string, format Format) ([]input, []string, error) {
	var out []input
	var skipped []string
	seenStdin := false
	for _, src := range srcs {
		if src == "-" {
			if seenStdin {
				return nil, nil, fmt.Errorf("stdin (-) given twice")
			}
			seenStdin = true
			out = append(out, input{path: "-", explicit: true, kind: kindJSON})
			continue
		}
		st, err := os.Stat(src)
		if err != nil {
			return nil, nil, err
		}
		if !st.IsDir() {
			out = append(out, input{path: src, open: src, explicit: true, kind: sniff(src), size: st.Size()})
			continue
		}
		var files []input
		err = filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() || !d.Type().IsRegular() {
				return nil
			}
			k := sniff(p)
			if k == kindUnknown || (format != FormatAuto && k.format() != normalize(format)) {
				skipped = append(skipped, p)
				return nil
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			files = append(files, input{path: p, open: p, kind: k, size: info.Size()})
			return nil
		})
		if err != nil {
			return nil, nil, err
		}
		sort.Slice(files, func(i, j int) bool { return files[i].path < files[j].path })
		out = append(out, files...)
	}
	return out, skipped, nil
}

func normalize(f Format) Format {
	if f == FormatMordor {
		return FormatJSON
	}
	return f
}
