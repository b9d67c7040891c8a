package sigma_test

import (
	"testing"

	"github.com/edr-lab/edr/detect/sigma"
	"github.com/edr-lab/edr/event"
	"github.com/stretchr/testify/require"
)

func TestSecurityAuditViews(t *testing.T) {
	yml := `title: whoami
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
	p4688 := secEvent(4688, 0, "NewProcessName", `C:\Windows\System32\whoami.exe`, "ParentProcessName", `C:\Windows\System32\cmd.exe`,
		"MandatoryLabel", "S-1-16-12288", "TargetUserName", "-", "SubjectUserName", "alice", "SubjectDomainName", "CORP", "NewProcessId", "0x1a2c")
	r4657 := secEvent(4657, 0, "ObjectName", `\REGISTRY\MACHINE\SOFTWARE\Microsoft\Windows\CurrentVersion\Run`, "ObjectValueName", "x", "NewValue", `C:\evil.exe`)
	n5156 := secEvent(5156, 0, "DestPort", "3389", "Direction", "%%14593", "Protocol", "6", "Application", `\device\harddiskvolume2\windows\system32\mstsc.exe`)
	off := mustLoad(t, yml, sigma.Options{}).NewMatcher()
	on := mustLoad(t, yml, sigma.Options{SecurityAudit: true}).NewMatcher()
	for i, ev := range []*event.Event{p4688, r4657, n5156} {
		require.Empty(t, matchIDs(off, ev), "off by default")
		require.Equal(t, []string{"a0000000-0000-4000-8000-00000000000" + string(rune('1'+i))}, matchIDs(on, ev))
	}
}
