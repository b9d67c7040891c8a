package jsonl

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edr-lab/edr/event"
)

// decodeAll reads a JSON stream and returns clones of its events.
func decodeAll(t *testing.T, input string) ([]*event.Event, Stats) {
	t.Helper()
	var out []*event.Event
	st, err := Read(strings.NewReader(input), "test.json", Options{}, func(e *event.Event) error {
		out = append(out, e.Clone())
		return nil
	})
	require.NoError(t, err)
	return out, st
}

func val(t *testing.T, e *event.Event, name string) string {
	t.Helper()
	v, ok := e.Lookup(name)
	require.True(t, ok, "%s absent", name)
	return v
}

func ts(t *testing.T, s string) int64 {
	t.Helper()
	tm, err := time.Parse(time.RFC3339Nano, s)
	require.NoError(t, err)
	return tm.UnixNano()
}

func TestWinlogbeatNested(t *testing.T) {
	evs, st := decodeAll(t, `{"@timestamp":"2021-03-14T01:39:32.609Z","winlog":{"channel":"Microsoft-Windows-Sysmon/Operational","event_id":1,`+
		`"provider_name":"Microsoft-Windows-Sysmon","provider_guid":"{5770385F-C22A-43E0-BF4C-06F5698FFBD9}","computer_name":"WS1.corp",`+
		`"record_id":123,"process":{"pid":3308,"thread":{"id":4008}},"user":{"identifier":"S-1-5-18","name":"SYSTEM"},"version":5,`+
		`"opcode":"Info","event_data":{"ProcessGuid":"{6004D249-0957-604D-6019-000000000900}","ProcessId":"1234","LogonId":"0x3E7","Image":"C:\\x.exe"}},`+
		`"event":{"code":"1"},"host":{"name":"ws1"},"message":"Process Create:"}`)
	require.Len(t, evs, 1)
	assert.Equal(t, [numDialects]int64{DialectBeats: 1}, st.Dialects)
	e := evs[0]
	assert.Equal(t, event.ChannelSysmon, e.Channel)
	assert.Equal(t, uint16(1), e.EventID)
	assert.Equal(t, "Microsoft-Windows-Sysmon", e.Provider)
	assert.Equal(t, uint64(123), e.RecordID)
	assert.Equal(t, "WS1.corp", e.Host)
	assert.Equal(t, ts(t, "2021-03-14T01:39:32.609Z"), e.Time)
	assert.Equal(t, event.SourceJSON, e.Source)
	assert.Equal(t, "{5770385f-c22a-43e0-bf4c-06f5698ffbd9}", val(t, e, "Provider_Guid"))
	assert.Equal(t, "3308", val(t, e, "Execution_ProcessID"))
	assert.Equal(t, "4008", val(t, e, "Execution_ThreadID"))
	assert.Equal(t, "S-1-5-18", val(t, e, "Security_UserID"))
	assert.Equal(t, "5", val(t, e, "EventVersion"))
	assert.Equal(t, "{6004d249-0957-604d-6019-000000000900}", val(t, e, "ProcessGuid"), "GUID to the Windows rendering")
	assert.Equal(t, "0x3e7", val(t, e, "LogonId"), "hex to lower case")
	assert.Equal(t, "1234", val(t, e, "ProcessId"))
	assert.Equal(t, `C:\x.exe`, val(t, e, "Image"))
	// Beats' own fields are kept in the key/value part, not dropped.
	assert.Equal(t, "Info", val(t, e, "winlog.opcode"))
	assert.Equal(t, "SYSTEM", val(t, e, "winlog.user.name"))
	assert.Equal(t, "ws1", val(t, e, "host.name"))
	assert.Equal(t, "Process Create:", val(t, e, "message"))
}

