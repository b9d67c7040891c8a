package eventlog

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edr-lab/edr/event"
)

const sample4688 = `<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>` +
	`<Provider Name='Microsoft-Windows-Security-Auditing' Guid='{54849625-5478-4994-A5BA-3E3B0328C30D}'/>` +
	`<EventID>4688</EventID><Version>2</Version><Level>0</Level><Task>13312</Task><Opcode>0</Opcode>` +
	`<Keywords>0x8020000000000000</Keywords><TimeCreated SystemTime='2026-10-09T07:58:20.1409789Z'/>` +
	`<EventRecordID>42</EventRecordID><Correlation ActivityID='{0A1B2C3D-0000-1111-2222-333344445555}'/>` +
	`<Execution ProcessID='4' ThreadID='96'/><Channel>Security</Channel><Computer>lab.example</Computer><Security/>` +
	`</System><EventData><Data Name='NewProcessName'>C:\Windows\System32\cmd.exe</Data>` +
	`<Data Name='CommandLine'>cmd /c "a &amp; b"` + "\r\n\x01" + `x&#x2;</Data><Data Name='ParentProcessName'></Data></EventData></Event>`

// TestParseDetails: the values a rendering spells differently from the
// EVTX importer (upper-case GUIDs, CR-LF, control characters) come out as
// the importer has them; an empty <Data> is an empty field, not absent.
func TestParseDetails(t *testing.T) {
	var p Parser
	e := &event.Event{}
	require.NoError(t, p.Parse([]byte(sample4688), e))
	assert.Equal(t, event.ChannelSecurity, e.Channel)
	assert.Equal(t, uint16(4688), e.EventID)
	assert.Equal(t, uint64(42), e.RecordID)
	assert.Equal(t, int64(1791532700140978900), e.Time)
	assert.Equal(t, "lab.example", e.Host)
	v, _ := e.Lookup("CommandLine")
	assert.Equal(t, "cmd /c \"a & b\"\r\n\x01x\x02", v)
	v, _ = e.Lookup("Provider_Guid")
	assert.Equal(t, "{54849625-5478-4994-a5ba-3e3b0328c30d}", v)
	v, _ = e.Lookup("ActivityID")
	assert.Equal(t, "{0a1b2c3d-0000-1111-2222-333344445555}", v)
	v, ok := e.Lookup("ParentProcessName")
	assert.True(t, ok)
	assert.Empty(t, v)
	_, ok = e.Lookup("TokenElevationType")
	assert.False(t, ok, "a field the record lacks stays absent")

	p.Host = "LAB"
	require.NoError(t, p.Parse([]byte(sample4688), e))
	assert.Equal(t, "LAB", e.Host)
	assert.Equal(t, "lab.example", e.Value(event.FComputer))
}

// TestParseErrors: bad records are refused with the place and the reason.
func TestParseErrors(t *testing.T) {
	var p Parser
	e := &event.Event{}
	for _, c := range []struct{ doc, want string }{
		{"", "no <Event> element"},
		{"<System/>", "root element is not <Event>"},
		{sample4688[:200], "unexpected EOF"},
		{sample4688 + "<Event/>", "content after </Event>"},
		{"<Event>" + strings.Repeat("<a>", 70) + strings.Repeat("</a>", 70) + "</Event>", "nested deeper than 64"},
		{strings.Replace(sample4688, "2026-10-09T07:58:20.1409789Z", "yesterday", 1), "not an ISO-8601 time"},
		{"\x01<Event>\uF701</Event>", "control characters beside U+F701"},
	} {
		err := p.Parse([]byte(c.doc), e)
		require.Error(t, err, c.doc)
		assert.Contains(t, err.Error(), c.want)
		var pe *Error
		assert.True(t, errors.As(err, &pe))
	}
	err := p.Parse([]byte(sample4688[:200]), e)
	assert.Regexp(t, `^event XML at byte \d+: `, err.Error())
}

func TestQuery(t *testing.T) {
	assert.Equal(t, "*[System[(EventID=7045)]]", Subscriptions[0].Query())
	assert.Equal(t, "*[System[(EventID=4688 or EventID=4697 or EventID=4698)]]", Subscriptions[1].Query())
}

// FuzzParse: any input parses or is refused with an *Error, never panics;
// a parsed event parses again to the same event (the parser keeps no
// state across records).
func FuzzParse(f *testing.F) {
	f.Add([]byte(sample4688))
	f.Add([]byte(`<Event><UserData><A x='1'><B>t</B>u</A></UserData><EventData a='b'><Data>x</Data><Data Name='n'><c/></Data>t</EventData><RenderingInfo><Level>Info</Level></RenderingInfo></Event>`))
	f.Add([]byte("<Event>\r\x01&#1;&#x1F;&#65;</Event>"))
	var p Parser
	f.Fuzz(func(t *testing.T, doc []byte) {
		e1, e2 := &event.Event{}, &event.Event{}
		if err := p.Parse(doc, e1); err != nil {
			var pe *Error
			require.True(t, errors.As(err, &pe), "%v", err)
			return
		}
		require.NoError(t, p.Parse(doc, e2))
		require.True(t, event.Equal(e1, e2))
	})
}
