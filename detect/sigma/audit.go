package sigma

import (
	"strings"

	"github.com/edr-lab/edr/event"
)

// Options.SecurityAudit: Sysmon-category rules also run on the built-in
// Windows audit events that carry the same facts, as Hayabusa does: Security
// 4688 for process_creation, 4657 for registry_set / registry_event and
// 5156 for network_connection. Instead of rewriting each rule's field names
// (thor.yml's fieldmappings: Image → NewProcessName, ParentImage →
// ParentProcessName), edr reads the audit event through a Sysmon-shaped
// view: the fields that have a Sysmon equivalent are copied under the Sysmon
// name (with the value renderings converted), the others are absent. Rules
// that need a field the audit event lacks (OriginalFileName, Hashes, …) can
// therefore only match through their other selections.

type auditKind uint8

const (
	auditNone auditKind = iota
	audit4688
	audit4657
	audit5156
)

// auditTarget maps a logsource category to its audit event.
func auditTarget(category string) (auditKind, uint16) {
	switch category {
	case "process_creation":
		return audit4688, 4688
	case "registry_set", "registry_event":
		return audit4657, 4657
	case "network_connection":
		return audit5156, 5156
	}
	return auditNone, 0
}

// AuditCategories is a set of the Sysmon categories the audit views stand
// in for (Options.SecurityAuditAuto).
type AuditCategories uint8

// The categories, each with the Sysmon events that carry it and the audit
// event whose view is skipped when a host has them.
const (
	AuditProcessCreation AuditCategories = 1 << iota // Sysmon 1; Security 4688
	AuditRegistry                                    // Sysmon 12, 13, 14; Security 4657
	AuditNetwork                                     // Sysmon 3; Security 5156
)

// SysmonCategory returns the category a Sysmon event ID carries (0: none
// an audit view stands in for).
func SysmonCategory(eventID uint16) AuditCategories {
	switch eventID {
	case 1:
		return AuditProcessCreation
	case 12, 13, 14:
		return AuditRegistry
	case 3:
		return AuditNetwork
	}
	return 0
}

func (k auditKind) category() AuditCategories {
	switch k {
	case audit4688:
		return AuditProcessCreation
	case audit4657:
		return AuditRegistry
	case audit5156:
		return AuditNetwork
	}
	return 0
}

// WithAuditCover returns rs (sharing its compiled program) with the audit
// views of Options.SecurityAuditAuto applied to a host's audit events
// only for the categories cover[host] lacks: cover says, per host, which
// categories its Sysmon events carry in what is evaluated, so that an
// activity Sysmon saw is not matched again through its audit event. A host
// not in cover has no Sysmon events: every view applies. cover is read,
// never written, and must not change afterwards. Under SecurityAudit (or
// neither option) the result behaves as rs.
func (rs *Ruleset) WithAuditCover(cover map[string]AuditCategories) *Ruleset {
	c := *rs
	c.cover, c.coverSet = cover, true
	return &c
}

// auditApplies says whether host's audit events of kind get their view.
func (rs *Ruleset) auditApplies(host string, kind auditKind) bool {
	if rs.opts.SecurityAudit {
		return true
	}
	return rs.coverSet && rs.cover[host]&kind.category() == 0
}

var integrityLevels = map[string]string{
	"S-1-16-0": "Untrusted", "S-1-16-4096": "Low", "S-1-16-8192": "Medium", "S-1-16-8448": "Medium",
	"S-1-16-12288": "High", "S-1-16-16384": "System", "S-1-16-20480": "Protected",
}

// auditView fills v with the Sysmon-shaped view of an audit event.
func auditView(kind auditKind, ev, v *event.Event) {
	v.Reset()
	v.Time, v.Host, v.Channel, v.Provider, v.EventID, v.RecordID = ev.Time, ev.Host, ev.Channel, ev.Provider, ev.EventID, ev.RecordID
	v.Seq, v.Source, v.Flags = ev.Seq, ev.Source, ev.Flags
	cp := func(to, from string) {
		if s, ok := ev.Lookup(from); ok {
			v.SetByName(to, s)
		}
	}
	cpHexPID := func(to, from string) {
		if s, ok := ev.Lookup(from); ok {
			if n, ok := parseNum(s); ok && n >= 0 {
				s = event.Itoa(uint64(n))
			}
			v.SetByName(to, s)
		}
	}
	for _, f := range []string{"Computer", "Security_UserID"} {
		cp(f, f)
	}
	switch kind {
	case audit4688:
		cp("Image", "NewProcessName")
		cp("ParentImage", "ParentProcessName")
		cp("CommandLine", "CommandLine")
		cpHexPID("ProcessId", "NewProcessId")
		cpHexPID("ParentProcessId", "ProcessId")
		cp("LogonId", "SubjectLogonId")
		if u, ok := account(ev, "Target"); ok {
			v.SetByName("User", u)
		} else if u, ok := account(ev, "Subject"); ok {
			v.SetByName("User", u)
		}
		if l, ok := ev.Lookup("MandatoryLabel"); ok {
			if il, ok := integrityLevels[strings.ToUpper(l)]; ok {
				v.SetByName("IntegrityLevel", il)
			}
		}
	case audit4657:
		if key, ok := ev.Lookup("ObjectName"); ok {
			obj := registryHive(key)
			if name, ok := ev.Lookup("ObjectValueName"); ok && name != "" && name != "-" {
				obj += `\` + name
			}
			v.SetByName("TargetObject", obj)
		}
		cp("Details", "NewValue")
		cp("Image", "ProcessName")
		cpHexPID("ProcessId", "ProcessId")
		v.SetByName("EventType", "SetValue")
		if u, ok := account(ev, "Subject"); ok {
			v.SetByName("User", u)
		}
	case audit5156:
		cp("Image", "Application")
		cp("ProcessId", "ProcessID")
		cp("SourceIp", "SourceAddress")
		cp("SourcePort", "SourcePort")
		cp("DestinationIp", "DestAddress")
		cp("DestinationPort", "DestPort")
		if p, ok := ev.Lookup("Protocol"); ok {
			switch p {
			case "6":
				p = "tcp"
			case "17":
				p = "udp"
			}
			v.SetByName("Protocol", p)
		}
		if d, ok := ev.Lookup("Direction"); ok {
			switch strings.ToLower(d) {
			case "%%14593", "outbound":
				v.SetByName("Initiated", "true")
			case "%%14592", "inbound":
				v.SetByName("Initiated", "false")
			}
		}
	}
}

func account(ev *event.Event, prefix string) (string, bool) {
	name, ok := ev.Lookup(prefix + "UserName")
	if !ok || name == "" || name == "-" {
		return "", false
	}
	if dom, ok := ev.Lookup(prefix + "DomainName"); ok && dom != "" && dom != "-" {
		return dom + `\` + name, true
	}
	return name, true
}

// registryHive turns the kernel path of a 4657 ObjectName into Sysmon's
// abbreviated form (\REGISTRY\MACHINE\… → HKLM\…, \REGISTRY\USER\… → HKU\…).
func registryHive(p string) string {
	for _, h := range [][2]string{{`\REGISTRY\MACHINE`, "HKLM"}, {`\REGISTRY\USER`, "HKU"}} {
		if len(p) >= len(h[0]) && strings.EqualFold(p[:len(h[0])], h[0]) {
			return h[1] + p[len(h[0]):]
		}
	}
	return p
}
