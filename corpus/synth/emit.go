package synth

import (
	"strconv"
	"strings"
	"time"

	"github.com/edr-lab/edr/event"
)

// Field IDs the generator sets, resolved once.
var (
	fComputer, fSecurityUserID, fExecPID      = event.FComputer, event.FSecurityUserID, event.MustField("Execution_ProcessID")
	fRuleName, fUtcTime                       = event.FRuleName, event.FUtcTime
	fProcessGuid, fProcessId, fImage, fUser   = event.FProcessGuid, event.FProcessId, event.FImage, event.FUser
	fFileVersion, fDescription                = event.MustField("FileVersion"), event.MustField("Description")
	fProduct, fCompany, fOFN                  = event.MustField("Product"), event.MustField("Company"), event.FOriginalFileName
	fCommandLine, fCurrentDirectory           = event.FCommandLine, event.FCurrentDirectory
	fLogonGuid, fLogonId, fTerminalSessionId  = event.FLogonGuid, event.FLogonId, event.MustField("TerminalSessionId")
	fIntegrityLevel, fHashes, fHash           = event.FIntegrityLevel, event.FHashes, event.FHash
	fParentProcessGuid, fParentProcessId      = event.FParentProcessGuid, event.FParentProcessId
	fParentImage, fParentCommandLine          = event.FParentImage, event.FParentCommandLine
	fParentUser                               = event.FParentUser
	fTargetFilename, fCreationUtcTime         = event.FTargetFilename, event.MustField("CreationUtcTime")
	fPreviousCreationUtcTime                  = event.MustField("PreviousCreationUtcTime")
	fContents, fIsExecutable, fArchived       = event.MustField("Contents"), event.MustField("IsExecutable"), event.MustField("Archived")
	fEventType, fTargetObject, fDetails       = event.FEventType, event.FTargetObject, event.FDetails
	fNewName                                  = event.MustField("NewName")
	fImageLoaded, fSigned, fSignature         = event.FImageLoaded, event.MustField("Signed"), event.MustField("Signature")
	fSignatureStatus                          = event.MustField("SignatureStatus")
	fProtocol, fInitiated                     = event.MustField("Protocol"), event.MustField("Initiated")
	fSourceIsIpv6, fSourceIp, fSourceHostname = event.MustField("SourceIsIpv6"), event.FSourceIp, event.MustField("SourceHostname")
	fSourcePort, fSourcePortName              = event.FSourcePort, event.MustField("SourcePortName")
	fDestinationIsIpv6, fDestinationIp        = event.MustField("DestinationIsIpv6"), event.FDestinationIp
	fDestinationHostname, fDestinationPort    = event.FDestinationHost, event.FDestinationPort
	fDestinationPortName                      = event.MustField("DestinationPortName")
	fQueryName, fQueryStatus, fQueryResults   = event.FQueryName, event.MustField("QueryStatus"), event.FQueryResults
	fSourceProcessGUID, fSourceProcessId      = event.MustField("SourceProcessGUID"), event.MustField("SourceProcessId")
	fSourceThreadId, fSourceImage             = event.MustField("SourceThreadId"), event.FSourceImage
	fTargetProcessGUID, fTargetProcessId      = event.MustField("TargetProcessGUID"), event.MustField("TargetProcessId")
	fTargetImage, fGrantedAccess, fCallTrace  = event.FTargetImage, event.MustField("GrantedAccess"), event.MustField("CallTrace")
	fSourceUser, fTargetUser                  = event.MustField("SourceUser"), event.MustField("TargetUser")
	fPipeName                                 = event.MustField("PipeName")
	fSubjectUserSid, fSubjectUserName         = event.MustField("SubjectUserSid"), event.MustField("SubjectUserName")
	fSubjectDomainName, fSubjectLogonId       = event.MustField("SubjectDomainName"), event.MustField("SubjectLogonId")
	fTargetUserSid, fTargetUserName           = event.MustField("TargetUserSid"), event.MustField("TargetUserName")
	fTargetDomainName, fTargetLogonId         = event.MustField("TargetDomainName"), event.MustField("TargetLogonId")
	fLogonType, fLogonProcessName             = event.MustField("LogonType"), event.MustField("LogonProcessName")
	fAuthenticationPackageName                = event.MustField("AuthenticationPackageName")
	fWorkstationName, fTransmittedServices    = event.MustField("WorkstationName"), event.MustField("TransmittedServices")
	fLmPackageName, fKeyLength                = event.MustField("LmPackageName"), event.MustField("KeyLength")
	fSecProcessId, fProcessName               = event.MustField("ProcessId"), event.MustField("ProcessName")
	fIpAddress, fIpPort                       = event.MustField("IpAddress"), event.MustField("IpPort")
	fImpersonationLevel, fRestrictedAdminMode = event.MustField("ImpersonationLevel"), event.MustField("RestrictedAdminMode")
	fTargetOutboundUserName                   = event.MustField("TargetOutboundUserName")
	fTargetOutboundDomainName                 = event.MustField("TargetOutboundDomainName")
	fVirtualAccount, fTargetLinkedLogonId     = event.MustField("VirtualAccount"), event.MustField("TargetLinkedLogonId")
	fElevatedToken, fStatus, fSubStatus       = event.MustField("ElevatedToken"), event.MustField("Status"), event.MustField("SubStatus")
	fFailureReason, fPrivilegeList            = event.MustField("FailureReason"), event.MustField("PrivilegeList")
	fNewProcessId, fNewProcessName            = event.MustField("NewProcessId"), event.MustField("NewProcessName")
	fTokenElevationType, fParentProcessName   = event.MustField("TokenElevationType"), event.MustField("ParentProcessName")
	fMandatoryLabel                           = event.MustField("MandatoryLabel")
	fServiceName, fServiceFileName            = event.MustField("ServiceName"), event.MustField("ServiceFileName")
	fServiceType, fServiceStartType           = event.MustField("ServiceType"), event.MustField("ServiceStartType")
	fServiceAccount, fClientProcessStartKey   = event.MustField("ServiceAccount"), event.MustField("ClientProcessStartKey")
	fClientProcessId, fSecParentProcessId     = event.MustField("ClientProcessId"), event.MustField("ParentProcessId")
	fRpcCallClientLocality, fFQDN             = event.MustField("RpcCallClientLocality"), event.MustField("FQDN")
	fTaskName, fTaskContent, fUserContext     = event.MustField("TaskName"), event.MustField("TaskContent"), event.MustField("UserContext")
	fImagePath, fStartType, fAccountName      = event.MustField("ImagePath"), event.MustField("StartType"), event.MustField("AccountName")
	fMessageNumber, fMessageTotal             = event.MustField("MessageNumber"), event.MustField("MessageTotal")
	fScriptBlockText, fScriptBlockId, fPath   = event.MustField("ScriptBlockText"), event.MustField("ScriptBlockId"), event.MustField("Path")
)

