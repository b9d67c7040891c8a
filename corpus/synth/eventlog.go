package synth

import (
	"strings"

	"github.com/edr-lab/edr/event"
)

// Events of the Security, System, PowerShell and Task Scheduler channels.

const zeroGUID = "{00000000-0000-0000-0000-000000000000}"

func (g *Generator) security(e *event.Event, h *host, id uint16) {
	g.header(e, h, chanSecurity, event.ChannelSecurity, event.ProviderSecurityAuditing, id)
	e.Set(fExecPID, h.lsass.pidS)
}

// setSubject renders the Subject* fields for a as the Security log does:
// the machine account stands for SYSTEM and NETWORK SERVICE.
func (h *host) setSubject(e *event.Event, a *account) {
	switch a {
	case nil:
		e.Set(fSubjectUserSid, "S-1-0-0")
		e.Set(fSubjectUserName, "-")
		e.Set(fSubjectDomainName, "-")
		e.Set(fSubjectLogonId, "0x0")
		return
	case h.system, h.netSvc:
		e.Set(fSubjectUserSid, a.sid)
		e.Set(fSubjectUserName, h.netbios+"$")
		e.Set(fSubjectDomainName, netbiosDomain)
	default:
		e.Set(fSubjectUserSid, a.sid)
		e.Set(fSubjectUserName, a.user)
		e.Set(fSubjectDomainName, a.domain)
	}
	e.Set(fSubjectLogonId, a.logonIDs)
}

func hexPID(p *proc) string { return event.FormatHex(uint64(p.pid)) }

// logon renders 4624 for one of the logon types a host sees.
func (g *Generator) logon(h *host, e *event.Event) {
	g.security(e, h, 4624)
	peer := g.hosts[h.r.intn(len(g.hosts))]
	t := logonTypes[h.r.intn(len(logonTypes))]
	if h.role != roleWorkstation && h.r.chance(1, 2) {
		t = 3
	}
	newID := event.FormatHex(0x100000 + uint64(h.r.intn(0xffffff)))
	set := func(subject *account, tsid, tuser, tdomain, tid, lproc, pkg, ws, guid, lm, klen, pid, pname, ip, port, elevated string) {
		h.setSubject(e, subject)
		e.Set(fTargetUserSid, tsid)
		e.Set(fTargetUserName, tuser)
		e.Set(fTargetDomainName, tdomain)
		e.Set(fTargetLogonId, tid)
		e.Set(fLogonType, event.Itoa(uint64(t)))
		e.Set(fLogonProcessName, lproc)
		e.Set(fAuthenticationPackageName, pkg)
		e.Set(fWorkstationName, ws)
		e.Set(fLogonGuid, guid)
		e.Set(fTransmittedServices, "-")
		e.Set(fLmPackageName, lm)
		e.Set(fKeyLength, klen)
		e.Set(fSecProcessId, pid)
		e.Set(fProcessName, pname)
		e.Set(fIpAddress, ip)
		e.Set(fIpPort, port)
		e.Set(fImpersonationLevel, "%%1833")
		e.Set(fRestrictedAdminMode, "-")
		e.Set(fTargetOutboundUserName, "-")
		e.Set(fTargetOutboundDomainName, "-")
		e.Set(fVirtualAccount, "%%1843")
		e.Set(fTargetLinkedLogonId, "0x0")
		e.Set(fElevatedToken, elevated)
	}
	switch t {
	case 5:
		set(h.system, "S-1-5-18", "SYSTEM", "NT AUTHORITY", "0x3e7", "Advapi  ", "Negotiate", "-", zeroGUID, "-", "0",
			hexPID(h.services), `C:\Windows\System32\services.exe`, "-", "-", "%%1842")
	case 3:
		who := peer.user
		if h.r.chance(1, 2) {
			who = peer.machineAcct
		}
		port := g.cat.ports[49152+h.r.intn(16384)]
		if h.r.chance(2, 3) {
			set(nil, who.sid, who.user, netbiosDomain, newID, "Kerberos", "Kerberos", "-", randGUID(&h.r), "-", "0",
				"0x0", "-", peer.ip, port, "%%1842")
		} else {
			set(nil, who.sid, who.user, netbiosDomain, newID, "NtLmSsp ", "NTLM", peer.netbios, zeroGUID, "NTLM V2", "128",
				"0x0", "-", peer.ip, port, "%%1842")
		}
	default: // 2 interactive, 7 unlock, 11 cached interactive
		set(h.system, h.user.sid, h.user.user, netbiosDomain, newID, "User32 ", "Negotiate", h.netbios, randGUID(&h.r), "-", "0",
			hexPID(h.winlogon), `C:\Windows\System32\winlogon.exe`, "127.0.0.1", "0", "%%1843")
	}
}