func TestElasticDottedKeys(t *testing.T) {
	evs, _ := decodeAll(t, `{"@timestamp":"2022-01-02T03:04:05.123Z","winlog.channel":"security","winlog.event_id":"4625",`+
		`"winlog.computer_name":"DC1","winlog.provider_name":"Microsoft-Windows-Security-Auditing",`+
		`"winlog.event_data.Status":"0XC000006D","winlog.event_data.SubStatus":"0xc000006a","winlog.event_data.LogonType":"3"}`)
	require.Len(t, evs, 1)
	e := evs[0]
	assert.Equal(t, "Security", e.Channel, "channel case canonicalized")
	assert.Equal(t, uint16(4625), e.EventID)
	assert.Equal(t, "0xc000006d", val(t, e, "Status"))
	assert.Equal(t, "0xc000006a", val(t, e, "SubStatus"))
	assert.Equal(t, "3", val(t, e, "LogonType"))
	assert.Equal(t, "DC1", e.Host)
}

func TestWinlogbeat6(t *testing.T) {
	evs, _ := decodeAll(t, `{"@timestamp":"2019-05-01T10:00:00.000Z","event_id":4688,"log_name":"Security","source_name":"Microsoft-Windows-Security-Auditing",`+
		`"computer_name":"WS2","record_number":"42","process_id":4,"thread_id":32,"keywords":["Audit Success"],"level":"Information",`+
		`"event_data":{"NewProcessId":"0x1a2c","NewProcessName":"C:\\Windows\\System32\\whoami.exe","SubjectLogonId":"0x3e7"},"type":"wineventlog"}`)
	require.Len(t, evs, 1)
	e := evs[0]
	assert.Equal(t, uint16(4688), e.EventID)
	assert.Equal(t, uint64(42), e.RecordID)
	assert.Equal(t, "WS2", e.Host)
	assert.Equal(t, "4", val(t, e, "Execution_ProcessID"))
	assert.Equal(t, "32", val(t, e, "Execution_ThreadID"))
	assert.Equal(t, "0x1a2c", val(t, e, "NewProcessId"))
	assert.Equal(t, "Audit Success", val(t, e, "keywords"))
	assert.Equal(t, "Information", val(t, e, "level"))
}

