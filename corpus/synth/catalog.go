package synth

import (
	"hash/fnv"
	"sort"
	"strings"

	"github.com/edr-lab/edr/event"
)

// activity indexes an image's weights.
const (
	actNet = iota
	actFile
	actReg
	actDLL
	actDNS
	numAct
)

// image is one executable of the world.
type image struct {
	path, base, ofn, desc, product, company, version string
	hashes                                           string
	w                                                [numAct]int
	short                                            bool // short-lived tool
	system                                           bool // Microsoft Windows binary
	fileClass                                        int  // index into fileClasses
	cmds                                             []string
	spawnKey                                         string // key into spawnRules ("" = spawns nothing)
}

// module is a DLL an image loads.
type module struct {
	path, ofn, desc, product, company, version, hashes string
	signature                                          string
}

// domain is a DNS name with the answers it resolves to.
type domain struct {
	name    string
	ips     []string
	results string // Sysmon QueryResults rendering
}

// catalog is the seeded world shared by every host.
type catalog struct {
	seed    uint64
	images  []*image            // fixed-path images
	userDef []*image            // images under a user profile ({home} in path)
	byBase  map[string][]*image // construction and host setup only, never iterated
	dlls    []*module
	dllPick alias
	domains []*domain
	domPick alias
	ports   []string // decimal renderings of 0..65535
}