// header fills the event header and the envelope fields every event has.
func (g *Generator) header(e *event.Event, h *host, ch int, channel, provider string, id uint16) {
	e.Time = h.now
	e.Host = h.fqdn
	e.Channel = channel
	e.Provider = provider
	e.EventID = id
	e.Source = event.SourceSynthetic
	h.records[ch]++
	e.RecordID = h.records[ch]
	e.Set(fComputer, h.fqdn)
}

// sysmon starts a Sysmon event: header, envelope, RuleName and UtcTime.
func (g *Generator) sysmon(e *event.Event, h *host, id uint16) {
	g.header(e, h, chanSysmon, event.ChannelSysmon, event.ProviderSysmon, id)
	e.Set(fSecurityUserID, "S-1-5-18")
	e.Set(fExecPID, h.sysmonPID)
	e.Set(fRuleName, "-")
	e.Set(fUtcTime, g.utc.format(h.now))
}

// subject sets a Sysmon event's acting process.
func subjectProc(e *event.Event, p *proc) {
	e.Set(fProcessGuid, p.guid)
	e.Set(fProcessId, p.pidS)
	e.Set(fImage, p.path)
	e.Set(fUser, p.acct.name)
}

// actor picks a live process performing activity a, weighted by how busy
// its image is at it (rejection sampling among the candidates; scenario
// processes are never candidates).
func (h *host) actor(a int) *proc {
	return h.pick(a, 10, h.svchosts[0])
}

