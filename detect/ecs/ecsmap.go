package ecs

import (
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/edr-lab/edr/detect"
	"github.com/edr-lab/edr/event"
)

// The ECS mapping of events follows Elastic's windows.sysmon_operational
// ingest pipeline (schema-reference §3), with its known bugs not copied.

type categorization struct {
	category []string
	types    []string
	action   string
}

func cat(category, types, action string) categorization {
	c := categorization{action: action}
	if category != "" {
		c.category = strings.Split(category, ",")
	}
	if types != "" {
		c.types = strings.Split(types, ",")
	}
	return c
}

var sysmonCategories = map[uint16]categorization{
	1:   cat("process", "start", "Process creation"),
	2:   cat("file", "change", "A process changed a file creation time"),
	3:   cat("network", "start,connection,protocol", "Network connection"),
	4:   cat("process", "change", "Sysmon service state changed"),
	5:   cat("process", "end", "Process terminated"),
	6:   cat("driver", "start", "Driver loaded"),
	7:   cat("process", "change", "Image loaded"),
	8:   cat("process", "change", "CreateRemoteThread"),
	9:   cat("process", "access", "RawAccessRead"),
	10:  cat("process", "access", "ProcessAccess"),
	11:  cat("file", "creation", "FileCreate"),
	12:  cat("configuration,registry", "change", "RegistryEvent (Object create and delete)"),
	13:  cat("configuration,registry", "change", "RegistryEvent (Value Set)"),
	14:  cat("configuration,registry", "change", "RegistryEvent (Key and Value Rename)"),
	15:  cat("file", "access", "FileCreateStreamHash"),
	16:  cat("configuration", "change", "ServiceConfigurationChange"),
	17:  cat("file", "creation", "PipeEvent (Pipe Created)"),
	18:  cat("file", "access", "PipeEvent (Pipe Connected)"),
	19:  cat("process", "creation", "WmiEvent (WmiEventFilter activity detected)"),
	20:  cat("process", "creation", "WmiEvent (WmiEventConsumer activity detected)"),
	21:  cat("process", "access", "WmiEvent (WmiEventConsumerToFilter activity detected)"),
	22:  cat("network", "connection,protocol,info", "DNSEvent (DNS query)"),
	23:  cat("file", "deletion", "FileDelete (File Delete archived)"),
	24:  cat("", "change", "ClipboardChange (New content in the clipboard)"),
	25:  cat("process", "change", "ProcessTampering (Process image change)"),
	26:  cat("file", "deletion", "FileDeleteDetected (File Delete logged)"),
	27:  cat("file", "creation,denied", "FileBlockExecutable"),
	28:  cat("file", "deletion,denied", "FileBlockShredding"),
	29:  cat("file", "creation", "FileExecutableDetected"),
	255: cat("process", "error", "Error"),
}

var securityCategories = map[uint16]categorization{
	1102: cat("iam", "admin,deletion", "audit-log-cleared"),
	4624: cat("authentication", "start", "logged-in"),
	4625: cat("authentication", "start", "logon-failed"),
	4648: cat("authentication", "start", "logged-in-explicit"),
	4688: cat("process", "start", "created-process"),
	4689: cat("process", "end", "exited-process"),
	4697: cat("iam,configuration", "admin,change", "service-installed"),
	4698: cat("iam,configuration", "creation,admin", "scheduled-task-created"),
	4699: cat("iam,configuration", "deletion,admin", "scheduled-task-deleted"),
	4700: cat("iam,configuration", "change,admin", "scheduled-task-enabled"),
	4701: cat("iam,configuration", "change,admin", "scheduled-task-disabled"),
	4702: cat("iam,configuration", "change,admin", "scheduled-task-updated"),
	4720: cat("iam", "user,creation", "added-user-account"),
	4726: cat("iam", "user,deletion", "deleted-user-account"),
	4728: cat("iam", "group,change", "added-member-to-group"),
	4732: cat("iam", "group,change", "added-member-to-group"),
	4756: cat("iam", "group,change", "added-member-to-group"),
}

