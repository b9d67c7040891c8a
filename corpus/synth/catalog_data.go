package synth

// The world the generator draws from. Names, descriptions and paths are
// those of real Windows hosts; hashes, addresses and counters are derived
// from the seed.

// system32Images: name|OriginalFileName|Description|flags (a name starting
// with ^ lives in C:\Windows instead). Flags: n=net,
// f=file, r=registry, d=loads DLLs, q=DNS (upper case = heavy), s=short-lived.
const system32Images = `
smss.exe|smss.exe|Windows Session Manager|fr
csrss.exe|CSRSS.Exe|Client Server Runtime Process|d
wininit.exe|wininit.exe|Windows Start-Up Application|r
winlogon.exe|WINLOGON.EXE|Windows Logon Application|rd
services.exe|services.exe|Services and Controller app|Rd
lsass.exe|lsass.exe|Local Security Authority Process|nRdf
svchost.exe|svchost.exe|Host Process for Windows Services|NFRDQ
spoolsv.exe|spoolsv.exe|Spooler SubSystem App|frd
dwm.exe|dwm.exe|Desktop Window Manager|d
fontdrvhost.exe|fontdrvhost.exe|Usermode Font Driver Host|d
sihost.exe|sihost.exe|Shell Infrastructure Host|rd
taskhostw.exe|taskhostw.exe|Host Process for Windows Tasks|frd
ctfmon.exe|CTFMON.EXE|CTF Loader|r
RuntimeBroker.exe|RuntimeBroker.exe|Runtime Broker|frd
dllhost.exe|dllhost.exe|COM Surrogate|frds
conhost.exe|CONHOST.EXE|Console Window Host|ds
cmd.exe|Cmd.Exe|Windows Command Processor|fds
WindowsPowerShell\v1.0\powershell.exe|PowerShell.EXE|Windows PowerShell|frDs
rundll32.exe|RUNDLL32.EXE|Windows host process (Rundll32)|frds
reg.exe|reg.exe|Registry Console Tool|rds
net.exe|net.exe|Net Command|ds
net1.exe|net1.exe|Net Command|ds
ipconfig.exe|ipconfig.exe|IP Configuration Utility|ds
ping.exe|ping.exe|TCP/IP Ping Command|qds
tasklist.exe|tasklist.exe|Lists the current running tasks.|ds
findstr.exe|FINDSTR.EXE|Find String (QGREP) Utility|ds
where.exe|where.exe|Lists location of files|ds
msiexec.exe|msiexec.exe|Windows® installer|FRDs
wbem\WmiPrvSE.exe|Wmiprvse.exe|WMI Provider Host|frds
backgroundTaskHost.exe|backgroundTaskHost.exe|Background Task Host|frds
SearchProtocolHost.exe|SearchProtocolHost.exe|Microsoft Windows Search Protocol Host|fds
SearchFilterHost.exe|SearchFilterHost.exe|Microsoft Windows Search Filter Host|fds
SearchIndexer.exe|SearchIndexer.exe|Microsoft Windows Search Indexer|FRd
wermgr.exe|wermgr.exe|Windows Problem Reporting|nfrdqs
WerFault.exe|WerFault.exe|Windows Problem Reporting|frds
consent.exe|consent.exe|Consent UI for administrative applications|rds
CompatTelRunner.exe|CompatTelRunner.exe|Microsoft Compatibility Telemetry|nfrdqs
DeviceCensus.exe|DeviceCensus.exe|Device Census|nrdqs
sppsvc.exe|sppsvc.exe|Microsoft Software Protection Platform Service|frds
smartscreen.exe|smartscreen.exe|Windows Defender SmartScreen|nrdqs
audiodg.exe|audiodg.exe|Windows Audio Device Graph Isolation|ds
WUDFHost.exe|WUDFHost.exe|Windows Driver Foundation - User-mode Driver Framework Host Process|d
gpupdate.exe|GPUpdate.exe|Microsoft® Windows Group Policy Refresh Utility|ds
gpscript.exe|gpscript.exe|Script for Group Policy Extension|fds
sc.exe|sc.exe|Service Control Manager Configuration Tool|ds
schtasks.exe|schtasks.exe|Task Scheduler Configuration Tool|ds
whoami.exe|whoami.exe|whoami - displays logged on user information|ds
certutil.exe|CertUtil.exe|CertUtil.exe|ds
cscript.exe|cscript.exe|Microsoft ® Console Based Script Host|fds
wscript.exe|wscript.exe|Microsoft ® Windows Based Script Host|fds
mshta.exe|MSHTA.EXE|Microsoft (R) HTML Application host|ds
notepad.exe|NOTEPAD.EXE|Notepad|fd
mstsc.exe|mstsc.exe|Remote Desktop Connection|nrdq
mmc.exe|MMC.EXE|Microsoft Management Console|rd
taskmgr.exe|Taskmgr.exe|Task Manager|rd
^explorer.exe|EXPLORER.EXE|Windows Explorer|nFRDq
userinit.exe|USERINIT.EXE|Userinit Logon Application|rds
LogonUI.exe|LogonUI.exe|Windows Logon User Interface Host|rd
ApplicationFrameHost.exe|ApplicationFrameHost.exe|Application Frame Host|d
SystemSettingsBroker.exe|SystemSettingsBroker.exe|System Settings Broker|rds
UserOOBEBroker.exe|UserOOBEBroker.exe|User OOBE Broker|ds
SgrmBroker.exe|SgrmBroker.exe|System Guard Runtime Monitor Broker Service|d
SecurityHealthService.exe|SecurityHealthService.exe|Windows Security Health Service|rd
SecurityHealthSystray.exe|SecurityHealthSystray.exe|Windows Security notification icon|d
MoUsoCoreWorker.exe|MoUsoCoreWorker.exe|MoUSO Core Worker Process|nFRdq
usocoreworker.exe|usocoreworker.exe|UsoCoreWorker.exe|nfrdqs
TiWorker.exe|TiWorker.exe|Windows Modules Installer Worker|FRDs
TrustedInstaller.exe|TrustedInstaller.exe|Windows Modules Installer|frds
DismHost.exe|DismHost.exe|Dism Host Servicing Process|frds
MusNotification.exe|MusNotification.exe|MusNotification.exe|rds
MusNotifyIcon.exe|MusNotifyIcon.exe|MusNotifyIcon.exe|rds
lsaiso.exe|LsaIso.exe|Credential Guard & Key Guard|d
dasHost.exe|dashost.exe|Device Association Framework Provider Host|rd
unsecapp.exe|unsecapp.exe|Sink to receive asynchronous callbacks for WMI client application|ds
wlrmdr.exe|wlrmdr.exe|Windows Logon Reminder|ds
LocationNotificationWindows.exe|LocationNotificationWindows.exe|Location Notification|ds
CredentialUIBroker.exe|CredentialUIBroker.exe|Credential Manager UI Host|ds
PickerHost.exe|PickerHost.exe|PickerHost|ds
AtBroker.exe|AtBroker.exe|Transitions Accessible technologies between desktops|ds
OpenWith.exe|OpenWith.exe|Pick an app|rds
slui.exe|slui.exe|Windows Activation Client|nrdqs
sdiagnhost.exe|sdiagnhost.exe|Scripted Diagnostics Native Host|frds
msdt.exe|msdt.exe|Diagnostics Troubleshooting Wizard|ds
wevtutil.exe|wevtutil.exe|Eventing Command Line Utility|ds
w32tm.exe|w32tm.exe|Time Service Diagnostic Tool|nds
nslookup.exe|nslookup.exe|nslookup|nqds
netsh.exe|netsh.exe|Network Command Shell|rds
arp.exe|ARP.EXE|TCP/IP Arp Command|ds
route.exe|route.exe|TCP/IP Route Command|ds
systeminfo.exe|sysinfo.exe|Displays system information|ds
hostname.exe|hostname.exe|Hostname APP|ds
quser.exe|quser.exe|Query User Utility|ds
query.exe|query.exe|Query Utility|ds
tzsync.exe|tzsync.exe|Time Zone Synchronization|ds
SearchApp.exe|SearchApp.exe|Search application|nfrdq
sppextcomobj.exe|sppextcomobj.exe|KMS Connection Broker|ds
MpSigStub.exe|MpSigStub.exe|Microsoft Malware Protection Signature Update Stub|nfrdqs
WaaSMedicAgent.exe|WaaSMedicAgent.exe|Windows Update Medic Service|frds
DataExchangeHost.exe|DataExchangeHost.exe|Data Exchange Host|ds
mobsync.exe|mobsync.exe|Microsoft Sync Center|ds
GameBarPresenceWriter.exe|GameBarPresenceWriter.exe|Game Bar Presence Writer|ds
CloudExperienceHostBroker.exe|CloudExperienceHostBroker.exe|Cloud Experience Host Broker|ds
ShellAppRuntime.exe|ShellAppRuntime.exe|ShellAppRuntime|d
PerceptionSimulation\PerceptionSimulationService.exe|PerceptionSimulationService.exe|Perception Simulation Service|d
dfsrs.exe|dfsrs.exe|Distributed File System Replication|nFRdq
dns.exe|dns.exe|Domain Name System (DNS) Server|Nfrd
ismserv.exe|ismserv.exe|Windows NT Intersite Messaging Service|nrd
inetsrv\w3wp.exe|w3wp.exe|IIS Worker Process|NFRDq
inetsrv\inetinfo.exe|inetinfo.exe|Internet Information Services|nrd
vds.exe|vds.exe|Virtual Disk Service|d
VSSVC.exe|VSSVC.EXE|Microsoft® Volume Shadow Copy Service|frd
wbengine.exe|wbengine.exe|Microsoft® Block Level Backup Engine Service EXE|Frd
`

