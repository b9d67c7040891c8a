package enrich

import (
	"bytes"
	"debug/pe"
	"encoding/binary"
	"fmt"
	"io"

	"github.com/edr-lab/edr/capture/raw"
)

// VersionInfo is the part of a PE version resource Sysmon reports for
// process creation and image loads. A string the resource does not carry is
// "".
type VersionInfo struct {
	OriginalFileName string
	Description      string // FileDescription
	Product          string // ProductName
	Company          string // CompanyName
	FileVersion      string
}

// Limits on hostile input: a version resource is a few KB; a resource tree
// with more entries or nodes than these is malformed or an attack on the
// parser, and is rejected rather than walked.
const (
	maxResourceSection = 64 << 20 // bytes of the resource section read
	maxResourceEntries = 4096     // directory entries visited in the whole tree
	maxVersionBlock    = 1 << 20  // bytes of one VS_VERSIONINFO
	maxVersionNodes    = 1024     // nodes visited in one VS_VERSIONINFO
	rtVersion          = 16       // RT_VERSION resource type
)

// FormatError is a malformed PE or version resource: the file, the byte
// offset in the file (-1 when the offset is not known, e.g. an error of
// debug/pe) and what is wrong there.
type FormatError struct {
	File   string
	Offset int64
	Msg    string
}

