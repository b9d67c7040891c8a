package synth

import (
	"strings"

	"github.com/edr-lab/edr/event"
)

const (
	dnsDomain     = "corp.example.com"
	netbiosDomain = "CORP"
	dcIP          = "10.20.0.10"
	fileServerIP  = "10.20.0.20"
)

// Host roles: one domain controller and one member server when there are
// enough hosts, workstations otherwise.
const (
	roleWorkstation = iota
	roleDC
	roleServer
)

// account is a logon session: who a process runs as.
type account struct {
	name      string // User as Sysmon renders it: DOMAIN\user
	user      string
	domain    string
	sid       string
	logonID   uint64
	logonIDs  string // "0x3e7"
	logonGuid string
	home      string
	session   string // TerminalSessionId
	integrity string
}

// proc is a live (or remembered) process of a host.
type proc struct {
	img        *image
	path       string // Image (usually img.path)
	guid       string
	pid        uint32
	pidS       string
	cmd        string
	cwd        string
	acct       *account
	integrity  string
	parentGuid string
	parentPid  string
	parentImg  string
	parentCmd  string
	parentUser string
	spawnKey   string
	born       int64
	boot       bool
	alive      bool
	quiet      bool // a scenario's process: background activity never picks it
	idx        int  // position in host.procs while alive
}

// channels with their own EventRecordID sequence on a host.
const (
	chanSysmon = iota
	chanSecurity
	chanSystem
	chanPowerShell
	chanTask
	numChan
)

// host is one simulated machine.
type host struct {
	idx       int
	role      int
	short     string // ws01
	fqdn      string // ws01.corp.example.com (Computer, partition host)
	netbios   string // WS01
	ip        string
	machine   uint32
	r         rng
	next      int64 // time of the next background event (ns)
	now       int64 // time of the last emitted event
	records   [numChan]uint64
	procs     []*proc
	weights   [][numAct + 1]uint8 // activity weights (and spawn weight) of procs[i], for cache-friendly sampling
	pidUsed   []bool              // indexed by pid/4
	guidSeq   uint64
	pending   []*step
	ctx       expandCtx
	sysmonPID string

	system, localSvc, netSvc, dwm, umfd0, umfd1, user, userHigh, machineAcct *account

	sysProc, lsass, services, winlogon, explorer, lastSpawned *proc
	svchosts                                                  []*proc

	images   map[string]*image // base name → the variant this host runs
	filePool [][]string        // by file class index
	regM     []string
	regU     []string
}

var userNames = []string{"jdoe", "asmith", "bwilson", "cmartin", "dlee", "egarcia", "fnguyen", "gpatel", "hkim", "imorales"}

func (g *Generator) newHost(idx int) *host {
	h := &host{idx: idx, r: g.r.fork(), images: map[string]*image{}, filePool: make([][]string, len(fileClasses)),
		pidUsed: make([]bool, 16384)}
	switch {
	case g.opt.Hosts >= 4 && idx == 0:
		h.role, h.short = roleDC, "dc01"
	case g.opt.Hosts >= 4 && idx%10 == 1:
		h.role, h.short = roleServer, "srv"+twoDigits(idx/10+1)
	default:
		h.role, h.short = roleWorkstation, "ws"+twoDigits(idx+1)
	}
	h.fqdn = h.short + "." + dnsDomain
	h.netbios = strings.ToUpper(h.short)
	h.ip = "10.20." + event.Itoa(uint64(1+idx/250)) + "." + event.Itoa(uint64(10+idx%240))
	if h.role == roleDC {
		h.ip = dcIP
	}
	h.machine = uint32(h.r.next())
	h.setupAccounts(g)
	for _, im := range g.cat.images {
		if _, ok := h.images[im.base]; !ok || h.r.chance(1, 2) {
			h.images[im.base] = im
		}
	}
	for _, def := range g.cat.userDef {
		im := *def
		im.path = strings.ReplaceAll(def.path, "{home}", h.user.home)
		h.images[im.base] = &im
	}
	h.ctx = expandCtx{home: h.user.home, user: h.user.user, sid: h.user.sid, host: h.short, fqdn: h.fqdn}
	h.sysmonPID = event.Itoa(uint64(h.allocPID(2000, 6000)))
	g.boot(h)
	return h
}

func twoDigits(n int) string {
	if n < 10 {
		return "0" + event.Itoa(uint64(n))
	}
	return event.Itoa(uint64(n))
}