// programImages: path|OriginalFileName|Description|Product|Company|Version|flags
const programImages = `
C:\Program Files\Google\Chrome\Application\chrome.exe|chrome.exe|Google Chrome|Google Chrome|Google LLC|131.0.6778.86|NFrDQ
C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe|msedge.exe|Microsoft Edge|Microsoft Edge|Microsoft Corporation|131.0.2903.63|NFrDQ
C:\Program Files\Mozilla Firefox\firefox.exe|firefox.exe|Firefox|Firefox|Mozilla Corporation|133.0|NFrDQ
C:\Program Files\Microsoft Office\root\Office16\OUTLOOK.EXE|outlook.exe|Microsoft Outlook|Microsoft Outlook|Microsoft Corporation|16.0.18129.20158|NFRDQ
C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE|WinWord.exe|Microsoft Word|Microsoft Office|Microsoft Corporation|16.0.18129.20158|nFRDq
C:\Program Files\Microsoft Office\root\Office16\EXCEL.EXE|Excel.exe|Microsoft Excel|Microsoft Office|Microsoft Corporation|16.0.18129.20158|nFRDq
C:\Program Files\Microsoft Office\root\Office16\POWERPNT.EXE|POWERPNT.EXE|Microsoft PowerPoint|Microsoft Office|Microsoft Corporation|16.0.18129.20158|nFRdq
C:\Program Files\Microsoft Office\root\Office16\ONENOTE.EXE|OneNote.exe|Microsoft OneNote|Microsoft Office|Microsoft Corporation|16.0.18129.20158|nFRdq
C:\Program Files\Common Files\microsoft shared\ClickToRun\OfficeClickToRun.exe|OfficeClickToRun.exe|Microsoft Office Click-to-Run (SxS)|Microsoft Office|Microsoft Corporation|16.0.18129.20158|nFRdq
C:\Program Files\Microsoft Office\root\Office16\SDXHelper.exe|SDXHelper.exe|Microsoft Office SDX Helper|Microsoft Office|Microsoft Corporation|16.0.18129.20158|nfrdqs
C:\Program Files\Windows Defender\MsMpEng.exe|MsMpEng.exe|Antimalware Service Executable|Microsoft® Windows® Operating System|Microsoft Corporation|4.18.24090.11|NFRDq
C:\ProgramData\Microsoft\Windows Defender\Platform\4.18.24090.11-0\MsMpEng.exe|MsMpEng.exe|Antimalware Service Executable|Microsoft® Windows® Operating System|Microsoft Corporation|4.18.24090.11|NFRDq
C:\ProgramData\Microsoft\Windows Defender\Platform\4.18.24090.11-0\NisSrv.exe|NisSrv.exe|Microsoft Network Realtime Inspection Service|Microsoft® Windows® Operating System|Microsoft Corporation|4.18.24090.11|nrd
C:\ProgramData\Microsoft\Windows Defender\Platform\4.18.24090.11-0\MpCmdRun.exe|MpCmdRun.exe|Microsoft Malware Protection Command Line Utility|Microsoft® Windows® Operating System|Microsoft Corporation|4.18.24090.11|nfrdqs
C:\ProgramData\Microsoft\Windows Defender\Platform\4.18.24090.11-0\MpDefenderCoreService.exe|MpDefenderCoreService.exe|Antimalware Core Service|Microsoft® Windows® Operating System|Microsoft Corporation|4.18.24090.11|nfrd
C:\Program Files\Microsoft VS Code\Code.exe|electron.exe|Visual Studio Code|Visual Studio Code|Microsoft Corporation|1.95.3|NFrDQ
C:\Program Files\Git\cmd\git.exe|git.exe|Git for Windows|Git|The Git Development Community|2.47.0.2|nfdqs
C:\Program Files\Git\mingw64\bin\git-remote-https.exe|git-remote-https.exe|Git for Windows|Git|The Git Development Community|2.47.0.2|nfdqs
C:\Program Files\7-Zip\7zFM.exe|7zFM.exe|7-Zip File Manager|7-Zip|Igor Pavlov|24.08|Fd
C:\Program Files\7-Zip\7zG.exe|7zg.exe|7-Zip GUI|7-Zip|Igor Pavlov|24.08|Fds
C:\Program Files\Adobe\Acrobat DC\Acrobat\Acrobat.exe|Acrobat.exe|Adobe Acrobat|Adobe Acrobat|Adobe Inc.|24.4.20220.0|nFrDq
C:\Program Files\Adobe\Acrobat DC\Acrobat\AcroCEF\AcroCEF.exe|AcroCEF.exe|Adobe AcroCEF|Adobe Acrobat|Adobe Inc.|24.4.20220.0|nfdqs
C:\Program Files (x86)\Common Files\Adobe\ARM\1.0\AdobeARM.exe|AdobeARM.exe|Adobe Reader and Acrobat Manager|Adobe Reader and Acrobat Manager|Adobe Inc.|1.824.460.1042|nfrdqs
C:\Program Files\Notepad++\notepad++.exe|notepad++.exe|Notepad++|Notepad++|Don HO don.h@free.fr|8.7.1|Fd
C:\Program Files\PuTTY\putty.exe|PuTTY|SSH, Telnet, Rlogin, and SUPDUP client|PuTTY suite|Simon Tatham|0.81.0.0|nrdq
C:\Program Files\WindowsApps\Microsoft.WindowsTerminal_1.21.3231.0_x64__8wekyb3d8bbwe\WindowsTerminal.exe|WindowsTerminal.exe|Windows Terminal|Windows Terminal|Microsoft Corporation|1.21.2411.18001|d
C:\Program Files\WindowsApps\Microsoft.WindowsTerminal_1.21.3231.0_x64__8wekyb3d8bbwe\OpenConsole.exe|OpenConsole.exe|Console Window Host|Windows Terminal|Microsoft Corporation|1.21.2411.18001|ds
C:\Program Files\WindowsApps\MSTeams_24295.605.3225.8804_x64__8wekyb3d8bbwe\ms-teams.exe|ms-teams.exe|Microsoft Teams|Microsoft Teams|Microsoft Corporation|24295.605.3225.8804|NFRDQ
C:\Program Files\WindowsApps\Microsoft.WindowsCalculator_11.2410.0.0_x64__8wekyb3d8bbwe\CalculatorApp.exe|CalculatorApp.exe|CalculatorApp.exe|Microsoft Calculator|Microsoft Corporation|11.2410.0.0|d
C:\Program Files\WindowsApps\Microsoft.ZuneMusic_11.2410.5.0_x64__8wekyb3d8bbwe\Microsoft.Media.Player.exe|Microsoft.Media.Player.exe|Media Player|Media Player|Microsoft Corporation|11.2410.5.0|nfdq
C:\Program Files (x86)\Microsoft\EdgeUpdate\MicrosoftEdgeUpdate.exe|MicrosoftEdgeUpdate.exe|Microsoft Edge Update|Microsoft Edge Update|Microsoft Corporation|1.3.195.35|nfrdqs
C:\Program Files (x86)\Google\Update\GoogleUpdate.exe|GoogleUpdate.exe|Google Installer|Google Update|Google LLC|1.3.36.372|nfrdqs
C:\Program Files\Google\Chrome\Application\131.0.6778.86\elevation_service.exe|elevation_service.exe|Google Chrome|Google Chrome|Google LLC|131.0.6778.86|rd
C:\Program Files\VMware\VMware Tools\vmtoolsd.exe|vmtoolsd.exe|VMware Tools Core Service|VMware Tools|VMware, Inc.|12.4.5.23787635|frd
C:\Program Files\VMware\VMware Tools\VGAuthService.exe|VGAuthService.exe|VMware Guest Authentication Service|VMware Guest Authentication|VMware, Inc.|12.4.5.23787635|rd
C:\Program Files\Microsoft SQL Server\MSSQL16.MSSQLSERVER\MSSQL\Binn\sqlservr.exe|sqlservr.exe|SQL Server Windows NT - 64 Bit|Microsoft SQL Server|Microsoft Corporation|2022.160.4135.4|NFRD
C:\Program Files\Microsoft SQL Server\MSSQL16.MSSQLSERVER\MSSQL\Binn\sqlceip.exe|sqlceip.exe|SQL Server CEIP service|Microsoft SQL Server|Microsoft Corporation|2022.160.4135.4|nfrdq
C:\Program Files\Microsoft SQL Server\160\Shared\sqlwriter.exe|sqlwriter.exe|SQL Server VSS Writer - 64 Bit|Microsoft SQL Server|Microsoft Corporation|2022.160.4135.4|rd
C:\Program Files\Splunk\bin\splunkd.exe|splunkd.exe|splunk Application|splunk Application|Splunk Inc.|9.3.1|NFrdq
C:\Program Files\Zoom\bin\Zoom.exe|Zoom.exe|Zoom Workplace|Zoom Workplace|Zoom Video Communications, Inc.|6.2.11.53541|NfRDQ
C:\Program Files\Slack\slack.exe|slack.exe|Slack|Slack|Slack Technologies Inc.|4.41.97|NfrDQ
C:\Program Files\Python312\python.exe|python.exe|Python|Python|Python Software Foundation|3.12.7|nfdqs
C:\Program Files\nodejs\node.exe|node.exe|Node.js JavaScript Runtime|Node.js|Node.js|22.11.0|nfdqs
C:\Program Files\Microsoft OneDrive\OneDrive.exe|OneDrive.exe|Microsoft OneDrive|Microsoft OneDrive|Microsoft Corporation|24.211.1020.0001|NFRdQ
C:\Program Files\Microsoft OneDrive\OneDriveStandaloneUpdater.exe|OneDriveStandaloneUpdater.exe|Standalone Updater|Microsoft OneDrive|Microsoft Corporation|24.211.1020.0001|nfrdqs
C:\Program Files\Microsoft OneDrive\FileCoAuth.exe|FileCoAuth.exe|Microsoft OneDriveFile Co-Authoring Executable|Microsoft OneDrive|Microsoft Corporation|24.211.1020.0001|nfds
C:\Program Files\Mozilla Firefox\maintenanceservice.exe|maintenanceservice.exe|Firefox Software Updater|Firefox|Mozilla Foundation|133.0|nfrds
C:\Program Files\CrowdStrike\CSFalconService.exe|CSFalconService.exe|CrowdStrike Falcon Sensor Service|CrowdStrike Falcon Sensor|CrowdStrike, Inc.|7.18.18710.0|NFrd
C:\Program Files\Windows Media Player\wmpnetwk.exe|wmpnetwk.exe|Windows Media Player Network Sharing Service|Microsoft® Windows® Operating System|Microsoft Corporation|12.0.19041.4355|d
C:\Program Files\Common Files\microsoft shared\ink\TabTip.exe|TabTip.exe|Touch Keyboard and Handwriting Panel|Microsoft® Windows® Operating System|Microsoft Corporation|10.0.19041.4355|d
C:\Windows\SystemApps\MicrosoftWindows.Client.CBS_cw5n1h2txyewy\TextInputHost.exe|TextInputHost.exe|TextInputHost.exe|Microsoft® Windows® Operating System|Microsoft Corporation|10.0.19041.4355|d
C:\Windows\SystemApps\Microsoft.Windows.StartMenuExperienceHost_cw5n1h2txyewy\StartMenuExperienceHost.exe|StartMenuExperienceHost.exe|StartMenuExperienceHost.exe|Microsoft® Windows® Operating System|Microsoft Corporation|10.0.19041.4355|frd
C:\Windows\SystemApps\ShellExperienceHost_cw5n1h2txyewy\ShellExperienceHost.exe|ShellExperienceHost.exe|Windows Shell Experience Host|Microsoft® Windows® Operating System|Microsoft Corporation|10.0.19041.4355|frd
C:\Windows\SystemApps\Microsoft.Windows.Search_cw5n1h2txyewy\SearchApp.exe|SearchApp.exe|Search application|Microsoft® Windows® Operating System|Microsoft Corporation|10.0.19041.4355|nfrdq
C:\Windows\SystemApps\Microsoft.LockApp_cw5n1h2txyewy\LockApp.exe|LockApp.exe|LockApp.exe|Microsoft® Windows® Operating System|Microsoft Corporation|10.0.19041.4355|ds
C:\Windows\ImmersiveControlPanel\SystemSettings.exe|SystemSettings.exe|Settings|Microsoft® Windows® Operating System|Microsoft Corporation|10.0.19041.4355|rds
C:\Windows\Microsoft.NET\Framework64\v4.0.30319\ngen.exe|ngen.exe|Microsoft Common Language Runtime native compiler|Microsoft® .NET Framework|Microsoft Corporation|4.8.9032.0|Fds
C:\Windows\Microsoft.NET\Framework64\v4.0.30319\mscorsvw.exe|mscorsvw.exe|.NET Runtime Optimization Service|Microsoft® .NET Framework|Microsoft Corporation|4.8.9032.0|Fds
C:\Windows\Microsoft.NET\Framework64\v4.0.30319\ngentask.exe|ngentask.exe|Microsoft .NET Framework optimization service|Microsoft® .NET Framework|Microsoft Corporation|4.8.9032.0|fds
C:\Windows\servicing\TrustedInstaller.exe|TrustedInstaller.exe|Windows Modules Installer|Microsoft® Windows® Operating System|Microsoft Corporation|10.0.19041.4355|frds
C:\Windows\SoftwareDistribution\Download\Install\AM_Delta_Patch_1.421.1208.0.exe|AM_Delta_Patch_1.421.1208.0.exe|Microsoft Antimalware WU Stub|Microsoft Malware Protection|Microsoft Corporation|1.421.1208.0|frds
C:\Windows\UUS\amd64\MoUsoCoreWorker.exe|MoUsoCoreWorker.exe|MoUSO Core Worker Process|Microsoft® Windows® Operating System|Microsoft Corporation|10.0.19041.4355|nfrdqs
`

