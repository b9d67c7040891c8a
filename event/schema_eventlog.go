package event

// The non-Sysmon events that SigmaHQ Windows rules read, fields in manifest
// order. Anything an event carries beyond these lands in Event.Extra.
const (
	subject = "SubjectUserSid:sid SubjectUserName SubjectDomainName SubjectLogonId:hex "
	target  = "TargetUserName TargetDomainName TargetSid:sid "
	// client-process fields added to service and task auditing by newer builds
	clientProc = " ClientProcessStartKey ClientProcessId:uint ParentProcessId:uint RpcCallClientLocality FQDN"
	// account attributes shared by 4720, 4738, 4742
	account = " SamAccountName DisplayName UserPrincipalName HomeDirectory HomePath ScriptPath ProfilePath UserWorkstations PasswordLastSet AccountExpires PrimaryGroupId AllowedToDelegateTo OldUacValue NewUacValue UserAccountControl UserParameters SidHistory LogonHours"
	wfpConn = "ProcessID:uint Application Direction SourceAddress:ip SourcePort:uint DestAddress:ip DestPort:uint Protocol:uint FilterRTID:uint LayerName LayerRTID:uint RemoteUserID:sid RemoteMachineID:sid"
)

var securityDefs = []Def{
	security(1102, 1, "The audit log was cleared", subject),
	security(4608, 0, "Windows is starting up", ""),
	security(4610, 0, "An authentication package has been loaded by the Local Security Authority", "AuthenticationPackageName"),
	security(4611, 0, "A trusted logon process has been registered with the Local Security Authority", subject+"LogonProcessName"),
	security(4614, 0, "A notification package has been loaded by the Security Account Manager", "NotificationPackageName"),
	security(4616, 1, "The system time was changed", subject+"PreviousTime:filetime NewTime:filetime ProcessId:hex ProcessName"),
	security(4622, 0, "A security package has been loaded by the Local Security Authority", "SecurityPackageName"),
	security(4624, 2, "An account was successfully logged on", subject+"TargetUserSid:sid TargetUserName TargetDomainName TargetLogonId:hex LogonType:uint LogonProcessName AuthenticationPackageName WorkstationName LogonGuid:guid TransmittedServices LmPackageName KeyLength:uint ProcessId:hex ProcessName IpAddress IpPort ImpersonationLevel RestrictedAdminMode TargetOutboundUserName TargetOutboundDomainName VirtualAccount TargetLinkedLogonId:hex ElevatedToken"),
	security(4625, 0, "An account failed to log on", subject+"TargetUserSid:sid TargetUserName TargetDomainName Status:hex FailureReason SubStatus:hex LogonType:uint LogonProcessName AuthenticationPackageName WorkstationName TransmittedServices LmPackageName KeyLength:uint ProcessId:hex ProcessName IpAddress IpPort"),
	security(4627, 0, "Group membership information", subject+"TargetUserSid:sid TargetUserName TargetDomainName TargetLogonId:hex LogonType:uint EventIdx:uint EventCountTotal:uint GroupMembership"),
	security(4634, 0, "An account was logged off", "TargetUserSid:sid TargetUserName TargetDomainName TargetLogonId:hex LogonType:uint"),
	security(4647, 0, "User initiated logoff", "TargetUserSid:sid TargetUserName TargetDomainName TargetLogonId:hex"),
	security(4648, 0, "A logon was attempted using explicit credentials", subject+"LogonGuid:guid TargetUserName TargetDomainName TargetLogonGuid:guid TargetServerName TargetInfo ProcessId:hex ProcessName IpAddress IpPort"),
	security(4656, 1, "A handle to an object was requested", subject+"ObjectServer ObjectType ObjectName HandleId:hex TransactionId:guid AccessList AccessReason AccessMask:hex PrivilegeList RestrictedSidCount:uint ProcessId:hex ProcessName ResourceAttributes"),
	security(4657, 0, "A registry value was modified", subject+"ObjectName ObjectValueName HandleId:hex OperationType OldValueType OldValue NewValueType NewValue ProcessId:hex ProcessName"),
	security(4658, 0, "The handle to an object was closed", subject+"ObjectServer HandleId:hex ProcessId:hex ProcessName"),
	security(4660, 0, "An object was deleted", subject+"ObjectServer HandleId:hex ProcessId:hex ProcessName TransactionId:guid"),
	security(4661, 0, "A handle to an object was requested", subject+"ObjectServer ObjectType ObjectName HandleId:hex TransactionId:guid AccessList AccessMask:hex PrivilegeList Properties RestrictedSidCount:uint ProcessId:hex ProcessName"),
	security(4662, 0, "An operation was performed on an object", subject+"ObjectServer ObjectType ObjectName OperationType HandleId:hex AccessList AccessMask:hex Properties AdditionalInfo AdditionalInfo2"),
	security(4663, 1, "An attempt was made to access an object", subject+"ObjectServer ObjectType ObjectName HandleId:hex AccessList AccessMask:hex ProcessId:hex ProcessName ResourceAttributes"),
	security(4670, 0, "Permissions on an object were changed", subject+"ObjectServer ObjectType ObjectName HandleId:hex OldSd NewSd ProcessId:hex ProcessName"),
	security(4672, 0, "Special privileges assigned to new logon", subject+"PrivilegeList"),
	security(4673, 0, "A privileged service was called", subject+"ObjectServer Service PrivilegeList ProcessId:hex ProcessName"),
	security(4674, 0, "An operation was attempted on a privileged object", subject+"ObjectServer ObjectType ObjectName HandleId:hex AccessMask:hex PrivilegeList ProcessId:hex ProcessName"),
	security(4688, 2, "A new process has been created", subject+"NewProcessId:hex NewProcessName TokenElevationType ProcessId:hex CommandLine TargetUserSid:sid TargetUserName TargetDomainName TargetLogonId:hex ParentProcessName MandatoryLabel:sid").starts().
		names(&refSpec{pid: "NewProcessId", hexPID: true, image: "NewProcessName", cmd: "CommandLine"}, &refSpec{pid: "ProcessId", hexPID: true, image: "ParentProcessName"}, nil),
	security(4689, 0, "A process has exited", subject+"Status:hex ProcessId:hex ProcessName").ends(),
	security(4690, 0, "An attempt was made to duplicate a handle to an object", subject+"SourceHandleId:hex SourceProcessId:hex TargetHandleId:hex TargetProcessId:hex"),
	security(4697, 0, "A service was installed in the system", subject+"ServiceName ServiceFileName ServiceType:hex ServiceStartType:uint ServiceAccount"+clientProc),
	security(4698, 0, "A scheduled task was created", subject+"TaskName TaskContent"+clientProc),
	security(4699, 0, "A scheduled task was deleted", subject+"TaskName TaskContent"+clientProc),
	security(4700, 0, "A scheduled task was enabled", subject+"TaskName TaskContent"+clientProc),
	security(4701, 0, "A scheduled task was disabled", subject+"TaskName TaskContent"+clientProc),
	security(4702, 0, "A scheduled task was updated", subject+"TaskName TaskContentNew"+clientProc),
	security(4703, 0, "A user right was adjusted", subject+"TargetUserSid:sid TargetUserName TargetDomainName TargetLogonId:hex ProcessName ProcessId:hex EnabledPrivilegeList DisabledPrivilegeList"),
	security(4719, 0, "System audit policy was changed", subject+"CategoryId SubcategoryId SubcategoryGuid:guid AuditPolicyChanges"),
	security(4720, 0, "A user account was created", target+subject+"PrivilegeList"+account),
	security(4722, 0, "A user account was enabled", target+subject),
	security(4723, 0, "An attempt was made to change an account's password", target+subject+"PrivilegeList"),
	security(4724, 0, "An attempt was made to reset an account's password", target+subject),
	security(4725, 0, "A user account was disabled", target+subject),
	security(4726, 0, "A user account was deleted", target+subject+"PrivilegeList"),
	security(4728, 0, "A member was added to a security-enabled global group", "MemberName MemberSid:sid "+target+subject+"PrivilegeList"),
	security(4732, 0, "A member was added to a security-enabled local group", "MemberName MemberSid:sid "+target+subject+"PrivilegeList"),
	security(4738, 0, "A user account was changed", "Dummy "+target+subject+"PrivilegeList"+account),
	security(4740, 0, "A user account was locked out", target+subject),
	security(4741, 0, "A computer account was created", target+subject+"PrivilegeList"+account+" DnsHostName ServicePrincipalNames"),
	security(4742, 0, "A computer account was changed", "ComputerAccountChange "+target+subject+"PrivilegeList"+account+" DnsHostName ServicePrincipalNames"),
	security(4756, 0, "A member was added to a security-enabled universal group", "MemberName MemberSid:sid "+target+subject+"PrivilegeList"),
	security(4765, 0, "SID History was added to an account", target+"SourceUserName SourceSid:sid "+subject+"PrivilegeList SidList"),
	security(4766, 0, "An attempt to add SID History to an account failed", target+"SourceUserName SourceSid:sid "+subject+"PrivilegeList"),
	security(4768, 0, "A Kerberos authentication ticket (TGT) was requested", "TargetUserName TargetDomainName TargetSid:sid ServiceName ServiceSid:sid TicketOptions:hex Status:hex TicketEncryptionType:hex PreAuthType IpAddress IpPort CertIssuerName CertSerialNumber CertThumbprint"),
	security(4769, 0, "A Kerberos service ticket was requested", "TargetUserName TargetDomainName ServiceName ServiceSid:sid TicketOptions:hex TicketEncryptionType:hex IpAddress IpPort Status:hex LogonGuid:guid TransmittedServices"),
	security(4771, 0, "Kerberos pre-authentication failed", "TargetUserName TargetSid:sid ServiceName TicketOptions:hex Status:hex PreAuthType IpAddress IpPort CertIssuerName CertSerialNumber CertThumbprint"),
	security(4776, 0, "The computer attempted to validate the credentials for an account", "PackageName TargetUserName Workstation Status:hex"),
	security(4781, 0, "The name of an account was changed", "OldTargetUserName NewTargetUserName TargetDomainName TargetSid:sid "+subject+"PrivilegeList"),
	security(4794, 0, "An attempt was made to set the Directory Services Restore Mode administrator password", subject+"Workstation Status:hex"),
	security(4798, 0, "A user's local group membership was enumerated", target+subject+"CallerProcessId:hex CallerProcessName"),
	security(4799, 0, "A security-enabled local group membership was enumerated", target+subject+"CallerProcessId:hex CallerProcessName"),
	security(4825, 0, "A user was denied the access to Remote Desktop", "AccountName AccountDomain LogonID:hex ClientAddress"),
	security(4887, 0, "Certificate Services approved a certificate request and issued a certificate", "RequestId Requester Attributes Disposition SubjectKeyIdentifier Subject"),
	security(4898, 0, "Certificate Services loaded a template", "TemplateInternalName TemplateVersion TemplateSchemaVersion TemplateOID TemplateDSObjectFQDN DCDNSName TemplateContent SecurityDescriptor"),
	security(4899, 0, "A Certificate Services template was updated", "TemplateInternalName TemplateVersion TemplateSchemaVersion TemplateOID TemplateDSObjectFQDN DCDNSName TemplateContent NewTemplateContent"),
	security(4904, 0, "An attempt was made to register a security event source", subject+"AuditSourceName EventSourceId:hex ProcessId:hex ProcessName"),
	security(4905, 0, "An attempt was made to unregister a security event source", subject+"AuditSourceName EventSourceId:hex ProcessId:hex ProcessName"),
	security(4946, 0, "A change has been made to Windows Firewall exception list. A rule was added", "ProfileChanged RuleId RuleName"),
	security(4948, 0, "A change has been made to Windows Firewall exception list. A rule was deleted", "ProfileChanged RuleId RuleName"),
	security(5136, 0, "A directory service object was modified", "OpCorrelationID:guid AppCorrelationID:guid "+subject+"DSName DSType ObjectDN ObjectGUID:guid ObjectClass AttributeLDAPDisplayName AttributeSyntaxOID AttributeValue OperationType"),
	security(5140, 1, "A network share object was accessed", subject+"ObjectType IpAddress IpPort ShareName ShareLocalPath AccessMask:hex AccessList"),
	security(5145, 0, "A network share object was checked to see whether client can be granted desired access", subject+"ObjectType IpAddress IpPort ShareName ShareLocalPath RelativeTargetName AccessMask:hex AccessList AccessReason"),
	security(5154, 0, "The Windows Filtering Platform has permitted an application or service to listen on a port", "ProcessId:uint Application SourceAddress:ip SourcePort:uint Protocol:uint FilterRTID:uint LayerName LayerRTID:uint"),
	security(5156, 1, "The Windows Filtering Platform has permitted a connection", wfpConn),
	security(5157, 1, "The Windows Filtering Platform has blocked a connection", wfpConn),
	security(5158, 0, "The Windows Filtering Platform has permitted a bind to a local port", "ProcessId:uint Application SourceAddress:ip SourcePort:uint Protocol:uint FilterRTID:uint LayerName LayerRTID:uint"),
	security(5379, 0, "Credential Manager credentials were read", subject+"TargetName Type CountOfCredentialsReturned:uint ReadOperation ReturnCode:hex ProcessCreationTime:filetime ClientProcessId:uint"),
	security(5447, 0, "A Windows Filtering Platform filter has been changed", "ProcessId:uint UserSid:sid UserName ProviderKey:guid ProviderName ChangeType FilterKey:guid FilterName FilterType FilterId LayerKey:guid LayerName LayerId Weight Conditions Action CalloutKey:guid CalloutName"),
}

