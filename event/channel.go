package event

import "strings"

// Channels edr knows by name. Channel strings are compared exactly in the hot
// path, so producers canonicalize them once with CanonicalChannel.
const (
	ChannelSysmon            = "Microsoft-Windows-Sysmon/Operational"
	ChannelSecurity          = "Security"
	ChannelSystem            = "System"
	ChannelApplication       = "Application"
	ChannelPowerShell        = "Microsoft-Windows-PowerShell/Operational"
	ChannelPowerShellCore    = "PowerShellCore/Operational"
	ChannelPowerShellClassic = "Windows PowerShell"
	ChannelTaskScheduler     = "Microsoft-Windows-TaskScheduler/Operational"
	ChannelWMIActivity       = "Microsoft-Windows-WMI-Activity/Operational"
	ChannelDNSClient         = "Microsoft-Windows-DNS Client Events/Operational"
	ChannelDefender          = "Microsoft-Windows-Windows Defender/Operational"
	ChannelBITS              = "Microsoft-Windows-Bits-Client/Operational"
	ChannelCodeIntegrity     = "Microsoft-Windows-CodeIntegrity/Operational"
	ChannelFirewall          = "Microsoft-Windows-Windows Firewall With Advanced Security/Firewall"
	ChannelNTLM              = "Microsoft-Windows-NTLM/Operational"
)

// Providers edr knows by name.
const (
	ProviderSysmon            = "Microsoft-Windows-Sysmon"
	ProviderSecurityAuditing  = "Microsoft-Windows-Security-Auditing"
	ProviderEventlog          = "Microsoft-Windows-Eventlog"
	ProviderSCM               = "Service Control Manager"
	ProviderPowerShell        = "Microsoft-Windows-PowerShell"
	ProviderPowerShellClassic = "PowerShell"
	ProviderTaskScheduler     = "Microsoft-Windows-TaskScheduler"
	ProviderWMIActivity       = "Microsoft-Windows-WMI-Activity"
	ProviderDNSClient         = "Microsoft-Windows-DNS-Client"
	ProviderDefender          = "Microsoft-Windows-Windows Defender"
)

var knownChannels = []string{
	ChannelSysmon, ChannelSecurity, ChannelSystem, ChannelApplication, ChannelPowerShell,
	ChannelPowerShellCore, ChannelPowerShellClassic, ChannelTaskScheduler, ChannelWMIActivity,
	ChannelDNSClient, ChannelDefender, ChannelBITS, ChannelCodeIntegrity, ChannelFirewall, ChannelNTLM,
}

var channelByFold = func() map[string]string {
	m := make(map[string]string, len(knownChannels))
	for _, c := range knownChannels {
		m[strings.ToLower(c)] = c
	}
	return m
}()

// CanonicalChannel returns the canonical spelling of a known channel whatever
// its case ("security" → "Security"); unknown channels are returned unchanged.
func CanonicalChannel(s string) string {
	if c, ok := channelByFold[strings.ToLower(s)]; ok {
		return c
	}
	return s
}