var logonTypes = []int{5, 5, 5, 3, 3, 3, 3, 7, 2, 11}

func (g *Generator) logoff(h *host, e *event.Event) {
	g.security(e, h, 4634)
	peer := g.hosts[h.r.intn(len(g.hosts))]
	e.Set(fTargetUserSid, peer.machineAcct.sid)
	e.Set(fTargetUserName, peer.machineAcct.user)
	e.Set(fTargetDomainName, netbiosDomain)
	e.Set(fTargetLogonId, event.FormatHex(0x100000+uint64(h.r.intn(0xffffff))))
	e.Set(fLogonType, "3")
}

const systemPrivileges = "SeAssignPrimaryTokenPrivilege\r\n\t\t\tSeTcbPrivilege\r\n\t\t\tSeSecurityPrivilege\r\n\t\t\tSeTakeOwnershipPrivilege\r\n\t\t\tSeLoadDriverPrivilege\r\n\t\t\tSeBackupPrivilege\r\n\t\t\tSeRestorePrivilege\r\n\t\t\tSeDebugPrivilege\r\n\t\t\tSeAuditPrivilege\r\n\t\t\tSeSystemEnvironmentPrivilege\r\n\t\t\tSeImpersonatePrivilege\r\n\t\t\tSeDelegateSessionUserImpersonatePrivilege"

func (g *Generator) specialPrivileges(h *host, e *event.Event) {
	g.security(e, h, 4672)
	if h.r.chance(3, 4) {
		e.Set(fSubjectUserSid, "S-1-5-18")
		e.Set(fSubjectUserName, "SYSTEM")
		e.Set(fSubjectDomainName, "NT AUTHORITY")
		e.Set(fSubjectLogonId, "0x3e7")
	} else {
		h.setSubject(e, h.userHigh)
	}
	e.Set(fPrivilegeList, systemPrivileges)
}

func (g *Generator) logonFailure(h *host, e *event.Event) {
	g.security(e, h, 4625)
	peer := g.hosts[h.r.intn(len(g.hosts))]
	h.setSubject(e, nil)
	e.Set(fTargetUserSid, "S-1-0-0")
	sub := "0xc000006a"
	name := peer.user.user
	if h.r.chance(1, 3) {
		sub, name = "0xc0000064", userNames[h.r.intn(len(userNames))]+"1"
	}
	e.Set(fTargetUserName, name)
	e.Set(fTargetDomainName, netbiosDomain)
	e.Set(fStatus, "0xc000006d")
	e.Set(fFailureReason, "%%2313")
	e.Set(fSubStatus, sub)
	e.Set(fLogonType, "3")
	e.Set(fLogonProcessName, "NtLmSsp ")
	e.Set(fAuthenticationPackageName, "NTLM")
	e.Set(fWorkstationName, peer.netbios)
	e.Set(fTransmittedServices, "-")
	e.Set(fLmPackageName, "-")
	e.Set(fKeyLength, "0")
	e.Set(fSecProcessId, "0x0")
	e.Set(fProcessName, "-")
	e.Set(fIpAddress, peer.ip)
	e.Set(fIpPort, g.cat.ports[49152+h.r.intn(16384)])
}

// processAudit renders Security 4688 for p (process-creation auditing with
// command lines enabled).
func (g *Generator) processAudit(h *host, e *event.Event, p *proc) {
	g.security(e, h, 4688)
	h.setSubject(e, p.acct)
	e.Set(fNewProcessId, hexPID(p))
	e.Set(fNewProcessName, p.path)
	elevation, label := "%%1936", "S-1-16-16384"
	switch p.integrity {
	case "High":
		elevation, label = "%%1937", "S-1-16-12288"
	case "Medium":
		elevation, label = "%%1938", "S-1-16-8192"
	case "Low":
		elevation, label = "%%1938", "S-1-16-4096"
	}
	e.Set(fTokenElevationType, elevation)
	e.Set(fSecProcessId, event.FormatHex(pidOf(p.parentPid)))
	e.Set(fCommandLine, p.cmd)
	e.Set(fTargetUserSid, "S-1-0-0")
	e.Set(fTargetUserName, "-")
	e.Set(fTargetDomainName, "-")
	e.Set(fTargetLogonId, "0x0")
	e.Set(fParentProcessName, p.parentImg)
	e.Set(fMandatoryLabel, label)
}

func pidOf(s string) uint64 {
	var n uint64
	for i := 0; i < len(s); i++ {
		n = n*10 + uint64(s[i]-'0')
	}
	return n
}