// categorize returns event.category/type/action for an event.
func categorize(ev *event.Event) categorization {
	switch ev.Channel {
	case event.ChannelSysmon:
		if c, ok := sysmonCategories[ev.EventID]; ok {
			return c
		}
	case event.ChannelSecurity:
		if c, ok := securityCategories[ev.EventID]; ok {
			return c
		}
	case event.ChannelSystem:
		switch ev.EventID {
		case 7045:
			return cat("iam,configuration", "admin,change", "service-installed")
		case 104:
			return cat("iam", "admin,deletion", "audit-log-cleared")
		}
	case event.ChannelPowerShell, event.ChannelPowerShellCore, event.ChannelPowerShellClassic:
		return withName(cat("process", "info", ""), ev)
	case event.ChannelTaskScheduler:
		return withName(cat("configuration", "change", ""), ev)
	case event.ChannelDNSClient:
		return withName(cat("network", "protocol,info", ""), ev)
	case event.ChannelDefender:
		return withName(cat("malware", "info", ""), ev)
	case event.ChannelWMIActivity:
		return withName(cat("process", "info", ""), ev)
	}
	return withName(cat("", "info", ""), ev)
}

// withName uses the schema's event name as event.action.
func withName(c categorization, ev *event.Event) categorization {
	if d := ev.Def(); d != nil {
		c.action = d.Name
	}
	return c
}

// mapper fills the ECS fields that an event itself carries.
type mapper struct {
	o     *Object
	ev    *event.Event
	roles *event.Roles
	// related.* collected while mapping, in first-seen order
	users, ips, hashes, hosts []string
	scratch                   *encodeScratch // nil: allocate
}

// encodeScratch is storage an NDJSON encoder reuses from alert to alert.
type encodeScratch struct {
	users, ips, hashes, hosts []string
	args                      []string
	id                        [160]byte
	lowered                   map[string]string               // lower-cased hashes and host names, by original
	rules                     map[*detect.Rule]*ruleFragments // by rule: encoded once
}

func (m *mapper) val(id event.FieldID) string {
	v, ok := m.ev.Get(id)
	if !ok || v == "-" {
		return ""
	}
	return v
}

// maxLowered bounds an encoder's cache of lower-cased values.
const maxLowered = 4096

// lower is strings.ToLower(s); an encoder keeps the values it lowered
// (Sysmon writes hashes in upper case, and the same processes and hosts
// come back alert after alert), so repeats cost no allocation.
func (m *mapper) lower(s string) string {
	sc := m.scratch
	if sc == nil || !mayLower(s) {
		return strings.ToLower(s)
	}
	if l, ok := sc.lowered[s]; ok {
		return l
	}
	if sc.lowered == nil || len(sc.lowered) >= maxLowered {
		sc.lowered = make(map[string]string)
	}
	// a copy: s may be a small part of a large string (a decoded column)
	// that the cache must not keep alive, and ToLower may return it
	k := strings.Clone(s)
	l := strings.ToLower(k)
	sc.lowered[k] = l
	return l
}

// mayLower reports whether strings.ToLower(s) may differ from s: s has an
// ASCII upper-case letter or a non-ASCII byte.
func mayLower(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; 'A' <= c && c <= 'Z' || c >= utf8.RuneSelf {
			return true
		}
	}
	return false
}

func (m *mapper) sysmon(ids ...uint16) bool {
	if m.ev.Channel != event.ChannelSysmon {
		return false
	}
	for _, id := range ids {
		if m.ev.EventID == id {
			return true
		}
	}
	return false
}

var (
	fSubjectUserSid  = event.MustField("SubjectUserSid")
	fTargetUserSid   = event.MustField("TargetUserSid")
	fTargetSid       = event.MustField("TargetSid")
	fSigned          = event.MustField("Signed")
	fSignature       = event.MustField("Signature")
	fSignatureStatus = event.MustField("SignatureStatus")
	fCreationUtcTime = event.MustField("CreationUtcTime")
	fPipeName        = event.MustField("PipeName")
	fProtocol        = event.MustField("Protocol")
	fInitiated       = event.MustField("Initiated")
	fSourceIsIpv6    = event.MustField("SourceIsIpv6")
	fSourceHostname  = event.MustField("SourceHostname")
	fSrcPortName     = event.MustField("SourcePortName")
	fDstPortName     = event.MustField("DestinationPortName")
	fQueryStatus     = event.MustField("QueryStatus")
	fObjectName      = event.MustField("ObjectName")
	fObjectValueName = event.MustField("ObjectValueName")
	fNewValue        = event.MustField("NewValue")
	fServiceFileName = event.MustField("ServiceFileName")
	fImagePath       = event.MustField("ImagePath")
	fIpAddress       = event.MustField("IpAddress")
	fIpPort          = event.MustField("IpPort")
	fWorkstationName = event.MustField("WorkstationName")
	fProviderGuid    = event.MustField("Provider_Guid")
	fEventVersion    = event.MustField("EventVersion")
	fOpcode          = event.MustField("Opcode")
	fExecPID         = event.MustField("Execution_ProcessID")
	fExecTID         = event.MustField("Execution_ThreadID")
	fLevel           = event.MustField("Level")
	fTask            = event.MustField("Task")
	fKeywords        = event.MustField("Keywords")
	fActivityID      = event.MustField("ActivityID")
	fRelActivityID   = event.MustField("RelatedActivityID")
)