// pick draws a candidate of activity a with probability proportional to
// its weight (weights are at most max); none: fallback.
func (h *host) pick(a, max int, fallback *proc) *proc {
	c := h.cand[a]
	if len(c) == 0 {
		return fallback
	}
	for {
		p := c[h.r.intn(len(c))]
		if w := int(p.wt[a]); w >= max || h.r.intn(max) < w {
			return p
		}
	}
}

// ---- process creation and termination ----

const maxLive = 220

// spawner picks a parent that starts children, weighted by how busy a
// starter it is on a real host.
func (h *host) spawner() *proc {
	return h.pick(numAct, 30, h.explorer)
}

// spawnWeightOf is how often a starter of that spawn key starts children
// (0: never).
func spawnWeightOf(key string) int {
	if key == "" {
		return 0
	}
	if w, ok := spawnWeight[key]; ok {
		return w
	}
	return 2
}

var spawnWeight = map[string]int{
	"explorer.exe": 30, "svchost.exe:DcomLaunch": 30, "svchost.exe:Schedule": 20, "services.exe": 6, "searchindexer.exe": 12,
	"chrome.exe": 4, "msedge.exe": 4, "firefox.exe": 4, "cmd.exe": 8, "powershell.exe": 4, "code.exe": 10, "net.exe": 30,
	"git.exe:remote": 6, "svchost.exe:WerSvc": 1, "svchost.exe:Appinfo": 1, "svchost.exe:wuauserv": 3, "svchost.exe:Winmgmt": 4,
	"msiexec.exe:service": 4, "trustedinstaller.exe": 10, "windowsterminal.exe": 3, "winlogon.exe": 1, "outlook.exe": 1,
	"msmpeng.exe": 1,
}

// childAccount says whom a child of parent runs as.
func (h *host) childAccount(parent *proc, im *image) *account {
	switch parent.spawnKey {
	case "services.exe", "svchost.exe:wuauserv", "svchost.exe:Appinfo", "trustedinstaller.exe", "msmpeng.exe", "msiexec.exe:service":
		return h.system
	case "winlogon.exe": // the logon reminder runs in the user's session
		return h.user
	case "svchost.exe:DcomLaunch":
		if im.base == "wmiprvse.exe" {
			return h.netSvc
		}
		return h.user
	case "svchost.exe:Winmgmt":
		return h.netSvc
	case "svchost.exe:Schedule": // tasks run as SYSTEM, a few in the user's session
		switch im.base {
		case "taskhostw.exe", "onedrivestandaloneupdater.exe", "musnotification.exe", "gpscript.exe":
			return h.user
		}
		return h.system
	case "svchost.exe:WerSvc":
		if h.r.chance(1, 4) {
			return h.user
		}
		return h.system
	case "explorer.exe":
		if (im.base == "cmd.exe" || im.base == "powershell.exe" || im.base == "mmc.exe") && h.r.chance(1, 4) {
			return h.userHigh
		}
	}
	return parent.acct
}

