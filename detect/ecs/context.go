package ecs

import (
	"strings"

	"github.com/edr-lab/edr/detect"
	"github.com/edr-lab/edr/event"
)

// setContext adds what the process table and DNS cache know and the event
// does not carry: command line, parent, user, PE and hashes of the acting
// process; destination.domain of a connection. This is the process context
// that is attached to alerts only, never to every event.
func setContext(a *detect.Alert, m *mapper) {
	if p := a.Proc; p != nil {
		m.fillProcess("process", procFields{p.GUID, p.PID, p.Image, p.CommandLine, p.Start})
		m.setIfAbsent("process", "working_directory", p.CurrentDirectory)
		f := p.FileInfo()
		if !m.o.Has("process.pe") {
			m.setPE("process.pe", f.OriginalFileName, f.Company, f.Description, f.FileVersion, f.Product)
		}
		if !m.o.Has("process.hash") {
			m.setHashes("process", f.Hashes)
		}
		if !m.o.Has("user.name") && p.User != "" {
			m.setUser("user", p.User)
		}
	}
	if par := a.Parent; par != nil {
		m.fillProcess("process.parent", procFields{par.GUID, par.PID, par.Image, par.CommandLine, par.Start})
		m.setParentUser(par.User)
	}
	if p := a.Proc; p != nil {
		// The child's creation event recorded its parent even when the
		// parent itself is not in the table.
		m.fillProcess("process.parent", procFields{p.ParentGUID, p.ParentPID, p.ParentImage, p.ParentCommand, 0})
		m.setParentUser(p.ParentUser)
	}
	if a.DestName != "" && m.ev.Has(event.FDestinationIp) && !m.o.Has("destination.domain") {
		m.o.SetString("destination.domain", a.DestName)
		m.hosts = appendUnique(m.hosts, a.DestName)
	}
}

type procFields struct {
	guid, pid, image, commandLine string
	start                         int64
}

// fillProcess sets the <p>.* identity fields the event did not set.
func (m *mapper) fillProcess(p string, f procFields) {
	m.setIfAbsent(p, "entity_id", f.guid)
	if !m.has(p, "pid") {
		m.setPID(p, f.pid)
	}
	if !m.has(p, "executable") {
		m.setExecutable(p, f.image)
	}
	if !m.has(p, "command_line") {
		m.setCommandLine(p, f.commandLine)
	}
	if f.start != 0 && !m.has(p, "start") {
		m.setIfAbsent(p, "start", formatTimestamp(f.start))
	}
}

// has reports whether <p>.<key> is set.
func (m *mapper) has(p, key string) bool {
	c := m.o.Child(p)
	return c != nil && c.Has(key)
}

// setIfAbsent sets <p>.<key> unless it is set or v is empty or "-".
func (m *mapper) setIfAbsent(p, key, v string) {
	if v == "" || v == "-" || m.has(p, key) {
		return
	}
	m.o.Obj(p).SetString(key, v)
}

// setParentUser sets process.parent.user.name (the account name without
// its domain: ECS has no process.parent.user.domain) unless the event did.
func (m *mapper) setParentUser(u string) {
	if u == "" || u == "-" || m.o.Has("process.parent.user.name") {
		return
	}
	if _, name, ok := strings.Cut(u, `\`); ok && !strings.Contains(name, `\`) {
		u = name
	}
	m.o.SetString("process.parent.user.name", u)
}
