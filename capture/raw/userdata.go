package raw

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// InType is a manifest in-type: how a field is laid out in UserData.
type InType uint8

const (
	InUnicodeString InType = iota // NUL-terminated UTF-16LE
	InAnsiString                  // NUL-terminated bytes
	InUInt8
	InUInt16
	InUInt32
	InUInt64
	InInt32
	InInt64
	InHexInt32
	InHexInt64
	InBoolean // 4-byte BOOL
	InPointer // 4 or 8 bytes by the header's pointer size
	InFileTime
	InGUID
	InSID
	InBinary // length from Field.LenFrom, else Field.FixedLen
)

// Field is one template field.
type Field struct {
	Name string
	Type InType
	// LenFrom is the index of the earlier field holding a Binary field's
	// length (-1: none, use FixedLen).
	LenFrom  int
	FixedLen int
}

// Template is the field layout of one event version.
type Template []Field

// Header flags that give the pointer size of the logging process.
const (
	HeaderFlag32Bit = 0x0020
	HeaderFlag64Bit = 0x0040
)

var errShort = errors.New("user data ends inside the field")

// ParseUserData fills r.Props from r.UserData by template t. A record
// shorter than its template (an older writer) keeps the fields it has;
// the error names the field that was cut.
func ParseUserData(r *Record, t Template) error { return ParseUserDataInterned(r, t, nil) }

// Interner turns the bytes of a decoded string into a string, reusing an
// earlier one of the same text where it can: the live path parses the same
// paths, names and SIDs over and over, and a fresh string for each is an
// allocation per property.
type Interner interface {
	Intern(b []byte) string
}

// ParseUserDataInterned is ParseUserData with the text properties (UTF-16
// and ANSI strings, SIDs) made by in (nil: each its own string).
func ParseUserDataInterned(r *Record, t Template, in Interner) error {
	b := r.UserData
	ptr := 8
	if r.HeaderFlags&HeaderFlag32Bit != 0 {
		ptr = 4
	}
	start := len(r.Props)
	for i, f := range t {
		// An empty payload is short for every field but a binary one of
		// length 0 (which the InBinary case checks itself).
		if len(b) == 0 && f.Type != InBinary {
			return fmt.Errorf("field %s (#%d): %w", f.Name, i, errShort)
		}
		var n int
		switch f.Type {
		case InUnicodeString:
			end := 0
			for end+1 < len(b) && (b[end] != 0 || b[end+1] != 0) {
				end += 2
			}
			r.AddString(f.Name, String, r.utf16String(b[:end], in))
			n = min(end+2, len(b))
		case InAnsiString:
			end := 0
			for end < len(b) && b[end] != 0 {
				end++
			}
			r.AddString(f.Name, String, r.text(b[:end], in))
			n = min(end+1, len(b))
		case InSID:
			if len(b) < 8 {
				return fmt.Errorf("field %s (#%d): %w", f.Name, i, errShort)
			}
			n = 8 + 4*int(b[1])
			if len(b) < n {
				return fmt.Errorf("field %s (#%d): %w", f.Name, i, errShort)
			}
			r.scratch = appendSID(r.scratch[:0], b[:n])
			r.AddString(f.Name, SID, r.text(r.scratch, in))
		case InGUID:
			if len(b) < 16 {
				return fmt.Errorf("field %s (#%d): %w", f.Name, i, errShort)
			}
			// Windows layout: Data1..3 little endian; stored in text order.
			g := [16]byte{b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6]}
			copy(g[8:], b[8:16])
			r.AddBytes(f.Name, GUID, g[:])
			n = 16
		case InBinary:
			n = f.FixedLen
			if f.LenFrom >= 0 {
				p := &r.Props[start+f.LenFrom]
				n = int(p.Num)
			}
			if len(b) < n {
				return fmt.Errorf("field %s (#%d): %w", f.Name, i, errShort)
			}
			r.AddBytes(f.Name, Binary, b[:n])
		default:
			k, w := numKind(f.Type, ptr)
			if len(b) < w {
				return fmt.Errorf("field %s (#%d): %w", f.Name, i, errShort)
			}
			var v uint64
			switch w {
			case 1:
				v = uint64(b[0])
			case 2:
				v = uint64(binary.LittleEndian.Uint16(b))
			case 4:
				v = uint64(binary.LittleEndian.Uint32(b))
			default:
				v = binary.LittleEndian.Uint64(b)
			}
			r.AddNum(f.Name, k, v)
			n = w
		}
		b = b[n:]
	}
	return nil
}

func numKind(t InType, ptr int) (Kind, int) {
	switch t {
	case InUInt8:
		return U8, 1
	case InUInt16:
		return U16, 2
	case InUInt32, InHexInt32, InBoolean:
		return U32, 4
	case InInt32:
		return I32, 4
	case InInt64:
		return I64, 8
	case InPointer:
		return Pointer, ptr
	case InFileTime:
		return FileTime, 8
	}
	return U64, 8
}

// appendSID renders a binary SID as S-R-A-S1-S2….
func appendSID(dst, b []byte) []byte {
	var auth uint64
	for _, c := range b[2:8] {
		auth = auth<<8 | uint64(c)
	}
	dst = append(dst, "S-"...)
	dst = strconv.AppendUint(dst, uint64(b[0]), 10)
	dst = append(dst, '-')
	dst = strconv.AppendUint(dst, auth, 10)
	for i := 0; i < int(b[1]); i++ {
		dst = append(dst, '-')
		dst = strconv.AppendUint(dst, uint64(binary.LittleEndian.Uint32(b[8+4*i:])), 10)
	}
	return dst
}

// text is b as a string: in's, or a copy.
func (r *Record) text(b []byte, in Interner) string {
	if in != nil {
		return in.Intern(b)
	}
	return string(b)
}

// utf16String decodes UTF-16LE text into the record's scratch buffer, then
// makes the string (text).
func (r *Record) utf16String(b []byte, in Interner) string {
	r.scratch = AppendUTF16LE(r.scratch[:0], b)
	return r.text(r.scratch, in)
}

// AppendUTF16LE appends the UTF-8 form of UTF-16LE text (an unpaired
// surrogate becomes U+FFFD, a trailing odd byte is ignored), as
// unicode/utf16 decodes it, without allocating.
func AppendUTF16LE(dst, b []byte) []byte {
	for i := 0; i+1 < len(b); i += 2 {
		c := rune(binary.LittleEndian.Uint16(b[i:]))
		switch {
		case c < utf8.RuneSelf:
			dst = append(dst, byte(c))
			continue
		case utf16.IsSurrogate(c):
			if i+3 < len(b) {
				if d := utf16.DecodeRune(c, rune(binary.LittleEndian.Uint16(b[i+2:]))); d != utf8.RuneError {
					c = d
					i += 2
					break
				}
			}
			c = utf8.RuneError
		}
		dst = utf8.AppendRune(dst, c)
	}
	return dst
}