func (g *Generator) processCreate(h *host, e *event.Event) {
	parent := h.spawner()
	rules := spawnTable[parent.spawnKey]
	sp := &rules[pickSpawn(&h.r, rules)]
	im := h.images[sp.child]
	if im == nil {
		im = g.dynamicImage(h, sp.child)
	}
	acct := h.childAccount(parent, im)
	cmd := ""
	if sp.cmd != "" {
		h.ctx.path, h.ctx.ppid, h.ctx.pargs = im.path, parent.pidS, parent.cmd
		if i := strings.IndexByte(parent.cmd, ' '); i >= 0 {
			h.ctx.pargs = parent.cmd[i:]
		}
		cmd = g.x.expand(sp.cmd, &h.r, &h.ctx)
	}
	p := g.newProc(h, im, parent, acct, cmd, h.now)
	switch sp.key {
	case "":
	case "-":
		p.spawnKey = ""
	default:
		p.spawnKey = sp.key
	}
	if sp.flags != "" {
		p.w, _ = activityWeights(sp.flags)
	}
	if oneShot[parent.spawnKey] { // it started what it was run for
		parent.spawnKey = ""
		h.setWeights(parent)
	}
	g.startProc(h, p, e)
	g.audit(h, p)
	if im.base == "cmd.exe" || im.base == "powershell.exe" {
		switch parent.img.base {
		case "cmd.exe", "powershell.exe", "windowsterminal.exe":
		default: // a console program started from a GUI or service gets its console host
			h.schedule(&step{at: h.now + int64(5+h.r.intn(40))*ms, fn: func(g *Generator, h *host, e *event.Event) {
				g.startChild(h, e, p, "conhost.exe", "")
			}})
		}
	}
}

// oneShot are spawn keys of processes that start one child and are done
// (net.exe runs net1.exe, the servicing installer its worker …).
var oneShot = map[string]bool{"net.exe": true, "git.exe:remote": true, "trustedinstaller.exe": true, "cmd.exe:git": true,
	"googleupdate.exe": true, "microsoftedgeupdate.exe": true, "compattelrunner.exe": true}

// audit schedules the Security 4688 of one in five process starts.
func (g *Generator) audit(h *host, p *proc) {
	if h.r.chance(1, 5) {
		h.schedule(&step{at: h.now + int64(h.r.intn(20000))*100, kind: stepSecurity4688, p: p})
	}
}

// startChild starts a child of parent that belongs to it (a console host)
// and renders its Sysmon 1 into e. The parent may have exited meanwhile:
// Sysmon still names it.
func (g *Generator) startChild(h *host, e *event.Event, parent *proc, base, cmd string) {
	im := h.images[base]
	p := g.newProc(h, im, parent, parent.acct, cmd, h.now)
	p.integrity = parent.integrity
	g.startProc(h, p, e)
	g.audit(h, p)
}

// dynamicImage instantiates a dynamicImages template at a fresh path.
func (g *Generator) dynamicImage(h *host, name string) *image {
	f := strings.Split(dynamicImages[name], "|")
	im := &image{path: g.expandHost(h, f[0]), ofn: f[1], desc: f[2], product: g.expandHost(h, f[3]), company: g.expandHost(h, f[4]),
		version: g.expandHost(h, f[5]), short: true, cmds: []string{f[6]}}
	im.base = strings.ToLower(im.path[strings.LastIndexByte(im.path, '\\')+1:])
	im.fileClass, im.regClass = fileClassIndex("installer"), regClassIndex("installer")
	if name == "dyn:installer" { // a user's setup program: a per-user install
		im.regClass = regClassIndex("userinstaller")
	}
	im.w[actFile], im.w[actReg], im.w[actDLL] = 10, 10, 2
	im.net = g.cat.netGroupIndex(dynamicNet[name])
	if im.net != netNone {
		im.w[actNet], im.w[actDNS] = 2, 2
	}
	im.hashes = g.cat.hashesFor(im.path)
	return im
}

func pickSpawn(r *rng, rules []spawnRule) int {
	total := 0
	for _, s := range rules {
		total += s.weight
	}
	x := r.intn(total)
	for i, s := range rules {
		if x < s.weight {
			return i
		}
		x -= s.weight
	}
	return len(rules) - 1
}