// userImages live under a user's profile: {home} is C:\Users\<name>.
const userImages = `
{home}\AppData\Local\Microsoft\OneDrive\OneDrive.exe|OneDrive.exe|Microsoft OneDrive|Microsoft OneDrive|Microsoft Corporation|24.211.1020.0001|NFRdQ
{home}\AppData\Local\Microsoft\Teams\current\Teams.exe|Teams.exe|Microsoft Teams|Microsoft Teams|Microsoft Corporation|1.7.0.33761|NFRDQ
{home}\AppData\Local\Programs\Microsoft VS Code\Code.exe|electron.exe|Visual Studio Code|Visual Studio Code|Microsoft Corporation|1.95.3|NFrDQ
{home}\AppData\Local\Discord\app-1.0.9171\Discord.exe|Discord.exe|Discord|Discord|Discord Inc.|1.0.9171|NfrDQ
{home}\AppData\Local\Programs\Zoom\bin\Zoom.exe|Zoom.exe|Zoom Workplace|Zoom Workplace|Zoom Video Communications, Inc.|6.2.11.53541|NfRDQ
{home}\AppData\Local\slack\app-4.41.97\slack.exe|slack.exe|Slack|Slack|Slack Technologies Inc.|4.41.97|NfrDQ
{home}\AppData\Local\Programs\Python\Python312\python.exe|python.exe|Python|Python|Python Software Foundation|3.12.7|nfdqs
{home}\AppData\Local\Postman\app-11.19.0\Postman.exe|Postman.exe|Postman|Postman|Postman|11.19.0|NfdQ
{home}\AppData\Local\Programs\Notion\Notion.exe|Notion.exe|Notion|Notion|Notion Labs, Inc|4.2.0|NfrdQ
{home}\AppData\Local\Microsoft\OneDrive\24.211.1020.0001\FileSyncHelper.exe|FileSyncHelper.exe|Microsoft OneDrive File Sync Helper|Microsoft OneDrive|Microsoft Corporation|24.211.1020.0001|fds
{home}\AppData\Local\Microsoft\WindowsApps\winget.exe|winget.exe|Windows Package Manager|Windows Package Manager|Microsoft Corporation|1.9.25200.0|nfdqs
`