// The NXLog line shapes below are those of the Security-Datasets archives
// (see TestSecurityDatasets for the real files).
func TestNXLogEnvelope(t *testing.T) {
	evs, st := decodeAll(t, strings.Join([]string{
		// Security 5156: NXLog's envelope ProcessID/ThreadID are numbers and
		// ExecutionProcessID is given; the event's own ProcessID arrives as
		// the string ProcessId and is spelled as the schema spells it.
		`{"Task":12810,"EventReceivedTime":"2020-07-21 23:27:42","port":55069,"SeverityValue":2,"Keywords":-9214364837600034816,` +
			`"ProviderGuid":"{54849625-5478-4994-A5BA-3E3B0328C30D}","SourceModuleType":"im_msvistalog","Version":1,"SourceName":"Microsoft-Windows-Security-Auditing",` +
			`"ProcessId":"3580","Channel":"Security","Hostname":"WORKSTATION5.mordor.local","host":"wec.internal.cloudapp.net","ExecutionProcessID":4,` +
			`"EventType":"AUDIT_SUCCESS","OpcodeValue":0,"EventTime":"2020-07-21 23:27:39","@timestamp":"2020-07-22T03:27:42.455Z","EventID":5156,"ThreadID":8792,"RecordNumber":253295}`,
		// Sysmon 10 from an older NXLog: ProcessID (number) is the envelope,
		// UserID the Security UserID, EventType Sysmon's own field.
		`{"SourceImage":"C:\\Windows\\system32\\svchost.exe","Version":3,"SourceName":"Microsoft-Windows-Sysmon","ThreadID":5588,"AccountName":"SYSTEM",` +
			`"TargetProcessGUID":"{A158F72C-6D5E-5E02-0000-0010D4050200}","EventReceivedTime":"2019-12-24 23:52:02","SourceModuleType":"im_msvistalog",` +
			`"@timestamp":"2019-12-25T04:52:02.806Z","RecordNumber":173324,"Hostname":"HR001.shire.com","GrantedAccess":"0x1000",` +
			`"Channel":"microsoft-windows-sysmon/operational","Task":10,"UtcTime":"2019-12-25 04:52:00.004","UserID":"S-1-5-18",` +
			`"Keywords":-9223372036854775808,"ProcessID":3128,"SourceProcessId":"868","EventTime":"2019-12-24 23:52:00","EventID":10}`,
		`{"EventType":"SetValue","EventTypeOrignal":"INFO","SourceModuleType":"im_msvistalog","EventID":13,"Channel":"Microsoft-Windows-Sysmon/Operational","Hostname":"DC","EventTime":"2020-07-21 23:27:43","EventReceivedTime":"2020-07-21 23:27:45","@timestamp":"2020-07-22T03:27:45.486Z"}`,
	}, "\n"))
	require.Len(t, evs, 3, "%v", st.Failures)
	assert.EqualValues(t, 3, st.Dialects[DialectNXLog])

	sec := evs[0]
	assert.Equal(t, "4", val(t, sec, "Execution_ProcessID"))
	assert.Equal(t, "8792", val(t, sec, "Execution_ThreadID"))
	assert.Equal(t, "3580", val(t, sec, "ProcessID"), "5156's own field, under its schema name")
	assert.Equal(t, "0x8020000000000000", val(t, sec, "Keywords"), "signed 64-bit keywords to hex")
	assert.Equal(t, "{54849625-5478-4994-a5ba-3e3b0328c30d}", val(t, sec, "Provider_Guid"))
	assert.Equal(t, "AUDIT_SUCCESS", val(t, sec, "EventType"))
	_, isField := sec.Get(event.FEventType)
	assert.False(t, isField, "NXLog's EventType is not Sysmon's EventType field")
	assert.Equal(t, uint64(253295), sec.RecordID)
	assert.Equal(t, "WORKSTATION5.mordor.local", sec.Host)
	// EventTime is the collector's local time; the offset comes from the
	// local EventReceivedTime against the UTC @timestamp (+4 h here).
	assert.Equal(t, ts(t, "2020-07-22T03:27:39Z"), sec.Time)

	sm := evs[1]
	assert.Equal(t, event.ChannelSysmon, sm.Channel)
	assert.Equal(t, "3128", val(t, sm, "Execution_ProcessID"))
	assert.Equal(t, "S-1-5-18", val(t, sm, "Security_UserID"))
	assert.Equal(t, "{a158f72c-6d5e-5e02-0000-0010d4050200}", val(t, sm, "TargetProcessGUID"))
	assert.Equal(t, "868", val(t, sm, "SourceProcessId"))
	assert.Equal(t, "SYSTEM", val(t, sm, "AccountName"), "NXLog's account kept as a key/value")
	_, isField = sm.Get(event.MustField("AccountName"))
	assert.False(t, isField)
	assert.Equal(t, ts(t, "2019-12-25T04:52:00Z"), sm.Time)

	reg := evs[2]
	assert.Equal(t, "SetValue", reg.Value(event.FEventType), "Sysmon 13 declares EventType")
	assert.Equal(t, "INFO", val(t, reg, "EventTypeOrignal"))
}

func TestEvtxDumpSeparateAttributesAndQualifiers(t *testing.T) {
	evs, _ := decodeAll(t, `{"Event_attributes":{"xmlns":"http://schemas.microsoft.com/win/2004/08/events/event"},"Event":{"System":{`+
		`"Provider_attributes":{"Name":"Service Control Manager","Guid":"{555908d1-a6d7-4695-8e1e-26931d2012f4}","EventSourceName":"Service Control Manager"},`+
		`"EventID_attributes":{"Qualifiers":16384},"EventID":7045,"Version":0,"Level":4,"Task":0,"Opcode":0,"Keywords":"0x8080000000000000",`+
		`"TimeCreated_attributes":{"SystemTime":"2019-03-19T23:34:25.259834Z"},"EventRecordID":2191,"Correlation":null,`+
		`"Execution_attributes":{"ProcessID":524,"ThreadID":1008},"Channel":"System","Computer":"WIN10","Security_attributes":{"UserID":"S-1-5-21-1-2-3-1000"}},`+
		`"EventData":{"ServiceName":"psexesvc","ImagePath":"%SystemRoot%\\PSEXESVC.exe","ServiceType":"user mode service","StartType":"demand start","AccountName":"LocalSystem"}}}`)
	require.Len(t, evs, 1)
	e := evs[0]
	assert.Equal(t, uint16(7045), e.EventID)
	assert.Equal(t, "Service Control Manager", e.Provider)
	assert.Equal(t, "16384", val(t, e, "Qualifiers"))
	assert.Equal(t, "Service Control Manager", val(t, e, "Provider_EventSourceName"))
	assert.Equal(t, "S-1-5-21-1-2-3-1000", val(t, e, "Security_UserID"))
	assert.Equal(t, "524", val(t, e, "Execution_ProcessID"))
	assert.Equal(t, "psexesvc", val(t, e, "ServiceName"))
	assert.Equal(t, "LocalSystem", val(t, e, "AccountName"))
	assert.Equal(t, ts(t, "2019-03-19T23:34:25.259834Z"), e.Time)
	for _, kv := range e.Extra() {
		assert.NotContains(t, kv.Key, "xmlns")
	}
}