// mapEvent maps the event's own fields to ECS.
func (m *mapper) mapEvent() {
	m.host()
	m.process()
	m.user()
	m.file()
	m.registry()
	m.network()
	m.dns()
}

func (m *mapper) host() {
	h := m.ev.Host
	if h == "" {
		h = m.val(event.FComputer)
	}
	m.o.SetString("host.name", m.lower(h))
	m.o.SetString("host.os.type", "windows")
	m.o.SetString("host.os.family", "windows")
}

// process maps the acting process and its parent as the event's roles
// name them: for EIDs 8 and 10 the source process (the target stays in
// winlog.event_data and edr.target).
func (m *mapper) process() {
	a := &m.roles.Actor
	guid := m.val(a.GUID)
	if guid == "" {
		guid = m.val(a.AltGUID)
	}
	m.o.SetString("process.entity_id", guid)
	m.setPID("process", m.val(a.PID))
	m.setExecutable("process", m.val(a.Image))
	if tid, ok := parsePID(m.val(a.ThreadID)); ok {
		m.o.SetInt("process.thread.id", tid)
	}
	m.setCommandLine("process", m.val(a.CommandLine))
	if a.Image == event.FImage {
		// The event's descriptive fields describe the process its Image
		// names (in EIDs 6 and 7, PE fields are the loaded image's).
		m.o.SetString("process.working_directory", m.val(event.FCurrentDirectory))
		if !m.sysmon(6, 7) {
			m.setPE("process.pe", m.val(event.FOriginalFileName), m.val(event.FCompany), m.val(event.FDescription), m.val(event.FFileVersion), m.val(event.FProduct))
		}
		if m.sysmon(1, 23, 24, 25) {
			m.setHashes("process", m.val(event.FHashes))
		}
	}
	p := &m.roles.Parent
	m.o.SetString("process.parent.entity_id", m.val(p.GUID))
	m.setPID("process.parent", m.val(p.PID))
	m.setExecutable("process.parent", m.val(p.Image))
	m.setCommandLine("process.parent", m.val(p.CommandLine))
	m.setParentUser(m.val(p.User))
}

// The setters below take the object path p and a constant key rather than
// a concatenated path (which would allocate), and create p only when they
// set something, where a dotted Set would have created it.

// setPID sets <p>.pid.
func (m *mapper) setPID(p, v string) {
	if n, ok := parsePID(v); ok {
		m.o.Obj(p).SetInt("pid", n)
	}
}

// setExecutable sets <p>.executable and <p>.name (the basename).
func (m *mapper) setExecutable(p, path string) {
	if path == "" {
		return
	}
	o := m.o.Obj(p)
	o.SetString("executable", path)
	o.SetString("name", baseName(path))
}

func (m *mapper) setCommandLine(p, cl string) {
	if cl == "" {
		return
	}
	o := m.o.Obj(p)
	o.SetString("command_line", cl)
	args := m.splitArgs(cl)
	o.SetStrings("args", args)
	if len(args) > 0 {
		o.SetInt("args_count", int64(len(args)))
	}
}

// splitArgs splits a command line into storage reused from alert to alert
// (NDJSON); the slices stay valid until the document is reset.
func (m *mapper) splitArgs(cl string) []string {
	if m.scratch == nil {
		return SplitCommandLine(cl)
	}
	buf := m.scratch.args
	n := len(buf)
	buf = appendCommandLineArgs(buf, cl)
	m.scratch.args = buf
	return buf[n:len(buf):len(buf)]
}

