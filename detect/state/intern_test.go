package state

import (
	"testing"
	"unsafe"

	"github.com/edr-lab/edr/event"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Processes of one image share one FileInfo holding the event's values;
// other values get another, and a start without any gets none.
func TestProcessTableSharesFileInfo(t *testing.T) {
	pt := NewProcessTable(100, 60*sec)
	start := func(at int64, guid, hashes, company string) *Process {
		kv := []string{"ProcessGuid", guid, "ProcessId", guid, "Image", `C:\x.exe`}
		if hashes != "" {
			kv = append(kv, "Hashes", hashes, "Company", company, "Product", "X", "Description", "x tool",
				"OriginalFileName", "X.EXE", "FileVersion", "1.0")
		}
		return pt.Observe(ev(event.ChannelSysmon, 1, at, "H", kv...))
	}
	start(1*sec, "{1}", "MD5=AA", "Contoso")
	start(2*sec, "{2}", "MD5=AA", "Contoso")
	start(3*sec, "{3}", "MD5=BB", "Contoso")
	start(4*sec, "{4}", "", "")
	a, b, c, d := pt.ByGUID("H", "{1}"), pt.ByGUID("H", "{2}"), pt.ByGUID("H", "{3}"), pt.ByGUID("H", "{4}")
	require.NotNil(t, a.File)
	assert.Equal(t, FileInfo{Hashes: "MD5=AA", OriginalFileName: "X.EXE", Company: "Contoso", Description: "x tool", Product: "X",
		FileVersion: "1.0"}, *a.File)
	assert.Same(t, a.File, b.File, "the same values: one copy")
	assert.NotSame(t, a.File, c.File)
	assert.Equal(t, "MD5=BB", c.File.Hashes)
	assert.Nil(t, d.File)
	assert.Equal(t, FileInfo{}, *d.FileInfo(), "FileInfo of a process without one is empty")
}

// The interner is bounded: at maxFiles it starts over, and every value it
// returns is still the one asked for.
func TestFileInternerBounded(t *testing.T) {
	var f fileInterner
	first := f.get(FileInfo{Hashes: "h0"})
	for i := 1; i <= maxFiles; i++ {
		v := FileInfo{Hashes: "h" + event.Itoa(uint64(i))}
		assert.Equal(t, v, *f.get(v))
		assert.LessOrEqual(t, len(f.m), maxFiles)
	}
	again := f.get(FileInfo{Hashes: "h0"})
	assert.Equal(t, *first, *again)
	assert.NotSame(t, first, again, "forgotten when the interner started over")
	assert.Nil(t, f.get(FileInfo{}))
}

// A table's process strings are its own, never the event's (which may
// point into a large buffer): those that repeat across processes (host,
// image, directory, user with its domain, parent image, command line and
// user) are one copy for all of them, the rest each process's.
func TestProcessTableOwnsAndSharesStrings(t *testing.T) {
	pt := NewProcessTable(100, 60*sec)
	var evs []*event.Event
	for i, guid := range []string{"{1}", "{2}"} {
		e := ev(event.ChannelSysmon, 1, int64(i+1)*sec, "H", "ProcessGuid", guid, "ProcessId", guid, "Image", `C:\x.exe`,
			"CommandLine", "x "+guid, "CurrentDirectory", `C:\`, "User", `CORP\bob`, "ParentProcessGuid", "{p}",
			"ParentProcessId", "9", "ParentImage", `C:\p.exe`, "ParentCommandLine", "p --serve", "ParentUser", `NT AUTHORITY\SYSTEM`)
		evs = append(evs, e)
		pt.Observe(e)
	}
	sp := NewProcessTable(100, 60*sec)
	for i, pid := range []string{"0x10", "0x20"} {
		e := ev(event.ChannelSecurity, 4688, int64(i+1)*sec, "DC", "NewProcessId", pid, "NewProcessName", `C:\cmd.exe`,
			"ProcessId", "0x4", "SubjectUserName", "bob", "SubjectDomainName", "CORP")
		evs = append(evs, e)
		sp.Observe(e)
	}
	a, b := pt.ByGUID("H", "{1}"), pt.ByGUID("H", "{2}")
	c, d := sp.ByPID("DC", "16", 3*sec), sp.ByPID("DC", "32", 3*sec)
	require.NotNil(t, c)
	require.NotNil(t, d)
	assert.Equal(t, `CORP\bob`, c.User)
	assert.Equal(t, "x {2}", b.CommandLine)
	same := func(x, y string) bool { return unsafe.StringData(x) == unsafe.StringData(y) }
	for _, f := range []func(*Process) string{
		func(p *Process) string { return p.Host }, func(p *Process) string { return p.Image },
		func(p *Process) string { return p.CurrentDirectory }, func(p *Process) string { return p.User },
		func(p *Process) string { return p.ParentImage }, func(p *Process) string { return p.ParentCommand },
		func(p *Process) string { return p.ParentUser },
	} {
		assert.True(t, same(f(a), f(b)), "one copy of %q", f(a))
	}
	assert.True(t, same(c.User, d.User), "one copy of the joined user")
	assert.False(t, same(a.CommandLine, b.CommandLine))
	for _, p := range []*Process{a, b, c, d, pt.ByGUID("H", "{p}")} {
		for _, s := range []string{p.Host, p.GUID, p.PID, p.Image, p.CommandLine, p.CurrentDirectory, p.User, p.ParentGUID,
			p.ParentPID, p.ParentImage, p.ParentCommand, p.ParentUser} {
			for _, e := range evs {
				e.Range(func(_ event.FieldID, v string) bool {
					if s != "" && same(s, v) {
						t.Errorf("%q is the event's string, not the table's", s)
					}
					return true
				})
				if same(s, e.Host) {
					t.Errorf("%q is the event's host, not the table's", s)
				}
			}
		}
	}
}

// A started process takes its parent entry's strings for the values it
// shares with it (host, the parent's GUID, PID, image, command line and
// user: one copy, and look-ups by them compare equal pointers), and keeps
// its own event's values where they differ from the parent entry's.
func TestStartTakesParentStringsOnlyWhenEqual(t *testing.T) {
	same := func(x, y string) bool { return unsafe.StringData(x) == unsafe.StringData(y) }
	for _, shared := range []bool{false, true} {
		pt := NewProcessTable(100, 60*sec)
		observe := pt.Observe
		if shared {
			observe = pt.ObserveShared
		}
		observe(ev(event.ChannelSysmon, 1, 1*sec, "H", "ProcessGuid", "{p}", "ProcessId", "9", "Image", `C:\p.exe`,
			"CommandLine", "p --serve", "User", `NT AUTHORITY\SYSTEM`))
		child := func(at int64, guid, parentImage, parentCmd string) *Process {
			observe(ev(event.ChannelSysmon, 1, at, "H", "ProcessGuid", guid, "ProcessId", "10", "Image", `C:\c.exe`,
				"ParentProcessGuid", "{p}", "ParentProcessId", "9", "ParentImage", parentImage,
				"ParentCommandLine", parentCmd, "ParentUser", `NT AUTHORITY\SYSTEM`))
			return pt.ByGUID("H", guid)
		}
		parent := pt.ByGUID("H", "{p}")
		c := child(2*sec, "{c}", `C:\p.exe`, "p --serve")
		require.NotNil(t, c)
		for _, f := range [][2]string{{c.Host, parent.Host}, {c.ParentGUID, parent.GUID}, {c.ParentPID, parent.PID},
			{c.ParentImage, parent.Image}, {c.ParentCommand, parent.CommandLine}, {c.ParentUser, parent.User}} {
			assert.True(t, same(f[0], f[1]), "shared %v: %q is the parent's string", shared, f[0])
		}
		d := child(3*sec, "{d}", `C:\renamed.exe`, "p --other")
		require.NotNil(t, d)
		assert.Equal(t, `C:\renamed.exe`, d.ParentImage, "shared %v: the event's value, not the parent entry's", shared)
		assert.Equal(t, "p --other", d.ParentCommand, "shared %v", shared)
		assert.Equal(t, `C:\p.exe`, pt.ByGUID("H", "{p}").Image, "shared %v: the parent entry is unchanged", shared)
		assert.Same(t, parent, pt.Parent(d), "shared %v", shared)
	}
}