func TestUnnamedDataAndClassicPowerShell(t *testing.T) {
	block := `\tNewEngineState=Available\r\n\tPreviousEngineState=None\r\n\r\n\tSequenceNumber=13\r\n\r\n\tHostName=ConsoleHost\r\n` +
		`\tHostVersion=5.1.17763.1\r\n\tHostId=0f8e2a3b-1111-2222-3333-444455556666\r\n\tHostApplication=powershell.exe -nop -enc AAAA\r\n` +
		`\tEngineVersion=5.1.17763.1\r\n\tRunspaceId=aa-bb\r\n\tPipelineId=\r\n\tCommandName=\r\n\tCommandType=\r\n\tScriptName=\r\n\tCommandPath=\r\n\tCommandLine=`
	evs, _ := decodeAll(t, `{"Event":{"System":{"Provider":{"#attributes":{"Name":"PowerShell"}},"EventID":{"#attributes":{"Qualifiers":0},"#text":400},`+
		`"Channel":"Windows PowerShell","Computer":"WS3","TimeCreated":{"#attributes":{"SystemTime":"2020-01-01T00:00:00.000000Z"}},"EventRecordID":7},`+
		`"EventData":{"Data":{"#text":["Available","None","`+block+`"]}}}}`)
	require.Len(t, evs, 1)
	e := evs[0]
	assert.Equal(t, uint16(400), e.EventID)
	data := val(t, e, "Data")
	assert.True(t, strings.HasPrefix(data, "Available\nNone\n\tNewEngineState=Available"), data)
	assert.Contains(t, data, "HostName=ConsoleHost")
	assert.Equal(t, "ConsoleHost", val(t, e, "HostName"))
	assert.Equal(t, "powershell.exe -nop -enc AAAA", val(t, e, "HostApplication"))
	assert.Equal(t, "5.1.17763.1", val(t, e, "EngineVersion"))
	assert.Equal(t, "Available", val(t, e, "NewEngineState"))
	assert.Equal(t, "None", val(t, e, "PreviousEngineState"))
	assert.Equal(t, "", val(t, e, "CommandLine"), "present and empty")
	_, seq := e.Lookup("SequenceNumber")
	assert.False(t, seq, "keys the event does not declare stay inside Data")
}