func (m *mapper) setPE(p, original, company, description, fileVersion, product string) {
	if original == "" && company == "" && description == "" && fileVersion == "" && product == "" {
		return
	}
	o := m.o.Obj(p)
	o.SetString("original_file_name", original)
	o.SetString("company", company)
	o.SetString("description", description)
	o.SetString("file_version", fileVersion)
	o.SetString("product", product)
}

// setHashes maps a Sysmon Hashes value to <p>.hash.* and <p>.pe.imphash,
// lower-cased, skipping all-zero values (IMPHASH of non-PE files).
func (m *mapper) setHashes(p, hashes string) {
	if hashes == "" {
		return
	}
	for rest := hashes; rest != ""; {
		var part string
		part, rest, _ = strings.Cut(rest, ",")
		alg, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || v == "" || strings.Trim(v, "0") == "" {
			continue
		}
		var key string
		switch {
		case strings.EqualFold(alg, "MD5"):
			key = "hash.md5"
		case strings.EqualFold(alg, "SHA1"):
			key = "hash.sha1"
		case strings.EqualFold(alg, "SHA256"):
			key = "hash.sha256"
		case strings.EqualFold(alg, "IMPHASH"):
			key = "pe.imphash"
		default:
			continue
		}
		v = m.lower(v)
		m.o.Obj(p).SetString(key, v)
		m.hashes = appendUnique(m.hashes, v)
	}
}

func (m *mapper) user() {
	ev := m.ev
	user := m.val(m.roles.Actor.User)
	if user != "" {
		m.setUser("user", user)
	} else if ev.Channel == event.ChannelSecurity {
		m.o.SetString("user.name", m.val(event.FSubjectUserName))
		m.o.SetString("user.domain", m.val(event.FSubjectDomainName))
		m.o.SetString("user.id", m.val(fSubjectUserSid))
		m.users = appendNonEmpty(m.users, m.val(event.FSubjectUserName))
	}
	if ev.Channel == event.ChannelSecurity {
		m.o.SetString("user.target.name", m.val(event.FTargetUserName))
		m.o.SetString("user.target.domain", m.val(event.FTargetDomainName))
		sid := m.val(fTargetUserSid)
		if sid == "" {
			sid = m.val(fTargetSid)
		}
		m.o.SetString("user.target.id", sid)
		m.users = appendNonEmpty(m.users, m.val(event.FTargetUserName))
		if ip := m.val(fIpAddress); validIP(ip) {
			m.o.SetString("source.ip", ip)
			m.ips = appendUnique(m.ips, ip)
			m.setPort("source.port", m.val(fIpPort))
		}
		m.o.SetString("source.domain", m.val(fWorkstationName))
	}
}

