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
	fileClass                                        int  // index into fileClasses, -1: by account
	cmds                                             []string
	spawnKey                                         string    // key into spawnRules ("" = spawns nothing)
	net                                              int       // index into catalog.groups, or netNone/netBrowser/netInternal
	regClass                                         int       // index into regClasses, -1: by account
	tracing                                          []string  // RAS tracing values (built on first use)
	dlls                                             []*module // modules only this image loads
}

// module is a DLL an image loads.
type module struct {
	path, ofn, desc, product, company, version, hashes string
	signature                                          string
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
	groups  []netGroup // by name
	ports   []string   // decimal renderings of 0..65535
}

func newCatalog(seed uint64) *catalog {
	c := &catalog{seed: seed, byBase: map[string][]*image{}}
	r := newRNG(seed ^ 0x5eed_ca7a_1095)
	c.ports = make([]string, 65536)
	for i := range c.ports {
		c.ports[i] = event.Itoa(uint64(i))
	}
	c.buildDomains(&r)
	for _, line := range lines(system32Images) {
		f := strings.Split(line, "|")
		path := `C:\Windows\System32\` + f[0]
		if f[0][0] == '^' {
			path = `C:\Windows\` + f[0][1:]
		}
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
	return c
}

// fileClass is a kind of writer with the paths it writes.
type fileClass struct {
	name      string
	templates []string // every path the class writes
	transient []string // the temporary ones, which it also deletes or re-times
	machine   bool     // writes outside the user profile (a Medium-integrity process cannot)
}

// fileClasses are fileTemplates in name order (so that indexes, and pool
// creation order, never depend on map iteration).
var fileClasses = func() []fileClass {
	names := sortedKeys(fileTemplates)
	out := make([]fileClass, len(names))
	for i, n := range names {
		out[i].name = n
		for _, t := range fileTemplates[n] {
			if t[0] == '~' {
				t = t[1:]
				out[i].transient = append(out[i].transient, t)
			}
			out[i].templates = append(out[i].templates, t)
			if !strings.HasPrefix(t, "{home}") && !strings.HasPrefix(t, `C:\ProgramData\`) {
				out[i].machine = true
			}
		}
	}
	return out
}()

func fileClassIndex(name string) int {
	return indexByName(fileClasses, func(c *fileClass) string { return c.name }, name, "file class")
}

// sortedKeys returns a map's keys in order: tables built from maps must
// not depend on map iteration order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// indexByName is the index of the item named want (construction time
// only: an unknown name is a bug in the tables).
func indexByName[T any](items []T, name func(*T) string, want, what string) int {
	for i := range items {
		if name(&items[i]) == want {
			return i
		}
	}
	panic("synth: unknown " + what + " " + want)
}

var classDev, classSystem, classUser = fileClassIndex("dev"), fileClassIndex("system"), fileClassIndex("userapp")

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
	im.w, im.short = activityWeights(flags)
	im.cmds = cmdTemplates[im.base]
	if len(im.cmds) == 0 {
		im.cmds = []string{`"{path}" `}
	}
	im.fileClass, im.regClass = -1, -1
	if class := fileClassOf[im.base]; class != "" {
		im.fileClass = fileClassIndex(class)
	}
	if class := regClassOf[im.base]; class != "" {
		im.regClass = regClassIndex(class)
	}
	im.net = c.netGroupIndex(netGroupOf[im.base])
	if _, ok := spawnRules[im.base]; ok {
		im.spawnKey = im.base
	}
	im.hashes = c.hashesFor(im.ofn + "|" + im.version + "|" + im.base)
}

// activityWeights reads activity flags: n=net, f=file, r=registry, d=loads
// DLLs, q=DNS (upper case = heavy), s=short-lived.
func activityWeights(flags string) (w [numAct]int, short bool) {
	for _, ch := range flags {
		v := 2
		if ch >= 'A' && ch <= 'Z' {
			v = 10
		}
		switch ch | 0x20 {
		case 'n':
			w[actNet] = v
		case 'f':
			w[actFile] = v
		case 'r':
			w[actReg] = v
		case 'd':
			w[actDLL] = v
		case 'q':
			w[actDNS] = v
		case 's':
			short = true
		}
	}
	return w, short
}

// hashesFor derives stable Sysmon Hashes for a binary identity, so that
// the same binary at two paths (or on two hosts) has the same hashes.
func (c *catalog) hashesFor(identity string) string {
	h := fnv.New64a()
	h.Write([]byte(identity))
	r := newRNG(c.seed ^ h.Sum64())
	return event.FormatHashes(randHex(&r, 40), randHex(&r, 32), randHex(&r, 64), randHex(&r, 32))
}

// buildDLLs builds the modules: the ones any process loads (drawn with
// Zipf weights) and the ones only some images load (attached to them).
func (c *catalog) buildDLLs() {
	owned := map[string][]*module{}
	add := func(m *module, owners string) {
		m.hashes = c.hashesFor(m.path + m.version)
		if owners == "" {
			c.dlls = append(c.dlls, m)
			return
		}
		for _, o := range strings.Fields(owners) {
			owned[o] = append(owned[o], m)
		}
	}
	for _, line := range lines(system32DLLs) {
		f := strings.Split(line+"|", "|")
		name := f[0]
		ofn := name[strings.LastIndexByte(name, '\\')+1:]
		add(&module{path: `C:\Windows\System32\` + name, ofn: ofn, desc: f[1], product: "Microsoft® Windows® Operating System",
			company: "Microsoft Corporation", version: winVersion(ofn), signature: "Microsoft Windows"}, f[2])
	}
	for _, line := range lines(programDLLs) {
		f := strings.Split(line, "|")
		add(&module{path: f[0], ofn: f[1], desc: f[2], product: f[3], company: f[4], version: f[5], signature: f[4]}, f[6])
	}
	c.dllPick = newAlias(zipfWeights(len(c.dlls)))
	for _, im := range append(append([]*image(nil), c.images...), c.userDef...) {
		im.dlls = owned[im.base]
	}
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
