package service

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const someUser = "S-1-5-21-1004336348-1177238915-682003330-1001"

// TestWritableByOthers: which owners and entries make a path writable by
// non-administrators, case by case.
func TestWritableByOthers(t *testing.T) {
	full := func(sid string) ACE { return ACE{Type: Allow, SID: sid, Mask: RightsFull} }
	admins := []ACE{full(SIDSystem), full(SIDAdministrators)}
	for _, c := range []struct {
		name string
		d    Descriptor
		want []string // SIDs found
	}{
		{"guard descriptor", Guard(), nil},
		{"admins only, owned by SYSTEM", Descriptor{Owner: SIDSystem, DACL: admins}, nil},
		{"TrustedInstaller owner and entry", Descriptor{Owner: SIDTrustedInstaller, DACL: append(admins, full(SIDTrustedInstaller))}, nil},
		{"users may read and execute", Descriptor{Owner: SIDAdministrators, DACL: append(admins, ACE{Type: Allow, SID: SIDUsers, Mask: RightsRead})}, nil},
		{"empty DACL: nobody", Descriptor{Owner: SIDAdministrators}, nil},
		{"user owner", Descriptor{Owner: someUser, DACL: admins}, []string{someUser}},
		{"no owner", Descriptor{DACL: admins}, []string{""}},
		{"null DACL", Descriptor{Owner: SIDAdministrators, NullDACL: true}, []string{SIDEveryone}},
		{"users may write data", Descriptor{Owner: SIDAdministrators, DACL: append(admins, ACE{Type: Allow, SID: SIDUsers, Mask: RightsRead | RightWriteData})}, []string{SIDUsers}},
		{"authenticated users may append (add subfolders)", Descriptor{Owner: SIDAdministrators, DACL: append(admins, ACE{Type: Allow, SID: SIDAuthenticated, Mask: RightAppendData})}, []string{SIDAuthenticated}},
		{"everyone generic write", Descriptor{Owner: SIDAdministrators, DACL: append(admins, ACE{Type: Allow, SID: SIDEveryone, Mask: RightGenericWrite})}, []string{SIDEveryone}},
		{"user may change the DACL", Descriptor{Owner: SIDAdministrators, DACL: append(admins, ACE{Type: Allow, SID: someUser, Mask: RightWriteDAC})}, []string{someUser}},
		{"user may take ownership", Descriptor{Owner: SIDAdministrators, DACL: append(admins, ACE{Type: Allow, SID: someUser, Mask: RightWriteOwner})}, []string{someUser}},
		{"user may delete", Descriptor{Owner: SIDAdministrators, DACL: append(admins, ACE{Type: Allow, SID: someUser, Mask: RightDelete})}, []string{someUser}},
		{"user may delete children", Descriptor{Owner: SIDAdministrators, DACL: append(admins, ACE{Type: Allow, SID: someUser, Mask: RightDeleteChild})}, []string{someUser}},
		{"deny before allow takes the write away", Descriptor{Owner: SIDAdministrators, DACL: append([]ACE{{Type: Deny, SID: someUser, Mask: RightsWrite}}, append(admins, full(someUser))...)}, nil},
		{"deny Everyone before allow covers the user", Descriptor{Owner: SIDAdministrators, DACL: append([]ACE{{Type: Deny, SID: SIDEveryone, Mask: RightsWrite}}, append(admins, full(someUser))...)}, nil},
		{"deny after allow is too late", Descriptor{Owner: SIDAdministrators, DACL: append(append(admins, full(someUser)), ACE{Type: Deny, SID: someUser, Mask: RightsWrite})}, []string{someUser}},
		{"deny of another user does not matter", Descriptor{Owner: SIDAdministrators, DACL: append([]ACE{{Type: Deny, SID: SIDUsers, Mask: RightsWrite}}, append(admins, full(someUser))...)}, []string{someUser}},
		{"partial deny leaves the rest", Descriptor{Owner: SIDAdministrators, DACL: append([]ACE{{Type: Deny, SID: someUser, Mask: RightWriteData}}, append(admins, full(someUser))...)}, []string{someUser}},
		{"inherit-only entry does not apply to the object", Descriptor{Owner: SIDAdministrators, DACL: append(admins, ACE{Type: Allow, SID: someUser, Mask: RightsFull, InheritOnly: true})}, nil},
		{"CREATOR OWNER entry does not apply to the object", Descriptor{Owner: SIDAdministrators, DACL: append(admins, full(SIDCreatorOwner))}, nil},
		{"user owner and user entry: both", Descriptor{Owner: someUser, DACL: append(admins, full(SIDUsers))}, []string{someUser, SIDUsers}},
	} {
		var got []string
		for _, f := range c.d.WritableByOthers() {
			got = append(got, f.SID)
		}
		assert.Equal(t, c.want, got, c.name)
	}
	// The rights reported are the write rights held, not the whole mask.
	f := Descriptor{Owner: SIDAdministrators, DACL: []ACE{{Type: Allow, SID: SIDUsers, Mask: RightsRead | RightAppendData}}}.WritableByOthers()
	require.Len(t, f, 1)
	assert.Equal(t, uint32(RightAppendData), f[0].Rights)
}

