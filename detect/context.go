package detect

import "github.com/edr-lab/edr/event"

// setContext adds what the process table and DNS cache know and the event
// does not carry: command line, parent, user, PE and hashes of the acting
// process; destination.domain of a connection. This is the process context
// that is attached to alerts only, never to every event.
func (a *Alert) setContext(m *mapper) {
	if p := a.Proc; p != nil {
		m.setIfAbsent("process.entity_id", p.GUID)
		if !m.o.Has("process.pid") {
			m.setPID("process.pid", p.PID)
		}
		if !m.o.Has("process.executable") {
			m.setExecutable("process", p.Image)
		}
		if !m.o.Has("process.command_line") {
			m.setCommandLine("process", p.CommandLine)
		}
		m.setIfAbsent("process.working_directory", p.CurrentDirectory)
		if p.Start != 0 {
			m.o.Set("process.start", formatTimestamp(p.Start))
		}
		if !m.o.Has("process.pe") {
			m.setPE("process.pe", p.OriginalFileName, p.Company, p.Description, p.FileVersion, p.Product)
		}
		if !m.o.Has("process.hash") {
			m.setHashes("process", p.Hashes)
		}
		if !m.o.Has("user.name") && p.User != "" {
			m.setUser("user", p.User)
		}
		m.setParentFromChild(p)
	}
	if par := a.Parent; par != nil {
		m.setIfAbsent("process.parent.entity_id", par.GUID)
		if !m.o.Has("process.parent.pid") {
			m.setPID("process.parent.pid", par.PID)
		}
		if !m.o.Has("process.parent.executable") {
			m.setExecutable("process.parent", par.Image)
		}
		if !m.o.Has("process.parent.command_line") {
			m.setCommandLine("process.parent", par.CommandLine)
		}
		if par.Start != 0 {
			m.setIfAbsent("process.parent.start", formatTimestamp(par.Start))
		}
		if !m.o.Has("process.parent.user.name") && par.User != "" {
			m.o.Set("process.parent.user.name", par.User)
		}
	}
	if a.DestName != "" && m.ev.Has(event.FDestinationIp) && !m.o.Has("destination.domain") {
		m.o.Set("destination.domain", a.DestName)
		m.hosts = appendUnique(m.hosts, a.DestName)
	}
}

// setParentFromChild uses the Parent* fields the child's creation event
// recorded when the parent itself is not in the table.
func (m *mapper) setParentFromChild(p *Process) {
	m.setIfAbsent("process.parent.entity_id", p.ParentGUID)
	if !m.o.Has("process.parent.pid") {
		m.setPID("process.parent.pid", p.ParentPID)
	}
	if !m.o.Has("process.parent.executable") {
		m.setExecutable("process.parent", p.ParentImage)
	}
	if !m.o.Has("process.parent.command_line") {
		m.setCommandLine("process.parent", p.ParentCommand)
	}
	if !m.o.Has("process.parent.user.name") && p.ParentUser != "" {
		m.o.Set("process.parent.user.name", p.ParentUser)
	}
}

func (m *mapper) setIfAbsent(path, v string) {
	if v == "" || v == "-" || m.o.Has(path) {
		return
	}
	m.o.Set(path, v)
}