var systemDefs = []Def{
	system(104, ProviderEventlog, "The log file was cleared", "SubjectUserName SubjectDomainName BackupPath"),
	system(7036, ProviderSCM, "The service entered a state", "param1 param2 Binary"),
	system(7040, ProviderSCM, "The start type of a service was changed", "param1 param2 param3 param4"),
	system(7045, ProviderSCM, "A service was installed in the system", "ServiceName ImagePath ServiceType StartType AccountName"),
}

var otherDefs = []Def{
	// PowerShell (Operational and Core share the event layout).
	ps(ChannelPowerShell, 4103, 1, "Executing Pipeline", "ContextInfo UserData Payload"),
	ps(ChannelPowerShell, 4104, 1, "Execute a Remote Command", "MessageNumber:uint MessageTotal:uint ScriptBlockText ScriptBlockId:guid Path"),
	ps(ChannelPowerShell, 4105, 1, "Starting Command", "ScriptBlockId:guid RunspaceId:guid"),
	ps(ChannelPowerShell, 4106, 1, "Completing Command", "ScriptBlockId:guid RunspaceId:guid"),
	ps(ChannelPowerShellCore, 4103, 1, "Executing Pipeline", "ContextInfo UserData Payload"),
	ps(ChannelPowerShellCore, 4104, 1, "Execute a Remote Command", "MessageNumber:uint MessageTotal:uint ScriptBlockText ScriptBlockId:guid Path"),
	// Classic "Windows PowerShell" events carry unnamed <Data> strings; they
	// are exposed joined as Data (what SigmaHQ rules match), with the
	// well-known keys of the key/value block split out as well.
	psClassic(400, "Engine state is changed from None to Available", "Data NewEngineState PreviousEngineState HostName HostVersion HostId HostApplication EngineVersion RunspaceId PipelineId CommandName CommandType ScriptName CommandPath CommandLine"),
	psClassic(403, "Engine state is changed from Available to Stopped", "Data NewEngineState PreviousEngineState HostName HostVersion HostId HostApplication EngineVersion RunspaceId PipelineId CommandName CommandType ScriptName CommandPath CommandLine"),
	psClassic(600, "Provider is Started", "Data ProviderName NewProviderState HostName HostVersion HostId HostApplication EngineVersion RunspaceId PipelineId CommandName CommandType ScriptName CommandPath CommandLine"),
	psClassic(800, "Pipeline execution details", "Data UserId HostName HostVersion HostId HostApplication EngineVersion RunspaceId PipelineId CommandName CommandType ScriptName CommandPath CommandLine"),
	// Task Scheduler (UserData children are flattened like EventData).
	task(106, "Task registered", "TaskName UserContext"),
	task(129, "Created Task Process", "TaskName Path ProcessID:uint Priority:uint"),
	task(140, "Task registration updated", "TaskName UserName"),
	task(141, "Task registration deleted", "TaskName UserName"),
	task(142, "Task disabled", "TaskName UserName"),
	task(200, "Action started", "TaskName ActionName TaskInstanceId:guid EnginePID:uint"),
	task(201, "Action completed", "TaskName TaskInstanceId:guid ActionName ResultCode:hex EnginePID:uint"),
	// WMI-Activity (UserData).
	wmi(5857, "WMI provider started", "ProviderName Code:hex HostProcess ProcessID:uint ProviderPath"),
	wmi(5858, "WMI operation error", "Id ClientMachine User ClientProcessId:uint Component Operation ResultCode:hex PossibleCause"),
	wmi(5859, "WMI event filter activated", "NamespaceName Query User processid:uint MachineName PossibleCause"),
	wmi(5860, "WMI temporary event registered", "NamespaceName Query User processid:uint MachineName PossibleCause"),
	wmi(5861, "WMI permanent event registered", "Namespace ESS CONSUMER PossibleCause"),
	// DNS Client.
	dns(3006, "DNS query called", "QueryName QueryType:uint QueryOptions ServerList IsNetworkQuery:uint NetworkQueryIndex:uint InterfaceIndex:uint IsAsyncQuery:uint"),
	dns(3008, "DNS query completed", "QueryName QueryType:uint QueryOptions QueryStatus:uint QueryResults"),
	dns(3020, "DNS query response", "QueryName NetworkIndex:uint InterfaceIndex:uint Status:uint QueryResults"),
	// Defender: manifest names contain spaces ("Threat Name"); edr strips them.
	defender(1116, "Malware detected", defenderThreat),
	defender(1117, "Malware action taken", defenderThreat),
	defender(1119, "Critical error while taking action", defenderThreat),
	defender(5001, "Real-time protection disabled", "ProductName ProductVersion"),
	defender(5007, "Configuration changed", "ProductName ProductVersion OldValue NewValue"),
	defender(5013, "Tamper protection blocked a change", "ProductName ProductVersion Value"),
}

