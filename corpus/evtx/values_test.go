package evtx

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
)

func le16(vs ...uint16) []byte {
	b := make([]byte, 2*len(vs))
	for i, v := range vs {
		binary.LittleEndian.PutUint16(b[2*i:], v)
	}
	return b
}

func utf16le(s string) []byte {
	var b []byte
	for _, r := range s {
		b = append(b, byte(r), byte(r>>8))
	}
	return b
}

func TestRenderWindowsForms(t *testing.T) {
	u32 := func(v uint32) []byte { b := make([]byte, 4); binary.LittleEndian.PutUint32(b, v); return b }
	u64 := func(v uint64) []byte { b := make([]byte, 8); binary.LittleEndian.PutUint64(b, v); return b }
	// GUID {5770385f-c22a-43e0-bf4c-06f5698ffbd9} in Windows byte order.
	guid := []byte{0x5f, 0x38, 0x70, 0x57, 0x2a, 0xc2, 0xe0, 0x43, 0xbf, 0x4c, 0x06, 0xf5, 0x69, 0x8f, 0xfb, 0xd9}
	// S-1-5-21-1-2-3-500
	sid := []byte{1, 5, 0, 0, 0, 0, 0, 5}
	for _, v := range []uint32{21, 1, 2, 3, 500} {
		sid = append(sid, u32(v)...)
	}
	for _, c := range []struct {
		name string
		typ  byte
		data []byte
		want string
	}{
		{"HexInt32 is 0x lower-case, unpadded", tHexInt32, u32(0xc000006d), "0xc000006d"},
		{"HexInt64", tHexInt64, u64(0x3e7), "0x3e7"},
		{"HexInt64 zero", tHexInt64, u64(0), "0x0"},
		{"SizeT 8 bytes as hex", tSizeT, u64(0x7eec), "0x7eec"},
		{"SizeT 4 bytes as hex", tSizeT, u32(0x58), "0x58"},
		{"Int8 negative", tInt8, []byte{0xff}, "-1"},
		{"Int16 negative", tInt16, []byte{0xfe, 0xff}, "-2"},
		{"Int32 negative", tInt32, u32(0xfffffffd), "-3"},
		{"Int64 negative", tInt64, u64(0xfffffffffffffffc), "-4"},
		{"UInt64", tUInt64, u64(18446744073709551615), "18446744073709551615"},
		{"UInt16", tUInt16, []byte{0x39, 0x05}, "1337"},
		{"Bool true", tBool, u32(1), "true"},
		{"Bool irregular non-zero", tBool, u32(2), "true"},
		{"Bool false", tBool, u32(0), "false"},
		{"GUID braces lower-case", tGUID, guid, "{5770385f-c22a-43e0-bf4c-06f5698ffbd9}"},
		{"SID", tSID, sid, "S-1-5-21-1-2-3-500"},
		{"SID authority above 2^32 in hex", tSID, []byte{1, 0, 1, 0, 0, 0, 0, 0}, "S-1-0x010000000000"},
		{"FILETIME", tFileTime, u64(131124751716816408) /* computed with Python datetime */, "2016-07-08T18:12:51.6816408Z"},
		{"FILETIME zero (1601)", tFileTime, u64(0), "1601-01-01T00:00:00.0000000Z"},
		{"SYSTEMTIME", tSysTime, le16(2015, 8, 0, 23, 21, 25, 49, 63), "2015-08-23T21:25:49.0630000Z"},
		{"Binary upper-case hex", tBinary, []byte{0x00, 0xab, 0x10}, "00AB10"},
		{"WString drops the terminator", tWString, append(utf16le("Advapi  "), 0, 0), "Advapi  "},
		{"WString non-ASCII", tWString, utf16le("forêt «"), "forêt «"},
		{"String (ANSI)", tString, []byte("abc\x00"), "abc"},
		{"Real64", tReal64, u64(0x3ff8000000000000), "1.5"},
		{"Null", tNull, nil, ""},
		{"UInt32 array joined where one string is needed", tArray | tUInt32, append(u32(1), u32(2)...), "1,2"},
		{"WString array", tArray | tWString, utf16le("a\x00\x00b\x00"), "a,,b"},
	} {
		got, ok := render(c.typ, c.data)
		assert.True(t, ok, c.name)
		assert.Equal(t, c.want, got, c.name)
	}
}

func TestRenderMalformedValuesDoNotPanic(t *testing.T) {
	for typ := 0; typ < 256; typ++ {
		for n := 0; n < 20; n++ {
			data := make([]byte, n)
			for i := range data {
				data[i] = byte(0xa5 ^ i*7)
			}
			assert.NotPanics(t, func() { render(byte(typ), data) })
		}
	}
	sid, ok := render(tSID, []byte{1, 3, 0, 0, 0, 0, 0, 5, 18, 0, 0, 0})
	assert.False(t, ok, "a SID with fewer sub-authorities than it declares is malformed")
	assert.Equal(t, "S-1-5-18", sid, "and keeps the sub-authorities present")
	_, ok = render(tGUID, []byte{1, 2, 3})
	assert.False(t, ok, "a GUID of 3 bytes is malformed")
	s, ok := render(tUInt32, []byte{1, 2})
	assert.False(t, ok)
	assert.Equal(t, "513", s, "rendered from the bytes present")
}

func TestArrayItems(t *testing.T) {
	items, ok := arrayItems(tWString, utf16le("10.00.\x0015063\x00\x00Multiprocessor Free\x000\x00"))
	assert.True(t, ok)
	assert.Equal(t, []string{"10.00.", "15063", "", "Multiprocessor Free", "0"}, items)
}