// system32DLLs: name|Description[|images]: modules of C:\Windows\System32.
// Without images, any process may load it; with images (base names), only
// those do (the authentication packages live in lsass, WMI's client DLLs
// in WMI consumers, AMSI in script hosts and scanners …).
const system32DLLs = `
ntdll.dll|NT Layer DLL
kernel32.dll|Windows NT BASE API Client DLL
KernelBase.dll|Windows NT BASE API Client DLL
advapi32.dll|Advanced Windows 32 Base API
msvcrt.dll|Windows NT CRT DLL
sechost.dll|Host for SCM/SDDL/LSA Lookup APIs
rpcrt4.dll|Remote Procedure Call Runtime
ucrtbase.dll|Microsoft® C Runtime Library
user32.dll|Multi-User Windows USER API Client DLL
win32u.dll|Win32u
gdi32.dll|GDI Client DLL
gdi32full.dll|GDI Client DLL
msvcp_win.dll|Microsoft® C Runtime Library
imm32.dll|Multi-User Windows IMM32 API Client DLL
combase.dll|Microsoft COM for Windows
ole32.dll|Microsoft OLE for Windows
oleaut32.dll|OLEAUT32.DLL
shell32.dll|Windows Shell Common Dll
shlwapi.dll|Shell Light-weight Utility Library
SHCore.dll|SHCORE
windows.storage.dll|Microsoft WinRT Storage API
profapi.dll|User Profile Basic API
powrprof.dll|Power Profile Helper DLL
umpdc.dll|User Mode Power Dependency Coordinator
kernel.appcore.dll|AppModel API Host
cryptbase.dll|Base cryptographic API DLL
bcryptprimitives.dll|Windows Cryptographic Primitives Library
bcrypt.dll|Windows Cryptographic Primitives Library
crypt32.dll|Crypto API32
cryptsp.dll|Cryptographic Service Provider API
rsaenh.dll|Microsoft Enhanced Cryptographic Provider
ncrypt.dll|Windows NCrypt Router
ntasn1.dll|Microsoft ASN.1 API
msasn1.dll|ASN.1 Runtime APIs
wintrust.dll|Microsoft Trust Verification APIs
sspicli.dll|Security Support Provider Interface
secur32.dll|Security Support Provider Interface
kerberos.dll|Kerberos Security Package|lsass.exe
msv1_0.dll|Microsoft Authentication Package v1.0|lsass.exe
netapi32.dll|Net Win32 API DLL
netutils.dll|Net Win32 API Helpers DLL
samcli.dll|Security Accounts Manager Client DLL
samlib.dll|SAM Library DLL|lsass.exe net1.exe svchost.exe mmc.exe
wkscli.dll|Workstation Service Client DLL
srvcli.dll|Server Service Client DLL
logoncli.dll|Net Logon Client DLL
ws2_32.dll|Windows Socket 2.0 32-Bit DLL
mswsock.dll|Microsoft Windows Sockets 2.0 Service Provider
wshqos.dll|QoS Winsock2 Helper DLL
WSHTCPIP.DLL|Winsock2 Helper DLL (TL/IPv4)
nsi.dll|NSI User-mode interface DLL
IPHLPAPI.DLL|IP Helper API
dnsapi.dll|DNS Client API DLL
dhcpcsvc.dll|DHCP Client Service
dhcpcsvc6.dll|DHCPv6 Client
winhttp.dll|Windows HTTP Services
wininet.dll|Internet Extensions for Win32
urlmon.dll|OLE32 Extensions for Win32
iertutil.dll|Run time utility for Internet Explorer
webio.dll|Web Transfer Protocols API
winnsi.dll|Network Store Information RPC interface
fwpuclnt.dll|FWP/IPsec User-Mode API
rasadhlp.dll|Remote Access AutoDial Helper
schannel.dll|TLS / SSL Security Provider
mskeyprotect.dll|Microsoft Key Protection Provider
ncryptsslp.dll|Microsoft SChannel Provider
dpapi.dll|Data Protection API|lsass.exe svchost.exe chrome.exe msedge.exe outlook.exe
version.dll|Version Checking and File Installation Libraries
uxtheme.dll|Microsoft UxTheme Library
dwmapi.dll|Microsoft Desktop Window Manager API
TextInputFramework.dll|TextInputFramework.DYNLINK
CoreMessaging.dll|Microsoft CoreMessaging Dll
CoreUIComponents.dll|Microsoft Core UI Components Dll
wintypes.dll|Windows Base Types DLL
clbcatq.dll|COM+ Configuration Catalog
propsys.dll|Microsoft Property System
MMDevAPI.dll|MMDevice API
AudioSes.dll|Audio Session
winmm.dll|MCI API DLL
dxgi.dll|DirectX Graphics Infrastructure
d3d11.dll|Direct3D 11 Runtime
d3d12.dll|Direct3D 12 Runtime
dcomp.dll|Microsoft DirectComposition Library
d2d1.dll|Microsoft D2D Library
DWrite.dll|Microsoft DirectX Typography Services
windowscodecs.dll|Microsoft Windows Codecs Library
comctl32.dll|User Experience Controls Library
comdlg32.dll|Common Dialogs DLL
setupapi.dll|Windows Setup API
cfgmgr32.dll|Configuration Manager DLL
devobj.dll|Device Information Set DLL
wldp.dll|Windows Lockdown Policy
amsi.dll|Anti-Malware Scan Interface|powershell.exe msmpeng.exe wmiprvse.exe
MpOav.dll|IOfficeAntiVirus Module|chrome.exe msedge.exe firefox.exe outlook.exe explorer.exe
mscoree.dll|Microsoft .NET Runtime Execution Engine|powershell.exe mmc.exe w3wp.exe sqlservr.exe ngen.exe mscorsvw.exe ngentask.exe splunkd.exe sdxhelper.exe
userenv.dll|Userenv
wtsapi32.dll|Windows Remote Desktop Session Host Server SDK APIs
winsta.dll|Winstation Library
taskschd.dll|Task Scheduler COM API|svchost.exe taskhostw.exe schtasks.exe mmc.exe explorer.exe
xmllite.dll|Microsoft XmlLite Library
msxml6.dll|MSXML 6.0 SP3
wbemcomn.dll|WMI|wmiprvse.exe svchost.exe powershell.exe mmc.exe unsecapp.exe
wbemprox.dll|WMI|wmiprvse.exe svchost.exe powershell.exe mmc.exe
wbemsvc.dll|WMI|wmiprvse.exe svchost.exe powershell.exe mmc.exe
fastprox.dll|WMI Custom Marshaller|wmiprvse.exe svchost.exe powershell.exe mmc.exe
vbscript.dll|Microsoft ® VBScript|cscript.exe wscript.exe mshta.exe
jscript9.dll|Microsoft ® JScript|mshta.exe explorer.exe searchapp.exe
mshtml.dll|MSHTML|explorer.exe mmc.exe mshta.exe
edputil.dll|EDP util|explorer.exe outlook.exe winword.exe excel.exe
apphelp.dll|Application Compatibility Client Library
sxs.dll|Fusion 2.5
msi.dll|Windows Installer|msiexec.exe explorer.exe
wevtapi.dll|Eventing Consumption and Configuration API|svchost.exe mmc.exe wevtutil.exe
dbghelp.dll|Windows Image Helper|werfault.exe wermgr.exe taskmgr.exe
dbgcore.dll|Windows Core Debugging Helpers|werfault.exe wermgr.exe
vaultcli.dll|Credential Vault Client Library|explorer.exe lsass.exe svchost.exe
cscapi.dll|Offline Files Win32 API|explorer.exe svchost.exe
ntmarta.dll|Windows NT MARTA provider
gpapi.dll|Group Policy Client API
policymanager.dll|Policy Manager DLL
twinapi.appcore.dll|twinapi.appcore
OnDemandConnRouteHelper.dll|On Demand Connctiond Route Helper
winrnr.dll|LDAP RnR Provider DLL
pnrpnsp.dll|PNRP Name Space Provider
NapiNSP.dll|E-mail Naming Shim Provider
wshbth.dll|Windows Sockets Helper DLL|svchost.exe
mlang.dll|Multi Language Support DLL
srvcli.dll|Server Service Client DLL
sppc.dll|Software Licensing Client Dll|sppsvc.exe slui.exe sppextcomobj.exe
slc.dll|Software Licensing Client Dll|sppsvc.exe slui.exe sppextcomobj.exe svchost.exe
cldapi.dll|Cloud API user mode API library
FirewallAPI.dll|Windows Defender Firewall API
wbem\wmiutils.dll|WMI|wmiprvse.exe svchost.exe powershell.exe
wbem\wbemdisp.dll|WMI Scripting|wmiprvse.exe cscript.exe
`

