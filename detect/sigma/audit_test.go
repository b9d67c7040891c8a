package sigma_test

import (
	"testing"

	"github.com/edr-lab/edr/detect/sigma"
	"github.com/edr-lab/edr/event"
	"github.com/stretchr/testify/require"
)

const auditRulesYAML = `title: whoami
id: a0000000-0000-4000-8000-000000000001
logsource: {product: windows, category: process_creation}
detection:
    sel:
        Image|endswith: '\whoami.exe'
        ParentImage|endswith: '\cmd.exe'
        IntegrityLevel: High
        User|contains: 'alice'
    condition: sel
---
title: run key
id: a0000000-0000-4000-8000-000000000002
logsource: {product: windows, category: registry_set}
detection:
    sel:
        TargetObject|contains: '\CurrentVersion\Run\'
        Details|contains: 'evil.exe'
    condition: sel
---
title: rdp out
id: a0000000-0000-4000-8000-000000000003
logsource: {product: windows, category: network_connection}
detection:
    sel:
        DestinationPort: 3389
        Initiated: 'true'
        Protocol: tcp
    condition: sel
`

// auditEvents are a 4688, a 4657 and a 5156 on host that the rules of
// auditRulesYAML match through their audit views (in that order).
func auditEvents(host string) []*event.Event {
	p4688 := secEvent(4688, 0, "NewProcessName", `C:\Windows\System32\whoami.exe`, "ParentProcessName", `C:\Windows\System32\cmd.exe`,
		"MandatoryLabel", "S-1-16-12288", "TargetUserName", "-", "SubjectUserName", "alice", "SubjectDomainName", "CORP", "NewProcessId", "0x1a2c")
	r4657 := secEvent(4657, 0, "ObjectName", `\REGISTRY\MACHINE\SOFTWARE\Microsoft\Windows\CurrentVersion\Run`, "ObjectValueName", "x", "NewValue", `C:\evil.exe`)
	n5156 := secEvent(5156, 0, "DestPort", "3389", "Direction", "%%14593", "Protocol", "6", "Application", `\device\harddiskvolume2\windows\system32\mstsc.exe`)
	evs := []*event.Event{p4688, r4657, n5156}
	for _, ev := range evs {
		ev.Host = host
	}
	return evs
}

func auditID(i int) string { return "a0000000-0000-4000-8000-00000000000" + string(rune('1'+i)) }

func TestSecurityAuditViews(t *testing.T) {
	yml := auditRulesYAML
	off := mustLoad(t, yml, sigma.Options{}).NewMatcher()
	on := mustLoad(t, yml, sigma.Options{SecurityAudit: true}).NewMatcher()
	for i, ev := range auditEvents("h") {
		require.Empty(t, matchIDs(off, ev), "off by default")
		require.Equal(t, []string{auditID(i)}, matchIDs(on, ev))
	}
}

// scanner.sigma_security_audit = "auto": a host's audit events get the view
// of a category only when the cover says the host has no Sysmon events of it.
func TestSecurityAuditAuto(t *testing.T) {
	rs := mustLoad(t, auditRulesYAML, sigma.Options{SecurityAuditAuto: true})
	cover := map[string]sigma.AuditCategories{
		"sysmon-proc": sigma.SysmonCategory(1),
		"sysmon-all":  sigma.SysmonCategory(1) | sigma.SysmonCategory(13) | sigma.SysmonCategory(3),
	}
	auto := rs.WithAuditCover(cover).NewMatcher()
	// Security-only host: every view applies
	for i, ev := range auditEvents("security-only") {
		require.Equal(t, []string{auditID(i)}, matchIDs(auto, ev), "security-only %d", i)
	}
	// a host with Sysmon process creations: 4688 is not matched again, the
	// registry and network views still apply
	evs := auditEvents("sysmon-proc")
	require.Empty(t, matchIDs(auto, evs[0]))
	require.Equal(t, []string{auditID(1)}, matchIDs(auto, evs[1]))
	require.Equal(t, []string{auditID(2)}, matchIDs(auto, evs[2]))
	// the same process start seen by Sysmon 1 alerts once, through Sysmon
	sysmon1 := &event.Event{Host: "sysmon-proc", Channel: event.ChannelSysmon, EventID: 1, Time: t0}
	for _, kv := range [][2]string{{"Image", `C:\Windows\System32\whoami.exe`}, {"ParentImage", `C:\Windows\System32\cmd.exe`},
		{"IntegrityLevel", "High"}, {"User", `CORP\alice`}} {
		sysmon1.SetByName(kv[0], kv[1])
	}
	require.Equal(t, []string{auditID(0)}, matchIDs(auto, sysmon1))
	for i, ev := range auditEvents("sysmon-all") {
		require.Empty(t, matchIDs(auto, ev), "sysmon-all %d", i)
	}
	// without a cover (live capture), auto applies no view
	for i, ev := range auditEvents("security-only") {
		require.Empty(t, matchIDs(rs.NewMatcher(), ev), "no cover %d", i)
	}
	// true ignores the cover
	on := mustLoad(t, auditRulesYAML, sigma.Options{SecurityAudit: true}).WithAuditCover(cover).NewMatcher()
	for i, ev := range auditEvents("sysmon-all") {
		require.Equal(t, []string{auditID(i)}, matchIDs(on, ev))
	}
	require.Equal(t, sigma.AuditCategories(0), sigma.SysmonCategory(11), "file events have no audit view")
}