const defenderThreat = "ProductName ProductVersion DetectionID:guid DetectionTime Unused Unused2 ThreatID ThreatName SeverityID SeverityName CategoryID CategoryName FWLink StatusCode StatusDescription State SourceID SourceName ProcessName DetectionUser Unused3 Path OriginID OriginName ExecutionID ExecutionName TypeID TypeName PreExecutionStatus ActionID ActionName Unused4 ErrorCode ErrorDescription Unused5 PostCleanStatus AdditionalActionsID AdditionalActionsString RemediationUser Unused6 SecurityintelligenceVersion EngineVersion"

func security(id uint16, version uint8, name, fields string) Def {
	return Def{Channel: ChannelSecurity, Provider: ProviderSecurityAuditing, EventID: id, Version: version, Name: name, spec: fields}
}

func system(id uint16, provider, name, fields string) Def {
	return Def{Channel: ChannelSystem, Provider: provider, EventID: id, Name: name, spec: fields}
}

func ps(channel string, id uint16, version uint8, name, fields string) Def {
	return Def{Channel: channel, Provider: ProviderPowerShell, EventID: id, Version: version, Name: name, spec: fields}
}

func psClassic(id uint16, name, fields string) Def {
	return Def{Channel: ChannelPowerShellClassic, Provider: ProviderPowerShellClassic, EventID: id, Name: name, spec: fields}
}

func task(id uint16, name, fields string) Def {
	return Def{Channel: ChannelTaskScheduler, Provider: ProviderTaskScheduler, EventID: id, Name: name, spec: fields}
}

func wmi(id uint16, name, fields string) Def {
	return Def{Channel: ChannelWMIActivity, Provider: ProviderWMIActivity, EventID: id, Name: name, spec: fields}
}

func dns(id uint16, name, fields string) Def {
	return Def{Channel: ChannelDNSClient, Provider: ProviderDNSClient, EventID: id, Name: name, spec: fields}
}

func defender(id uint16, name, fields string) Def {
	return Def{Channel: ChannelDefender, Provider: ProviderDefender, EventID: id, Name: name, spec: fields}
}
