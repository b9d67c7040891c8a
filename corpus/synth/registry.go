package synth

import (
	"strings"

	"github.com/edr-lab/edr/event"
)

// regTemplate is one registry value a kind of writer sets.
type regTemplate struct {
	kind    byte     // how Details renders: D DWORD, Q QWORD, B binary, S string
	path    string   // TargetObject template
	details []string // Details templates to choose from; nil: drawn by kind
	del     bool     // a transient value: also deleted (DeleteValue, DeleteKey)
}

// regClass is a kind of writer with the values it sets.
type regClass struct {
	name      string
	templates []regTemplate
	machine   bool // writes HKLM or HKCR (a Medium-integrity process cannot)
}

// regClasses are regTemplates parsed, in name order (indexes and host
// pools never depend on map iteration).
var regClasses = func() []regClass {
	names := sortedKeys(regTemplates)
	out := make([]regClass, len(names))
	for i, n := range names {
		out[i] = regClass{name: n}
		for _, line := range regTemplates[n] {
			f := strings.Split(line, "|")
			t := regTemplate{kind: f[0][0], path: f[1], del: strings.Contains(f[0], "x")}
			if len(f) > 2 {
				t.details = strings.Split(f[2], ";")
			}
			if !strings.HasPrefix(t.path, `HKU\`) {
				out[i].machine = true
			}
			out[i].templates = append(out[i].templates, t)
		}
	}
	return out
}()

func regClassIndex(name string) int {
	return indexByName(regClasses, func(c *regClass) string { return c.name }, name, "registry class")
}

var regService, regUser = regClassIndex("service"), regClassIndex("user")

// regEntry is a value a host's writers set again and again.
type regEntry struct {
	target string
	t      *regTemplate
}

// regTarget picks a value p writes: mostly from the host's pool for p's
// class (the same values are rewritten all the time), sometimes a fresh
// one.
func (g *Generator) regTarget(h *host, p *proc) regEntry {
	class := &regClasses[p.regClass]
	pool := h.regPool[p.regClass]
	if pool == nil {
		for i := 0; i < 24*len(class.templates); i++ {
			t := &class.templates[i%len(class.templates)]
			pool = append(pool, regEntry{g.expandHost(h, t.path), t})
		}
		h.regPool[p.regClass] = pool
	}
	if h.r.chance(1, 5) {
		t := &class.templates[h.r.intn(len(class.templates))]
		return regEntry{g.expandHost(h, t.path), t}
	}
	return pool[h.r.intn(len(pool))]
}

var dwords = func() []string {
	s := make([]string, 256)
	for i := range s {
		s[i] = "DWORD (0x" + string(appendHex(nil, uint64(i), 8)) + ")"
	}
	return s
}()

func (g *Generator) details(h *host, t *regTemplate) string {
	if t.details != nil {
		d := t.details[h.r.intn(len(t.details))]
		if strings.IndexByte(d, '{') < 0 {
			return d
		}
		return g.expandHost(h, d)
	}
	switch t.kind {
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
		return words[h.r.intn(len(words))]
	}
	if h.r.chance(1, 20) {
		return "(Empty)"
	}
	return "Binary Data"
}

// tracingValues are what the RAS tracing setup writes under
// HKLM\SOFTWARE\Microsoft\Tracing\<process>_RASAPI32 and _RASMANCS the first
// times a process uses the network stack (every networking process on a
// real host does).
var tracingValues = []struct{ name, details string }{
	{"EnableFileTracing", "DWORD (0x00000000)"}, {"EnableAutoFileTracing", "DWORD (0x00000000)"},
	{"EnableConsoleTracing", "DWORD (0x00000000)"}, {"FileTracingMask", "DWORD (0xffff0000)"},
	{"ConsoleTracingMask", "DWORD (0xffff0000)"}, {"MaxFileSize", "DWORD (0x00100000)"},
	{"FileDirectory", `%windir%\tracing`},
}

// tracingTarget is one of p's RAS tracing values.
func (h *host) tracingTarget(p *proc) (target, details string) {
	im := p.img
	if im.tracing == nil {
		name := im.base
		if i := strings.LastIndexByte(name, '.'); i > 0 {
			name = name[:i]
		}
		for _, suffix := range []string{"_RASAPI32\\", "_RASMANCS\\"} {
			for _, v := range tracingValues {
				im.tracing = append(im.tracing, `HKLM\SOFTWARE\Microsoft\Tracing\`+name+suffix+v.name)
			}
		}
	}
	i := h.r.intn(len(im.tracing))
	return im.tracing[i], tracingValues[i%len(tracingValues)].details
}

func (g *Generator) regSet(h *host, e *event.Event) {
	p := h.actor(actReg)
	var target, details string
	if p.w[actNet] > 0 && h.r.chance(1, 10) {
		target, details = h.tracingTarget(p)
	} else {
		re := g.regTarget(h, p)
		target, details = re.target, g.details(h, re.t)
	}
	g.sysmon(e, h, 13)
	e.Set(fEventType, "SetValue")
	subjectProc(e, p)
	e.Set(fTargetObject, target)
	e.Set(fDetails, details)
}

func (g *Generator) regKey(h *host, e *event.Event) {
	p := h.actor(actReg)
	re := g.regTarget(h, p)
	target := re.target
	g.sysmon(e, h, 12)
	switch x := h.r.intn(10); {
	case x < 6 || !re.t.del: // writers open their keys with RegCreateKey
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
	target := g.regTarget(h, p).target
	key := target[:strings.LastIndexByte(target, '\\')]
	g.sysmon(e, h, 14)
	e.Set(fEventType, "RenameKey")
	subjectProc(e, p)
	e.Set(fTargetObject, key)
	e.Set(fNewName, key[:strings.LastIndexByte(key, '\\')+1]+words[h.r.intn(len(words))])
}
