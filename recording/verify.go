package recording

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/edr-lab/edr/recording/internal/pqfile"
	"github.com/parquet-go/parquet-go"
)

// verifySegment reads all of a segment, as edr inspect --verify does: the
// footer and data checksums, then every page of every column chunk of every
// row group (page header, decompression, decoding), then every row through
// the event decoder. The error names the segment and, where it can be
// found, the row group, column and page.
func verifySegment(path string) error {
	s, err := openSegFile(path, fullData)
	if errors.Is(err, pqfile.ErrDataChecksum) {
		// The checksum covers the whole data region; the pages, read
		// without it, say where the damage is when it breaks one.
		if u, uerr := openSegFile(path, unverified); uerr == nil {
			defer u.close()
			if perr := u.readPages(); perr != nil {
				return &SegmentError{path, fmt.Errorf("%w; %v", errors.Unwrap(err), perr)}
			}
			return &SegmentError{path, fmt.Errorf("%w; every page still decodes, so the damaged page is not known", errors.Unwrap(err))}
		}
	}
	if err != nil {
		return err
	}
	defer s.close()
	if err := s.readPages(); err != nil {
		return &SegmentError{path, fmt.Errorf("%w: %v", ErrCorrupt, err)}
	}
	if err := s.decodeRows(); err != nil {
		return &SegmentError{path, err}
	}
	return nil
}

// readPages reads every page of every column chunk; the error says where
// (the caller adds ErrCorrupt).
func (s *segFile) readPages() (err error) {
	defer pqfile.Guard(&err)
	leaves := s.pf.Schema().Columns()
	for rg, g := range s.pf.RowGroups() {
		for c, cc := range g.ColumnChunks() {
			page, err := readChunkPages(cc)
			if err != nil {
				name := fmt.Sprint(c)
				if c < len(leaves) {
					name = strings.Join(leaves[c], ".")
				}
				return fmt.Errorf("row group %d, column %s, page %d: %v", rg, name, page, err)
			}
		}
	}
	return nil
}

// readChunkPages reads the pages of one column chunk; on error it returns
// the index of the page that failed.
func readChunkPages(cc parquet.ColumnChunk) (int, error) {
	pages := cc.Pages()
	defer pages.Close()
	for n := 0; ; n++ {
		p, err := pages.ReadPage()
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		parquet.Release(p)
	}
}

// decodeRows decodes every row of every row group.
func (s *segFile) decodeRows() error {
	ch := new(chunk)
	for rg := range s.pf.RowGroups() {
		d, err := newRGDecoder(s, rg, nil)
		if err != nil {
			return fmt.Errorf("row group %d: %w", rg, err)
		}
		for d.remaining() > 0 {
			if err := d.decode(ch); err != nil {
				d.close()
				return fmt.Errorf("row group %d: %w", rg, err)
			}
		}
		d.close()
	}
	return nil
}