// startProc registers p as live and renders its Sysmon 1 into e.
func (g *Generator) startProc(h *host, p *proc, e *event.Event) {
	if len(h.procs) >= maxLive {
		h.evict()
	}
	p.born = h.now
	h.add(p)
	h.lastSpawned = p
	g.sysmon(e, h, 1)
	im := p.img
	subjectProc(e, p)
	e.Set(fFileVersion, im.version)
	e.Set(fDescription, im.desc)
	e.Set(fProduct, im.product)
	e.Set(fCompany, im.company)
	e.Set(fOFN, im.ofn)
	e.Set(fCommandLine, p.cmd)
	e.Set(fCurrentDirectory, p.cwd)
	e.Set(fLogonGuid, p.acct.logonGuid)
	e.Set(fLogonId, p.acct.logonIDs)
	e.Set(fTerminalSessionId, p.acct.session)
	e.Set(fIntegrityLevel, p.integrity)
	e.Set(fHashes, im.hashes)
	e.Set(fParentProcessGuid, p.parentGuid)
	e.Set(fParentProcessId, p.parentPid)
	e.Set(fParentImage, p.parentImg)
	e.Set(fParentCommandLine, p.parentCmd)
	e.Set(fParentUser, p.parentUser)
}

// evict forgets a random non-boot process without an event (Sysmon
// configurations commonly exclude most terminations).
func (h *host) evict() {
	for i := 0; i < 64; i++ {
		p := h.procs[h.r.intn(len(h.procs))]
		if !p.boot && !p.quiet {
			h.remove(p)
			return
		}
	}
}

func (g *Generator) processTerminate(h *host, e *event.Event) {
	var p *proc
	for i := 0; i < 32; i++ {
		c := h.procs[h.r.intn(len(h.procs))]
		if !c.boot && !c.quiet && (c.img.short || h.r.chance(1, 4)) {
			p = c
			break
		}
	}
	if p == nil { // nothing to end: a short-lived tool starts instead
		g.processCreate(h, e)
		return
	}
	h.remove(p)
	g.sysmon(e, h, 5)
	subjectProc(e, p)
}

// ---- files ----

// filePath returns a path p's class writes (transient: one it also
// deletes; the class must have some): mostly from a per-host pool (files
// are written again and again), sometimes a fresh one.
func (g *Generator) filePath(h *host, p *proc, transient bool) string {
	class := p.fileClass
	tpls, pools := fileClasses[class].templates, h.filePool
	if transient {
		tpls, pools = fileClasses[class].transient, h.tempPool
	}
	pool := pools[class]
	if pool == nil {
		for i := 0; i < 48*len(tpls); i++ {
			pool = append(pool, g.expandHost(h, tpls[i%len(tpls)]))
		}
		pools[class] = pool
	}
	if h.r.chance(7, 10) {
		return pool[h.r.intn(len(pool))]
	}
	return g.expandHost(h, tpls[h.r.intn(len(tpls))])
}

// expandHost expands a template for h at its current time ({date} is the
// event's day, rendered once per day).
func (g *Generator) expandHost(h *host, tpl string) string {
	if day := floorDiv(h.now, 86_400e9); day != h.day || h.ctx.date == "" {
		h.day, h.ctx.date = day, time.Unix(0, h.now).UTC().Format("20060102")
	}
	return g.x.expand(tpl, &h.r, &h.ctx)
}

func (g *Generator) fileCreate(h *host, e *event.Event) {
	p := h.actor(actFile)
	path := g.filePath(h, p, false)
	g.sysmon(e, h, 11)
	subjectProc(e, p)
	e.Set(fTargetFilename, path)
	created := h.now
	if h.r.chance(1, 5) { // an existing file rewritten keeps its creation time
		created = h.now - int64(1+h.r.intn(86400*30))*1e9
	}
	e.Set(fCreationUtcTime, g.utc.format(created))
}

// fileHashes are Sysmon Hashes of deleted or streamed files: a bounded
// pool, as the same files recur.
func (g *Generator) fileHashes(h *host, exe bool) string {
	if g.hashPool == nil {
		r := newRNG(g.cat.seed ^ 0xf11e)
		for i := 0; i < 512; i++ {
			imp := "00000000000000000000000000000000"
			if i%4 == 0 {
				imp = randHex(&r, 32)
			}
			g.hashPool = append(g.hashPool, event.FormatHashes(randHex(&r, 40), randHex(&r, 32), randHex(&r, 64), imp))
		}
	}
	i := h.r.intn(128) * 4
	if !exe {
		i += 1 + h.r.intn(3)
	}
	return g.hashPool[i]
}

