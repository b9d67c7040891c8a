package winevt

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edr-lab/edr/event"
)

func build(foreign bool, fn func(b *Builder)) *event.Event {
	var b Builder
	b.Foreign = foreign
	e := &event.Event{}
	b.Reset(e, event.SourceJSON)
	fn(&b)
	b.Finish()
	return e
}

func TestSystemHeader(t *testing.T) {
	e := build(true, func(b *Builder) {
		b.System(KeyProviderName, "Service Control Manager")
		b.System(KeyEventID, "1073748869") // 0x40001C85: Qualifiers 16384, EventID 7045
		b.System(KeyChannel, "system")
		b.System(KeyComputer, "WS1")
		b.System(KeyKeywords, "-9187343239835811840")
		b.System(KeyProviderGuid, "555908D1-A6D7-4695-8E1E-26931D2012F4")
		b.System(KeyTimeCreated, "2019-03-19T23:34:25.2598340Z")
		b.System(KeyEventRecordID, "2191.0")
		b.System("Execution_ProcessorID", "3")
		b.System(KeyLevel, "") // empty: Windows omits it
	})
	assert.Equal(t, uint16(7045), e.EventID)
	q, _ := e.LookupExtra(ExtraQualifiers)
	assert.Equal(t, "16384", q)
	assert.Equal(t, event.ChannelSystem, e.Channel)
	assert.Equal(t, "WS1", e.Host)
	assert.Equal(t, "0x8080000000000000", e.Value(fKeywords))
	assert.Equal(t, "{555908d1-a6d7-4695-8e1e-26931d2012f4}", e.Value(fProviderGuid))
	assert.Equal(t, uint64(2191), e.RecordID)
	assert.Equal(t, int64(1553038465259834000), e.Time)
	v, _ := e.LookupExtra("Execution_ProcessorID")
	assert.Equal(t, "3", v)
	assert.False(t, e.Has(fLevel))
}

func TestDataNamesAndCollisions(t *testing.T) {
	e := build(true, func(b *Builder) {
		b.System(KeyChannel, "Microsoft-Windows-Sysmon/Operational")
		b.System(KeyEventID, "10")
		b.System(KeyLevel, "4")
		b.Data("GrantedAccess", "4096")      // Hex in EID 10: a foreign decimal becomes 0x1000
		b.Data("sourceprocessguid", "{A-B}") // not a GUID: kept as is, under the def's spelling
		b.Data("Level", "data named like a header field")
		b.Data("EventID", "99")
		b.Data("Threat Name", "x") // spaces stripped
		b.Data("Custom", "1")
		b.Data("Custom", "2")
	})
	assert.Equal(t, "0x1000", e.Value(event.MustField("GrantedAccess")))
	assert.Equal(t, "{A-B}", e.Value(event.MustField("SourceProcessGUID")))
	assert.Equal(t, "4", e.Value(fLevel), "the header field is not overwritten")
	assert.Equal(t, uint16(10), e.EventID)
	want := []event.KV{{Key: "Level", Value: "data named like a header field"}, {Key: "EventID", Value: "99"},
		{Key: "Custom", Value: "1"}, {Key: "Custom_1", Value: "2"}}
	assert.Equal(t, want, e.Extra())
	assert.Equal(t, "x", e.Value(event.MustField("ThreatName")))
}

func TestWindowsRenderingsAreNotTouched(t *testing.T) {
	// From EVTX the values already are Windows renderings: no normalization.
	e := build(false, func(b *Builder) {
		b.System(KeyChannel, "Security")
		b.System(KeyEventID, "4624")
		b.Data("LogonGuid", "{00000000-0000-0000-0000-000000000000}")
		b.Data("TargetLogonId", "0x3E7") // as written, even if odd
	})
	assert.Equal(t, "0x3E7", e.Value(event.MustField("TargetLogonId")))
}

func TestUnnamedDataJoined(t *testing.T) {
	e := build(false, func(b *Builder) {
		b.System(KeyChannel, "Application")
		b.System(KeyEventID, "1000")
		b.Unnamed("MsMpEng.exe")
		b.Unnamed("")
		b.Unnamed("mpengine.dll")
	})
	assert.Equal(t, "MsMpEng.exe\n\nmpengine.dll", e.Value(fData))
}

func TestNoChannelFlagAndFallbackTime(t *testing.T) {
	var b Builder
	e := &event.Event{}
	b.Reset(e, event.SourceEVTX)
	b.SetFallbackTime(42)
	b.System(KeyEventID, "1")
	b.Finish()
	assert.NotZero(t, e.Flags&event.FlagNoChannel)
	assert.Equal(t, int64(42), e.Time)
	assert.False(t, b.HasTime())
}

func TestParseTime(t *testing.T) {
	for _, s := range []string{"2020-01-02T03:04:05.123456789Z", "2020-01-02T03:04:05.123456789+00:00", "2020-01-02 03:04:05.123456789", "2020-01-02T03:04:05.123456789"} {
		ns, err := ParseTime(s)
		require.NoError(t, err, s)
		assert.Equal(t, int64(1577934245123456789), ns, s)
	}
	_, err := ParseTime("yesterday")
	assert.Error(t, err)
}

func TestNormalizeKeepsCanonicalGUIDs(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"{5770385f-c22a-43e0-bf4c-06f5698ffbd9}", "{5770385f-c22a-43e0-bf4c-06f5698ffbd9}"},
		{"{5770385F-C22A-43E0-BF4C-06F5698FFBD9}", "{5770385f-c22a-43e0-bf4c-06f5698ffbd9}"},
		{"5770385F-C22A-43E0-BF4C-06F5698FFBD9", "{5770385f-c22a-43e0-bf4c-06f5698ffbd9}"},
		{"{5770385f-c22a-43e0-bf4c_06f5698ffbd9}", "{5770385f-c22a-43e0-bf4c_06f5698ffbd9}"},
	} {
		assert.Equal(t, c.want, normalize(event.GUID, c.in), c.in)
		assert.Equal(t, event.Normalize(event.GUID, c.in), normalize(event.GUID, c.in), c.in)
	}
}

// TestReusedBuilderLooksUpEachEventsDefinition: a Builder remembers the
// definition it looked up last; an event of the same id on another channel
// still gets its own (here: only classic PowerShell 400 splits its
// "Key=Value" block into fields), and so does the one after it.
func TestReusedBuilderLooksUpEachEventsDefinition(t *testing.T) {
	var b Builder
	hostApp := event.MustField("HostApplication")
	one := func(channel string) *event.Event {
		e := &event.Event{}
		b.Reset(e, event.SourceEVTX)
		b.System(KeyChannel, channel)
		b.System(KeyEventID, "400")
		b.Unnamed("Available")
		b.Unnamed("None")
		b.Unnamed("\tHostApplication=powershell.exe -nop\n\tEngineVersion=5.1")
		b.Finish()
		return e
	}
	assert.False(t, one("Application").Has(hostApp), "Application 400 is not split")
	assert.Equal(t, "powershell.exe -nop", one(event.ChannelPowerShellClassic).Value(hostApp), "classic PowerShell 400 is split")
	assert.False(t, one("Application").Has(hostApp))
}
