package event

import (
	"slices"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSchemaSysmonComplete(t *testing.T) {
	// Every Sysmon event 1–29 and 255 is defined, on the Sysmon channel.
	for _, id := range append(seq(1, 29), 255) {
		d := Lookup(ChannelSysmon, uint16(id))
		require.NotNilf(t, d, "sysmon %d", id)
		assert.Equal(t, ProviderSysmon, d.Provider)
		assert.NotEmpty(t, d.Fields)
	}
	// Spelling traps from the manifest.
	assert.True(t, Lookup(ChannelSysmon, 10).Has(MustField("SourceProcessGUID")))
	assert.True(t, Lookup(ChannelSysmon, 8).Has(MustField("SourceProcessGuid")))
	assert.True(t, Lookup(ChannelSysmon, 15).Has(MustField("Hash")))
	assert.False(t, Lookup(ChannelSysmon, 15).Has(FHashes))
	// Field order of EID 1 as in the manifest.
	var names []string
	for _, f := range Lookup(ChannelSysmon, 1).Fields {
		names = append(names, f.ID.Name())
	}
	assert.Equal(t, []string{"RuleName", "UtcTime", "ProcessGuid", "ProcessId", "Image", "FileVersion", "Description",
		"Product", "Company", "OriginalFileName", "CommandLine", "CurrentDirectory", "User", "LogonGuid", "LogonId",
		"TerminalSessionId", "IntegrityLevel", "Hashes", "ParentProcessGuid", "ParentProcessId", "ParentImage",
		"ParentCommandLine", "ParentUser"}, names)
	assert.Equal(t, Hex, Lookup(ChannelSysmon, 1).TypeOf(FLogonId))
	assert.Equal(t, Hex, Lookup(ChannelSecurity, 4688).TypeOf(MustField("NewProcessId")))
}

func TestSchemaNonSysmon(t *testing.T) {
	for _, c := range []struct {
		channel string
		id      uint16
		field   string
	}{
		{ChannelSecurity, 4688, "NewProcessName"}, {ChannelSecurity, 4624, "LogonType"},
		{ChannelSecurity, 4625, "SubStatus"}, {ChannelSecurity, 4697, "ServiceFileName"},
		{ChannelSecurity, 4698, "TaskContent"}, {ChannelSecurity, 4702, "TaskContentNew"},
		{ChannelSecurity, 4657, "NewValue"}, {ChannelSecurity, 5156, "DestPort"},
		{ChannelSystem, 7045, "ImagePath"}, {ChannelPowerShell, 4104, "ScriptBlockText"},
		{ChannelPowerShell, 4103, "Payload"}, {ChannelPowerShellClassic, 400, "Data"},
		{ChannelTaskScheduler, 142, "TaskName"}, {ChannelWMIActivity, 5861, "CONSUMER"},
		{ChannelDNSClient, 3008, "QueryResults"}, {ChannelDefender, 1116, "ThreatName"},
	} {
		d := Lookup(c.channel, c.id)
		require.NotNilf(t, d, "%s %d", c.channel, c.id)
		id, ok := FieldByName(c.field)
		require.True(t, ok, c.field)
		assert.Truef(t, d.Has(id), "%s %d lacks %s", c.channel, c.id, c.field)
	}
}

func TestFieldNamesUniqueAndResolvable(t *testing.T) {
	seen := map[string]bool{}
	for i, f := range Fields() {
		assert.Equal(t, FieldID(i), f.ID)
		assert.False(t, seen[f.Name], "duplicate %s", f.Name)
		seen[f.Name] = true
		id, ok := FieldByName(f.Name)
		assert.True(t, ok)
		assert.Equal(t, f.ID, id)
	}
	assert.LessOrEqual(t, NumFields(), maxFields)
	// Case-insensitive resolution prefers the first declaration.
	id, ok := FieldByNameFold("commandline")
	assert.True(t, ok)
	assert.Equal(t, FCommandLine, id)
}

func TestEventAbsentVersusEmpty(t *testing.T) {
	var e Event
	v, ok := e.Get(FCommandLine)
	assert.False(t, ok)
	assert.Equal(t, "", v)
	e.Set(FCommandLine, "")
	v, ok = e.Get(FCommandLine)
	assert.True(t, ok, "empty but present")
	assert.Equal(t, "", v)
	e.Del(FCommandLine)
	assert.False(t, e.Has(FCommandLine))
	assert.Equal(t, 0, e.Len())
}

func TestEventVirtualFields(t *testing.T) {
	e := Event{Channel: ChannelSysmon, Provider: ProviderSysmon, EventID: 1, RecordID: 123456}
	assert.Equal(t, "1", e.Value(FieldEventID))
	assert.Equal(t, ChannelSysmon, e.Value(FieldChannel))
	assert.Equal(t, ProviderSysmon, e.Value(FieldProviderName))
	assert.Equal(t, "123456", e.Value(FieldEventRecordID))
	assert.True(t, e.Set(FieldEventID, "4688"))
	assert.Equal(t, uint16(4688), e.EventID)
	assert.False(t, e.Set(FieldEventID, "x"))
	assert.Equal(t, uint16(4688), e.EventID)
	// A data field named like a header field must not overwrite the header.
	e.SetByName("Channel", "Security")
	assert.Equal(t, ChannelSysmon, e.Channel)
	v, ok := e.LookupExtra("Channel")
	assert.True(t, ok)
	assert.Equal(t, "Security", v)
}

func TestEventExtraAndLookup(t *testing.T) {
	var e Event
	e.SetByName("Image", `C:\x.exe`)
	e.SetByName("NotInSchema", "a")
	e.SetByName("NotInSchema", "b")
	e.SetByName("Other", "")
	assert.Equal(t, []KV{{"NotInSchema", "b"}, {"Other", ""}}, e.Extra())
	v, ok := e.Lookup("Image")
	assert.True(t, ok)
	assert.Equal(t, `C:\x.exe`, v)
	v, ok = e.Lookup("Other")
	assert.True(t, ok)
	assert.Equal(t, "", v)
	_, ok = e.Lookup("Missing")
	assert.False(t, ok)
	_, ok = e.Lookup("CommandLine")
	assert.False(t, ok)
}

func TestEventRangeOrderResetCloneEqual(t *testing.T) {
	var e Event
	e.Set(FUser, "u")
	e.Set(FImage, "i")
	e.Set(MustField("TargetParentCommandLine"), "last")
	var got []FieldID
	e.Range(func(id FieldID, _ string) bool { got = append(got, id); return true })
	assert.Equal(t, []FieldID{FImage, FUser, MustField("TargetParentCommandLine")}, got)
	e.AddExtra("k", "v")

	c := e.Clone()
	assert.True(t, Equal(&e, c))
	c.Set(FImage, "changed")
	assert.Equal(t, "i", e.Value(FImage), "clone must not alias")
	assert.False(t, Equal(&e, c))

	var d Event
	d.CopyFrom(&e)
	assert.True(t, Equal(&e, &d))

	e.Reset()
	assert.Equal(t, 0, e.Len())
	assert.Empty(t, e.Extra())
	assert.False(t, e.Has(FImage))
}

func TestChannelCanonical(t *testing.T) {
	assert.Equal(t, ChannelSecurity, CanonicalChannel("security"))
	assert.Equal(t, ChannelSysmon, CanonicalChannel("microsoft-windows-sysmon/operational"))
	assert.Equal(t, "Custom/Log", CanonicalChannel("Custom/Log"))
}

func seq(a, b int) []int {
	var s []int
	for i := a; i <= b; i++ {
		s = append(s, i)
	}
	return s
}

// TestEventAppendMatchesSet: fields appended in FieldID order (across the
// bitmap's words) make the event Set makes, and Set, Get and Del work on
// it afterwards (the place counts Append keeps are right).
func TestEventAppendMatchesSet(t *testing.T) {
	var ids []FieldID
	for id := FieldID(numVirtual); int(id) < len(sch.fieldTable); id += 7 {
		ids = append(ids, id)
	}
	require.Greater(t, int(ids[len(ids)-1]>>6), 1, "the fields span several words")
	var a, s Event
	s.Set(ids[0], "stale") // a reused event: Reset leaves no trace
	a.Set(ids[1], "stale")
	a.Reset()
	s.Reset()
	for i, id := range ids {
		v := id.Name() + string(rune('a'+i%26))
		a.Append(id, v)
		s.Set(id, v)
	}
	require.True(t, Equal(&a, &s))
	for _, id := range ids {
		v, ok := a.Get(id)
		require.True(t, ok, id.Name())
		require.Equal(t, s.Value(id), v)
	}
	mid := ids[len(ids)/2]
	a.Set(mid+1, "inserted")
	s.Set(mid+1, "inserted")
	a.Del(ids[1])
	s.Del(ids[1])
	require.True(t, Equal(&a, &s))
	require.Equal(t, "inserted", a.Value(mid+1))
	require.Equal(t, s.Value(ids[len(ids)-1]), a.Value(ids[len(ids)-1]))
}

func TestCountFieldsOfMask(t *testing.T) {
	img, tf, hashes := MustField("Image"), MustField("TargetFilename"), MustField("Hashes")
	far := FieldID(0)
	for _, f := range Fields() {
		if f.ID > far && !f.ID.Virtual() {
			far = f.ID // a field in a high word of the bitmap
		}
	}
	m := MaskOf(img, tf, far, img) // a repeat counts once
	var ev Event
	assert.Equal(t, 0, ev.Count(&m))
	ev.Set(hashes, "x")
	assert.Equal(t, 0, ev.Count(&m), "a field outside the mask")
	ev.Set(tf, "")
	assert.Equal(t, 1, ev.Count(&m), "present, if empty")
	ev.Set(img, "a")
	ev.Set(far, "b")
	assert.Equal(t, 3, ev.Count(&m))
	ev.Del(tf)
	assert.Equal(t, 2, ev.Count(&m))
	v := MaskOf(FieldEventID, img)
	assert.Equal(t, 2, ev.Count(&v), "virtual fields are always present")
}

// TestAppendPresent: the fields of a mask an event has, in FieldID order,
// with the values Get gives, across words of the bitmap; absent ones and
// those outside the mask left out.
func TestAppendPresent(t *testing.T) {
	var ids []FieldID
	for _, f := range Fields() {
		if !f.ID.Virtual() {
			ids = append(ids, f.ID)
		}
	}
	require.Greater(t, len(ids), 130, "fields in several words of the bitmap")
	var ev Event
	var in []FieldID
	for i, id := range ids {
		switch i % 3 {
		case 0:
			ev.Set(id, "v"+strconv.Itoa(i))
		case 1:
			ev.Set(id, "")
		}
		if i%5 != 4 {
			in = append(in, id)
		}
	}
	m := MaskOf(append(in, FieldEventID)...)
	var want []FieldValue
	for _, id := range ids { // ids are in FieldID order
		if v, ok := ev.Get(id); ok && slices.Contains(in, id) {
			want = append(want, FieldValue{id, v})
		}
	}
	require.NotEmpty(t, want)
	got := ev.AppendPresent(&m, []FieldValue{{NoField, "kept"}})
	assert.Equal(t, append([]FieldValue{{NoField, "kept"}}, want...), got)
	assert.Equal(t, ev.Count(&m)-1, len(got)-1, "Count counts the virtual field too")
}
