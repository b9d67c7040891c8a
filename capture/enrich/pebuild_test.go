package enrich

import (
	"bytes"
	"debug/pe"
	"encoding/binary"
	"unicode/utf16"
)

// The helpers below build, byte by byte, what a linker writes: a PE32+
// image with one .rsrc section holding RT_VERSION/1/0409 → VS_VERSIONINFO.

func utf16z(s string) []byte {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = binary.LittleEndian.AppendUint16(b, u)
	}
	return append(b, 0, 0)
}

func pad4(b []byte) []byte {
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	return b
}

// vsNode renders {wLength, wValueLength, wType, szKey, pad, value, pad,
// children}. valueLen is what goes in wValueLength.
func vsNode(key string, wType uint16, value []byte, valueLen uint16, children ...[]byte) []byte {
	b := make([]byte, 6)
	b = append(b, utf16z(key)...)
	b = pad4(b)
	b = append(b, value...)
	if len(children) > 0 {
		b = pad4(b)
	}
	for _, c := range children {
		b = append(pad4(b), c...)
	}
	binary.LittleEndian.PutUint16(b[0:], uint16(len(b)))
	binary.LittleEndian.PutUint16(b[2:], valueLen)
	binary.LittleEndian.PutUint16(b[4:], wType)
	return b
}

func vsString(key, value string) []byte {
	v := utf16z(value)
	return vsNode(key, 1, v, uint16(len(v)/2))
}

// versionBlock builds a VS_VERSIONINFO with one string table per language
// key, each holding strs (name, value pairs).
func versionBlock(langs []string, strs ...string) []byte {
	fixed := make([]byte, 52) // VS_FIXEDFILEINFO
	binary.LittleEndian.PutUint32(fixed, 0xFEEF04BD)
	var tables [][]byte
	for _, lang := range langs {
		var kids [][]byte
		for i := 0; i+1 < len(strs); i += 2 {
			kids = append(kids, vsString(strs[i], strs[i+1]))
		}
		tables = append(tables, vsNode(lang, 1, nil, 0, kids...))
	}
	sfi := vsNode("StringFileInfo", 1, nil, 0, tables...)
	vfi := vsNode("VarFileInfo", 1, nil, 0, vsNode("Translation", 0, []byte{0x09, 0x04, 0xb0, 0x04}, 4))
	return vsNode("VS_VERSION_INFO", 0, fixed, uint16(len(fixed)), sfi, vfi)
}

// resourceSection lays out the resource tree for one RT_VERSION resource
// at section RVA secRVA and returns the section bytes.
func resourceSection(secRVA uint32, block []byte) []byte {
	var b []byte
	dir := func(subdir bool, id, target uint32) {
		b = append(b, make([]byte, 12)...)          // Characteristics, TimeDateStamp, versions
		b = binary.LittleEndian.AppendUint16(b, 0)  // named entries
		b = binary.LittleEndian.AppendUint16(b, 1)  // ID entries
		b = binary.LittleEndian.AppendUint32(b, id) // entry name (ID)
		if subdir {
			target |= 0x80000000
		}
		b = binary.LittleEndian.AppendUint32(b, target)
	}
	dir(true, rtVersion, 24) // root: type 16 → directory at 24
	dir(true, 1, 48)         // name 1 → directory at 48
	dir(false, 0x409, 72)    // language 0409 → data entry at 72
	dataOff := uint32(88)
	b = binary.LittleEndian.AppendUint32(b, secRVA+dataOff)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(block)))
	b = append(b, make([]byte, 8)...) // CodePage, Reserved
	return append(b, block...)
}

// buildPE returns a minimal valid PE32+ image whose only section is .rsrc
// with the given version block (none when block is nil).
func buildPE(block []byte) []byte {
	const (
		fileAlign = 0x200
		secAlign  = 0x1000
		secRVA    = 0x1000
	)
	var rsrcData []byte
	if block != nil {
		rsrcData = resourceSection(secRVA, block)
	} else {
		rsrcData = make([]byte, 16) // an empty resource directory
	}
	raw := (len(rsrcData) + fileAlign - 1) &^ (fileAlign - 1)
	var buf bytes.Buffer
	dos := make([]byte, 0x40)
	copy(dos, "MZ")
	binary.LittleEndian.PutUint32(dos[0x3c:], 0x40)
	buf.Write(dos)
	buf.WriteString("PE\x00\x00")
	w := func(v any) {
		if err := binary.Write(&buf, binary.LittleEndian, v); err != nil {
			panic(err)
		}
	}
	w(pe.FileHeader{Machine: pe.IMAGE_FILE_MACHINE_AMD64, NumberOfSections: 1, SizeOfOptionalHeader: 240, Characteristics: 0x22})
	oh := pe.OptionalHeader64{
		Magic: 0x20b, ImageBase: 0x140000000, SectionAlignment: secAlign, FileAlignment: fileAlign,
		MajorOperatingSystemVersion: 6, MajorSubsystemVersion: 6,
		SizeOfImage: secRVA + uint32((len(rsrcData)+secAlign-1)&^(secAlign-1)), SizeOfHeaders: fileAlign,
		Subsystem: 3, NumberOfRvaAndSizes: 16,
	}
	if block != nil {
		oh.DataDirectory[pe.IMAGE_DIRECTORY_ENTRY_RESOURCE] = pe.DataDirectory{VirtualAddress: secRVA, Size: uint32(len(rsrcData))}
	}
	w(oh)
	sh := pe.SectionHeader32{VirtualSize: uint32(len(rsrcData)), VirtualAddress: secRVA, SizeOfRawData: uint32(raw), PointerToRawData: fileAlign, Characteristics: 0x40000040}
	copy(sh.Name[:], ".rsrc")
	w(sh)
	out := buf.Bytes()
	out = append(out, make([]byte, fileAlign-len(out))...)
	out = append(out, rsrcData...)
	return append(out, make([]byte, raw-len(rsrcData))...)
}

var testStrings = []string{
	"CompanyName", "Contoso Ltd.",
	"FileDescription", "Contoso Updater",
	"FileVersion", "10.0.19041.1 (WinBuild.160101.0800)",
	"InternalName", "updater",
	"OriginalFilename", "UPDATER.EXE",
	"ProductName", "Contoso® Suite",
}
