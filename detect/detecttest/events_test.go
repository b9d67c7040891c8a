package detecttest

import (
	"bytes"
	"testing"
	"time"

	"github.com/edr-lab/edr/event"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseEvents(t *testing.T) {
	evs, err := ParseEvents(`# a comment
sysmon/1 Image=C:\Windows\System32\cmd.exe CommandLine='"C:\Windows\System32\cmd.exe" /c whoami'
  User="CORP\o'neil"   Custom=x

security/4688 @host=DC01 @time=90s NewProcessName=C:\x.exe
Microsoft-Windows-PowerShell/Operational/4104 ScriptBlockText=
`)
	require.NoError(t, err)
	require.Len(t, evs, 3)
	e := evs[0]
	assert.Equal(t, event.ChannelSysmon, e.Channel)
	assert.Equal(t, event.ProviderSysmon, e.Provider)
	assert.Equal(t, uint16(1), e.EventID)
	assert.Equal(t, EventsBase, e.Time)
	assert.Equal(t, "WS01", e.Host)
	assert.Equal(t, uint64(1), e.Seq)
	assert.Equal(t, `C:\Windows\System32\cmd.exe`, e.Value(event.FImage))
	assert.Equal(t, `"C:\Windows\System32\cmd.exe" /c whoami`, e.Value(event.FCommandLine))
	assert.Equal(t, `CORP\o'neil`, e.Value(event.MustField("User")), "continuation line")
	assert.Equal(t, []event.KV{{Key: "Custom", Value: "x"}}, e.Extra())

	assert.Equal(t, event.ChannelSecurity, evs[1].Channel)
	assert.Equal(t, "DC01", evs[1].Host)
	assert.Equal(t, "DC01", evs[1].Value(event.FComputer), "Computer defaults to @host")
	assert.Equal(t, EventsBase+int64(90*time.Second), evs[1].Time)
	assert.Equal(t, uint64(2), evs[1].RecordID)

	assert.Equal(t, event.ChannelPowerShell, evs[2].Channel)
	assert.Equal(t, EventsBase+int64(91*time.Second), evs[2].Time, "one second after the previous event")
	v, ok := evs[2].Get(event.MustField("ScriptBlockText"))
	assert.True(t, ok, "an empty value is present")
	assert.Empty(t, v)
}

func TestParseEventsErrorsNameTheLine(t *testing.T) {
	for in, want := range map[string]string{
		"sysmon Image=x":               `line 1: "sysmon": want channel/EventID`,
		"sysmon/x":                     `line 1: "sysmon/x": bad EventID`,
		"\n  Image=x":                  "line 2: continuation line before any event",
		"sysmon/1 Image":               `line 1: "Image": want Field=Value`,
		"sysmon/1 Image='x":            "line 1: Image: unterminated ' quote",
		`sysmon/1 Image="x"y`:          "line 1: Image: text after the closing quote",
		"sysmon/1\nsysmon/1 @time=2":   "line 2: @time: time: missing unit",
		"sysmon/1 @when=1s":            "line 1: @when: unknown meta key",
		"sysmon/1 =x":                  `line 1: "=x": want Field=Value`,
		"sysmon/1 Image=a 'Quoted x'=": `line 1: "'Quoted": want Field=Value`,
	} {
		_, err := ParseEvents(in)
		if assert.Error(t, err, in) {
			assert.Contains(t, err.Error(), want, in)
		}
	}
}

func FuzzParseEvents(f *testing.F) {
	f.Add("sysmon/1 Image=C:\\x.exe CommandLine='\"a b\" c'\n  User=\"d\\e\"\n")
	f.Add("security/4688 @host=H @time=1m NewProcessName=x\n# c\n\nwmi/5861 Custom=1")
	f.Add("x/65535 a=b\n\t@time=-1h")
	f.Fuzz(func(t *testing.T, in string) {
		evs, err := ParseEvents(in)
		if err != nil {
			require.Contains(t, err.Error(), "line ", "errors name the line")
			return
		}
		for i, ev := range evs {
			require.NotEmpty(t, ev.Channel)
			require.Equal(t, uint64(i+1), ev.Seq)
		}
		// Every event starts a line of its own.
		require.LessOrEqual(t, len(evs), bytes.Count([]byte(in), []byte("\n"))+1)
	})
}
