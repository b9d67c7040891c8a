package synth

import (
	"net/netip"
	"strings"

	"github.com/edr-lab/edr/event"
)

// domain is a DNS name with the answers it resolves to.
type domain struct {
	name    string
	ips     []string
	results string // Sysmon QueryResults rendering
	http    bool   // served over plain HTTP (port 80)
}

// netGroup is the set of endpoints one kind of process talks to.
type netGroup struct {
	name string
	doms []*domain
}

// Network groups of an image that are not an index into catalog.groups.
const (
	netNone     = -1 // no traffic of its own
	netBrowser  = -2 // any domain, Zipf-distributed
	netInternal = -3 // hosts of the Windows domain only
)

// ipOwner is an operator's announced prefixes.
type ipOwner struct {
	v4, v6 []netip.Prefix
}

func parseOwners() map[string]*ipOwner {
	out := map[string]*ipOwner{}
	for _, line := range lines(ipOwners) {
		f := strings.Split(line, "|")
		o := &ipOwner{}
		for i, list := range []*[]netip.Prefix{&o.v4, &o.v6} {
			for _, s := range strings.Fields(f[1+i]) {
				*list = append(*list, netip.MustParsePrefix(s))
			}
		}
		out[f[0]] = o
	}
	return out
}

// badIPs are never produced by benign traffic (scenario C2 addresses).
var badIPs = map[string]bool{c2IP: true, c2IPAlt: true}

// addr draws a host address inside one of the prefixes (never the network
// or broadcast address of a /24, never a scenario's C2 address).
func addr(r *rng, ps []netip.Prefix) string {
	for {
		p := ps[r.intn(len(ps))]
		b := p.Addr().As16()
		bits := p.Bits()
		if p.Addr().Is4() {
			bits += 96
		}
		free := 128 - bits
		if !p.Addr().Is4() && free > 64 {
			// Real IPv6 hosts: a random subnet below the prefix, a small
			// interface identifier (providers' servers look like
			// 2a00:1450:4001:80b::200e).
			randomBits(r, &b, bits, 64)
			b[14], b[15] = byte(r.intn(256)), byte(1+r.intn(255))
			a := netip.AddrFrom16(b)
			return a.String()
		}
		randomBits(r, &b, bits, 128)
		a := netip.AddrFrom16(b)
		if p.Addr().Is4() {
			a = a.Unmap()
			v := a.As4()
			if v[3] == 0 || v[3] == 255 {
				continue
			}
		}
		if s := a.String(); !badIPs[s] {
			return s
		}
	}
}

// randomBits randomizes bits [from, to) of b.
func randomBits(r *rng, b *[16]byte, from, to int) {
	for i := from; i < to; i++ {
		mask := byte(0x80 >> (i % 8))
		if r.chance(1, 2) {
			b[i/8] |= mask
		} else {
			b[i/8] &^= mask
		}
	}
}

func (c *catalog) buildDomains(r *rng) {
	owners := parseOwners()
	seen := map[string]bool{}
	byGroup := map[string][]*domain{}
	add := func(name, owner string, groups []string, http bool) {
		if seen[name] || name == c2Domain {
			return
		}
		seen[name] = true
		if owner == "" {
			owner = hostingOwners[r.intn(len(hostingOwners))]
		}
		o := owners[owner]
		if o == nil {
			panic("synth: unknown IP owner " + owner)
		}
		d := &domain{name: name, http: http}
		var b strings.Builder
		if r.chance(1, 3) { // CNAME into a CDN first, as real answers often do
			b.WriteString("type:  5 ")
			b.WriteString(expandSimple(cdnPatterns[r.intn(3)].tpl, r))
			b.WriteByte(';')
		}
		for i, n := 0, 1+r.intn(3); i < n; i++ {
			ip := addr(r, o.v4)
			d.ips = append(d.ips, ip)
			b.WriteString("::ffff:")
			b.WriteString(ip)
			b.WriteByte(';')
		}
		if len(o.v6) > 0 && r.chance(1, 4) {
			ip6 := addr(r, o.v6)
			d.ips = append(d.ips, ip6)
			b.WriteString(ip6)
			b.WriteByte(';')
		}
		d.results = b.String()
		c.domains = append(c.domains, d)
		for _, g := range groups {
			byGroup[g] = append(byGroup[g], d)
		}
	}
	for _, line := range lines(knownDomains) {
		f := strings.Split(line, "|")
		add(f[0], f[1], strings.Fields(f[2]), f[3] == "h")
	}
	for len(c.domains) < 3000 {
		i := r.intn(len(cdnPatterns))
		var groups []string
		if i < 3 {
			groups = []string{"cdn"}
		}
		add(expandSimple(cdnPatterns[i].tpl, r), cdnPatterns[i].owner, groups, false)
	}
	c.domPick = newAlias(zipfWeights(len(c.domains)))
	for _, n := range sortedKeys(byGroup) {
		c.groups = append(c.groups, netGroup{name: n, doms: byGroup[n]})
	}
}

// netGroupIndex resolves a netGroupOf value.
func (c *catalog) netGroupIndex(name string) int {
	switch name {
	case "":
		return netNone
	case "browser":
		return netBrowser
	case "internal":
		return netInternal
	}
	return indexByName(c.groups, func(g *netGroup) string { return g.name }, name, "network group")
}

// pickDomain draws an endpoint p talks to; nil when p has none.
func (g *Generator) pickDomain(h *host, p *proc) (d *domain, browser bool) {
	switch n := p.net; {
	case n == netBrowser:
		return g.cat.domains[h.r.pick(&g.cat.domPick)], true
	case n >= 0:
		doms := g.cat.groups[n].doms
		// Earlier (more popular) endpoints of a group are contacted more.
		i := h.r.intn(len(doms))
		if j := h.r.intn(len(doms)); j < i {
			i = j
		}
		return doms[i], false
	}
	return nil, false
}

