package evtx

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/edr-lab/edr/event"
)

// BinXML value types (MS-EVEN6 / libevtx). An array of a type has the 0x80
// bit set.
const (
	tNull     = 0x00
	tWString  = 0x01
	tString   = 0x02
	tInt8     = 0x03
	tUInt8    = 0x04
	tInt16    = 0x05
	tUInt16   = 0x06
	tInt32    = 0x07
	tUInt32   = 0x08
	tInt64    = 0x09
	tUInt64   = 0x0a
	tReal32   = 0x0b
	tReal64   = 0x0c
	tBool     = 0x0d
	tBinary   = 0x0e
	tGUID     = 0x0f
	tSizeT    = 0x10
	tFileTime = 0x11
	tSysTime  = 0x12
	tSID      = 0x13
	tHexInt32 = 0x14
	tHexInt64 = 0x15
	tHandle   = 0x20
	tBinXML   = 0x21
	tEvtXML   = 0x23
	tArray    = 0x80
)

// render returns the value as Windows renders it in event XML. Values whose
// size does not fit their type are rendered from the bytes present (never a
// panic); the bool reports whether the value was well formed.
func render(typ byte, b []byte) (string, bool) {
	if typ&tArray != 0 {
		return renderArray(typ&^tArray, b)
	}
	switch typ {
	case tNull:
		return "", true
	case tWString:
		return utf16String(b), len(b)%2 == 0
	case tString, tEvtXML:
		return strings.TrimRight(string(b), "\x00"), true
	case tInt8, tInt16, tInt32, tInt64:
		v, ok := leInt(b, intSize(typ))
		return strconv.FormatInt(v, 10), ok
	case tUInt8, tUInt16, tUInt32, tUInt64, tHandle:
		v, ok := leUint(b, intSize(typ))
		return event.Itoa(v), ok
	case tHexInt32, tHexInt64:
		v, ok := leUint(b, intSize(typ))
		return event.FormatHex(v), ok
	case tSizeT:
		// win:Pointer / size_t: 4 or 8 bytes, rendered like HexInt64.
		v, ok := leUint(b, len(b))
		return event.FormatHex(v), ok && (len(b) == 4 || len(b) == 8)
	case tReal32:
		if len(b) != 4 {
			return hexUpper(b), false
		}
		return strconv.FormatFloat(float64(math.Float32frombits(binary.LittleEndian.Uint32(b))), 'g', -1, 32), true
	case tReal64:
		if len(b) != 8 {
			return hexUpper(b), false
		}
		return strconv.FormatFloat(math.Float64frombits(binary.LittleEndian.Uint64(b)), 'g', -1, 64), true
	case tBool:
		v, ok := leUint(b, len(b))
		return event.FormatBool(v != 0), ok && len(b) > 0
	case tBinary:
		return hexUpper(b), true
	case tGUID:
		if len(b) != 16 {
			return hexUpper(b), false
		}
		return event.FormatGUID([16]byte(b)), true
	case tFileTime:
		if len(b) != 8 {
			return hexUpper(b), false
		}
		return formatFileTime(binary.LittleEndian.Uint64(b)), true
	case tSysTime:
		return formatSystemTime(b)
	case tSID:
		return formatSID(b)
	default:
		return hexUpper(b), false
	}
}

// renderArray renders an array value where one string is needed (an
// attribute): its items joined by ",". As element content, Windows repeats
// the element once per item instead (see arrayItems).
func renderArray(typ byte, b []byte) (string, bool) {
	items, ok := arrayItems(typ, b)
	return strings.Join(items, ","), ok
}

// arrayItems renders the items of an array value (typ without the array
// bit). String arrays are NUL-separated, the last item NUL-terminated.
func arrayItems(typ byte, b []byte) ([]string, bool) {
	switch typ {
	case tWString:
		s := decodeUTF16(b)
		return strings.Split(strings.TrimSuffix(s, "\x00"), "\x00"), len(b)%2 == 0
	case tString:
		return strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00"), true
	}
	size := fixedSize(typ)
	if size == 0 || len(b)%size != 0 {
		return []string{hexUpper(b)}, false
	}
	items := make([]string, 0, len(b)/size)
	ok := true
	for i := 0; i < len(b); i += size {
		s, good := render(typ, b[i:i+size])
		ok = ok && good
		items = append(items, s)
	}
	return items, ok
}