type fakeReader map[string]Descriptor

func (f fakeReader) Read(p string) (Descriptor, error) {
	d, ok := f[p]
	if !ok {
		return Descriptor{}, os.ErrNotExist
	}
	return d, nil
}

func TestCheckGuarded(t *testing.T) {
	r := fakeReader{`C:\edr\config.toml`: Guard(), `C:\edr\rules`: Guard(),
		`C:\edr\rules2`: {Owner: SIDAdministrators, DACL: []ACE{{Type: Allow, SID: SIDUsers, Mask: RightWriteData}}}}
	require.NoError(t, CheckGuarded(r, []string{`C:\edr\config.toml`, `C:\edr\rules`}))
	err := CheckGuarded(r, []string{`C:\edr\config.toml`, `C:\edr\rules2`})
	var ge *GuardError
	require.ErrorAs(t, err, &ge)
	assert.Equal(t, `C:\edr\rules2`, ge.Path)
	assert.Contains(t, err.Error(), `C:\edr\rules2 is writable by others than SYSTEM and Administrators: S-1-5-32-545 (allowed to write, rights 0x2)`)
	err = CheckGuarded(r, []string{`C:\missing`})
	assert.ErrorIs(t, err, os.ErrNotExist)
	assert.Contains(t, err.Error(), `C:\missing`)
}

func TestResolveConfig(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "edr.toml"), nil, 0o644))
	got, err := ResolveConfig("edr.toml", dir)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, "edr.toml"), got)
	got, err = ResolveConfig(filepath.Join(dir, "sub", "..", "edr.toml"), "/elsewhere")
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, "edr.toml"), got, "absolute paths are cleaned, cwd unused")
	_, err = ResolveConfig("", dir)
	assert.ErrorContains(t, err, "needs --config FILE")
	_, err = ResolveConfig("missing.toml", dir)
	assert.ErrorContains(t, err, filepath.Join(dir, "missing.toml"))
	_, err = ResolveConfig(".", dir)
	assert.ErrorContains(t, err, "not a regular file")
	_, err = ResolveConfig("edr.toml", "relative")
	assert.ErrorContains(t, err, "not absolute")
	assert.Equal(t, []string{"service", "run", "--config", `C:\edr\edr.toml`}, Args(`C:\edr\edr.toml`))
}

func TestStateMachine(t *testing.T) {
	s := Stopped
	for _, step := range []struct {
		e    Event
		want State
	}{{EvStart, StartPending}, {EvStarted, Running}, {EvStop, StopPending}, {EvStop, StopPending}, {EvExited, Stopped},
		{EvStart, StartPending}, {EvStop, StopPending}, {EvExited, Stopped}, // stopped while starting
		{EvStart, StartPending}, {EvExited, Stopped}, // failed while starting
	} {
		next, err := s.Next(step.e)
		require.NoError(t, err, "%s on %s", step.e, s)
		assert.Equal(t, step.want, next, "%s on %s", step.e, s)
		s = next
	}
	for _, bad := range []struct {
		s State
		e Event
	}{{Stopped, EvStarted}, {Stopped, EvStop}, {Stopped, EvExited}, {Running, EvStart}, {Running, EvStarted}, {StopPending, EvStart}, {StopPending, EvStarted}} {
		got, err := bad.s.Next(bad.e)
		require.Error(t, err, "%s on %s", bad.e, bad.s)
		assert.Equal(t, bad.s, got)
		assert.Contains(t, err.Error(), bad.e.String()+" while "+bad.s.String())
	}
	assert.True(t, Running.AcceptsStop())
	assert.False(t, StopPending.AcceptsStop())
	assert.False(t, Stopped.AcceptsStop())
}