// tempActor picks a process that has transient files to delete or
// re-time (a database server or the DNS server never deletes its logs).
func (h *host) tempActor() *proc {
	for i := 0; i < 8; i++ {
		if p := h.actor(actFile); len(fileClasses[p.fileClass].transient) > 0 {
			return p
		}
	}
	return h.explorer
}

func (g *Generator) fileDelete(h *host, e *event.Event, id uint16) {
	p := h.tempActor()
	path := g.filePath(h, p, true)
	exe := strings.HasSuffix(path, ".exe") || strings.HasSuffix(path, ".dll")
	g.sysmon(e, h, id)
	e.Set(fProcessGuid, p.guid)
	e.Set(fProcessId, p.pidS)
	e.Set(fUser, p.acct.name)
	e.Set(fImage, p.path)
	e.Set(fTargetFilename, path)
	e.Set(fHashes, g.fileHashes(h, exe))
	e.Set(fIsExecutable, event.FormatBool(exe))
	if id == 23 {
		e.Set(fArchived, event.FormatBool(exe))
	}
}

func (g *Generator) fileTime(h *host, e *event.Event) {
	p := h.tempActor()
	path := g.filePath(h, p, true)
	g.sysmon(e, h, 2)
	subjectProc(e, p)
	e.Set(fTargetFilename, path)
	prev := h.now - int64(h.r.intn(3600))*1e9
	e.Set(fCreationUtcTime, g.utc.format(prev-int64(1+h.r.intn(86400*365))*1e9))
	e.Set(fPreviousCreationUtcTime, g.utc.format(prev))
}

// fileStream is the Zone.Identifier stream a browser, mail or chat client
// writes next to a download (explorer propagates it when extracting).
func (g *Generator) fileStream(h *host, e *event.Event) {
	p := h.actor(actNet)
	if c := fileClasses[p.fileClass].name; p.net != netBrowser && c != "office" && c != "chat" {
		p = h.explorer
	}
	g.sysmon(e, h, 15)
	subjectProc(e, p)
	doc := g.expandHost(h, `{home}\Downloads\{doc}.pdf`)
	e.Set(fTargetFilename, doc+":Zone.Identifier")
	e.Set(fCreationUtcTime, g.utc.format(h.now))
	e.Set(fHash, g.fileHashes(h, false))
	e.Set(fContents, "[ZoneTransfer]  ZoneId=3  ReferrerUrl="+"https://www.bing.com/"+"  HostUrl=https://"+
		g.cat.domains[h.r.pick(&g.cat.domPick)].name+"/download/"+words[h.r.intn(len(words))]+".pdf  ")
}

// ---- image loads ----

func (g *Generator) imageLoad(h *host, e *event.Event) {
	p := h.lastSpawned
	if p == nil || !p.alive || h.r.chance(1, 2) {
		p = h.actor(actDLL)
	}
	if own := p.img.dlls; len(own) > 0 && h.r.chance(1, 3) {
		g.moduleLoad(h, e, p, own[h.r.intn(len(own))])
		return
	}
	g.moduleLoad(h, e, p, g.cat.dlls[h.r.pick(&g.cat.dllPick)])
}

// moduleLoad renders Sysmon 7: p loads the signed module m.
func (g *Generator) moduleLoad(h *host, e *event.Event, p *proc, m *module) {
	g.sysmon(e, h, 7)
	subjectProc(e, p)
	e.Set(fImageLoaded, m.path)
	e.Set(fFileVersion, m.version)
	e.Set(fDescription, m.desc)
	e.Set(fProduct, m.product)
	e.Set(fCompany, m.company)
	e.Set(fOFN, m.ofn)
	e.Set(fHashes, m.hashes)
	e.Set(fSigned, "true")
	e.Set(fSignature, m.signature)
	e.Set(fSignatureStatus, "Valid")
}

// ---- process access (benign) ----

var benignAccess = []string{"0x1000", "0x1400", "0x101000", "0x1010", "0x40", "0x100000"}

