package event

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFormats(t *testing.T) {
	ns := time.Date(2024, 5, 20, 15, 31, 0, 456_789_000, time.UTC).UnixNano()
	assert.Equal(t, "2024-05-20 15:31:00.456", FormatUtcTime(ns))
	back, err := ParseUtcTime("2024-05-20 15:31:00.456")
	require.NoError(t, err)
	assert.Equal(t, ns/1e6*1e6, back)
	assert.Equal(t, "2024-05-20T15:31:00.4567890Z", FormatFileTime(ns))
	// The example of ../shared/etw/README.md.
	assert.Equal(t, "2026-10-09T07:58:20.1409789Z", FormatFileTime(FileTimeToUnixNano(134360063001409789)))
	assert.Equal(t, uint64(134360063001409789), UnixNanoToFileTime(FileTimeToUnixNano(134360063001409789)))
	assert.Equal(t, "0x3e7", FormatHex(999))
	assert.Equal(t, "0x0", FormatHex(0))
	assert.Equal(t, "true", FormatBool(true))
	g := [16]byte{0xfa, 0x0c, 0x7a, 0x4f, 0xee, 0xde, 0xb3, 0x5e, 0xee, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x00}
	assert.Equal(t, "{4f7a0cfa-deee-5eb3-ee00-000000000a00}", FormatGUID(g))
	assert.Equal(t, "SHA1=AB,MD5=CD,IMPHASH=EF", FormatHashes("ab", "cd", "", "ef"))
	assert.Equal(t, map[string]string{"SHA1": "AB", "MD5": "CD"}, ParseHashes("SHA1=AB,MD5=CD,junk"))
}

func TestNormalize(t *testing.T) {
	for _, c := range []struct {
		t        Type
		in, want string
	}{
		{Hex, "999", "0x3e7"},
		{Hex, "0x00003E7", "0x3e7"},
		{Hex, "-1", "0xffffffffffffffff"},
		{Hex, "0xzz", "0xzz"},
		{Hex, "%%1833", "%%1833"},
		{GUID, "0197231E-9BE6-6934-5301-000000000B00", "{0197231e-9be6-6934-5301-000000000b00}"},
		{GUID, "{0197231E-9BE6-6934-5301-000000000B00}", "{0197231e-9be6-6934-5301-000000000b00}"},
		{GUID, "not-a-guid", "not-a-guid"},
		{Bool, "True", "true"},
		{Bool, "0", "false"},
		{UInt, "4688.0", "4688"},
		{UInt, "12", "12"},
		{String, "-", "-"},
	} {
		assert.Equalf(t, c.want, Normalize(c.t, c.in), "%v %q", c.t, c.in)
	}
	assert.Equal(t, "ThreatName", NormalizeName("Threat Name"))
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"0x3e7", "999", "{0197231e-9be6-6934-5301-000000000b00}", "True", "1.0", ""} {
		f.Add(uint8(Hex), s)
	}
	f.Fuzz(func(t *testing.T, ty uint8, s string) {
		typ := Type(ty % uint8(len(typeNames)))
		out := Normalize(typ, s)
		// Normalizing is idempotent: a rendered value stays as it is.
		if again := Normalize(typ, out); again != out {
			t.Fatalf("Normalize(%v) not idempotent: %q → %q → %q", typ, s, out, again)
		}
		if typ == GUID {
			if g, err := NormalizeGUID(s); err == nil && len(g) != 38 {
				t.Fatalf("bad GUID %q", g)
			}
		}
	})
}
