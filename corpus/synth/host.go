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
	fileClass  int  // index into fileClasses
	regClass   int  // index into regClasses
	net        int  // network group (see image.net)
	w          [numAct]int
	wt         [numAct + 1]uint8 // sampling weights while alive (activities, spawn)
	pos        [numAct + 1]int32 // position in host.cand, -1: not a candidate
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
	cand      [numAct + 1][]*proc // live processes with a weight for each activity (and for starting children)
	pidUsed   []bool              // indexed by pid/4
	guidSeq   uint64
	pending   []*step
	ctx       expandCtx
	day       int64 // day of ctx.date (days since the epoch)
	sysmonPID string

	system, localSvc, netSvc, dwm, umfd0, umfd1, user, userHigh, machineAcct *account

	sysProc, lsass, services, winlogon, explorer, lastSpawned *proc
	svchosts                                                  []*proc

	images   map[string]*image // base name → the variant this host runs
	filePool [][]string        // by file class index
	tempPool [][]string        // transient files, by file class index
	regPool  [][]regEntry      // by registry class index
}

var userNames = []string{"jdoe", "asmith", "bwilson", "cmartin", "dlee", "egarcia", "fnguyen", "gpatel", "hkim", "imorales"}

func (g *Generator) newHost(idx int) *host {
	h := &host{idx: idx, r: g.r.fork(), images: map[string]*image{}, filePool: make([][]string, len(fileClasses)),
		tempPool: make([][]string, len(fileClasses)), regPool: make([][]regEntry, len(regClasses)), pidUsed: make([]bool, 16384)}
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
	p := &proc{img: im, path: im.path, acct: acct, integrity: acct.integrity, born: born, spawnKey: im.spawnKey, w: im.w, net: im.net}
	h.setClasses(p)
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
		if p.fileClass == classDev {
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

// setClasses gives p the file and registry classes of its image, or the
// defaults of its account (service or interactive user). A process of the
// user at Medium integrity never gets a class that writes machine-wide
// locations (HKLM, C:\Windows): it could not.
func (h *host) setClasses(p *proc) {
	user := p.acct.sid == h.user.sid
	medium := user && p.integrity != "High"
	p.fileClass, p.regClass = p.img.fileClass, p.img.regClass
	if p.fileClass < 0 || medium && fileClasses[p.fileClass].machine {
		p.fileClass = classSystem
		if user {
			p.fileClass = classUser
		}
	}
	if p.regClass < 0 || medium && regClasses[p.regClass].machine {
		p.regClass = regService
		if user {
			p.regClass = regUser
		}
	}
}

func (h *host) add(p *proc) {
	p.alive = true
	p.idx = len(h.procs)
	h.procs = append(h.procs, p)
	for a := range p.pos {
		p.pos[a] = -1
	}
	h.setWeights(p)
}

// setWeights (re)enters a live process in the candidate lists of the
// activities it performs (and of starting children), after it started or
// its activity or spawn key changed. Scenario processes are in none.
func (h *host) setWeights(p *proc) {
	var w [numAct + 1]uint8
	if !p.quiet {
		for a := 0; a < numAct; a++ {
			w[a] = uint8(p.w[a])
		}
		w[numAct] = uint8(spawnWeightOf(p.spawnKey))
	}
	p.wt = w
	for a := range w {
		switch in := p.pos[a] >= 0; {
		case w[a] > 0 && !in:
			p.pos[a] = int32(len(h.cand[a]))
			h.cand[a] = append(h.cand[a], p)
		case w[a] == 0 && in:
			h.dropCandidate(p, a)
		}
	}
}

// dropCandidate removes p from the candidates of activity a.
func (h *host) dropCandidate(p *proc, a int) {
	c := h.cand[a]
	i, n := p.pos[a], len(c)-1
	c[i] = c[n]
	c[i].pos[a] = i
	c[n] = nil
	h.cand[a] = c[:n]
	p.pos[a] = -1
}

func (h *host) remove(p *proc) {
	if !p.alive {
		return
	}
	n := len(h.procs) - 1
	last := h.procs[n]
	h.procs[p.idx] = last
	last.idx = p.idx
	h.procs[n] = nil
	h.procs = h.procs[:n]
	for a := range p.pos {
		if p.pos[a] >= 0 {
			h.dropCandidate(p, a)
		}
	}
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
		hashes: "-", cmds: []string{""}, system: true, net: netInternal, regClass: regClassIndex("kernel")}
	sys.w[actNet], sys.w[actFile], sys.w[actReg] = 4, 2, 2
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
		}
		p.w, _ = activityWeights(s.flags)
		if s.file != "" {
			p.fileClass = fileClassIndex(s.file)
		}
		if s.reg != "" {
			p.regClass = regClassIndex(s.reg)
		}
		if s.net != "" {
			p.net = g.cat.netGroupIndex(s.net)
		}
		h.setWeights(p)
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
// the spawnRules entry of the instance (the service that starts children);
// flags are the instance's activity (as image flags: n f r d q, upper case
// heavy); file, reg and net name its classes ("" = the account's default;
// net "" = the svchost default, "win").
var svchostGroups = []struct {
	args           string
	acct           byte // S=SYSTEM L=LOCAL SERVICE N=NETWORK SERVICE U=user
	spawn          string
	flags          string
	file, reg, net string
}{
	{"-k DcomLaunch -p", 'S', "DcomLaunch", "rd", "", "", ""},
	{"-k RPCSS -p", 'N', "", "d", "", "", ""},
	{"-k LocalServiceNetworkRestricted -p -s lmhosts", 'L', "", "d", "", "", ""},
	{"-k netsvcs -p -s Schedule", 'S', "Schedule", "rd", "", "schedule", ""},
	{"-k NetworkService -p -s Dnscache", 'N', "", "NdQ", "", "", ""},
	{"-k LocalServiceNetworkRestricted -p -s EventLog", 'L', "", "d", "", "", ""},
	{"-k netsvcs -p -s wuauserv", 'S', "wuauserv", "NFRDq", "wu", "wu", "wu"},
	{"-k netsvcs -p -s BITS", 'S', "", "nfdq", "wu", "", "wu"},
	{"-k LocalSystemNetworkRestricted -p -s SysMain", 'S', "", "Fd", "sysmain", "", ""},
	{"-k netsvcs -p -s Winmgmt", 'S', "Winmgmt", "frD", "wmi", "", ""},
	{"-k LocalServiceNoNetworkFirewall -p", 'L', "", "rd", "", "", ""},
	{"-k NetworkService -p -s CryptSvc", 'N', "", "nfrdq", "crypt", "crypt", "cert"},
	{"-k utcsvc -p", 'S', "", "NFRdQ", "diagtrack", "", "telemetry"},
	{"-k netsvcs -p -s gpsvc", 'S', "", "nrdq", "", "gp", "internal"},
	{"-k netsvcs -p -s ProfSvc", 'S', "", "rd", "", "", ""},
	{"-k LocalService -p -s nsi", 'L', "", "d", "", "", ""},
	{"-k LocalServiceNetworkRestricted -p -s Dhcp", 'L', "", "nrd", "", "dhcp", "internal"},
	{"-k netsvcs -p -s Appinfo", 'S', "Appinfo", "rd", "", "", ""},
	{"-k wusvcs -p -s WaaSMedicSvc", 'S', "", "frd", "wu", "", ""},
	{"-k UnistackSvcGroup -s CDPUserSvc_5b2c1", 'U', "", "nrdq", "", "usersvc", ""},
	{"-k ClipboardSvcGroup -p -s cbdhsvc_5b2c1", 'U', "", "rd", "", "usersvc", ""},
	{"-k LocalSystemNetworkRestricted -p -s DsmSvc", 'S', "", "rd", "", "", ""},
	{"-k NetworkService -s TermService", 'N', "", "d", "", "", ""},
	{"-k netsvcs -p -s LanmanServer", 'S', "", "d", "", "", ""},
	{"-k NetworkService -p -s LanmanWorkstation", 'N', "", "nd", "", "", "internal"},
	{"-k appmodel -p -s StateRepository", 'S', "", "FRd", "appmodel", "appmodel", ""},
	{"-k WerSvcGroup", 'S', "WerSvc", "fd", "", "", ""},
	{"-k LocalService -p -s W32Time", 'L', "", "nrd", "", "time", "internal"},
}