// setUser splits DOMAIN\name into <p>.domain and <p>.name.
func (m *mapper) setUser(p, user string) {
	domain, name, ok := strings.Cut(user, `\`)
	if !ok || strings.Contains(name, `\`) {
		domain, name = "", user
	}
	if name != "" || domain != "" {
		o := m.o.Obj(p)
		o.SetString("name", name)
		o.SetString("domain", domain)
	}
	m.users = appendUnique(m.users, name)
}

func (m *mapper) file() {
	ev := m.ev
	switch {
	case m.sysmon(2, 11, 15, 23, 26, 27, 28, 29):
		m.setFilePath(m.val(event.FTargetFilename))
		if t := m.val(fCreationUtcTime); t != "" {
			if ns, err := event.ParseUtcTime(t); err == nil {
				m.o.SetString("file.created", formatTimestamp(ns))
			}
		}
		if m.sysmon(15) {
			m.setHashes("file", m.val(event.FHash))
		}
		if m.sysmon(26, 29) {
			m.setHashes("file", m.val(event.FHashes))
		}
	case m.sysmon(6, 7):
		m.setFilePath(m.val(event.FImageLoaded))
		m.setHashes("file", m.val(event.FHashes))
		if m.sysmon(7) {
			m.setPE("file.pe", m.val(event.FOriginalFileName), m.val(event.FCompany), m.val(event.FDescription), m.val(event.FFileVersion), m.val(event.FProduct))
		}
		if s := m.val(fSigned); s != "" {
			m.o.SetBool("file.code_signature.exists", strings.EqualFold(s, "true"))
		}
		m.o.SetString("file.code_signature.subject_name", m.val(fSignature))
		if st := m.val(fSignatureStatus); st != "" {
			m.o.SetString("file.code_signature.status", st)
			m.o.SetBool("file.code_signature.valid", st == "Valid")
		}
	case m.sysmon(17, 18):
		m.o.SetString("file.name", m.val(fPipeName))
	case ev.Channel == event.ChannelSecurity && (ev.EventID == 4697):
		m.setFilePath(m.val(fServiceFileName))
	case ev.Channel == event.ChannelSystem && ev.EventID == 7045:
		m.setFilePath(m.val(fImagePath))
	}
}

func (m *mapper) setFilePath(p string) {
	if p == "" {
		return
	}
	m.o.SetString("file.path", p)
	dir, name := splitPath(p)
	m.o.SetString("file.name", name)
	m.o.SetString("file.directory", dir)
	if i := strings.LastIndexByte(name, '.'); i > 0 && i < len(name)-1 {
		m.o.SetString("file.extension", strings.ToLower(name[i+1:]))
	}
}

func (m *mapper) registry() {
	ev := m.ev
	var path, details string
	switch {
	case m.sysmon(12, 13, 14):
		path, details = m.val(event.FTargetObject), m.val(event.FDetails)
	case ev.Channel == event.ChannelSecurity && ev.EventID == 4657:
		path = m.val(fObjectName)
		if v := m.val(fObjectValueName); v != "" {
			path += `\` + v
		}
		details = m.val(fNewValue)
	default:
		return
	}
	if path == "" {
		return
	}
	m.o.SetString("registry.path", path)
	hive, key := registryHive(path)
	m.o.SetString("registry.hive", hive)
	if key != "" {
		m.o.SetString("registry.key", key)
		if i := strings.LastIndexByte(key, '\\'); i >= 0 {
			m.o.SetString("registry.value", key[i+1:])
		}
	}
	if details != "" {
		typ, data := registryData(details)
		m.o.SetString("registry.data.type", typ)
		m.o.SetStrings("registry.data.strings", []string{data})
	}
}

// registryHive splits a registry path into ECS hive and key.
func registryHive(path string) (string, string) {
	roots := []struct{ prefix, hive string }{
		{`\REGISTRY\MACHINE\`, "HKLM"}, {`\REGISTRY\USER\`, "HKU"},
		{`HKEY_LOCAL_MACHINE\`, "HKLM"}, {`HKEY_USERS\`, "HKU"}, {`HKEY_CURRENT_USER\`, "HKCU"},
		{`HKEY_CLASSES_ROOT\`, "HKCR"}, {`HKEY_CURRENT_CONFIG\`, "HKCC"},
		{`HKLM\`, "HKLM"}, {`HKU\`, "HKU"}, {`HKCU\`, "HKCU"}, {`HKCR\`, "HKCR"}, {`HKCC\`, "HKCC"},
	}
	for _, r := range roots {
		if len(path) >= len(r.prefix) && strings.EqualFold(path[:len(r.prefix)], r.prefix) {
			return r.hive, path[len(r.prefix):]
		}
	}
	return "", ""
}

// registryData turns Sysmon's Details rendering into ECS registry.data:
// DWORD/QWORD as decimal strings with REG_DWORD/REG_QWORD, "Binary Data" as
// REG_BINARY, anything else REG_SZ.
func registryData(d string) (string, string) {
	if inner, ok := cutAround(d, "DWORD (", ")"); ok {
		if n, err := strconv.ParseUint(strings.TrimPrefix(inner, "0x"), 16, 32); err == nil {
			return "REG_DWORD", strconv.FormatUint(n, 10)
		}
	}
	if inner, ok := cutAround(d, "QWORD (", ")"); ok {
		hi, lo, split := strings.Cut(inner, "-")
		if !split {
			hi, lo = "0x0", inner
		}
		h, err1 := strconv.ParseUint(strings.TrimPrefix(hi, "0x"), 16, 32)
		l, err2 := strconv.ParseUint(strings.TrimPrefix(lo, "0x"), 16, 64)
		if err1 == nil && err2 == nil {
			return "REG_QWORD", strconv.FormatUint(h<<32|l, 10)
		}
	}
	if d == "Binary Data" {
		return "REG_BINARY", d
	}
	return "REG_SZ", d
}

func cutAround(s, prefix, suffix string) (string, bool) {
	if strings.HasPrefix(s, prefix) && strings.HasSuffix(s, suffix) {
		return s[len(prefix) : len(s)-len(suffix)], true
	}
	return "", false
}

func (m *mapper) network() {
	if !m.sysmon(3) {
		return
	}
	m.o.SetString("network.transport", strings.ToLower(m.val(fProtocol)))
	switch m.val(fInitiated) {
	case "true":
		m.o.SetString("network.direction", "egress")
	case "false":
		m.o.SetString("network.direction", "ingress")
	}
	switch m.val(fSourceIsIpv6) {
	case "true":
		m.o.SetString("network.type", "ipv6")
	case "false":
		m.o.SetString("network.type", "ipv4")
	}
	m.o.SetString("network.protocol", strings.ToLower(m.val(fDstPortName)))
	m.endpoint("source", m.val(event.FSourceIp), m.val(event.FSourcePort), m.val(fSourceHostname))
	m.endpoint("destination", m.val(event.FDestinationIp), m.val(event.FDestinationPort), m.val(event.FDestinationHost))
}

func (m *mapper) endpoint(p, ip, port, host string) {
	if validIP(ip) {
		m.o.SetString(p+".ip", ip)
		m.ips = appendUnique(m.ips, ip)
	}
	m.setPort(p+".port", port)
	if host != "" {
		m.o.SetString(p+".domain", host)
		m.hosts = appendUnique(m.hosts, host)
	}
}

func (m *mapper) setPort(path, v string) {
	if n, err := strconv.ParseUint(v, 10, 16); err == nil {
		m.o.SetInt(path, int64(n))
	}
}

func validIP(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}

// dnsTypes names the resource-record numbers Sysmon renders in QueryResults.
var dnsTypes = map[string]string{"1": "A", "2": "NS", "5": "CNAME", "6": "SOA", "12": "PTR", "15": "MX", "16": "TXT", "28": "AAAA", "33": "SRV", "65": "HTTPS"}

func (m *mapper) dns() {
	ev := m.ev
	if !m.sysmon(22) && !(ev.Channel == event.ChannelDNSClient && (ev.EventID == 3006 || ev.EventID == 3008 || ev.EventID == 3020)) {
		return
	}
	name := strings.TrimSuffix(m.val(event.FQueryName), ".")
	m.o.SetString("network.protocol", "dns")
	m.o.SetString("dns.type", "query")
	m.o.SetString("dns.question.name", name)
	m.hosts = appendNonEmpty(m.hosts, name)
	var answers []*Object
	var resolved []string
	for _, part := range strings.Split(m.val(event.FQueryResults), ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		a := m.o.New()
		if rest, ok := strings.CutPrefix(part, "type:"); ok {
			num, data, _ := strings.Cut(strings.TrimSpace(rest), " ")
			typ := dnsTypes[num]
			if typ == "" {
				typ = num
			}
			a.SetString("type", typ)
			a.SetString("data", strings.TrimSpace(data))
		} else if ip, err := netip.ParseAddr(part); err == nil {
			ip = ip.Unmap()
			typ := "A"
			if ip.Is6() {
				typ = "AAAA"
			}
			a.SetString("type", typ)
			a.SetString("data", ip.String())
			resolved = appendUnique(resolved, ip.String())
		} else {
			a.SetString("data", part)
		}
		answers = append(answers, a)
	}
	m.o.SetObjects("dns.answers", answers)
	m.o.SetStrings("dns.resolved_ip", resolved)
	for _, ip := range resolved {
		m.ips = appendUnique(m.ips, ip)
	}
}

// setWinlog writes the winlog envelope and the original event data.
func (m *mapper) setWinlog() {
	ev := m.ev
	o := m.o
	if len(m.users) > 0 {
		o.SetStrings("related.user", m.users)
	}
	o.SetStrings("related.ip", m.ips)
	o.SetStrings("related.hash", m.hashes)
	o.SetStrings("related.hosts", m.hosts)
	o.SetString("winlog.channel", ev.Channel)
	o.SetString("winlog.event_id", strconv.Itoa(int(ev.EventID)))
	o.SetString("winlog.provider_name", ev.Provider)
	o.SetString("winlog.provider_guid", m.val(fProviderGuid))
	computer := m.val(event.FComputer)
	if computer == "" {
		computer = ev.Host
	}
	o.SetString("winlog.computer_name", computer)
	if ev.RecordID != 0 {
		o.SetString("winlog.record_id", strconv.FormatUint(ev.RecordID, 10))
	}
	o.SetString("winlog.version", m.val(fEventVersion))
	o.SetString("winlog.opcode", m.val(fOpcode))
	o.SetString("winlog.process.pid", m.val(fExecPID))
	o.SetString("winlog.process.thread.id", m.val(fExecTID))
	o.SetString("winlog.user.identifier", m.val(event.FSecurityUserID))
	o.SetString("winlog.level", m.val(fLevel))
	o.SetString("winlog.task", m.val(fTask))
	o.SetString("winlog.keywords", m.val(fKeywords))
	o.SetString("winlog.activity_id", m.val(fActivityID))
	o.SetString("winlog.related_activity_id", m.val(fRelActivityID))
	o.SetString("winlog.time_created", formatFileTime(ev.Time))
	if m.scratch != nil && len(ev.Extra()) == 0 {
		// Schema names are distinct and hold no dot, so the fields are
		// the object's keys as they come: encoded straight to JSON, not
		// set one by one into an object that is then encoded.
		buf := o.rawBuf()
		start := len(buf)
		buf = append(buf, '{')
		ev.Range(func(id event.FieldID, v string) bool {
			if !isEnvelopeField(id) {
				if len(buf) > start+1 {
					buf = append(buf, ',')
				}
				buf = append(buf, dataKey(id)...)
				buf = AppendString(buf, v)
			}
			return true
		})
		if len(buf) > start+1 {
			o.setRawBuf("winlog.event_data", append(buf, '}'), start)
		}
		return
	}
	data := o.Obj("winlog.event_data")
	ev.Range(func(id event.FieldID, v string) bool {
		if !isEnvelopeField(id) {
			setKeepEmpty(data, id.Name(), v)
		}
		return true
	})
	for _, kv := range ev.Extra() {
		setKeepEmpty(data, kv.Key, kv.Value)
	}
}

// dataKeys are the schema's field names as JSON object keys ("Name":).
var dataKeys = sync.OnceValue(func() []string {
	keys := make([]string, event.NumFields())
	for i := range keys {
		keys[i] = string(append(AppendString(nil, event.FieldID(i).Name()), ':'))
	}
	return keys
})

// dataKey is id's name as a JSON object key.
func dataKey(id event.FieldID) string {
	if keys := dataKeys(); int(id) < len(keys) {
		return keys[id]
	}
	return string(append(AppendString(nil, id.Name()), ':'))
}

// envelopeField marks schema fields that winlog.* carries outside
// event_data, by field id.
var envelopeField = func() []bool {
	ids := []event.FieldID{event.FComputer, event.FSecurityUserID, fProviderGuid, fEventVersion, fOpcode,
		fExecPID, fExecTID, fLevel, fTask, fKeywords, fActivityID, fRelActivityID}
	m := make([]bool, slices.Max(ids)+1)
	for _, id := range ids {
		m[id] = true
	}
	return m
}()

func isEnvelopeField(id event.FieldID) bool { return int(id) < len(envelopeField) && envelopeField[id] }

// setKeepEmpty keeps a present-but-empty field visible (ecs.Object omits
// empty strings; the original event distinguishes empty from absent).
func setKeepEmpty(o *Object, key, v string) {
	if v == "" {
		o.SetEmpty(key)
		return
	}
	o.SetString(key, v)
}

func appendNonEmpty(list []string, s string) []string {
	if s == "" {
		return list
	}
	return appendUnique(list, s)
}

// baseName is the last component of a Windows (or slash) path.
func baseName(p string) string {
	_, name := splitPath(p)
	return name
}

func splitPath(p string) (dir, name string) {
	i := strings.LastIndexAny(p, `\/`)
	if i < 0 {
		return "", p
	}
	return p[:i], p[i+1:]
}