func (h *host) setupAccounts(g *Generator) {
	mk := func(domain, user, sid string, logonID uint64, session, integrity string) *account {
		a := &account{name: domain + `\` + user, user: user, domain: domain, sid: sid, logonID: logonID,
			logonIDs: event.FormatHex(logonID), session: session, integrity: integrity}
		a.logonGuid = sysmonGUID(h.machine, uint32(g.start/1e9), 0x0000002000000000|swap32(uint32(logonID)))
		a.home = `C:\Users\` + user
		return a
	}
	h.system = mk("NT AUTHORITY", "SYSTEM", "S-1-5-18", 0x3e7, "0", "System")
	h.system.home = `C:\Windows\system32\config\systemprofile`
	h.localSvc = mk("NT AUTHORITY", "LOCAL SERVICE", "S-1-5-19", 0x3e5, "0", "System")
	h.netSvc = mk("NT AUTHORITY", "NETWORK SERVICE", "S-1-5-20", 0x3e4, "0", "System")
	h.dwm = mk("Window Manager", "DWM-1", "S-1-5-90-0-1", 0x10000+uint64(h.r.intn(0xffff)), "1", "System")
	h.umfd0 = mk("Font Driver Host", "UMFD-0", "S-1-5-96-0-0", 0x10000+uint64(h.r.intn(0xffff)), "0", "Low")
	h.umfd1 = mk("Font Driver Host", "UMFD-1", "S-1-5-96-0-1", 0x10000+uint64(h.r.intn(0xffff)), "1", "Low")
	name, rid := userNames[h.idx%len(userNames)], 1104+h.idx%len(userNames)
	if h.role == roleDC {
		name, rid = "Administrator", 500
	} else if h.role == roleServer {
		name, rid = "adm-"+userNames[h.idx%len(userNames)], 1200+h.idx
	}
	sid := g.domainSID + "-" + event.Itoa(uint64(rid))
	h.user = mk(netbiosDomain, name, sid, 0x100000+uint64(h.r.intn(0xfffff)), "1", "Medium")
	h.userHigh = mk(netbiosDomain, name, sid, h.user.logonID+0x2a, "1", "High")
	h.machineAcct = mk(netbiosDomain, h.netbios+"$", g.domainSID+"-"+event.Itoa(uint64(1000+h.idx)), 0x3e7, "0", "System")
}

func swap32(v uint32) uint64 {
	return uint64(v>>24 | (v>>8)&0xff00 | (v<<8)&0xff0000 | v<<24)
}

// allocPID returns an unused PID (a multiple of 4) in [lo, hi).
func (h *host) allocPID(lo, hi int) uint32 {
	for {
		p := (lo + h.r.intn(hi-lo)) &^ 3
		if p >= 8 && !h.pidUsed[p/4] {
			h.pidUsed[p/4] = true
			return uint32(p)
		}
	}
}

// newProc creates a process record (not yet announced by an event).
func (g *Generator) newProc(h *host, im *image, parent *proc, acct *account, cmd string, born int64) *proc {
	p := &proc{img: im, path: im.path, acct: acct, integrity: acct.integrity, born: born, spawnKey: im.spawnKey}
	if im.base == "system" {
		p.pid = 4
	} else {
		p.pid = h.allocPID(300, 65000)
	}
	p.pidS = event.Itoa(uint64(p.pid))
	h.guidSeq++
	p.guid = sysmonGUID(h.machine, uint32(born/1e9), 0x0000001000000000|h.guidSeq<<12|uint64(h.r.intn(0x1000)))
	if parent != nil {
		p.parentGuid, p.parentPid, p.parentImg, p.parentCmd, p.parentUser =
			parent.guid, parent.pidS, parent.path, parent.cmd, parent.acct.name
	} else {
		p.parentGuid, p.parentPid, p.parentImg, p.parentCmd, p.parentUser =
			"{00000000-0000-0000-0000-000000000000}", "0", "-", "-", "-"
	}
	if cmd == "" {
		h.ctx.path = im.path
		if parent != nil {
			h.ctx.ppid = parent.pidS
		}
		cmd = g.x.expand(im.cmds[h.r.intn(len(im.cmds))], &h.r, &h.ctx)
	}
	p.cmd = cmd
	switch {
	case acct == h.user || acct == h.userHigh:
		p.cwd = acct.home + `\`
		if im.fileClass == classDev {
			p.cwd = acct.home + `\source\` + words[h.r.intn(len(words))] + `\`
		}
	default:
		p.cwd = `C:\Windows\system32\`
	}
	if strings.Contains(cmd, "--type=renderer") || strings.Contains(cmd, "-isForBrowser") {
		p.integrity = "Low"
	}
	return p
}

func (h *host) add(p *proc) {
	p.alive = true
	p.idx = len(h.procs)
	h.procs = append(h.procs, p)
	var w [numAct + 1]uint8
	if !p.quiet {
		for a := 0; a < numAct; a++ {
			w[a] = uint8(p.img.w[a])
		}
		w[numAct] = uint8(spawnWeightOf(p.spawnKey))
	}
	h.weights = append(h.weights, w)
}

func (h *host) remove(p *proc) {
	if !p.alive {
		return
	}
	n := len(h.procs) - 1
	last := h.procs[n]
	h.procs[p.idx], h.weights[p.idx] = last, h.weights[n]
	last.idx = p.idx
	h.procs[n] = nil
	h.procs, h.weights = h.procs[:n], h.weights[:n]
	p.alive = false
	if p.pid != 4 {
		h.pidUsed[p.pid/4] = false
	}
}

// boot creates the processes that run before the recording starts.
func (g *Generator) boot(h *host) {
	t := g.start - int64(3600+h.r.intn(86400*3))*1e9
	start := func(base string, parent *proc, acct *account, cmd string) *proc {
		im := h.images[base]
		if im == nil {
			panic("synth: boot image missing from catalog: " + base)
		}
		t += int64(h.r.intn(2_000_000_000))
		p := g.newProc(h, im, parent, acct, cmd, t)
		p.boot = true
		h.add(p)
		return p
	}
	sys := &image{path: "System", base: "system", ofn: "-", desc: "-", product: "-", company: "-", version: "-", fileClass: classSystem,
		hashes: "-", cmds: []string{""}, system: true}
	sys.w[actNet], sys.w[actFile] = 4, 2
	h.images["system"] = sys
	h.sysProc = start("system", nil, h.system, "-")
	smss := start("smss.exe", h.sysProc, h.system, `\SystemRoot\System32\smss.exe`)
	csrssCmd := `%SystemRoot%\system32\csrss.exe ObjectDirectory=\Windows SharedSection=1024,20480,768 Windows=On SubSystemType=Windows ServerDll=basesrv,1 ServerDll=winsrv:UserServerDllInitialization,3 ServerDll=sxssrv,4 ProfileControl=Off MaxRequestThreads=16`
	start("csrss.exe", smss, h.system, csrssCmd)
	wininit := start("wininit.exe", smss, h.system, "wininit.exe")
	start("csrss.exe", smss, h.system, csrssCmd)
	winlogon := start("winlogon.exe", smss, h.system, "winlogon.exe")
	h.winlogon = winlogon
	h.services = start("services.exe", wininit, h.system, `C:\Windows\system32\services.exe`)
	h.lsass = start("lsass.exe", wininit, h.system, `C:\Windows\system32\lsass.exe`)
	start("fontdrvhost.exe", wininit, h.umfd0, `"fontdrvhost.exe"`)
	start("fontdrvhost.exe", winlogon, h.umfd1, `"fontdrvhost.exe"`)
	start("dwm.exe", winlogon, h.dwm, `"dwm.exe"`)
	for _, s := range svchostGroups {
		acct := h.system
		switch s.acct {
		case 'L':
			acct = h.localSvc
		case 'N':
			acct = h.netSvc
		case 'U':
			acct = h.user
		}
		p := start("svchost.exe", h.services, acct, `C:\Windows\system32\svchost.exe `+s.args)
		if s.spawn != "" {
			p.spawnKey = "svchost.exe:" + s.spawn
			h.weights[p.idx][numAct] = uint8(spawnWeightOf(p.spawnKey))
		}
		h.svchosts = append(h.svchosts, p)
	}
	for _, b := range []string{"spoolsv.exe", "msmpeng.exe", "nissrv.exe", "securityhealthservice.exe", "searchindexer.exe",
		"vmtoolsd.exe", "vgauthservice.exe", "officeclicktorun.exe", "sgrmbroker.exe", "mpdefendercoreservice.exe"} {
		acct := h.system
		if b == "nissrv.exe" {
			acct = h.localSvc
		}
		start(b, h.services, acct, "")
	}
	switch h.role {
	case roleDC:
		for _, b := range []string{"dns.exe", "dfsrs.exe", "ismserv.exe"} {
			start(b, h.services, h.system, "")
		}
	case roleServer:
		start("sqlservr.exe", h.services, h.system, `"C:\Program Files\Microsoft SQL Server\MSSQL16.MSSQLSERVER\MSSQL\Binn\sqlservr.exe" -sMSSQLSERVER`)
		start("sqlwriter.exe", h.services, h.system, "")
		start("sqlceip.exe", h.services, h.netSvc, "")
		apppool := &account{}
		*apppool = *h.netSvc
		apppool.name, apppool.user, apppool.domain, apppool.sid = `IIS APPPOOL\DefaultAppPool`, "DefaultAppPool", "IIS APPPOOL",
			"S-1-5-82-3006700770-424185619-1745488364-794895919-4004696415"
		start("w3wp.exe", h.svchosts[0], apppool, `c:\windows\system32\inetsrv\w3wp.exe -ap "DefaultAppPool" -v "v4.0" -l "webengine4.dll" -a \\.\pipe\iisipm`+
			randGUID(&h.r)[1:37]+` -h "C:\inetpub\temp\apppools\DefaultAppPool\DefaultAppPool.config" -w "" -m 0`)
		start("splunkd.exe", h.services, h.system, `"C:\Program Files\Splunk\bin\splunkd.exe" service`)
	}
	// The interactive session.
	start("sihost.exe", h.svchosts[0], h.user, "sihost.exe")
	start("taskhostw.exe", h.svchosts[3], h.user, "taskhostw.exe {222A245B-E637-4AE9-A93F-A59CA119A75E}")
	userinit := start("userinit.exe", winlogon, h.user, `C:\Windows\system32\userinit.exe`)
	h.explorer = start("explorer.exe", userinit, h.user, `C:\Windows\Explorer.EXE`)
	h.remove(userinit)
	for _, b := range []string{"ctfmon.exe", "runtimebroker.exe", "runtimebroker.exe", "startmenuexperiencehost.exe", "searchapp.exe",
		"textinputhost.exe", "shellexperiencehost.exe", "securityhealthsystray.exe"} {
		parent := h.svchosts[0]
		if b == "securityhealthsystray.exe" {
			parent = h.explorer
		}
		start(b, parent, h.user, "")
	}
	if h.role == roleWorkstation {
		for _, b := range []string{"onedrive.exe", "ms-teams.exe", "outlook.exe", "chrome.exe", "chrome.exe", "chrome.exe", "chrome.exe"} {
			start(b, h.explorer, h.user, "")
		}
	}
}

// svchostGroups are the service host instances every host runs. spawn names
// the spawnRules entry of the instance (the service that starts children).
var svchostGroups = []struct {
	args  string
	acct  byte // S=SYSTEM L=LOCAL SERVICE N=NETWORK SERVICE U=user
	spawn string
}{
	{"-k DcomLaunch -p", 'S', "DcomLaunch"},
	{"-k RPCSS -p", 'N', ""},
	{"-k LocalServiceNetworkRestricted -p -s lmhosts", 'L', ""},
	{"-k netsvcs -p -s Schedule", 'S', "Schedule"},
	{"-k NetworkService -p -s Dnscache", 'N', ""},
	{"-k LocalServiceNetworkRestricted -p -s EventLog", 'L', ""},
	{"-k netsvcs -p -s wuauserv", 'S', "wuauserv"},
	{"-k netsvcs -p -s BITS", 'S', ""},
	{"-k LocalSystemNetworkRestricted -p -s SysMain", 'S', ""},
	{"-k netsvcs -p -s Winmgmt", 'S', "Winmgmt"},
	{"-k LocalServiceNoNetworkFirewall -p", 'L', ""},
	{"-k NetworkService -p -s CryptSvc", 'N', ""},
	{"-k utcsvc -p", 'S', ""},
	{"-k netsvcs -p -s gpsvc", 'S', ""},
	{"-k netsvcs -p -s ProfSvc", 'S', ""},
	{"-k LocalService -p -s nsi", 'L', ""},
	{"-k LocalServiceNetworkRestricted -p -s Dhcp", 'L', ""},
	{"-k netsvcs -p -s Appinfo", 'S', "Appinfo"},
	{"-k wusvcs -p -s WaaSMedicSvc", 'S', ""},
	{"-k UnistackSvcGroup -s CDPUserSvc_5b2c1", 'U', ""},
	{"-k ClipboardSvcGroup -p -s cbdhsvc_5b2c1", 'U', ""},
	{"-k LocalSystemNetworkRestricted -p -s DsmSvc", 'S', ""},
	{"-k NetworkService -s TermService", 'N', ""},
	{"-k netsvcs -p -s LanmanServer", 'S', ""},
	{"-k NetworkService -p -s LanmanWorkstation", 'N', ""},
	{"-k appmodel -p -s StateRepository", 'S', ""},
	{"-k WerSvcGroup", 'S', "WerSvc"},
	{"-k LocalService -p -s W32Time", 'L', ""},
}
