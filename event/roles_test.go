package event

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func mkEvent(ch string, id uint16, kv ...string) *Event {
	e := &Event{Channel: ch, EventID: id}
	for i := 0; i+1 < len(kv); i += 2 {
		e.SetByName(kv[i], kv[i+1])
	}
	return e
}

func TestRolesOfProcessEvents(t *testing.T) {
	start := mkEvent(ChannelSecurity, 4688, "NewProcessId", "0x1f4", "ProcessId", "0x4", "NewProcessName", `C:\x.exe`)
	r := RolesOf(start)
	assert.Equal(t, ProcessStart, r.Lifecycle)
	guid, pid := r.Actor.IDs(start)
	assert.Equal(t, "", guid, "Security names no GUIDs")
	assert.Equal(t, "500", pid, "hex PIDs read as decimal")
	assert.Equal(t, "4", r.Parent.DecimalPID(start))
	assert.Equal(t, `C:\x.exe`, start.Value(r.Actor.Image))
	assert.False(t, r.Target.Named())

	assert.Equal(t, ProcessEnd, RolesOf(mkEvent(ChannelSecurity, 4689)).Lifecycle)
	assert.Equal(t, ProcessStart, RolesOf(mkEvent(ChannelSysmon, 1)).Lifecycle)
	assert.Equal(t, ProcessEnd, RolesOf(mkEvent(ChannelSysmon, 5)).Lifecycle)
	assert.Equal(t, NoLifecycle, RolesOf(mkEvent(ChannelSysmon, 3)).Lifecycle)

	// Sysmon 10 spells its GUIDs …GUID; the other spelling is read when it
	// is empty.
	acc := mkEvent(ChannelSysmon, 10, "SourceProcessGuid", "{s}", "SourceProcessId", "10", "TargetProcessGUID", "{t}", "TargetProcessId", "20")
	r = RolesOf(acc)
	guid, pid = r.Actor.IDs(acc)
	assert.Equal(t, []string{"{s}", "10"}, []string{guid, pid})
	guid, pid = r.Target.IDs(acc)
	assert.Equal(t, []string{"{t}", "20"}, []string{guid, pid})
	assert.Equal(t, MustField("SourceThreadId"), r.Actor.ThreadID)
	assert.False(t, r.Parent.Named(), "process access names no parent")

	// Events the schema does not know take their channel's roles.
	unknownSec := mkEvent(ChannelSecurity, 9999, "ProcessId", "0x10")
	guid, pid = RolesOf(unknownSec).Actor.IDs(unknownSec)
	assert.Equal(t, []string{"", "16"}, []string{guid, pid})
	other := mkEvent("Some/Channel", 1, "ProcessGuid", "{p}", "ProcessId", "7")
	guid, pid = RolesOf(other).Actor.IDs(other)
	assert.Equal(t, []string{"{p}", "7"}, []string{guid, pid})
	assert.Equal(t, NoLifecycle, RolesOf(other).Lifecycle, "Sysmon's EID 1 starts a process, not another channel's")

	assert.Equal(t, MustField("ImageLoaded"), RolesOf(mkEvent(ChannelSysmon, 7)).Loads)
	assert.Equal(t, NoField, RolesOf(mkEvent(ChannelSysmon, 1)).Loads)
}

// TestRolesOfMatchesDefs: the fast index gives every Def's roles, and every
// role field is one its event declares.
func TestRolesOfMatchesDefs(t *testing.T) {
	starts, ends := 0, 0
	for _, d := range Defs() {
		r := RolesOf(&Event{Channel: d.Channel, EventID: d.EventID})
		require.Equal(t, *d.Roles(), *r, "%s/%d", d.Channel, d.EventID)
		switch r.Lifecycle {
		case ProcessStart:
			starts++
		case ProcessEnd:
			ends++
		}
		// Refs the Def writes itself (the channel defaults name fields of
		// many events, not all of this one's).
		for i, ref := range []ProcessRef{r.Actor, r.Parent, r.Target} {
			if []*refSpec{d.rs.actor, d.rs.parent, d.rs.target}[i] == nil {
				continue
			}
			for _, id := range []FieldID{ref.GUID, ref.PID, ref.ThreadID, ref.Image, ref.CommandLine, ref.User} {
				assert.True(t, id == NoField || d.Has(id), "%s/%d: role field %s", d.Channel, d.EventID, id.Name())
			}
		}
	}
	assert.Equal(t, 2, starts, "Sysmon 1, Security 4688")
	assert.Equal(t, 2, ends, "Sysmon 5, Security 4689")
}

func TestNoFieldIsNeverPresent(t *testing.T) {
	e := mkEvent(ChannelSysmon, 1, "Image", "x")
	assert.False(t, e.Has(NoField))
	v, ok := e.Get(NoField)
	assert.Equal(t, "", v)
	assert.False(t, ok)
}
