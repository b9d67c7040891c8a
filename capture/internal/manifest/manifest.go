// Package manifest reads the provider template dumps of
// shared/etw/manifests/*.tsv (one row per event id and version) for the
// capture tests: the provider table is checked against them, and the
// decoders are run on a bag built from every template.
package manifest

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Row is one event template.
type Row struct {
	Provider string
	EventID  uint16
	Version  uint8
	Name     string  // the template's name ("task_0CreateKey")
	Fields   []Field // in template order
	Keywords string  // space-separated keyword names
	Level    string  // "Informational", "Verbose", …
}

// Field is one template field.
type Field struct{ InType, Name string }

// Read parses a dump; name is used in errors.
func Read(r io.Reader, name string) ([]Row, error) {
	var out []Row
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	line := 0
	for sc.Scan() {
		line++
		c := strings.Split(sc.Text(), "\t")
		if line == 1 || len(c) == 1 && c[0] == "" {
			continue // header, blank
		}
		if len(c) < 8 {
			return nil, fmt.Errorf("%s:%d: %d columns, want ≥ 8", name, line, len(c))
		}
		id, err := strconv.ParseUint(c[1], 10, 16)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: event_id %q", name, line, c[1])
		}
		v, err := strconv.ParseUint(c[2], 10, 8)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: version %q", name, line, c[2])
		}
		row := Row{Provider: c[0], EventID: uint16(id), Version: uint8(v), Keywords: c[5], Level: c[7]}
		row.Name, _, _ = strings.Cut(c[3], "(")
		if i, j := strings.IndexByte(c[3], '('), strings.LastIndexByte(c[3], ')'); i >= 0 && j > i {
			for _, f := range strings.Split(c[3][i+1:j], ", ") {
				if typ, n, ok := strings.Cut(strings.TrimSpace(f), " "); ok {
					row.Fields = append(row.Fields, Field{typ, n})
				}
			}
		}
		out = append(out, row)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %w", name, line+1, err)
	}
	return out, nil
}