// ---- PowerShell ----

var benignScripts = []string{
	"prompt",
	"{ Set-StrictMode -Version 1; $_.PSMessageDetails }",
	"{ Set-StrictMode -Version 1; $_.ErrorCategory_Message }",
	"{ Set-StrictMode -Version 1; $_.OriginInfo }",
	"$global:?",
	"Import-Module -Name PSReadLine",
	"Get-Service | Where-Object {$_.Status -eq 'Running'} | Export-Csv C:\\ProgramData\\contoso\\services.csv",
	"Get-ChildItem -Path $env:TEMP -Recurse | Where-Object { $_.LastWriteTime -lt (Get-Date).AddDays(-7) } | Remove-Item -Force -ErrorAction SilentlyContinue",
	"Get-CimInstance -ClassName Win32_OperatingSystem | Select-Object -ExpandProperty Caption",
	"Write-Host 'Final result: 1';",
	"$ErrorActionPreference = 'Stop'\r\n$log = Join-Path $env:ProgramData 'contoso\\inventory.log'\r\nGet-ItemProperty HKLM:\\Software\\Microsoft\\Windows\\CurrentVersion\\Uninstall\\* | Select-Object DisplayName, DisplayVersion | Out-File $log",
}

func (g *Generator) scriptBlock(h *host, e *event.Event, p *proc, text, path string) {
	g.header(e, h, chanPowerShell, event.ChannelPowerShell, event.ProviderPowerShell, 4104)
	e.Set(fSecurityUserID, p.acct.sid)
	e.Set(fExecPID, p.pidS)
	e.Set(fMessageNumber, "1")
	e.Set(fMessageTotal, "1")
	e.Set(fScriptBlockText, text)
	e.Set(fScriptBlockId, randGUID(&h.r))
	e.Set(fPath, path)
}

func (g *Generator) powershell(h *host, e *event.Event) {
	p := h.find("powershell.exe")
	if p == nil {
		p = h.explorer
	}
	path := ""
	if h.r.chance(1, 4) {
		path = `C:\ProgramData\contoso\Scripts\inventory.ps1`
	}
	g.scriptBlock(h, e, p, benignScripts[h.r.intn(len(benignScripts))], path)
}

// find returns a live process of the image, if any (a bounded scan).
func (h *host) find(base string) *proc {
	for i := len(h.procs) - 1; i >= 0; i-- {
		if h.procs[i].img.base == base {
			return h.procs[i]
		}
	}
	return nil
}

// ---- scheduled tasks and services (benign installers) ----

var benignTasks = []struct{ name, author, cmd, args string }{
	{`\GoogleUpdateTaskMachineUA{{GUID}}`, `{domain}\{user}`, `C:\Program Files (x86)\Google\Update\GoogleUpdate.exe`, "/ua /installsource scheduler"},
	{`\MicrosoftEdgeUpdateTaskMachineCore{{GUID}}`, `{domain}\{user}`, `C:\Program Files (x86)\Microsoft\EdgeUpdate\MicrosoftEdgeUpdate.exe`, "/c"},
	{`\OneDrive Standalone Update Task-{sid}`, `{domain}\{user}`, `C:\Program Files\Microsoft OneDrive\OneDriveStandaloneUpdater.exe`, "/reporting"},
	{`\Microsoft\Office\Office Automatic Updates 2.0`, "Microsoft Office", `C:\Program Files\Common Files\Microsoft Shared\ClickToRun\OfficeC2RClient.exe`, "/frequentupdate SCHEDULEDTASK displaylevel=False"},
	{`\Mozilla\Firefox Background Update 308046B0AF4A39CB`, "Mozilla", `C:\Program Files\Mozilla Firefox\firefox.exe`, "--backgroundtask backgroundupdate"},
}

// taskXML renders TaskContent the way 4698 carries it.
func taskXML(author, userID, runLevel, trigger, command, args string) string {
	var b strings.Builder
	b.WriteString("<?xml version=\"1.0\" encoding=\"UTF-16\"?>\r\n<Task version=\"1.2\" xmlns=\"http://schemas.microsoft.com/windows/2004/02/mit/task\">\r\n  <RegistrationInfo>\r\n    <Author>")
	b.WriteString(author)
	b.WriteString("</Author>\r\n  </RegistrationInfo>\r\n  <Triggers>\r\n    ")
	b.WriteString(trigger)
	b.WriteString("\r\n  </Triggers>\r\n  <Principals>\r\n    <Principal id=\"Author\">\r\n      <UserId>")
	b.WriteString(userID)
	b.WriteString("</UserId>\r\n      <RunLevel>")
	b.WriteString(runLevel)
	b.WriteString("</RunLevel>\r\n    </Principal>\r\n  </Principals>\r\n  <Settings>\r\n    <Enabled>true</Enabled>\r\n    <Hidden>false</Hidden>\r\n  </Settings>\r\n  <Actions Context=\"Author\">\r\n    <Exec>\r\n      <Command>")
	b.WriteString(command)
	b.WriteString("</Command>\r\n      <Arguments>")
	b.WriteString(args)
	b.WriteString("</Arguments>\r\n    </Exec>\r\n  </Actions>\r\n</Task>")
	return b.String()
}

