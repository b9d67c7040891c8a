package decode

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edr-lab/edr/capture/raw"
	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/internal/testutil"
)

func fixturePath(t testing.TB, name string) string {
	return filepath.Join(testutil.Shared(t, "etw/rustinel-fixtures/tests/fixtures/etw"), name)
}

func loadFixture(t testing.TB, name string) *raw.Fixture {
	fx, err := raw.LoadFixtureFile(fixturePath(t, name))
	require.NoError(t, err)
	return fx
}

// parseFile opens path and parses it with parse, failing the test on error.
func parseFile[T any](t testing.TB, path string, parse func(io.Reader, string) (T, error)) T {
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	v, err := parse(f, path)
	require.NoError(t, err)
	return v
}

// decoded is one emitted event, with the index of the record that made it.
type decoded struct {
	rec int
	ev  *event.Event
}

func decodeAll(t testing.TB, d *Decoder, recs []*raw.Record) ([]decoded, []Result) {
	var out []decoded
	var res []Result
	i := 0
	emit := func(e *event.Event) { out = append(out, decoded{i, e.Clone()}) }
	for i = range recs {
		res = append(res, d.Decode(recs[i], emit))
	}
	d.Flush(emit)
	return out, res
}

// envelopeNames are checked apart (TestFixtureEnvelope); fields() leaves
// them out so each expectation lists what the decoder chose to fill.
var envelopeNames = map[string]bool{"Provider_Guid": true, "Execution_ProcessID": true, "Execution_ThreadID": true, "Computer": true}

// fields is every present schema and key/value field of e by name.
func fields(e *event.Event) map[string]string {
	m := map[string]string{}
	e.Range(func(id event.FieldID, v string) bool {
		if !envelopeNames[id.Name()] {
			m[id.Name()] = v
		}
		return true
	})
	for _, kv := range e.Extra() {
		m[kv.Key] = kv.Value
	}
	return m
}

// utc renders a FILETIME as Sysmon's UtcTime, from the one conversion the
// format README documents (134360063001409789 = 2026-10-09T07:58:20.1409789Z),
// independently of the decoder's arithmetic.
func utc(ft int64) string {
	const ref = 134360063001409789
	t0 := time.Date(2026, 10, 9, 7, 58, 20, 140978900, time.UTC)
	return t0.Add(time.Duration(ft-ref) * 100).Format("2006-01-02 15:04:05.000")
}

type want struct {
	rec     int
	channel string
	id      uint16
	fields  map[string]string
}

func check(t *testing.T, recs []*raw.Record, got []decoded, wants []want) {
	t.Helper()
	require.Len(t, got, len(wants))
	for i, w := range wants {
		g := got[i]
		assert.Equal(t, w.rec, g.rec, "event %d: record", i)
		assert.Equal(t, w.channel, g.ev.Channel, "event %d", i)
		assert.Equal(t, w.id, g.ev.EventID, "event %d", i)
		assert.Equal(t, event.SourceETW, g.ev.Source)
		r := recs[w.rec]
		assert.Equal(t, raw.FileTimeToUnixNano(r.Timestamp), g.ev.Time, "event %d time", i)
		exp := map[string]string{}
		for k, v := range w.fields {
			exp[k] = v
		}
		if w.channel == event.ChannelSysmon {
			exp["UtcTime"] = utc(r.Timestamp)
		}
		assert.Equal(t, exp, fields(g.ev), "event %d (record %d)", i, w.rec)
	}
}