// ---- network ----

// portName is the service name Sysmon prints for well-known ports.
func portName(p int) string {
	switch p {
	case 22:
		return "ssh"
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

const (
	splunkIP = "10.20.0.30"
	sshHosts = "10.20.9."
)

func (g *Generator) network(h *host, e *event.Event) {
	p := h.actor(actNet)
	g.sysmon(e, h, 3)
	subjectProc(e, p)
	c := conn{proto: "tcp", initiated: true, srcIP: h.ip, srcHost: h.fqdn, srcPort: 49152 + h.r.intn(16384), dstHost: "-"}
	switch base := p.img.base; {
	case p == h.sysProc:
		// Inbound SMB, and HTTP.sys accepting the web server's clients.
		port := 445
		if h.role == roleServer && h.r.chance(1, 2) {
			port = []int{80, 443}[h.r.intn(2)]
		}
		g.inbound(h, &c, port)
	case base == "lsass.exe" && h.role == roleDC:
		g.inbound(h, &c, []int{88, 389, 389, 636, 3268}[h.r.intn(5)])
	case base == "lsass.exe": // Kerberos and LDAP are lsass's, and only lsass's
		c.dstIP, c.dstHost, c.dstPort = dcIP, "dc01."+dnsDomain, []int{88, 389, 389, 135}[h.r.intn(4)]
	case base == "dns.exe":
		g.inbound(h, &c, 53)
		c.proto = "udp"
	case base == "sqlservr.exe":
		g.inbound(h, &c, 1433)
	case base == "svchost.exe" && (p.net == netInternal || h.r.chance(1, 3)):
		g.internal(h, &c)
	case p.net == netInternal:
		g.internalClient(h, &c, base)
	default:
		d, browser := g.pickDomain(h, p)
		if d == nil {
			g.internal(h, &c)
			break
		}
		c.dstIP = d.ips[h.r.intn(len(d.ips))]
		if h.r.chance(1, 2) {
			c.dstHost = d.name
		}
		switch x := h.r.intn(100); {
		case !browser && d.http:
			c.dstPort = 80
		case !browser:
			c.dstPort = 443
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

// internalClient is the traffic of processes that only talk to hosts of
// the Windows domain.
func (g *Generator) internalClient(h *host, c *conn, base string) {
	dc := "dc01." + dnsDomain
	switch base {
	case "w3wp.exe", "inetinfo.exe": // the web application's database
		srv := g.hosts[1%len(g.hosts)]
		c.dstIP, c.dstHost, c.dstPort = srv.ip, srv.fqdn, 1433
	case "splunkd.exe":
		c.dstIP, c.dstHost, c.dstPort = splunkIP, "splunk."+dnsDomain, 9997
	case "mstsc.exe":
		srv := g.hosts[1%len(g.hosts)]
		c.dstIP, c.dstHost, c.dstPort = srv.ip, srv.fqdn, 3389
	case "putty.exe":
		c.dstIP, c.dstPort = sshHosts+event.Itoa(uint64(10+h.r.intn(90))), 22
	case "nslookup.exe":
		c.proto, c.dstIP, c.dstHost, c.dstPort = "udp", dcIP, dc, 53
	case "w32tm.exe":
		c.proto, c.dstIP, c.dstHost, c.dstPort = "udp", dcIP, dc, 123
	default: // DC services: replication and RPC to the domain controller
		c.dstIP, c.dstHost, c.dstPort = dcIP, dc, 135
	}
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
// plus link-local multicast. Kerberos (88) is not here: only lsass talks
// to the KDC.
func (g *Generator) internal(h *host, c *conn) {
	switch x := h.r.intn(10); {
	case x < 2:
		c.proto, c.dstIP, c.dstHost, c.dstPort = "udp", dcIP, "dc01."+dnsDomain, 53
	case x < 5:
		c.dstIP, c.dstHost, c.dstPort = dcIP, "dc01."+dnsDomain, []int{135, 445, 389}[h.r.intn(3)]
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
	{dnsDomain, "::ffff:" + dcIP + ";", "0"},
	{"wpad." + dnsDomain, "-", "9003"},
	{"wpad", "-", "9003"},
	{"isatap." + dnsDomain, "-", "9003"},
	// DC locator: Netlogon and group policy (svchost) and lsass only.
	{"_ldap._tcp.dc._msdcs." + dnsDomain, "type:  33 dc01." + dnsDomain + ";", "0"},
}

func (g *Generator) dns(h *host, e *event.Event) {
	p := h.actor(actDNS)
	g.sysmon(e, h, 22)
	e.Set(fProcessGuid, p.guid)
	e.Set(fProcessId, p.pidS)
	x := h.r.intn(100)
	var d *domain
	if x >= 10 {
		d, _ = g.pickDomain(h, p)
	}
	switch {
	case d == nil:
		n := len(internalNames)
		if b := p.img.base; b != "svchost.exe" && b != "lsass.exe" {
			n--
		}
		in := internalNames[h.r.intn(n)]
		e.Set(fQueryName, in.name)
		e.Set(fQueryStatus, in.status)
		e.Set(fQueryResults, in.results)
	case x < 13:
		e.Set(fQueryName, d.name)
		e.Set(fQueryStatus, []string{"9701", "1460", "9501"}[h.r.intn(3)])
		e.Set(fQueryResults, "-")
	default:
		e.Set(fQueryName, d.name)
		e.Set(fQueryStatus, "0")
		e.Set(fQueryResults, d.results)
	}
	e.Set(fImage, p.path)
	e.Set(fUser, p.acct.name)
}
