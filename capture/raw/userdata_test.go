package raw

import (
	"testing"
	"unicode/utf16"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseUserDataLayouts(t *testing.T) {
	tmpl := Template{
		{Name: "S", Type: InUnicodeString, LenFrom: -1},
		{Name: "A", Type: InAnsiString, LenFrom: -1},
		{Name: "Sid", Type: InSID, LenFrom: -1},
		{Name: "G", Type: InGUID, LenFrom: -1},
		{Name: "P", Type: InPointer, LenFrom: -1},
		{Name: "N", Type: InUInt16, LenFrom: -1},
		{Name: "B", Type: InBinary, LenFrom: 5},
		{Name: "I", Type: InInt32, LenFrom: -1},
	}
	data := []byte{
		'h', 0, 0xf4, 0, 't', 0, 'e', 0, 0, 0, // "hôte"
		'c', 'm', 'd', 0,
		1, 1, 0, 0, 0, 0, 0, 16, 0x00, 0x30, 0, 0, // S-1-16-12288
		0xd6, 0x2c, 0xfb, 0x22, 0x7b, 0x0e, 0x2b, 0x42, 0xa0, 0xc7, 0x2f, 0xad, 0x1f, 0xd0, 0xe7, 0x16,
		0x78, 0x56, 0x34, 0x12, // 32-bit pointer
		2, 0,
		0xab, 0xcd,
		0xfe, 0xff, 0xff, 0xff,
	}
	r := &Record{HeaderFlags: HeaderFlag32Bit}
	r.SetUserData(data)
	require.NoError(t, ParseUserData(r, tmpl))
	s, _ := r.Str("S")
	assert.Equal(t, "hôte", s)
	s, _ = r.Str("A")
	assert.Equal(t, "cmd", s)
	assert.Equal(t, SID, r.Prop("Sid").Kind)
	assert.Equal(t, "S-1-16-12288", r.Prop("Sid").Str)
	g, _ := r.Bytes("G")
	assert.Equal(t, "22fb2cd6-0e7b-422b-a0c7-2fad1fd0e716", ProviderID(g).String())
	v, _ := r.Uint("P")
	assert.Equal(t, uint64(0x12345678), v)
	b, _ := r.Bytes("B")
	assert.Equal(t, []byte{0xab, 0xcd}, b)
	assert.Equal(t, int64(-2), r.Prop("I").Int())

	// A Binary length running past the end is an error naming the field.
	r = &Record{}
	r.SetUserData([]byte{'x', 0, 0, 0, 0xff, 0, 1, 2})
	err := ParseUserData(r, Template{{Name: "S", Type: InUnicodeString, LenFrom: -1}, {Name: "Len", Type: InUInt16, LenFrom: -1}, {Name: "Data", Type: InBinary, LenFrom: 1}})
	assert.EqualError(t, err, "field Data (#2): user data ends inside the field")
}

// TestParseUserDataEmptyBinaryLast: a binary field of length 0 that ends
// the template ends the payload too (SetValueKey of a new value:
// PreviousDataCapturedSize 0, no PreviousData) — a complete record, not a
// short one.
func TestParseUserDataEmptyBinaryLast(t *testing.T) {
	tmpl := Template{{Name: "Len", Type: InUInt16, LenFrom: -1}, {Name: "Data", Type: InBinary, LenFrom: 0},
		{Name: "Fixed", Type: InBinary, LenFrom: -1}}
	r := &Record{}
	r.SetUserData([]byte{0, 0})
	require.NoError(t, ParseUserData(r, tmpl))
	b, ok := r.Bytes("Data")
	assert.True(t, ok)
	assert.Empty(t, b)
	_, ok = r.Bytes("Fixed")
	assert.True(t, ok)

	// a field that needs bytes still finds the payload short
	r = &Record{}
	r.SetUserData([]byte{0, 0})
	err := ParseUserData(r, Template{{Name: "Len", Type: InUInt16, LenFrom: -1}, {Name: "Next", Type: InUInt16, LenFrom: -1}})
	assert.EqualError(t, err, "field Next (#1): user data ends inside the field")
}

// FuzzUTF16String: the UTF-16 decoder (with or without an interner) gives
// what unicode/utf16 gives, for any bytes.
func FuzzUTF16String(f *testing.F) {
	f.Add([]byte{'h', 0, 0xf4, 0, 0x3d, 0xd8, 0x00, 0xde, 0x00, 0xd8, 'x', 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		u := make([]uint16, len(b)/2)
		for i := range u {
			u[i] = uint16(b[2*i]) | uint16(b[2*i+1])<<8
		}
		want := string(utf16.Decode(u))
		r := &Record{}
		require.Equal(t, want, r.utf16String(b, nil))
		require.Equal(t, want, r.utf16String(b, copyInterner{}))
	})
}

type copyInterner struct{}

func (copyInterner) Intern(b []byte) string { return string(b) }