const (
	sysmonCh = event.ChannelSysmon
	vol      = `\Device\HarddiskVolume3`
	tmp      = `\Users\theo-rdp\AppData\Local\Temp\rustinel-fixture-e78e5e\`
)

// volumeMap is a test PathMapper: the one volume of the fixture host.
type volumeMap struct{}

func (volumeMap) MapPath(p string) string {
	if strings.HasPrefix(p, vol+`\`) {
		return "C:" + p[len(vol):]
	}
	return p
}

func TestFixtureProcessLifecycle(t *testing.T) {
	fx := loadFixture(t, "process_lifecycle.json")
	got, res := decodeAll(t, New(Options{}), fx.Records)
	assert.Equal(t, []Result{Emitted, Emitted}, res)
	// Start: no CommandLine, User or CurrentDirectory — the provider has none.
	check(t, fx.Records, got, []want{
		{0, sysmonCh, 1, map[string]string{"ProcessId": "7004", "Image": vol + `\Windows\System32\cmd.exe`,
			"IntegrityLevel": "High", "ParentProcessId": "6340"}},
		{1, sysmonCh, 5, map[string]string{"ProcessId": "7004", "Image": "cmd.exe"}},
	})
	got, _ = decodeAll(t, New(Options{Paths: volumeMap{}}), fx.Records)
	assert.Equal(t, `C:\Windows\System32\cmd.exe`, got[0].ev.Value(event.MustField("Image")))
}

func TestFixtureImageLoad(t *testing.T) {
	fx := loadFixture(t, "image_load.json")
	got, _ := decodeAll(t, New(Options{Paths: volumeMap{}}), fx.Records)
	check(t, fx.Records, got, []want{{0, sysmonCh, 7, map[string]string{
		"ProcessId": "6340", "ImageLoaded": `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`}}})
}

func TestFixtureNetworkConnect(t *testing.T) {
	fx := loadFixture(t, "network_connect.json")
	got, _ := decodeAll(t, New(Options{}), fx.Records)
	// daddr 396344852 = 0x179FBE14, LE bytes 14 BE 9F 17; dport 47873 =
	// 0xBB01 swapped = 443; sport 5059 = 0x13C3 swapped = 0xC313 = 49939.
	// The header PID is System (4) and the payload PID was not recorded:
	// ProcessId is absent.
	check(t, fx.Records, got, []want{{0, sysmonCh, 3, map[string]string{
		"Protocol": "tcp", "Initiated": "true",
		"SourceIsIpv6": "false", "SourceIp": "192.168.1.28", "SourcePort": "49939",
		"DestinationIsIpv6": "false", "DestinationIp": "20.190.159.23", "DestinationPort": "443"}}})
}

func TestFixtureDNS(t *testing.T) {
	fx := loadFixture(t, "dns_query.json")
	got, _ := decodeAll(t, New(Options{}), fx.Records)
	dnsCh := event.ChannelDNSClient
	q := map[string]string{"QueryName": "login.live.com"}
	check(t, fx.Records, got, []want{
		{0, dnsCh, 3006, q},
		{1, dnsCh, 3006, q},
		{2, sysmonCh, 22, map[string]string{"ProcessId": "1640", "QueryName": "login.live.com", "QueryStatus": "87", "QueryResults": ""}},
		{3, sysmonCh, 22, map[string]string{"ProcessId": "1640", "QueryName": "login.live.com", "QueryStatus": "0",
			"QueryResults": "type:  5 login.msa.msidentity.com;type:  5 www.tm.lg.prod.aadmsa.trafficmanager.net;type:  5 prdv4a.aadg.msidentity.com;type:  5 www.tm.v4.a.prd.aadg.akadns.net;" +
				"::ffff:20.190.159.23;::ffff:20.190.159.68;::ffff:40.126.31.73;::ffff:20.190.159.73;::ffff:40.126.31.129;::ffff:20.190.159.75;::ffff:20.190.159.0;::ffff:20.190.159.4;"}},
	})
	assert.Equal(t, "1640", got[0].ev.Value(event.MustField("Execution_ProcessID")))
}

func TestFixtureFileLifecycle(t *testing.T) {
	fx := loadFixture(t, "file_lifecycle.json")
	d := New(Options{Paths: volumeMap{}})
	got, res := decodeAll(t, d, fx.Records)
	dir := `C:` + tmp
	// Of 30 event-12 records only the two OPEN_IF (0x03…) creations are
	// Sysmon 11; the rest are plain opens (0x01…). Record 21 is the one
	// FileBasicInformation set, joined to record 20's FileObject. Record
	// 56 deletes the renamed file (27 renamed it; no Sysmon event).
	check(t, fx.Records, got, []want{
		{4, sysmonCh, 11, map[string]string{"ProcessId": "6340", "TargetFilename": dir + "fixture.txt"}},
		{13, sysmonCh, 11, map[string]string{"ProcessId": "6340", "TargetFilename": dir + "fixture.txt"}},
		{21, sysmonCh, 2, map[string]string{"ProcessId": "6340", "TargetFilename": dir + "fixture.txt"}},
		{56, sysmonCh, 26, map[string]string{"ProcessId": "6340", "TargetFilename": dir + "fixture-renamed.txt"}},
	})
	for i, r := range res {
		if i != 4 && i != 13 && i != 21 && i != 56 {
			assert.Equal(t, State, r, "record %d", i)
		}
	}
	assert.Zero(t, d.Stats.Unresolved)
	// Records 0–4, 25, 26, 34, 45, 46, 49, 50 open objects whose close the
	// hand-picked fixture does not include; every other one was closed.
	assert.Equal(t, 12, d.fileObj.len())
}

func TestFixtureRegistryLifecycle(t *testing.T) {
	fx := loadFixture(t, "registry_lifecycle.json")
	d := New(Options{})
	got, res := decodeAll(t, d, fx.Records)
	// The base key handles (HKCU\…) were opened before the recording, so
	// the paths stay relative to them.
	key := `Software\RustinelFixture`
	check(t, fx.Records, got, []want{
		{1, sysmonCh, 12, map[string]string{"EventType": "CreateKey", "ProcessId": "6340", "TargetObject": key}},
		{3, sysmonCh, 13, map[string]string{"EventType": "SetValue", "ProcessId": "6340", "TargetObject": key + `\Run`,
			"Details": `C:\Windows\System32\cmd.exe /c fixture`}},
		{5, sysmonCh, 13, map[string]string{"EventType": "SetValue", "ProcessId": "6340", "TargetObject": key + `\Flag`,
			"Details": "DWORD (0x00000001)"}},
		{7, sysmonCh, 12, map[string]string{"EventType": "DeleteValue", "ProcessId": "6340", "TargetObject": key + `\Run`}},
		{9, sysmonCh, 12, map[string]string{"EventType": "DeleteKey", "ProcessId": "6340", "TargetObject": "RustinelFixture"}},
	})
	assert.Equal(t, State, res[0], "the failed open (KeyObject 0) emits nothing")
	assert.Zero(t, d.Stats.Unresolved)
}

// A set arriving before the open that names its key is held, then emitted
// when the key is named.
func TestRegistryWriteHeldUntilNamed(t *testing.T) {
	fx := loadFixture(t, "registry_lifecycle.json")
	recs := []*raw.Record{fx.Records[3], fx.Records[2]}
	d := New(Options{})
	got, res := decodeAll(t, d, recs)
	assert.Equal(t, []Result{Held, Emitted}, res)
	require.Len(t, got, 1)
	assert.Equal(t, 1, got[0].rec, "emitted when the open arrives")
	assert.Equal(t, `Software\RustinelFixture\Run`, got[0].ev.Value(event.MustField("TargetObject")))
	assert.Equal(t, raw.FileTimeToUnixNano(fx.Records[3].Timestamp), got[0].ev.Time, "with its own time")

	// Never named: Flush emits it without TargetObject, counted.
	d = New(Options{})
	got, _ = decodeAll(t, d, []*raw.Record{fx.Records[3]})
	require.Len(t, got, 1)
	assert.False(t, got[0].ev.Has(event.MustField("TargetObject")))
	assert.Equal(t, uint64(1), d.Stats.Unresolved)
}

func TestFixtureWMI(t *testing.T) {
	fx := loadFixture(t, "wmi_activity.json")
	got, _ := decodeAll(t, New(Options{}), fx.Records)
	ch := event.ChannelWMIActivity
	check(t, fx.Records, got, []want{
		{0, ch, 11, map[string]string{"ClientMachine": "LAB-WINDOWS", "ClientProcessId": "3868", "NamespaceName": `\\localhost\root\cimv2`,
			"Operation": "IWbemServices::Connect", "User": `lab-windows\theo-rdp`}},
		{1, ch, 11, map[string]string{"ClientMachine": "LAB-WINDOWS", "ClientProcessId": "3868", "NamespaceName": `\\.\root\cimv2`,
			"Operation": `Start IWbemServices::ExecQuery - root\cimv2 : select * from Win32_Process where Name='explorer.exe'`, "User": `lab-windows\theo-rdp`}},
		// Code is win:HexInt32: the Event Log renders 0 as 0x0.
		{2, ch, 5857, map[string]string{"Code": "0x0", "HostProcess": "wmiprvse.exe", "ProcessID": "5480", "ProviderName": "CIMWin32",
			"ProviderPath": `%systemroot%\system32\wbem\cimwin32.dll`}},
		{3, ch, 12, map[string]string{"Operation": `Provider::ExecQuery - CIMWin32 : select * from Win32_Process where Name = "explorer.exe"`, "ProviderName": "CIMWin32"}},
		{4, ch, 17, map[string]string{"Namespace": `root\cimv2`, "Operation": "MI_Session::EnumerateInstance", "User": "NULL"}},
	})
}

func TestFixtureTaskAndPowerShell(t *testing.T) {
	fx := loadFixture(t, "task_registered.json")
	got, _ := decodeAll(t, New(Options{}), fx.Records)
	check(t, fx.Records, got, []want{{0, event.ChannelTaskScheduler, 106, map[string]string{
		"TaskName": `\RustinelFixtureTask`, "UserContext": `lab-windows\theo-rdp`}}})
	assert.Equal(t, "1860", got[0].ev.Value(event.MustField("Execution_ProcessID")))

	fx = loadFixture(t, "powershell_module_logging.json")
	got, _ = decodeAll(t, New(Options{}), fx.Records)
	ctx, _ := fx.Records[0].Str("ContextInfo")
	payload, _ := fx.Records[0].Str("Payload")
	require.Contains(t, ctx, "Application hôte = C:\\WINDOWS\\System32\\WindowsPowerShell")
	check(t, fx.Records, got, []want{{0, event.ChannelPowerShell, 4103, map[string]string{"ContextInfo": ctx, "Payload": payload}}})
	assert.Equal(t, "Microsoft-Windows-PowerShell", got[0].ev.Provider)
}

// TestFixtureEnvelope: the header part every decoded event carries.
func TestFixtureEnvelope(t *testing.T) {
	fx := loadFixture(t, "process_lifecycle.json")
	got, _ := decodeAll(t, New(Options{Host: "lab-windows"}), fx.Records)
	e := got[0].ev
	assert.Equal(t, "Microsoft-Windows-Kernel-Process", e.Provider)
	assert.Equal(t, "{22fb2cd6-0e7b-422b-a0c7-2fad1fd0e716}", e.Value(event.MustField("Provider_Guid")))
	assert.Equal(t, "6340", e.Value(event.MustField("Execution_ProcessID")), "the creator logs the start")
	assert.False(t, e.Has(event.MustField("Execution_ThreadID")), "the fixture has no thread id")
	assert.Equal(t, "lab-windows", e.Host)
	assert.Equal(t, "lab-windows", e.Value(event.FComputer))
}

// TestFixturesAllDecoded: every record of every recorded fixture decodes
// to a known result (the synthetic file is skipped).
func TestFixturesAllDecoded(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(filepath.Dir(fixturePath(t, "x")), "*.json"))
	require.NoError(t, err)
	require.Len(t, files, 10)
	n := 0
	for _, f := range files {
		fx := loadFixture(t, filepath.Base(f))
		if fx.Provenance.Synthetic() {
			continue
		}
		d := New(Options{})
		first, res := decodeAll(t, d, fx.Records)
		again, _ := decodeAll(t, New(Options{}), fx.Records)
		require.Len(t, again, len(first))
		for i := range first {
			assert.True(t, event.Equal(first[i].ev, again[i].ev), "%s: decoding is deterministic (event %d)", f, i)
		}
		for i, r := range res {
			assert.Contains(t, []Result{Emitted, State}, r, "%s record %d", f, i)
		}
		assert.Empty(t, d.Stats.Unhandled, f)
		assert.Empty(t, d.Stats.UnknownVersion, f)
		n += len(fx.Records)
	}
	assert.Equal(t, 83, n, "4+58+1+1+1+2+10+1+5 recorded records")
}
