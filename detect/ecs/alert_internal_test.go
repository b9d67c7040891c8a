package ecs

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSplitCommandLine(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
	}{
		{`whoami /all`, []string{"whoami", "/all"}},
		{`"C:\Program Files\a b\x.exe" -k "two words" x`, []string{`C:\Program Files\a b\x.exe`, "-k", "two words", "x"}},
		{`C:\x.exe a\\\"b c\\"d e" f\g`, []string{`C:\x.exe`, `a\"b`, `c\d e`, `f\g`}},
		{`x.exe "a""b" ""`, []string{"x.exe", `a"b`, ""}},
		{"   ", nil},
		{`"C:\x.exe`, []string{`C:\x.exe`}},
	} {
		assert.Equal(t, c.want, SplitCommandLine(c.in), c.in)
	}
}

func FuzzSplitCommandLine(f *testing.F) {
	f.Add(`"C:\a b\x.exe" a\\\"b "c d"`)
	f.Add(`x a\\b c\\\\ "d e"f\\ g`)
	f.Fuzz(func(t *testing.T, s string) {
		got := SplitCommandLine(s)
		for _, a := range got {
			if len(a) > len(s) {
				t.Fatalf("argument longer than the command line: %q from %q", a, s)
			}
		}
		if want := splitArgs(nil, s, false); !slices.Equal(got, want) || (got == nil) != (want == nil) {
			t.Fatalf("%q: %q, byte by byte %q", s, got, want)
		}
	})
}

func TestRegistryMapping(t *testing.T) {
	h, k := registryHive(`\REGISTRY\MACHINE\SOFTWARE\x`)
	assert.Equal(t, "HKLM", h)
	assert.Equal(t, `SOFTWARE\x`, k)
	typ, d := registryData("QWORD (0x00000001-0x00000002)")
	assert.Equal(t, "REG_QWORD", typ)
	assert.Equal(t, "4294967298", d)
	typ, d = registryData("DWORD (0x000000ff)")
	assert.Equal(t, "REG_DWORD", typ)
	assert.Equal(t, "255", d)
	typ, _ = registryData("Binary Data")
	assert.Equal(t, "REG_BINARY", typ)
}

func TestThreatTags(t *testing.T) {
	th := parseThreat([]string{"attack.privilege_escalation", "attack.privilege-escalation", "attack.t1055", "attack.t1055.012", "attack.t1055", "attack.s0002", "attack.tx123", "car.2016-03-001", "cve.2021-44228", "attack.reconnaissance"})
	assert.Equal(t, []string{"TA0004", "TA0043"}, th.tacticIDs)
	assert.Equal(t, []string{"T1055"}, th.techIDs)
	assert.Equal(t, []string{"T1055.012"}, th.subIDs)
	assert.Equal(t, []string{"S0002"}, th.software)
	assert.Equal(t, []string{"CVE-2021-44228"}, th.cves)
}

func FuzzRegistryData(f *testing.F) {
	f.Add("QWORD (0x00000001-0x00000002)")
	f.Add("DWORD (0x")
	f.Fuzz(func(t *testing.T, details string) {
		typ, data := registryData(details)
		if typ == "" || (typ == "REG_SZ" && data != details) {
			t.Fatalf("registryData(%q) = %q, %q", details, typ, data)
		}
	})
}
