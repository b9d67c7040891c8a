package allowlist

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestEffectivePrecedence(t *testing.T) {
	shared := []string{`C:\Windows\`, `C:\Program Files\`}
	assert.Equal(t, shared, Effective(shared, nil, false), "unset module list inherits the shared one")
	assert.Equal(t, []string{`D:\Trusted\`}, Effective(shared, []string{`D:\Trusted\`}, true), "explicit module list overrides")
	assert.Empty(t, Effective(shared, []string{}, true), "explicitly empty module list disables the allowlist for that module")
}

func TestPathsCaseInsensitivePrefix(t *testing.T) {
	p := NewPaths([]string{`C:\Windows\`, `c:/program files/`, "  ", `C:\Ünïcode\`})
	assert.Equal(t, 3, p.Len())
	for _, yes := range []string{`C:\Windows\System32\cmd.exe`, `c:\windows\x.exe`, `C:/WINDOWS/notepad.exe`, `C:\PROGRAM FILES\App\a.exe`, `C:\üNÏCODE\a.exe`} {
		assert.True(t, p.Match(yes), yes)
	}
	for _, no := range []string{`C:\Windows`, `C:\WindowsApps\x.exe`, `D:\Windows\x.exe`, ``, `C:\Users\Public\Windows\x.exe`} {
		assert.False(t, p.Match(no), no)
	}
	var nilList *Paths
	assert.False(t, nilList.Match(`C:\Windows\x`))
}

func TestHasPrefixFoldKelvin(t *testing.T) {
	// U+212A KELVIN SIGN folds to k under simple folding.
	assert.True(t, HasPrefixFold("\u212Aey", "key"))
	assert.False(t, HasPrefixFold("ke", "key"))
}

func TestImages(t *testing.T) {
	im := NewImages([]string{"lsass.exe", "svchost", `C:\Tools\Agent.exe`})
	assert.True(t, im.Match(`C:\Windows\System32\LSASS.EXE`))
	assert.True(t, im.Match(`C:\Windows\System32\svchost.exe`))
	assert.True(t, im.Match(`c:\tools\agent.exe`))
	assert.False(t, im.Match(`D:\tools\agent.exe`))
	assert.False(t, im.Match(`C:\Windows\System32\lsass2.exe`))
	assert.False(t, im.Match(``))
}

func FuzzHasPrefixFold(f *testing.F) {
	f.Add(`C:\Windows\x`, `c:/windows/`)
	f.Fuzz(func(t *testing.T, s, p string) {
		if HasPrefixFold(s, p) && len(p) > 0 && len(s) == 0 {
			t.Fatal("non-empty prefix matched empty string")
		}
		if !HasPrefixFold(s, "") {
			t.Fatal("empty prefix must match")
		}
	})
}