// programDLLs: path|OriginalFileName|Description|Product|Company|Version|images
// (the images that load it).
const programDLLs = `
C:\Program Files\Google\Chrome\Application\131.0.6778.86\chrome.dll|chrome.dll|Google Chrome|Google Chrome|Google LLC|131.0.6778.86|chrome.exe
C:\Program Files\Google\Chrome\Application\131.0.6778.86\chrome_elf.dll|chrome_elf.dll|Google Chrome|Google Chrome|Google LLC|131.0.6778.86|chrome.exe
C:\Program Files\Google\Chrome\Application\131.0.6778.86\libEGL.dll|libEGL.dll|ANGLE libEGL Dynamic Link Library|ANGLE libEGL Dynamic Link Library|Google LLC|2.1.0.0|chrome.exe
C:\Program Files\Google\Chrome\Application\131.0.6778.86\libGLESv2.dll|libGLESv2.dll|ANGLE libGLESv2 Dynamic Link Library|ANGLE libGLESv2 Dynamic Link Library|Google LLC|2.1.0.0|chrome.exe
C:\Program Files (x86)\Microsoft\Edge\Application\131.0.2903.63\msedge.dll|msedge.dll|Microsoft Edge|Microsoft Edge|Microsoft Corporation|131.0.2903.63|msedge.exe
C:\Program Files (x86)\Microsoft\Edge\Application\131.0.2903.63\msedge_elf.dll|msedge_elf.dll|Microsoft Edge|Microsoft Edge|Microsoft Corporation|131.0.2903.63|msedge.exe
C:\Program Files\Mozilla Firefox\xul.dll|xul.dll|Firefox|Firefox|Mozilla Foundation|133.0|firefox.exe
C:\Program Files\Mozilla Firefox\mozglue.dll|mozglue.dll|Firefox|Firefox|Mozilla Foundation|133.0|firefox.exe
C:\Program Files\Mozilla Firefox\nss3.dll|nss3.dll|Firefox|Firefox|Mozilla Foundation|133.0|firefox.exe
C:\Program Files\Common Files\microsoft shared\ClickToRun\AppvIsvSubsystems64.dll|AppvIsvSubsystems64.dll|Client Virtualization Subsystems|Microsoft Office|Microsoft Corporation|16.0.18129.20158|officeclicktorun.exe outlook.exe winword.exe excel.exe powerpnt.exe onenote.exe
C:\Program Files\Common Files\microsoft shared\ClickToRun\C2R64.dll|C2R64.dll|Microsoft Office Click-to-Run|Microsoft Office|Microsoft Corporation|16.0.18129.20158|officeclicktorun.exe outlook.exe winword.exe excel.exe powerpnt.exe onenote.exe
C:\Program Files\Microsoft Office\root\Office16\mso.dll|mso.dll|Microsoft Office component|Microsoft Office|Microsoft Corporation|16.0.18129.20158|outlook.exe winword.exe excel.exe powerpnt.exe onenote.exe sdxhelper.exe
C:\Program Files\Microsoft Office\root\Office16\wwlib.dll|wwlib.dll|Microsoft Word|Microsoft Office|Microsoft Corporation|16.0.18129.20158|winword.exe
C:\Program Files\Microsoft Office\root\Office16\OLMAPI32.DLL|OLMAPI32.DLL|Microsoft Outlook Messaging API|Microsoft Outlook|Microsoft Corporation|16.0.18129.20158|outlook.exe
C:\Program Files\Common Files\microsoft shared\Office16\mso20win32client.dll|mso20win32client.dll|Microsoft Office component|Microsoft Office|Microsoft Corporation|16.0.18129.20158|outlook.exe winword.exe excel.exe powerpnt.exe onenote.exe sdxhelper.exe
C:\Program Files\Common Files\microsoft shared\Office16\mso30win32client.dll|mso30win32client.dll|Microsoft Office component|Microsoft Office|Microsoft Corporation|16.0.18129.20158|outlook.exe winword.exe excel.exe powerpnt.exe onenote.exe sdxhelper.exe
C:\Program Files\Common Files\microsoft shared\Office16\mso40uiwin32client.dll|mso40uiwin32client.dll|Microsoft Office component|Microsoft Office|Microsoft Corporation|16.0.18129.20158|outlook.exe winword.exe excel.exe powerpnt.exe onenote.exe sdxhelper.exe
C:\Program Files\Windows Defender\MpClient.dll|MpClient.dll|Client Interface|Microsoft® Windows® Operating System|Microsoft Corporation|4.18.24090.11|msmpeng.exe mpcmdrun.exe nissrv.exe mpdefendercoreservice.exe
C:\ProgramData\Microsoft\Windows Defender\Platform\4.18.24090.11-0\MpSvc.dll|MpSvc.dll|Service Interface|Microsoft® Windows® Operating System|Microsoft Corporation|4.18.24090.11|msmpeng.exe mpcmdrun.exe nissrv.exe mpdefendercoreservice.exe
C:\ProgramData\Microsoft\Windows Defender\Platform\4.18.24090.11-0\MpRtp.dll|MpRtp.dll|Real-time Protection Plugin|Microsoft® Windows® Operating System|Microsoft Corporation|4.18.24090.11|msmpeng.exe mpcmdrun.exe nissrv.exe mpdefendercoreservice.exe
C:\ProgramData\Microsoft\Windows Defender\Definition Updates\{9A3C2F14-61B7-4A2D-8C55-4D0B6B9F1E20}\mpengine.dll|mpengine.dll|Microsoft Malware Protection Engine|Microsoft Malware Protection|Microsoft Corporation|1.1.24090.11|msmpeng.exe mpcmdrun.exe nissrv.exe mpdefendercoreservice.exe
C:\Windows\Microsoft.NET\Framework64\v4.0.30319\clr.dll|clr.dll|Microsoft .NET Runtime Common Language Runtime - WorkStation|Microsoft® .NET Framework|Microsoft Corporation|4.8.9032.0|powershell.exe mmc.exe w3wp.exe sqlservr.exe ngen.exe mscorsvw.exe ngentask.exe
C:\Windows\Microsoft.NET\Framework64\v4.0.30319\clrjit.dll|clrjit.dll|Microsoft .NET Runtime Just-In-Time Compiler|Microsoft® .NET Framework|Microsoft Corporation|4.8.9032.0|powershell.exe mmc.exe w3wp.exe sqlservr.exe ngen.exe mscorsvw.exe ngentask.exe
C:\Windows\Microsoft.NET\Framework64\v4.0.30319\mscoreei.dll|mscoreei.dll|Microsoft .NET Runtime Execution Engine|Microsoft® .NET Framework|Microsoft Corporation|4.8.9032.0|powershell.exe mmc.exe w3wp.exe sqlservr.exe ngen.exe mscorsvw.exe ngentask.exe
C:\Windows\assembly\NativeImages_v4.0.30319_64\mscorlib\5d1c9a4f3b0e7e7a8b1c2d3e4f506172\mscorlib.ni.dll|mscorlib.dll|Microsoft Common Language Runtime Class Library|Microsoft® .NET Framework|Microsoft Corporation|4.8.9032.0|powershell.exe mmc.exe w3wp.exe sqlservr.exe ngen.exe mscorsvw.exe ngentask.exe
C:\Windows\assembly\NativeImages_v4.0.30319_64\System\a1b2c3d4e5f60718293a4b5c6d7e8f90\System.ni.dll|System.dll|.NET Framework|Microsoft® .NET Framework|Microsoft Corporation|4.8.9032.0|powershell.exe mmc.exe w3wp.exe sqlservr.exe ngen.exe mscorsvw.exe ngentask.exe
C:\Windows\assembly\NativeImages_v4.0.30319_64\System.Management.A#\0f1e2d3c4b5a69788796a5b4c3d2e1f0\System.Management.Automation.ni.dll|System.Management.Automation.dll|System.Management.Automation|Microsoft (R) Windows (R) Operating System|Microsoft Corporation|10.0.19041.1|powershell.exe
C:\Program Files\VMware\VMware Tools\vmtools.dll|vmtools.dll|VMware Tools Core Library|VMware Tools|VMware, Inc.|12.4.5.23787635|vmtoolsd.exe vgauthservice.exe
C:\Program Files\Microsoft OneDrive\24.211.1020.0001\FileSyncShell64.dll|FileSyncShell.dll|Microsoft OneDrive Shell Extension|Microsoft OneDrive|Microsoft Corporation|24.211.1020.0001|explorer.exe
C:\Program Files\Microsoft OneDrive\24.211.1020.0001\LoggingPlatform.dll|LoggingPlatform.dll|Microsoft OneDrive Logging Platform|Microsoft OneDrive|Microsoft Corporation|24.211.1020.0001|onedrive.exe filesynchelper.exe filecoauth.exe
C:\Program Files\7-Zip\7-zip.dll|7-zip.dll|7-Zip Shell Extension|7-Zip|Igor Pavlov|24.08|explorer.exe 7zfm.exe 7zg.exe
C:\Program Files\Notepad++\plugins\NppExport\NppExport.dll|NppExport.dll|Exporting plugin for Notepad++|NppExport|Don HO|0.4.0.0|notepad++.exe
C:\Program Files\Microsoft SQL Server\MSSQL16.MSSQLSERVER\MSSQL\Binn\sqllang.dll|sqllang.dll|SQL Server Language Library|Microsoft SQL Server|Microsoft Corporation|2022.160.4135.4|sqlservr.exe
C:\Program Files\Microsoft SQL Server\MSSQL16.MSSQLSERVER\MSSQL\Binn\sqlmin.dll|sqlmin.dll|SQL Server Min Library|Microsoft SQL Server|Microsoft Corporation|2022.160.4135.4|sqlservr.exe
C:\Program Files\CrowdStrike\CSFalconServiceUtil.dll|CSFalconServiceUtil.dll|CrowdStrike Falcon Sensor Utility|CrowdStrike Falcon Sensor|CrowdStrike, Inc.|7.18.18710.0|csfalconservice.exe
C:\Windows\System32\inetsrv\iiscore.dll|iiscore.dll|IIS Web Server Core|Internet Information Services|Microsoft Corporation|10.0.17763.1|w3wp.exe
C:\Windows\System32\inetsrv\w3isapi.dll|w3isapi.dll|IIS ISAPI handler|Internet Information Services|Microsoft Corporation|10.0.17763.1|w3wp.exe
`