func (g *Generator) processAccess(h *host, e *event.Event) {
	src := h.actor(actReg)
	tgt := h.procs[h.r.intn(len(h.procs))]
	if tgt.quiet {
		tgt = h.explorer
	}
	access := benignAccess[h.r.intn(len(benignAccess))]
	if tgt == h.lsass && access != "0x1000" {
		access = "0x1400"
	}
	g.sysmon(e, h, 10)
	e.Set(fSourceProcessGUID, src.guid)
	e.Set(fSourceProcessId, src.pidS)
	e.Set(fSourceThreadId, event.Itoa(uint64(h.r.intn(20000)+100)))
	e.Set(fSourceImage, src.path)
	e.Set(fTargetProcessGUID, tgt.guid)
	e.Set(fTargetProcessId, tgt.pidS)
	e.Set(fTargetImage, tgt.path)
	e.Set(fGrantedAccess, access)
	e.Set(fCallTrace, g.callTrace(h, src))
	e.Set(fSourceUser, src.acct.name)
	e.Set(fTargetUser, tgt.acct.name)
}

func (g *Generator) callTrace(h *host, src *proc) string {
	b := append([]byte(nil), `C:\Windows\SYSTEM32\ntdll.dll+9d`...)
	b = appendHex(b, uint64(h.r.intn(0x1000)), 3)
	b = append(b, `|C:\Windows\System32\KERNELBASE.dll+2`...)
	b = appendHex(b, uint64(h.r.intn(0x10000)), 4)
	b = append(b, '|')
	b = append(b, src.path...)
	b = append(b, '+')
	b = appendHex(b, uint64(h.r.intn(0x100000)), 5)
	return string(b)
}

// ---- pipes ----

// pipeServers are well-known RPC pipes and the processes that create them;
// any process may connect to them.
var pipeServers = []struct{ name, server string }{
	{`\lsass`, "lsass.exe"}, {`\srvsvc`, "svchost.exe"}, {`\wkssvc`, "svchost.exe"}, {`\ntsvcs`, "services.exe"},
	{`\spoolss`, "spoolsv.exe"}, {`\InitShutdown`, "wininit.exe"}, {`\eventlog`, "svchost.exe"}, {`\atsvc`, "svchost.exe"},
	{`\Ctx_WinStation_API_service`, "svchost.exe"}, {`\SearchTextHarvester`, "searchindexer.exe"}, {`\MsFteWds`, "searchindexer.exe"},
}

// fileTimeEpoch is 1970-01-01 in Windows FILETIME ticks.
const fileTimeEpoch = 116_444_736_000_000_000

func (g *Generator) pipe(h *host, e *event.Event, id uint16) {
	p := h.actor(actDLL)
	var name string
	switch base := p.img.base; {
	case base == "chrome.exe" || base == "msedge.exe" || base == "code.exe":
		name = `\mojo.` + p.pidS + "." + event.Itoa(uint64(h.r.intn(20000))) + "." + event.Itoa(h.r.next()>>1)
	case base == "powershell.exe":
		name = `\PSHost.` + event.Itoa(uint64(p.born/100+fileTimeEpoch)) + "." + p.pidS + ".DefaultAppDomain.powershell"
	case id == 18:
		name = pipeServers[h.r.intn(len(pipeServers))].name
	default: // created by its server, or Winsock's catalog listener any process creates
		ps := pipeServers[h.r.intn(len(pipeServers))]
		if srv := h.find(ps.server); srv != nil && h.r.chance(1, 2) {
			p, name = srv, ps.name
		} else {
			name = `\Winsock2\CatalogChangeListener-` + strconv.FormatUint(uint64(p.pid), 16) + "-0"
		}
	}
	g.sysmon(e, h, id)
	if id == 17 {
		e.Set(fEventType, "CreatePipe")
	} else {
		e.Set(fEventType, "ConnectPipe")
	}
	e.Set(fProcessGuid, p.guid)
	e.Set(fProcessId, p.pidS)
	e.Set(fPipeName, name)
	e.Set(fImage, p.path)
	e.Set(fUser, p.acct.name)
}