func (e *FormatError) Error() string {
	if e.Offset < 0 {
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("%s: offset %#x: %s", e.File, e.Offset, e.Msg)
}

// ReadVersionInfo reads the version resource of the PE image r (name is used
// in errors only). ok is false, with a nil error, for a well-formed PE that
// has no version resource.
func ReadVersionInfo(name string, r io.ReaderAt) (vi VersionInfo, ok bool, err error) {
	f, err := pe.NewFile(r)
	if err != nil {
		return vi, false, &FormatError{File: name, Offset: -1, Msg: err.Error()}
	}
	defer f.Close()
	var dir pe.DataDirectory
	switch oh := f.OptionalHeader.(type) {
	case *pe.OptionalHeader32:
		if oh.NumberOfRvaAndSizes > pe.IMAGE_DIRECTORY_ENTRY_RESOURCE {
			dir = oh.DataDirectory[pe.IMAGE_DIRECTORY_ENTRY_RESOURCE]
		}
	case *pe.OptionalHeader64:
		if oh.NumberOfRvaAndSizes > pe.IMAGE_DIRECTORY_ENTRY_RESOURCE {
			dir = oh.DataDirectory[pe.IMAGE_DIRECTORY_ENTRY_RESOURCE]
		}
	}
	if dir.VirtualAddress == 0 || dir.Size == 0 {
		return vi, false, nil
	}
	sec := sectionOf(f, dir.VirtualAddress)
	if sec == nil {
		return vi, false, &FormatError{File: name, Offset: -1, Msg: fmt.Sprintf("resource directory RVA %#x is in no section", dir.VirtualAddress)}
	}
	// Read the section's raw bytes as far as the file has them, at most
	// maxResourceSection: a header can claim gigabytes (sec.Data would
	// allocate them up front). Structures beyond what was read are
	// reported as running past the end.
	data, err := io.ReadAll(io.LimitReader(sec.Open(), maxResourceSection))
	if err != nil {
		return vi, false, &FormatError{File: name, Offset: int64(sec.Offset), Msg: "reading section " + sec.Name + ": " + err.Error()}
	}
	rs := rsrc{name: name, data: data, secRVA: sec.VirtualAddress, fileOff: int64(sec.Offset), rootOff: dir.VirtualAddress - sec.VirtualAddress}
	block, blockOff, found, err := rs.versionBlock()
	if err != nil || !found {
		return vi, false, err
	}
	vi, err = parseVersionBlock(block)
	if err != nil {
		if fe, ok := err.(*FormatError); ok {
			fe.File, fe.Offset = name, fe.Offset+blockOff
		}
		return vi, false, err
	}
	return vi, true, nil
}

func sectionOf(f *pe.File, rva uint32) *pe.Section {
	for _, s := range f.Sections {
		size := s.VirtualSize
		if size < s.Size {
			size = s.Size
		}
		if rva >= s.VirtualAddress && rva-s.VirtualAddress < size {
			return s
		}
	}
	return nil
}

// rsrc is the resource section's raw bytes; offsets in the resource
// directory are relative to its root, data entries hold RVAs.
type rsrc struct {
	name    string
	data    []byte
	secRVA  uint32
	fileOff int64 // file offset of data[0]
	rootOff uint32
	visited int
}

func (r *rsrc) errAt(off uint32, format string, args ...any) error {
	return &FormatError{File: r.name, Offset: r.fileOff + int64(off), Msg: fmt.Sprintf(format, args...)}
}

func (r *rsrc) u32(off uint32) (uint32, error) {
	if uint64(off)+4 > uint64(len(r.data)) {
		return 0, r.errAt(off, "resource structure runs past the end of the section")
	}
	return binary.LittleEndian.Uint32(r.data[off:]), nil
}

// entry finds, in the directory at dirOff (relative to the root), the entry
// with ID id, or the first entry when id < 0. It returns the entry's target
// (relative to the root) and whether the target is a subdirectory.
func (r *rsrc) entry(dirOff uint32, id int) (target uint32, isDir, found bool, err error) {
	at := r.rootOff + dirOff
	if uint64(at)+16 > uint64(len(r.data)) {
		return 0, false, false, r.errAt(at, "resource directory runs past the end of the section")
	}
	named := uint32(binary.LittleEndian.Uint16(r.data[at+12:]))
	ids := uint32(binary.LittleEndian.Uint16(r.data[at+14:]))
	for i := uint32(0); i < named+ids; i++ {
		r.visited++
		if r.visited > maxResourceEntries {
			return 0, false, false, r.errAt(at, "more than %d resource directory entries", maxResourceEntries)
		}
		e := at + 16 + 8*i
		nameField, err := r.u32(e)
		if err != nil {
			return 0, false, false, err
		}
		off, err := r.u32(e + 4)
		if err != nil {
			return 0, false, false, err
		}
		if id >= 0 && (nameField&0x80000000 != 0 || nameField != uint32(id)) {
			continue
		}
		return off &^ 0x80000000, off&0x80000000 != 0, true, nil
	}
	return 0, false, false, nil
}

// versionBlock walks type RT_VERSION → first name → first language → data
// entry and returns the VS_VERSIONINFO bytes and their file offset.
func (r *rsrc) versionBlock() ([]byte, int64, bool, error) {
	off, isDir, found, err := r.entry(0, rtVersion)
	if err != nil || !found {
		return nil, 0, false, err
	}
	// Name and language levels: Windows takes the resource with ID 1 and the
	// language that fits; every image in practice has one, so the first.
	for level := 0; level < 2; level++ {
		if !isDir {
			return nil, 0, false, r.errAt(r.rootOff+off, "RT_VERSION resource tree ends after %d levels", level+1)
		}
		if off, isDir, found, err = r.entry(off, -1); err != nil {
			return nil, 0, false, err
		}
		if !found {
			return nil, 0, false, nil
		}
	}
	if isDir {
		return nil, 0, false, r.errAt(r.rootOff+off, "RT_VERSION resource tree is deeper than 3 levels")
	}
	de := r.rootOff + off
	rva, err := r.u32(de)
	if err != nil {
		return nil, 0, false, err
	}
	size, err := r.u32(de + 4)
	if err != nil {
		return nil, 0, false, err
	}
	if size > maxVersionBlock {
		return nil, 0, false, r.errAt(de, "version resource of %d bytes exceeds the %d limit", size, maxVersionBlock)
	}
	if rva < r.secRVA || uint64(rva-r.secRVA)+uint64(size) > uint64(len(r.data)) {
		return nil, 0, false, r.errAt(de, "version resource RVA %#x size %d is outside the resource section", rva, size)
	}
	start := rva - r.secRVA
	return r.data[start : start+size], r.fileOff + int64(start), true, nil
}

// parseVersionBlock parses a VS_VERSIONINFO. Every node is
// {wLength, wValueLength, wType, szKey (UTF-16, NUL), padding to 4, Value,
// padding to 4, Children}; alignment is relative to the block start, which
// the resource format places on a 4-byte boundary. Errors carry the offset
// in the block.
func parseVersionBlock(b []byte) (VersionInfo, error) {
	var vi VersionInfo
	p := versionParser{b: b}
	root, err := p.node(0, len(b))
	if err != nil {
		return vi, err
	}
	if root.key != "VS_VERSION_INFO" {
		return vi, &FormatError{Offset: 0, Msg: fmt.Sprintf("version resource key is %q, want VS_VERSION_INFO", root.key)}
	}
	// The root's value is VS_FIXEDFILEINFO (binary): skip it by wValueLength.
	children := align4(root.valueOff + int(root.valueLen))
	var table *versionNode
	var tables []versionNode
	err = p.each(children, root.end, func(n versionNode) error {
		if n.key != "StringFileInfo" {
			return nil // VarFileInfo
		}
		return p.each(n.valueOff, n.end, func(t versionNode) error {
			tables = append(tables, t)
			return nil
		})
	})
	if err != nil {
		return vi, err
	}
	for i := range tables {
		// Prefer US English (what Sysmon shows on an English system), else
		// the first table.
		if table == nil || (len(tables[i].key) >= 4 && tables[i].key[:4] == "0409" && table.key[:min(4, len(table.key))] != "0409") {
			table = &tables[i]
		}
	}
	if table == nil {
		return vi, nil
	}
	dst := [...]*string{&vi.OriginalFileName, &vi.Description, &vi.Product, &vi.Company, &vi.FileVersion}
	err = p.each(table.valueOff, table.end, func(s versionNode) error {
		for i, k := range versionKeys {
			if s.key == k {
				*dst[i] = p.text(s)
			}
		}
		return nil
	})
	return vi, err
}

// versionKeys are the StringFileInfo names of VersionInfo's fields, in
// field order.
var versionKeys = [...]string{"OriginalFilename", "FileDescription", "ProductName", "CompanyName", "FileVersion"}

type versionParser struct {
	b     []byte
	nodes int
}

type versionNode struct {
	key      string
	valueOff int // first byte after the key and its padding
	valueLen uint16
	wType    uint16
	end      int // end of the node (start + wLength)
}

func align4(n int) int { return (n + 3) &^ 3 }

// node parses the header and key of the node at off, which must end by limit.
func (p *versionParser) node(off, limit int) (versionNode, error) {
	var n versionNode
	p.nodes++
	if p.nodes > maxVersionNodes {
		return n, &FormatError{Offset: int64(off), Msg: fmt.Sprintf("more than %d version resource nodes", maxVersionNodes)}
	}
	if off+6 > limit {
		return n, &FormatError{Offset: int64(off), Msg: "version node header runs past its parent"}
	}
	length := int(binary.LittleEndian.Uint16(p.b[off:]))
	n.valueLen = binary.LittleEndian.Uint16(p.b[off+2:])
	n.wType = binary.LittleEndian.Uint16(p.b[off+4:])
	if length < 6 || off+length > limit {
		return n, &FormatError{Offset: int64(off), Msg: fmt.Sprintf("version node length %d does not fit its parent (%d bytes left)", length, limit-off)}
	}
	n.end = off + length
	k := off + 6
	for ; k+2 <= n.end && binary.LittleEndian.Uint16(p.b[k:]) != 0; k += 2 {
	}
	if k+2 > n.end {
		return n, &FormatError{Offset: int64(off + 6), Msg: "version node key has no terminating NUL"}
	}
	n.key = decodeUTF16(p.b[off+6 : k])
	n.valueOff = min(align4(k+2), n.end)
	return n, nil
}

// each calls fn for every node in [off, end).
func (p *versionParser) each(off, end int, fn func(versionNode) error) error {
	for off = align4(off); off < end; {
		if end-off < 6 && allZero(p.b[off:end]) {
			return nil // trailing padding
		}
		n, err := p.node(off, end)
		if err != nil {
			return err
		}
		if err := fn(n); err != nil {
			return err
		}
		off = align4(n.end)
	}
	return nil
}

func allZero(b []byte) bool { return len(bytes.Trim(b, "\x00")) == 0 }

// text returns a String node's value: UTF-16 up to the first NUL or the node
// end. wValueLength is not trusted: linkers disagree on whether it counts
// bytes or characters and whether it includes the NUL.
func (p *versionParser) text(n versionNode) string {
	v := p.b[n.valueOff:n.end]
	for i := 0; i+1 < len(v); i += 2 {
		if v[i] == 0 && v[i+1] == 0 {
			v = v[:i]
			break
		}
	}
	return decodeUTF16(v)
}

func decodeUTF16(b []byte) string { return string(raw.AppendUTF16LE(nil, b)) }