func TestStreamsArraysAndBadLines(t *testing.T) {
	input := `[
  {"EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational", "Computer": "A", "TimeCreated": "2020-01-01T00:00:00Z"},
  {"EventID": "4624", "Channel": "SECURITY", "Computer": "B", "TimeCreated": "2020-01-01T00:00:01Z", "LogonType": 3}
]`
	evs, st := decodeAll(t, input)
	require.Len(t, evs, 2, "%v", st.Failures)
	assert.Equal(t, "Security", evs[1].Channel)
	assert.Equal(t, "3", val(t, evs[1], "LogonType"), "JSON number kept as its text")

	// Bad documents are named by line and skipped; reading goes on.
	lines := strings.Join([]string{
		`{"EventID": 1, "Channel": "Microsoft-Windows-Sysmon/Operational", "TimeCreated": "2020-01-01T00:00:00Z"}`,
		`{"EventID": 2, "Channel": `,
		`not json at all`,
		`{"hello": "world"}`,
		`{"EventID": 3, "Channel": "Microsoft-Windows-Sysmon/Operational", "TimeCreated": "2020-01-01T00:00:00Z", "Image": "C:\\a \"b\" \u00e9\ud83d\ude00"}`,
		`{"EventID": 5, "Channel": "Microsoft-Windows-Sysmon/Operational"`,
	}, "\n")
	evs, st = decodeAll(t, lines)
	require.Len(t, evs, 2)
	assert.Equal(t, `C:\a "b" é😀`, val(t, evs[1], "Image"))
	assert.EqualValues(t, 3, st.Failed, "%v", st.Failures)
	require.Len(t, st.Failures, 3)
	assert.EqualValues(t, 2, st.Failures[0].Line)
	assert.EqualValues(t, 4, st.Failures[1].Line)
	assert.Contains(t, st.Failures[1].Err, "not a Windows event")
	assert.EqualValues(t, 6, st.Failures[2].Line)
	assert.Contains(t, st.Failures[2].Err, "incomplete")
	assert.Equal(t, "test.json", st.Failures[0].File)

	// Concatenated pretty-printed objects (as the SigmaHQ regression files).
	evs, st = decodeAll(t, "{\n  \"Event\": {\n    \"System\": {\"EventID\": 1, \"Channel\": \"Security\"}\n  }\n}\n{\n  \"Event\": {\n    \"System\": {\"EventID\": 2, \"Channel\": \"Security\"}\n  }\n}\n")
	require.Len(t, evs, 2, "%v", st.Failures)
	assert.Equal(t, uint16(2), evs[1].EventID)
}

func TestNoChannelKeptAndFlagged(t *testing.T) {
	evs, st := decodeAll(t, `{"EventID": 4688, "Computer": "X", "TimeCreated": "2020-01-01T00:00:00Z", "NewProcessName": "a.exe"}`)
	require.Len(t, evs, 1)
	assert.NotZero(t, evs[0].Flags&event.FlagNoChannel)
	assert.EqualValues(t, 1, st.NoChannel)
	assert.Equal(t, "a.exe", val(t, evs[0], "NewProcessName"))
}

func TestLongDocumentsAcrossBufferRefills(t *testing.T) {
	long := strings.Repeat(`x\"y`, 400_000) // 1.6 MB value, larger than one read
	var b strings.Builder
	for i := 0; i < 3; i++ {
		b.WriteString(`{"EventID": 1, "Channel": "Security", "TimeCreated": "2020-01-01T00:00:00Z", "Payload": "` + long + "\"}\n")
	}
	evs, st := decodeAll(t, b.String())
	require.Len(t, evs, 3, "%v", st.Failures)
	assert.Len(t, val(t, evs[2], "Payload"), 1_200_000)
}

func TestZipArchive(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "set.zip")
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("b.json")
	require.NoError(t, err)
	_, _ = w.Write([]byte(`{"EventID": 2, "Channel": "Security", "TimeCreated": "2020-01-01T00:00:00Z"}` + "\n"))
	w, err = zw.Create("__MACOSX/._b.json")
	require.NoError(t, err)
	_, _ = w.Write([]byte("\x00\x05\x16\x07 resource fork"))
	w, err = zw.Create("a.json")
	require.NoError(t, err)
	_, _ = w.Write([]byte(`{"EventID": 1, "Channel": "Security", "TimeCreated": "2020-01-01T00:00:00Z"}` + "\n"))
	require.NoError(t, zw.Close())
	require.NoError(t, os.WriteFile(p, buf.Bytes(), 0o644))
	var ids []uint16
	st, err := ReadFile(p, Options{}, func(e *event.Event) error {
		ids = append(ids, e.EventID)
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, []uint16{1, 2}, ids, "members in name order, resource forks skipped")
	assert.Zero(t, st.Failed)
	assert.True(t, IsZip(p))
}

func TestHostOverride(t *testing.T) {
	var got string
	_, err := Read(strings.NewReader(`{"EventID": 1, "Channel": "Security", "Computer": "A"}`), "x", Options{Host: "case-7"}, func(e *event.Event) error {
		got = e.Host
		assert.Equal(t, "A", e.Value(event.FComputer), "Computer itself is kept")
		return nil
	})
	require.NoError(t, err)
	assert.Equal(t, "case-7", got)
}