// taskCreated renders Security 4698 for a task registered by creator.
func (g *Generator) taskCreated(h *host, e *event.Event, creator *proc, name, content string) {
	g.security(e, h, 4698)
	h.setSubject(e, creator.acct)
	e.Set(fTaskName, name)
	e.Set(fTaskContent, content)
	g.clientProcess(h, e, creator)
}

func (g *Generator) clientProcess(h *host, e *event.Event, p *proc) {
	e.Set(fClientProcessStartKey, event.Itoa(1688849860263936+uint64(p.pid)))
	e.Set(fClientProcessId, p.pidS)
	e.Set(fSecParentProcessId, p.parentPid)
	e.Set(fRpcCallClientLocality, "0")
	e.Set(fFQDN, h.fqdn)
}

// taskRegistered renders Task Scheduler 106.
func (g *Generator) taskRegistered(h *host, e *event.Event, name string, user *account) {
	g.header(e, h, chanTask, event.ChannelTaskScheduler, event.ProviderTaskScheduler, 106)
	e.Set(fSecurityUserID, "S-1-5-18")
	e.Set(fTaskName, name)
	e.Set(fUserContext, user.name)
}

func (g *Generator) benignTask(h *host, e *event.Event) {
	t := benignTasks[h.r.intn(len(benignTasks))]
	name := g.expandHost(h, t.name)
	content := taskXML(g.expandHost(h, t.author), "S-1-5-18", "HighestAvailable",
		"<CalendarTrigger>\r\n      <StartBoundary>2026-01-01T09:00:00</StartBoundary>\r\n      <ScheduleByDay>\r\n        <DaysInterval>1</DaysInterval>\r\n      </ScheduleByDay>\r\n    </CalendarTrigger>",
		t.cmd, t.args)
	creator := h.find("msiexec.exe")
	if creator == nil {
		creator = h.svchosts[0]
	}
	g.taskRegistered(h, e, name, h.user)
	h.schedule(&step{at: h.now + 1000, fn: func(g *Generator, h *host, e *event.Event) {
		g.taskCreated(h, e, creator, name, content)
	}})
}

// serviceInstalled renders System 7045.
func (g *Generator) serviceInstalled(h *host, e *event.Event, by *account, name, path, stype, start, acct string) {
	g.header(e, h, chanSystem, event.ChannelSystem, event.ProviderSCM, 7045)
	e.Set(fSecurityUserID, by.sid)
	e.Set(fExecPID, h.services.pidS)
	e.Set(fServiceName, name)
	e.Set(fImagePath, path)
	e.Set(fServiceType, stype)
	e.Set(fStartType, start)
	e.Set(fAccountName, acct)
}

// serviceAudit renders Security 4697.
func (g *Generator) serviceAudit(h *host, e *event.Event, creator *proc, name, path, stype, start, acct string) {
	g.security(e, h, 4697)
	h.setSubject(e, creator.acct)
	e.Set(fServiceName, name)
	e.Set(fServiceFileName, path)
	e.Set(fServiceType, stype)
	e.Set(fServiceStartType, start)
	e.Set(fServiceAccount, acct)
	g.clientProcess(h, e, creator)
}

// benignService is Defender's periodic kernel driver install, the most
// common service installation on a managed Windows fleet.
func (g *Generator) benignService(h *host, e *event.Event) {
	name := "MpKsl" + randHex(&h.r, 8)
	path := `C:\ProgramData\Microsoft\Windows Defender\Definition Updates\{` + strings.ToUpper(randGUID(&h.r)[1:37]) + `}\MpKslDrv.sys`
	creator := h.find("msmpeng.exe")
	if creator == nil {
		creator = h.services
	}
	g.serviceInstalled(h, e, h.system, name, path, "kernel mode driver", "demand start", "")
	h.schedule(&step{at: h.now + 2000, fn: func(g *Generator, h *host, e *event.Event) {
		g.serviceAudit(h, e, creator, name, path, "0x1", "3", "")
	}})
}