func newCatalog(seed uint64) *catalog {
	c := &catalog{seed: seed, byBase: map[string][]*image{}}
	r := newRNG(seed ^ 0x5eed_ca7a_1095)
	c.ports = make([]string, 65536)
	for i := range c.ports {
		c.ports[i] = event.Itoa(uint64(i))
	}
	for _, line := range lines(system32Images) {
		f := strings.Split(line, "|")
		path := `C:\Windows\System32\` + f[0]
		c.addImage(&image{path: path, ofn: f[1], desc: f[2], product: "Microsoft® Windows® Operating System",
			company: "Microsoft Corporation", version: winVersion(f[1]), system: true}, f[3])
	}
	for _, line := range lines(programImages) {
		f := strings.Split(line, "|")
		c.addImage(&image{path: f[0], ofn: f[1], desc: f[2], product: f[3], company: f[4], version: f[5]}, f[6])
	}
	for _, line := range lines(userImages) {
		f := strings.Split(line, "|")
		im := &image{path: f[0], ofn: f[1], desc: f[2], product: f[3], company: f[4], version: f[5]}
		c.finishImage(im, f[6])
		c.userDef = append(c.userDef, im)
	}
	c.buildDLLs()
	c.buildDomains(&r)
	return c
}

// fileClass is a kind of writer with the paths it writes.
type fileClass struct {
	name      string
	templates []string
}

// fileClasses are fileTemplates in name order (so that indexes, and pool
// creation order, never depend on map iteration).
var fileClasses = func() []fileClass {
	names := make([]string, 0, len(fileTemplates))
	for n := range fileTemplates {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]fileClass, len(names))
	for i, n := range names {
		out[i] = fileClass{n, fileTemplates[n]}
	}
	return out
}()

func fileClassIndex(name string) int {
	for i, c := range fileClasses {
		if c.name == name {
			return i
		}
	}
	panic("synth: unknown file class " + name)
}

var classDev, classSystem = fileClassIndex("dev"), fileClassIndex("system")

func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// winVersion renders a Windows FileVersion the way version resources do.
func winVersion(name string) string {
	builds := []string{"3636", "4355", "4522", "4648", "5007", "5129"}
	h := fnv.New32a()
	h.Write([]byte(name))
	return "10.0.19041." + builds[h.Sum32()%uint32(len(builds))] + " (WinBuild.160101.0800)"
}

func (c *catalog) addImage(im *image, flags string) {
	c.finishImage(im, flags)
	c.images = append(c.images, im)
	c.byBase[im.base] = append(c.byBase[im.base], im)
}

// finishImage derives what the table does not state: base name, activity
// weights from the flags, command lines, file class and hashes.
func (c *catalog) finishImage(im *image, flags string) {
	im.base = strings.ToLower(im.path[strings.LastIndexByte(im.path, '\\')+1:])
	for _, ch := range flags {
		w := 2
		if ch >= 'A' && ch <= 'Z' {
			w = 10
		}
		switch ch | 0x20 {
		case 'n':
			im.w[actNet] = w
		case 'f':
			im.w[actFile] = w
		case 'r':
			im.w[actReg] = w
		case 'd':
			im.w[actDLL] = w
		case 'q':
			im.w[actDNS] = w
		case 's':
			im.short = true
		}
	}
	im.cmds = cmdTemplates[im.base]
	if len(im.cmds) == 0 {
		im.cmds = []string{`"{path}" `}
	}
	class := fileClassOf[im.base]
	if class == "" {
		class = "system"
	}
	im.fileClass = fileClassIndex(class)
	if _, ok := spawnRules[im.base]; ok {
		im.spawnKey = im.base
	}
	im.hashes = c.hashesFor(im.ofn + "|" + im.version + "|" + im.base)
}

// hashesFor derives stable Sysmon Hashes for a binary identity, so that
// the same binary at two paths (or on two hosts) has the same hashes.
func (c *catalog) hashesFor(identity string) string {
	h := fnv.New64a()
	h.Write([]byte(identity))
	r := newRNG(c.seed ^ h.Sum64())
	return event.FormatHashes(randHex(&r, 40), randHex(&r, 32), randHex(&r, 64), randHex(&r, 32))
}

func (c *catalog) buildDLLs() {
	for _, line := range lines(system32DLLs) {
		f := strings.Split(line, "|")
		name := f[0]
		ofn := name[strings.LastIndexByte(name, '\\')+1:]
		m := &module{path: `C:\Windows\System32\` + name, ofn: ofn, desc: f[1], product: "Microsoft® Windows® Operating System",
			company: "Microsoft Corporation", version: winVersion(ofn), signature: "Microsoft Windows"}
		m.hashes = c.hashesFor(m.path + m.version)
		c.dlls = append(c.dlls, m)
	}
	for _, line := range lines(programDLLs) {
		f := strings.Split(line, "|")
		m := &module{path: f[0], ofn: f[1], desc: f[2], product: f[3], company: f[4], version: f[5], signature: f[4]}
		m.hashes = c.hashesFor(m.path + m.version)
		c.dlls = append(c.dlls, m)
	}
	c.dllPick = newAlias(zipfWeights(len(c.dlls)))
}

// badIPs are never produced by benign traffic (scenario C2 addresses).
var badIPs = map[string]bool{c2IP: true, c2IPAlt: true}

func (c *catalog) buildDomains(r *rng) {
	seen := map[string]bool{}
	add := func(name string) {
		if seen[name] || name == c2Domain {
			return
		}
		seen[name] = true
		d := &domain{name: name}
		n := 1 + r.intn(3)
		var b strings.Builder
		if r.chance(1, 3) { // CNAME into a CDN first, as real answers often do
			b.WriteString("type:  5 ")
			b.WriteString(expandSimple(cdnPatterns[r.intn(3)], r))
			b.WriteByte(';')
		}
		for i := 0; i < n; i++ {
			ip := publicIPv4(r)
			d.ips = append(d.ips, ip)
			b.WriteString("::ffff:")
			b.WriteString(ip)
			b.WriteByte(';')
		}
		if r.chance(1, 6) {
			ip6 := publicIPv6(r)
			d.ips = append(d.ips, ip6)
			b.WriteString(ip6)
			b.WriteByte(';')
		}
		d.results = b.String()
		c.domains = append(c.domains, d)
	}
	for _, name := range lines(popularDomains) {
		add(name)
	}
	for len(c.domains) < 3000 {
		add(expandSimple(cdnPatterns[r.intn(len(cdnPatterns))], r))
	}
	c.domPick = newAlias(zipfWeights(len(c.domains)))
}

// publicIPv4 draws an address from ranges that large providers announce,
// never a scenario's C2 address.
func publicIPv4(r *rng) string {
	firsts := []int{13, 20, 23, 34, 35, 40, 52, 54, 104, 108, 140, 142, 151, 157, 162, 172, 185, 199, 204, 216}
	for {
		b := make([]byte, 0, 15)
		b = appendInt(b, firsts[r.intn(len(firsts))])
		for i := 0; i < 3; i++ {
			b = append(b, '.')
			b = appendInt(b, 1+r.intn(254))
		}
		if s := string(b); !badIPs[s] {
			return s
		}
	}
}

func publicIPv6(r *rng) string {
	prefixes := []string{"2a00:1450:4001:", "2606:4700:", "2620:1ec:", "2603:1061:", "2001:4860:4802:"}
	b := []byte(prefixes[r.intn(len(prefixes))])
	b = appendHex(b, uint64(r.intn(0x10000)), 3)
	b = append(b, "::"...)
	b = appendHex(b, uint64(r.intn(0xffff)+1), 4)
	return string(b)
}

func appendInt(b []byte, v int) []byte {
	if v >= 10 {
		b = appendInt(b, v/10)
	}
	return append(b, byte('0'+v%10))
}

// expandSimple expands templates that need no host context (domains).
func expandSimple(tpl string, r *rng) string {
	var x expander
	return string(x.appendExpand(nil, tpl, r, nil))
}
