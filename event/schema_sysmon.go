package event

// Sysmon events 1–29 and 255, fields in manifest order (schema 4.81; 27–29
// from Sysmon ≥ 14), with their process roles (roles.go). Spelling traps are deliberate: EID 10 has
// SourceProcessGUID/TargetProcessGUID, EID 8 has …Guid; EID 15 has Hash.
var sysmonDefs = []Def{
	sysmon(1, 5, "Process Create", "RuleName UtcTime:utctime ProcessGuid:guid ProcessId:uint Image FileVersion Description Product Company OriginalFileName CommandLine CurrentDirectory User LogonGuid:guid LogonId:hex TerminalSessionId:uint IntegrityLevel Hashes:hashes ParentProcessGuid:guid ParentProcessId:uint ParentImage ParentCommandLine ParentUser").starts(),
	sysmon(2, 5, "File creation time changed", "RuleName UtcTime:utctime ProcessGuid:guid ProcessId:uint Image TargetFilename CreationUtcTime:utctime PreviousCreationUtcTime:utctime User"),
	sysmon(3, 5, "Network connection detected", "RuleName UtcTime:utctime ProcessGuid:guid ProcessId:uint Image User Protocol Initiated:bool SourceIsIpv6:bool SourceIp:ip SourceHostname SourcePort:uint SourcePortName DestinationIsIpv6:bool DestinationIp:ip DestinationHostname DestinationPort:uint DestinationPortName"),
	sysmon(4, 3, "Sysmon service state changed", "UtcTime:utctime State Version SchemaVersion"),
	sysmon(5, 3, "Process terminated", "RuleName UtcTime:utctime ProcessGuid:guid ProcessId:uint Image User").ends(),
	sysmon(6, 4, "Driver loaded", "RuleName UtcTime:utctime ImageLoaded Hashes:hashes Signed Signature SignatureStatus").loads("ImageLoaded"),
	sysmon(7, 3, "Image loaded", "RuleName UtcTime:utctime ProcessGuid:guid ProcessId:uint Image ImageLoaded FileVersion Description Product Company OriginalFileName Hashes:hashes Signed Signature SignatureStatus User").loads("ImageLoaded"),
	sysmon(8, 2, "CreateRemoteThread detected", "RuleName UtcTime:utctime SourceProcessGuid:guid SourceProcessId:uint SourceImage TargetProcessGuid:guid TargetProcessId:uint TargetImage NewThreadId:uint StartAddress StartModule StartFunction SourceUser TargetUser").
		names(sysmonSource("SourceProcessGuid", "SourceProcessGUID", ""), nil, sysmonTarget("TargetProcessGuid", "TargetProcessGUID")),
	sysmon(9, 2, "RawAccessRead detected", "RuleName UtcTime:utctime ProcessGuid:guid ProcessId:uint Image Device User"),
	sysmon(10, 3, "Process accessed", "RuleName UtcTime:utctime SourceProcessGUID:guid SourceProcessId:uint SourceThreadId:uint SourceImage TargetProcessGUID:guid TargetProcessId:uint TargetImage GrantedAccess:hex CallTrace SourceUser TargetUser").
		names(sysmonSource("SourceProcessGUID", "SourceProcessGuid", "SourceThreadId"), nil, sysmonTarget("TargetProcessGUID", "TargetProcessGuid")),
	sysmon(11, 2, "File created", "RuleName UtcTime:utctime ProcessGuid:guid ProcessId:uint Image TargetFilename CreationUtcTime:utctime User"),
	sysmon(12, 2, "Registry object added or deleted", "RuleName EventType UtcTime:utctime ProcessGuid:guid ProcessId:uint Image TargetObject User"),
	sysmon(13, 2, "Registry value set", "RuleName EventType UtcTime:utctime ProcessGuid:guid ProcessId:uint Image TargetObject Details User"),
	sysmon(14, 2, "Registry object renamed", "RuleName EventType UtcTime:utctime ProcessGuid:guid ProcessId:uint Image TargetObject NewName User"),
	sysmon(15, 2, "File stream created", "RuleName UtcTime:utctime ProcessGuid:guid ProcessId:uint Image TargetFilename CreationUtcTime:utctime Hash:hashes Contents User"),
	sysmon(16, 3, "Sysmon config state changed", "UtcTime:utctime Configuration ConfigurationFileHash"),
	sysmon(17, 1, "Pipe Created", "RuleName EventType UtcTime:utctime ProcessGuid:guid ProcessId:uint PipeName Image User"),
	sysmon(18, 1, "Pipe Connected", "RuleName EventType UtcTime:utctime ProcessGuid:guid ProcessId:uint PipeName Image User"),
	sysmon(19, 3, "WmiEventFilter activity detected", "RuleName EventType UtcTime:utctime Operation User EventNamespace Name Query"),
	sysmon(20, 3, "WmiEventConsumer activity detected", "RuleName EventType UtcTime:utctime Operation User Name Type Destination"),
	sysmon(21, 3, "WmiEventConsumerToFilter activity detected", "RuleName EventType UtcTime:utctime Operation User Consumer Filter"),
	sysmon(22, 5, "Dns query", "RuleName UtcTime:utctime ProcessGuid:guid ProcessId:uint QueryName QueryStatus:uint QueryResults Image User"),
	sysmon(23, 5, "File Delete archived", "RuleName UtcTime:utctime ProcessGuid:guid ProcessId:uint User Image TargetFilename Hashes:hashes IsExecutable:bool Archived"),
	sysmon(24, 5, "Clipboard changed", "RuleName UtcTime:utctime ProcessGuid:guid ProcessId:uint Image Session:uint ClientInfo Hashes:hashes Archived User"),
	sysmon(25, 5, "Process Tampering", "RuleName UtcTime:utctime ProcessGuid:guid ProcessId:uint Image Type User"),
	sysmon(26, 5, "File Delete logged", "RuleName UtcTime:utctime ProcessGuid:guid ProcessId:uint User Image TargetFilename Hashes:hashes IsExecutable:bool"),
	sysmon(27, 5, "File Block Executable", "RuleName UtcTime:utctime ProcessGuid:guid ProcessId:uint User Image TargetFilename Hashes:hashes"),
	sysmon(28, 5, "File Block Shredding", "RuleName UtcTime:utctime ProcessGuid:guid ProcessId:uint User Image TargetFilename Hashes:hashes IsExecutable:bool"),
	sysmon(29, 5, "File Executable Detected", "RuleName UtcTime:utctime ProcessGuid:guid ProcessId:uint User Image TargetFilename Hashes:hashes"),
	sysmon(255, 3, "Error report", "UtcTime:utctime ID Description"),
}

func sysmon(id uint16, version uint8, name, fields string) Def {
	return Def{Channel: ChannelSysmon, Provider: ProviderSysmon, EventID: id, Version: version, Name: name, spec: fields}
}