func fixedSize(typ byte) int {
	switch typ {
	case tInt8, tUInt8:
		return 1
	case tInt16, tUInt16:
		return 2
	case tInt32, tUInt32, tReal32, tBool, tHexInt32:
		return 4
	case tInt64, tUInt64, tReal64, tFileTime, tHexInt64:
		return 8
	case tGUID, tSysTime:
		return 16
	}
	return 0
}

func intSize(typ byte) int {
	switch typ {
	case tInt8, tUInt8:
		return 1
	case tInt16, tUInt16:
		return 2
	case tInt32, tUInt32, tHexInt32:
		return 4
	}
	return 8
}

// leUint reads a little-endian unsigned integer of the expected size from
// the bytes present (shorter values are zero-extended, longer truncated).
func leUint(b []byte, size int) (uint64, bool) {
	ok := len(b) == size
	if len(b) > 8 {
		b = b[:8]
	}
	var v uint64
	for i := len(b) - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v, ok
}

func leInt(b []byte, size int) (int64, bool) {
	u, ok := leUint(b, size)
	n := min(len(b), 8)
	if n == 0 {
		return 0, false
	}
	shift := uint(64 - 8*n)
	return int64(u<<shift) >> shift, ok
}

const hexDigitsUpper = "0123456789ABCDEF"

func hexUpper(b []byte) string {
	out := make([]byte, 2*len(b))
	for i, c := range b {
		out[2*i] = hexDigitsUpper[c>>4]
		out[2*i+1] = hexDigitsUpper[c&15]
	}
	return string(out)
}

// utf16String decodes UTF-16LE, dropping trailing NULs (the terminator
// Windows stores with most strings). An odd trailing byte is ignored.
func utf16String(b []byte) string {
	n := len(b) / 2
	for n > 0 && b[2*n-2] == 0 && b[2*n-1] == 0 {
		n--
	}
	return decodeUTF16(b[:2*n])
}

// fileTimeEpochDelta is the number of seconds between 1601-01-01 and 1970-01-01.
const fileTimeEpochDelta = 11644473600

// formatFileTime renders a FILETIME like event.FormatFileTime, without the
// int64-nanosecond range limit (FILETIMEs span years 1601–30828).
func formatFileTime(ft uint64) string {
	sec := int64(ft/1e7) - fileTimeEpochDelta
	return time.Unix(sec, int64(ft%1e7)*100).UTC().Format(event.FileTimeLayout)
}

// fileTimeNanos converts a FILETIME to Unix nanoseconds; ok is false when it
// is outside the int64 range (years 1678–2262).
func fileTimeNanos(ft uint64) (int64, bool) {
	sec := int64(ft/1e7) - fileTimeEpochDelta
	if sec < math.MinInt64/1_000_000_000+1 || sec > math.MaxInt64/1_000_000_000-1 {
		return 0, false
	}
	return sec*1e9 + int64(ft%1e7)*100, true
}

// formatSystemTime renders a SYSTEMTIME (year, month, weekday, day, hour,
// minute, second, millisecond as uint16) in the FILETIME layout.
func formatSystemTime(b []byte) (string, bool) {
	if len(b) != 16 {
		return hexUpper(b), false
	}
	f := func(i int) uint16 { return binary.LittleEndian.Uint16(b[2*i:]) }
	return fmt.Sprintf("%04d-%02d-%02dT%02d:%02d:%02d.%03d0000Z", f(0), f(1), f(3), f(4), f(5), f(6), f(7)), true
}

// formatSID renders a binary SID as "S-R-A-S1-S2…". An authority above
// 2^32 is rendered in hex as ConvertSidToStringSid does. A SID cut short
// renders the sub-authorities present.
func formatSID(b []byte) (string, bool) {
	if len(b) < 8 {
		return hexUpper(b), false
	}
	count := int(b[1])
	var auth uint64
	for _, c := range b[2:8] {
		auth = auth<<8 | uint64(c)
	}
	buf := make([]byte, 0, 64)
	buf = append(buf, "S-"...)
	buf = strconv.AppendUint(buf, uint64(b[0]), 10)
	buf = append(buf, '-')
	if auth >= 1<<32 {
		buf = append(buf, "0x"...)
		buf = append(buf, strings.ToUpper(hex.EncodeToString(b[2:8]))...)
	} else {
		buf = strconv.AppendUint(buf, auth, 10)
	}
	rest := b[8:]
	ok := len(rest) == 4*count
	for i := 0; i < count && len(rest) >= 4; i++ {
		buf = append(buf, '-')
		buf = strconv.AppendUint(buf, uint64(binary.LittleEndian.Uint32(rest)), 10)
		rest = rest[4:]
	}
	return string(buf), ok
}
