package synth

import (
	"strings"

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

// actor picks a live process likely to perform activity a (rejection
// sampling on the image's weight for that activity; scenario processes
// have zero weights).
func (h *host) actor(a int) *proc {
	for i := 0; i < 24; i++ {
		j := h.r.intn(len(h.procs))
		if w := int(h.weights[j][a]); w > 0 && h.r.intn(10) < w {
			return h.procs[j]
		}
	}
	return h.svchosts[0]
}

// ---- process creation and termination ----

const maxLive = 220

// spawner picks a parent that starts children, weighted by how busy a
// starter it is on a real host.
func (h *host) spawner() *proc {
	for i := 0; i < 64; i++ {
		j := h.r.intn(len(h.procs))
		if w := int(h.weights[j][numAct]); w > 0 && h.r.intn(30) < w {
			return h.procs[j]
		}
	}
	return h.explorer
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

var spawnWeight = map[string]int{"explorer.exe": 30, "svchost.exe:DcomLaunch": 30, "svchost.exe:Schedule": 20, "services.exe": 6,
	"chrome.exe": 4, "msedge.exe": 4, "firefox.exe": 4, "cmd.exe": 30, "powershell.exe": 20, "code.exe": 10, "net.exe": 30,
	"git.exe": 6, "svchost.exe:WerSvc": 4, "svchost.exe:Appinfo": 4, "svchost.exe:wuauserv": 3, "svchost.exe:Winmgmt": 4,
	"msiexec.exe": 10, "trustedinstaller.exe": 10, "windowsterminal.exe": 10}

// childAccount says whom a child of parent runs as.
func (h *host) childAccount(parent *proc, im *image) *account {
	switch parent.spawnKey {
	case "services.exe", "svchost.exe:wuauserv", "svchost.exe:Appinfo", "trustedinstaller.exe", "msmpeng.exe":
		return h.system
	case "svchost.exe:DcomLaunch":
		if im.base == "wmiprvse.exe" {
			return h.netSvc
		}
		return h.user
	case "svchost.exe:Winmgmt":
		return h.netSvc
	case "svchost.exe:Schedule", "svchost.exe:WerSvc":
		if im.base == "taskhostw.exe" || h.r.chance(1, 4) {
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
	rules := spawnRules[parent.spawnKey]
	sp := rules[pickSpawn(&h.r, rules)]
	im := h.images[sp.child]
	if im == nil {
		im = g.dynamicImage(h, sp.child)
	}
	acct := h.childAccount(parent, im)
	p := g.newProc(h, im, parent, acct, "", h.now)
	g.startProc(h, p, e)
	if h.r.chance(1, 5) {
		h.schedule(&step{at: h.now + int64(h.r.intn(20000))*100, kind: stepSecurity4688, p: p})
	}
}

// dynamicImage instantiates a dynamicImages template at a fresh path.
func (g *Generator) dynamicImage(h *host, name string) *image {
	f := strings.Split(dynamicImages[name], "|")
	im := &image{path: g.expandHost(h, f[0]), ofn: f[1], desc: f[2], product: g.expandHost(h, f[3]), company: g.expandHost(h, f[4]),
		version: g.expandHost(h, f[5]), short: true, cmds: []string{f[6]}}
	im.base = strings.ToLower(im.path[strings.LastIndexByte(im.path, '\\')+1:])
	im.fileClass = fileClassIndex("installer")
	im.w[actFile], im.w[actReg], im.w[actDLL], im.w[actNet] = 10, 10, 2, 2
	im.hashes = g.cat.hashesFor(im.path)
	return im
}

func pickSpawn(r *rng, rules []spawn) int {
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

// ---- network ----

// portName is the service name Sysmon prints for well-known ports.
func portName(p int) string {
	switch p {
	case 80:
		return "http"
	case 443:
		return "https"
	case 53:
		return "domain"
	case 88:
		return "kerberos"
	case 123:
		return "ntp"
	case 135:
		return "epmap"
	case 137:
		return "netbios-ns"
	case 389:
		return "ldap"
	case 445:
		return "microsoft-ds"
	case 636:
		return "ldaps"
	case 1433:
		return "ms-sql-s"
	case 3268:
		return "msft-gc"
	case 3389:
		return "ms-wbt-server"
	case 5353:
		return "mdns"
	case 5355:
		return "llmnr"
	case 8080:
		return "http-alt"
	}
	return "-"
}

func (g *Generator) network(h *host, e *event.Event) {
	p := h.actor(actNet)
	g.sysmon(e, h, 3)
	subjectProc(e, p)
	c := conn{proto: "tcp", initiated: true, srcIP: h.ip, srcHost: h.fqdn, srcPort: 49152 + h.r.intn(16384), dstHost: "-"}
	switch base := p.img.base; {
	case p == h.sysProc:
		g.inbound(h, &c, 445)
	case base == "lsass.exe" && h.role == roleDC:
		g.inbound(h, &c, []int{88, 389, 389, 636, 3268}[h.r.intn(5)])
	case base == "lsass.exe":
		c.dstIP, c.dstHost, c.dstPort = dcIP, "dc01."+dnsDomain, []int{88, 389, 389, 135}[h.r.intn(4)]
	case base == "dns.exe":
		g.inbound(h, &c, 53)
		c.proto = "udp"
	case base == "sqlservr.exe":
		g.inbound(h, &c, 1433)
	case base == "svchost.exe" && h.r.chance(1, 3):
		g.internal(h, &c)
	default:
		d := g.cat.domains[h.r.pick(&g.cat.domPick)]
		c.dstIP = d.ips[h.r.intn(len(d.ips))]
		if h.r.chance(1, 2) {
			c.dstHost = d.name
		}
		switch x := h.r.intn(100); {
		case x < 84:
			c.dstPort = 443
		case x < 97:
			c.dstPort = 80
		default:
			c.dstPort, c.proto = 443, "udp" // QUIC
		}
	}
	c.render(g, e)
}

type conn struct {
	proto, srcIP, srcHost, dstIP, dstHost string
	srcPort, dstPort                      int
	initiated                             bool
}

// inbound makes c a connection from another host to port on h.
func (g *Generator) inbound(h *host, c *conn, port int) {
	peer := g.hosts[h.r.intn(len(g.hosts))]
	c.initiated = false
	c.srcIP, c.srcHost, c.srcPort = peer.ip, peer.fqdn, 49152+h.r.intn(16384)
	if peer == h {
		c.srcIP, c.srcHost = "10.20.1."+event.Itoa(uint64(20+h.r.intn(200))), "-"
	}
	c.dstIP, c.dstHost, c.dstPort = h.ip, h.fqdn, port
}

// internal is service traffic to the domain controller and file server,
// plus link-local multicast.
func (g *Generator) internal(h *host, c *conn) {
	switch x := h.r.intn(10); {
	case x < 2:
		c.proto, c.dstIP, c.dstHost, c.dstPort = "udp", dcIP, "dc01."+dnsDomain, 53
	case x < 5:
		c.dstIP, c.dstHost, c.dstPort = dcIP, "dc01."+dnsDomain, []int{135, 445, 389, 88}[h.r.intn(4)]
	case x < 7:
		c.dstIP, c.dstHost, c.dstPort = fileServerIP, "fs01."+dnsDomain, 445
	case x < 8:
		c.proto, c.dstIP, c.dstPort = "udp", dcIP, 123
	default:
		c.proto, c.srcIP, c.srcHost, c.srcPort = "udp", "fe80::"+hostSuffix6(h), "-", 5353
		c.dstIP, c.dstPort = "ff02::fb", 5353
	}
}

func hostSuffix6(h *host) string {
	b := appendHex(nil, uint64(h.machine>>16), 4)
	b = append(b, ':')
	b = appendHex(b, uint64(h.machine&0xffff), 4)
	b = append(b, ":9c1b:7e2a"...)
	return string(b)
}

func (c *conn) render(g *Generator, e *event.Event) {
	e.Set(fProtocol, c.proto)
	e.Set(fInitiated, event.FormatBool(c.initiated))
	e.Set(fSourceIsIpv6, event.FormatBool(isIPv6(c.srcIP)))
	e.Set(fSourceIp, c.srcIP)
	e.Set(fSourceHostname, c.srcHost)
	e.Set(fSourcePort, g.cat.ports[c.srcPort])
	e.Set(fSourcePortName, portNameIfService(c.srcPort))
	e.Set(fDestinationIsIpv6, event.FormatBool(isIPv6(c.dstIP)))
	e.Set(fDestinationIp, c.dstIP)
	e.Set(fDestinationHostname, c.dstHost)
	e.Set(fDestinationPort, g.cat.ports[c.dstPort])
	e.Set(fDestinationPortName, portName(c.dstPort))
}

// isIPv6 tells the families apart: IPv4 dotted quads start with a digit
// and have a '.' within their first four bytes; IPv6 here never does.
func isIPv6(ip string) bool {
	for i := 0; i < len(ip) && i < 4; i++ {
		if ip[i] == '.' {
			return false
		}
	}
	return true
}

func portNameIfService(p int) string {
	if p < 49152 {
		return portName(p)
	}
	return "-"
}

// ---- DNS ----

var internalNames = []struct{ name, results, status string }{
	{"dc01." + dnsDomain, "::ffff:" + dcIP + ";", "0"},
	{"fs01." + dnsDomain, "::ffff:" + fileServerIP + ";", "0"},
	{"_ldap._tcp.dc._msdcs." + dnsDomain, "type:  33 dc01." + dnsDomain + ";", "0"},
	{dnsDomain, "::ffff:" + dcIP + ";", "0"},
	{"wpad." + dnsDomain, "-", "9003"},
	{"wpad", "-", "9003"},
	{"isatap." + dnsDomain, "-", "9003"},
}

func (g *Generator) dns(h *host, e *event.Event) {
	p := h.actor(actDNS)
	g.sysmon(e, h, 22)
	e.Set(fProcessGuid, p.guid)
	e.Set(fProcessId, p.pidS)
	switch x := h.r.intn(100); {
	case x < 10:
		n := internalNames[h.r.intn(len(internalNames))]
		e.Set(fQueryName, n.name)
		e.Set(fQueryStatus, n.status)
		e.Set(fQueryResults, n.results)
	case x < 13:
		d := g.cat.domains[h.r.pick(&g.cat.domPick)]
		e.Set(fQueryName, d.name)
		e.Set(fQueryStatus, []string{"9701", "1460", "9501"}[h.r.intn(3)])
		e.Set(fQueryResults, "-")
	default:
		d := g.cat.domains[h.r.pick(&g.cat.domPick)]
		e.Set(fQueryName, d.name)
		e.Set(fQueryStatus, "0")
		e.Set(fQueryResults, d.results)
	}
	e.Set(fImage, p.path)
	e.Set(fUser, p.acct.name)
}

// ---- files ----

// filePath returns a path an image of class writes: mostly from a per-host
// pool (files are written again and again), sometimes a fresh one.
func (g *Generator) filePath(h *host, class int) string {
	tpls := fileClasses[class].templates
	pool := h.filePool[class]
	if pool == nil {
		for i := 0; i < 48*len(tpls); i++ {
			pool = append(pool, g.expandHost(h, tpls[i%len(tpls)]))
		}
		h.filePool[class] = pool
	}
	if h.r.chance(7, 10) {
		return pool[h.r.intn(len(pool))]
	}
	return g.expandHost(h, tpls[h.r.intn(len(tpls))])
}

func (g *Generator) expandHost(h *host, tpl string) string {
	h.ctx.date = g.utc.format(h.now)[:10]
	h.ctx.date = strings.ReplaceAll(h.ctx.date, "-", "")
	return g.x.expand(tpl, &h.r, &h.ctx)
}

func (g *Generator) fileCreate(h *host, e *event.Event) {
	p := h.actor(actFile)
	path := g.filePath(h, p.img.fileClass)
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

func (g *Generator) fileDelete(h *host, e *event.Event, id uint16) {
	p := h.actor(actFile)
	path := g.filePath(h, p.img.fileClass)
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
	p := h.actor(actFile)
	path := g.filePath(h, p.img.fileClass)
	g.sysmon(e, h, 2)
	subjectProc(e, p)
	e.Set(fTargetFilename, path)
	prev := h.now - int64(h.r.intn(3600))*1e9
	e.Set(fCreationUtcTime, g.utc.format(prev-int64(1+h.r.intn(86400*365))*1e9))
	e.Set(fPreviousCreationUtcTime, g.utc.format(prev))
}

// fileStream is the Zone.Identifier stream a browser or mail client writes
// next to a download (network-heavy processes stand in for them).
func (g *Generator) fileStream(h *host, e *event.Event) {
	p := h.actor(actNet)
	if p.img.system {
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

// ---- registry ----

var dwords = func() []string {
	s := make([]string, 256)
	for i := range s {
		s[i] = "DWORD (0x" + string(appendHex(nil, uint64(i), 8)) + ")"
	}
	return s
}()

func (g *Generator) regTarget(h *host, p *proc) (target string, kind byte) {
	user := p.acct.sid == h.user.sid && h.r.chance(4, 5)
	pool, tpls := &h.regM, regMachineTemplates
	if user {
		pool, tpls = &h.regU, regUserTemplates
	}
	if *pool == nil {
		for i := 0; i < 24*len(tpls); i++ {
			*pool = append(*pool, g.expandHost(h, tpls[i%len(tpls)]))
		}
	}
	s := (*pool)[h.r.intn(len(*pool))]
	if h.r.chance(1, 5) {
		s = g.expandHost(h, tpls[h.r.intn(len(tpls))])
	}
	return s[2:], s[0]
}

func (g *Generator) details(h *host, kind byte) string {
	switch kind {
	case 'D':
		if h.r.chance(3, 4) {
			return dwords[h.r.intn(2)]
		}
		return dwords[h.r.intn(256)]
	case 'Q':
		b := append([]byte("QWORD (0x"), "01db"...)
		b = appendHex(b, uint64(h.r.intn(0x10000)), 4)
		b = append(b, "-0x"...)
		b = appendHex(b, h.r.next()&0xffffffff, 8)
		return string(append(b, ')'))
	case 'S':
		if h.r.chance(1, 2) {
			return words[h.r.intn(len(words))]
		}
		return g.expandHost(h, `C:\Program Files\{word}\{exe}`)
	}
	if h.r.chance(1, 20) {
		return "(Empty)"
	}
	return "Binary Data"
}

func (g *Generator) regSet(h *host, e *event.Event) {
	p := h.actor(actReg)
	target, kind := g.regTarget(h, p)
	g.sysmon(e, h, 13)
	e.Set(fEventType, "SetValue")
	subjectProc(e, p)
	e.Set(fTargetObject, target)
	e.Set(fDetails, g.details(h, kind))
}

func (g *Generator) regKey(h *host, e *event.Event) {
	p := h.actor(actReg)
	target, _ := g.regTarget(h, p)
	g.sysmon(e, h, 12)
	switch x := h.r.intn(10); {
	case x < 6:
		e.Set(fEventType, "CreateKey")
		target = target[:strings.LastIndexByte(target, '\\')]
	case x < 7:
		e.Set(fEventType, "DeleteKey")
		target = target[:strings.LastIndexByte(target, '\\')]
	default:
		e.Set(fEventType, "DeleteValue")
	}
	subjectProc(e, p)
	e.Set(fTargetObject, target)
}

func (g *Generator) regRename(h *host, e *event.Event) {
	p := h.actor(actReg)
	target, _ := g.regTarget(h, p)
	key := target[:strings.LastIndexByte(target, '\\')]
	g.sysmon(e, h, 14)
	e.Set(fEventType, "RenameKey")
	subjectProc(e, p)
	e.Set(fTargetObject, key)
	e.Set(fNewName, key[:strings.LastIndexByte(key, '\\')+1]+words[h.r.intn(len(words))])
}

// ---- image loads ----

func (g *Generator) imageLoad(h *host, e *event.Event) {
	p := h.lastSpawned
	if p == nil || !p.alive || h.r.chance(1, 2) {
		p = h.actor(actDLL)
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

var pipeNames = []string{`\lsass`, `\srvsvc`, `\wkssvc`, `\ntsvcs`, `\spoolss`, `\InitShutdown`, `\eventlog`, `\atsvc`,
	`\Winsock2\CatalogChangeListener-2c8-0`, `\Ctx_WinStation_API_service`, `\SearchTextHarvester`, `\MsFteWds`}

func (g *Generator) pipe(h *host, e *event.Event, id uint16) {
	p := h.actor(actDLL)
	g.sysmon(e, h, id)
	if id == 17 {
		e.Set(fEventType, "CreatePipe")
	} else {
		e.Set(fEventType, "ConnectPipe")
	}
	e.Set(fProcessGuid, p.guid)
	e.Set(fProcessId, p.pidS)
	var name string
	switch base := p.img.base; {
	case base == "chrome.exe" || base == "msedge.exe" || base == "code.exe":
		name = `\mojo.` + p.pidS + "." + event.Itoa(uint64(h.r.intn(20000))) + "." + event.Itoa(h.r.next()>>1)
	case base == "powershell.exe":
		name = `\PSHost.` + event.Itoa(uint64(g.start/100)) + "." + p.pidS + ".DefaultAppDomain.powershell"
	default:
		name = pipeNames[h.r.intn(len(pipeNames))]
	}
	e.Set(fPipeName, name)
	e.Set(fImage, p.path)
	e.Set(fUser, p.acct.name)
}
