package synth

import "strings"

// Command-line and path templates. Placeholders, expanded by expand():
//   {path} image path   {qpath} quoted image path   {home} C:\Users\<name>
//   {user} account name {sid} account SID           {host} short host name
//   {fqdn} host FQDN    {domain} NetBIOS domain     {dnsdomain} DNS domain
//   {nK} K random decimal digits (first non-zero)   {hexK} K random hex digits
//   {HEXK} upper-case hex {guid} random GUID (braces, lower) {GUID} upper, no braces
//   {doc} a document name {ext} a document extension {exe} an executable name
//   {ppid} parent PID     {date} event date yyyymmdd {svc} a service name
//   {word} a word         {url} an https URL of a popular domain
//   {HOST} upper-case short host name  {alnumK} K random [a-z0-9]
//   {rotexe} an executable name in ROT13 (UserAssist)
//   {pargs} the parent's command line after its first word

// cmdTemplates: command lines per image base name (lower case). Images not
// listed run with their quoted path only.
var cmdTemplates = map[string][]string{
	"chrome.exe": {
		`"{path}"`,
		`"{path}" --type=renderer --string-annotations --video-capture-use-gpu-memory-buffer --lang=en-US --device-scale-factor=1 --num-raster-threads=2 --enable-main-frame-before-activation --renderer-client-id={n3} --time-ticks-at-unix-epoch=-{n16} --launch-time-ticks={n10} --field-trial-handle=1904,i,{n19},{n19},262144 --variations-seed-version=20241120-180110.193000 --mojo-platform-channel-handle={n4} /prefetch:1`,
		`"{path}" --type=utility --utility-sub-type=network.mojom.NetworkService --lang=en-US --service-sandbox-type=none --field-trial-handle=1904,i,{n19},{n19},262144 --variations-seed-version=20241120-180110.193000 --mojo-platform-channel-handle={n4} /prefetch:11`,
		`"{path}" --type=gpu-process --gpu-preferences=UAAAAAAAAADgAAAEAAAAAAAAAAAAAAAAAABgAAEAAAAAAAAAAAAAAAAAAAACAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= --field-trial-handle=1904,i,{n19},{n19},262144 --variations-seed-version=20241120-180110.193000 --mojo-platform-channel-handle={n4} /prefetch:2`,
		`"{path}" --type=crashpad-handler "--user-data-dir={home}\AppData\Local\Google\Chrome\User Data" /prefetch:4 --monitor-self-annotation=ptype=crashpad-handler "--database={home}\AppData\Local\Google\Chrome\User Data\Crashpad" --url=https://clients2.google.com/cr/report --annotation=channel= --annotation=plat=Win64 --annotation=prod=Chrome --annotation=ver=131.0.6778.86 --initial-client-data=0x{hex3},0x{hex3},0x{hex3},0x{hex3},0x{hex3},0x7ff{hex9},0x7ff{hex9},0x7ff{hex9}`,
		`"{path}" --single-argument {url}`,
	},
	"msedge.exe": {
		`"{path}" --no-startup-window --win-session-start`,
		`"{path}" --type=renderer --instant-process --lang=en-US --js-flags=--ms-user-locale= --device-scale-factor=1 --num-raster-threads=2 --enable-main-frame-before-activation --renderer-client-id={n3} --time-ticks-at-unix-epoch=-{n16} --launch-time-ticks={n10} --field-trial-handle=2084,i,{n19},{n19},262144 --variations-seed-version --mojo-platform-channel-handle={n4} /prefetch:1`,
		`"{path}" --type=utility --utility-sub-type=storage.mojom.StorageService --lang=en-US --service-sandbox-type=service --field-trial-handle=2084,i,{n19},{n19},262144 --variations-seed-version --mojo-platform-channel-handle={n4} /prefetch:8`,
		`"{path}" --single-argument {url}`,
	},
	"firefox.exe": {
		`"{path}"`,
		`"{path}" -contentproc --channel={n4} -childID {n2} -isForBrowser -prefsHandle {n4} -prefMapHandle {n4} -prefsLen {n5} -prefMapSize 244952 -jsInitHandle 1360 -jsInitLen 235124 -parentBuildID 20241118123456 -win32kLockedDown -appDir "C:\Program Files\Mozilla Firefox\browser" - {n4} tab`,
		`"{path}" -contentproc --channel={n4} -parentBuildID 20241118123456 -prefsHandle {n4} -prefMapHandle {n4} -prefsLen {n5} -prefMapSize 244952 -appDir "C:\Program Files\Mozilla Firefox\browser" - {n4} socket`,
	},
	"code.exe": {
		`"{path}"`,
		`"{path}" --type=renderer --user-data-dir="{home}\AppData\Roaming\Code" --standard-schemes=vscode-webview,vscode-file --enable-sandbox --secure-schemes=vscode-webview,vscode-file --app-path="C:\Program Files\Microsoft VS Code\resources\app" --enable-sandbox --js-flags=--nodecommit_pooled_pages --renderer-client-id={n2} --time-ticks-at-unix-epoch=-{n16} --launch-time-ticks={n10} --field-trial-handle=1796,i,{n19},{n19},262144 --mojo-platform-channel-handle={n4} /prefetch:1`,
		`"{path}" --type=utility --utility-sub-type=node.mojom.NodeService --lang=en-US --service-sandbox-type=none --user-data-dir="{home}\AppData\Roaming\Code" --standard-schemes=vscode-webview,vscode-file --mojo-platform-channel-handle={n4} /prefetch:8`,
	},
	"outlook.exe":   {`"{path}" `, `"{path}" /recycle`},
	"winword.exe":   {`"{path}" /n "{home}\Documents\{doc}.docx" /o ""`, `"{path}" /n "{home}\Downloads\{doc}.docx" /o ""`, `"{path}" `},
	"excel.exe":     {`"{path}" "{home}\Documents\{doc}.xlsx"`, `"{path}" "{home}\OneDrive - Contoso\{doc}.xlsx"`, `"{path}" `},
	"powerpnt.exe":  {`"{path}" "{home}\Documents\{doc}.pptx" /ou ""`},
	"onenote.exe":   {`"{path}" `},
	"acrobat.exe":   {`"{path}" "{home}\Downloads\{doc}.pdf"`, `"{path}" "{home}\Documents\{doc}.pdf"`},
	"acrocef.exe":   {`"{path}" --type=renderer --lang=en-US --log-file="C:\Program Files\Adobe\Acrobat DC\Acrobat\AcroCEF\debug.log" --renderer-client-id={n2} --mojo-platform-channel-handle={n4} /prefetch:1`},
	"notepad.exe":   {`"{path}" "{home}\Documents\{doc}.txt"`, `"{path}" `, `"{path}" C:\Windows\System32\drivers\etc\hosts`},
	"notepad++.exe": {`"{path}" "{home}\Documents\{doc}.txt"`, `"{path}" `},
	"cmd.exe": {
		`"{path}" `,
		`C:\Windows\system32\cmd.exe /c ""{home}\AppData\Local\Temp\{word}_{n4}.bat" "`,
		`C:\Windows\system32\cmd.exe /d /s /c "git rev-parse --show-toplevel"`,
		`C:\Windows\system32\cmd.exe /c echo %PROCESSOR_ARCHITECTURE%`,
		`"C:\Windows\system32\cmd.exe" /c "C:\ProgramData\{word}\update.cmd"`,
	},
	"powershell.exe": {
		`"{path}" `,
		`"{path}" -NoLogo -NoProfile -NonInteractive -ExecutionPolicy RemoteSigned -File "C:\ProgramData\{word}\Scripts\inventory.ps1"`,
		`"{path}" -NoProfile -ExecutionPolicy RemoteSigned -Command "& {Get-Service | Where-Object {$_.Status -eq 'Running'} | Export-Csv C:\ProgramData\{word}\services.csv}"`,
		`"{path}" -ExecutionPolicy Restricted -Command Write-Host 'Final result: 1';`,
		`"{path}" -NonInteractive -NoProfile -Command "Get-CimInstance -ClassName Win32_OperatingSystem | Select-Object -ExpandProperty Caption"`,
	},
	"conhost.exe":                     {`\??\C:\Windows\system32\conhost.exe 0xffffffff -ForceV1`, `\??\C:\Windows\system32\conhost.exe 0x4`},
	"dllhost.exe":                     {`C:\Windows\system32\DllHost.exe /Processid:{{GUID}}`},
	"rundll32.exe":                    {`C:\Windows\system32\rundll32.exe C:\Windows\system32\shell32.dll,SHCreateLocalServerRunDll {9aa46009-3ce0-458a-a354-715610a075e6} -Embedding`, `"C:\Windows\system32\rundll32.exe" C:\Windows\system32\inetcpl.cpl,ClearMyTracksByProcess Flags:{n3} WinX:0 WinY:0 IEFrame:0000000000000000`, `C:\Windows\System32\rundll32.exe C:\Windows\System32\davclnt.dll,DavSetCookie {host} http://{host}/`},
	"wmiprvse.exe":                    {`C:\Windows\system32\wbem\wmiprvse.exe -secured -Embedding`, `C:\Windows\system32\wbem\wmiprvse.exe -Embedding`},
	"runtimebroker.exe":               {`C:\Windows\System32\RuntimeBroker.exe -Embedding`},
	"backgroundtaskhost.exe":          {`"C:\Windows\system32\backgroundTaskHost.exe" -ServerName:BackgroundTaskHost.WebAccountProvider`, `"C:\Windows\system32\BackgroundTaskHost.exe" -ServerName:App.AppXmtcan0h2tfbfy7k9kn8hbxb6dmzz1zh0.mca`},
	"searchprotocolhost.exe":          {`"C:\Windows\system32\SearchProtocolHost.exe" Global\UsGthrFltPipeMssGthrPipe{n2}_ Global\UsGthrCtrlFltPipeMssGthrPipe{n2} 1 -2147483646 "Software\Microsoft\Windows Search" "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT; MS Search 4.0 Robot)" "C:\ProgramData\Microsoft\Search\Data\Temp\usgthrsvc" "DownLevelDaemon" `},
	"searchfilterhost.exe":            {`"C:\Windows\system32\SearchFilterHost.exe" 0 {n3} {n3} {n3} {n4} {n3} `},
	"taskhostw.exe":                   {`taskhostw.exe {{GUID}}`, `taskhostw.exe -RegisterDevice -ProtectionStateChanged -FreeNetworkOnly`, `taskhostw.exe SYSTEM`, `taskhostw.exe`},
	"mpcmdrun.exe":                    {`"{path}" -wdenable`, `"{path}" SignaturesUpdateService -ScheduleJob -UnmanagedUpdate`, `"{path}" -IdleTask -TaskName WdCacheMaintenance`},
	"compattelrunner.exe":             {`C:\Windows\system32\compattelrunner.exe -maintenance`, `C:\Windows\system32\compattelrunner.exe -m:appraiser.dll -f:DoScheduledTelemetryRun -cv:{hex8}.{n1}`},
	"devicecensus.exe":                {`C:\Windows\system32\devicecensus.exe SystemCxt`},
	"microsoftedgeupdate.exe":         {`"{path}" /ua /installsource scheduler`, `"{path}" /c`},
	"googleupdate.exe":                {`"{path}" /ua /installsource scheduler`, `"{path}" /c`},
	"onedrivestandaloneupdater.exe":   {`"{path}" /reporting`},
	"wermgr.exe":                      {`C:\Windows\system32\wermgr.exe -upload`, `C:\Windows\system32\wermgr.exe -outproc 0 {n4} {n4} {n4}`},
	"werfault.exe":                    {`C:\Windows\system32\WerFault.exe -u -p {ppid} -s {n3}`},
	"usocoreworker.exe":               {`C:\Windows\system32\usocoreworker.exe -Embedding`},
	"mousocoreworker.exe":             {`C:\Windows\UUS\amd64\MoUsoCoreWorker.exe`},
	"musnotification.exe":             {`C:\Windows\system32\MusNotification.exe`},
	"adobearm.exe":                    {`"{path}" /ArmUpdate`},
	"mpsigstub.exe":                   {`"C:\Windows\SoftwareDistribution\Download\Install\AM_Delta_Patch_1.421.1208.0.exe" WD /q`},
	"ngentask.exe":                    {`"{path}" /RuntimeWide /StopEvent:{n4}`},
	"tzsync.exe":                      {`C:\Windows\system32\tzsync.exe`},
	"sdiagnhost.exe":                  {`C:\Windows\System32\sdiagnhost.exe -Embedding`},
	"slui.exe":                        {`C:\Windows\System32\slui.exe -Embedding`},
	"trustedinstaller.exe":            {`C:\Windows\servicing\TrustedInstaller.exe`},
	"tiworker.exe":                    {`C:\Windows\winsxs\amd64_microsoft-windows-servicingstack_31bf3856ad364e35_10.0.19041.4585_none_7e2c2d0e6ea4b6a9\TiWorker.exe -Embedding`},
	"msiexec.exe":                     {`C:\Windows\system32\msiexec.exe /V`, `C:\Windows\System32\MsiExec.exe -Embedding {HEX32} C`, `"C:\Windows\System32\msiexec.exe" /i "{home}\Downloads\{word}-setup-{n1}.{n1}.{n2}.msi"`},
	"sppsvc.exe":                      {`C:\Windows\system32\sppsvc.exe`},
	"svchost.exe":                     {`C:\Windows\system32\svchost.exe -k netsvcs -p -s {svc}`, `C:\Windows\System32\svchost.exe -k LocalServiceNetworkRestricted -p -s {svc}`, `C:\Windows\system32\svchost.exe -k UnistackSvcGroup -s WpnUserService_{hex5}`},
	"smartscreen.exe":                 {`C:\Windows\System32\smartscreen.exe -Embedding`},
	"applicationframehost.exe":        {`C:\Windows\system32\ApplicationFrameHost.exe -Embedding`},
	"systemsettingsbroker.exe":        {`C:\Windows\System32\SystemSettingsBroker.exe -Embedding`},
	"useroobebroker.exe":              {`C:\Windows\System32\oobe\UserOOBEBroker.exe -Embedding`},
	"credentialuibroker.exe":          {`"C:\Windows\System32\CredentialUIBroker.exe" NonAppContainerFailedMip -Embedding`},
	"pickerhost.exe":                  {`C:\Windows\System32\PickerHost.exe -Embedding`},
	"openwith.exe":                    {`C:\Windows\system32\OpenWith.exe -Embedding`},
	"lockapp.exe":                     {`"{path}" -ServerName:WindowsDefaultLockScreen.AppX7y4nbzq37zn4ks9k7amqjywdat7d3j2z.mca`},
	"consent.exe":                     {`consent.exe {ppid} 324 00000{HEX3}F{HEX6}`},
	"ping.exe":                        {`ping  {dnsdomain}`, `ping -n 1 10.20.0.10`, `ping 8.8.8.8 -t`},
	"ipconfig.exe":                    {`ipconfig  /all`, `ipconfig /flushdns`, `ipconfig`},
	"net.exe":                         {`net  use`, `net  use Z: \\srv01.{dnsdomain}\share`, `net  time \\dc01`, `net  view`},
	"net1.exe":                        {`C:\Windows\system32\net1  use`, `C:\Windows\system32\net1  time \\dc01`},
	"findstr.exe":                     {`findstr  /i "error" "{home}\AppData\Local\Temp\{word}.log"`, `findstr /c:"Listening"`},
	"where.exe":                       {`where  python`, `where  git`},
	"tasklist.exe":                    {`tasklist  /v`, `tasklist  /fi "imagename eq {exe}"`},
	"git.exe":                         {`git  status`, `git  diff --stat`, `"C:\Program Files\Git\cmd\git.exe" rev-parse --show-toplevel`, `git  log -n 20 --pretty=oneline`},
	"git-remote-https.exe":            {`git-remote-https origin https://github.com/{word}/{word}.git`},
	"python.exe":                      {`python  -m pip install --upgrade pip`, `python  "{home}\source\{word}\manage.py" runserver`, `"{path}" -m venv .venv`},
	"node.exe":                        {`"{path}" "C:\Program Files\nodejs\node_modules\npm\bin\npm-cli.js" install`, `"{path}" "{home}\AppData\Local\Programs\Microsoft VS Code\resources\app\extensions\node_modules\typescript\lib\tsserver.js"`},
	"hostname.exe":                    {`hostname`},
	"systeminfo.exe":                  {`systeminfo`},
	"nslookup.exe":                    {`nslookup  {word}.{dnsdomain}`, `nslookup  www.microsoft.com`},
	"reg.exe":                         {`reg  query "HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion" /v ProductName`, `reg  query HKCU\Software\Microsoft\Office\16.0\Common\General`, `reg  export HKCU\Software\{word} "{home}\Documents\{word}.reg" /y`},
	"sc.exe":                          {`sc  query wuauserv`, `sc  queryex type= service state= all`, `sc  qc Spooler`},
	"schtasks.exe":                    {`schtasks  /query /fo LIST /v`, `schtasks  /query /tn "\Microsoft\Windows\Defrag\ScheduledDefrag"`},
	"netsh.exe":                       {`netsh  wlan show interfaces`, `netsh  interface ip show config`, `netsh  advfirewall show allprofiles state`},
	"arp.exe":                         {`arp  -a`},
	"route.exe":                       {`route  print`},
	"quser.exe":                       {`quser`},
	"w32tm.exe":                       {`w32tm  /query /status`, `w32tm  /resync`},
	"certutil.exe":                    {`certutil  -hashfile "{home}\Downloads\{word}-setup.exe" SHA256`, `certutil  -store my`},
	"cscript.exe":                     {`cscript  //nologo C:\Windows\System32\slmgr.vbs /dli`, `"C:\Windows\System32\cscript.exe" "C:\Program Files\Microsoft Office\Office16\OSPP.VBS" /dstatus`},
	"gpupdate.exe":                    {`gpupdate  /force`, `gpupdate.exe /target:computer`},
	"mstsc.exe":                       {`"{path}" /v:srv01.{dnsdomain}`, `"{path}" `},
	"mmc.exe":                         {`"C:\Windows\system32\mmc.exe" "C:\Windows\system32\eventvwr.msc" `, `"C:\Windows\system32\mmc.exe" "C:\Windows\system32\services.msc" `, `"C:\Windows\system32\mmc.exe" "C:\Windows\system32\compmgmt.msc" /s`},
	"taskmgr.exe":                     {`"C:\Windows\system32\taskmgr.exe" /4`, `"C:\Windows\system32\taskmgr.exe" /7`},
	"7zfm.exe":                        {`"{path}" "{home}\Downloads\{word}.zip"`},
	"7zg.exe":                         {`"{path}" x -o"{home}\Downloads\{word}\" -an -ai#7zMap{n5}:{n2}:7zEvent{n5}`},
	"ms-teams.exe":                    {`"{path}" msteams:system-initiated`, `"{path}" `},
	"teams.exe":                       {`"{path}" --system-initiated`, `"{path}" --type=renderer --autoplay-policy=no-user-gesture-required --field-trial-handle=1736,{n19},{n19},131072 --lang=en-US --app-path="{home}\AppData\Local\Microsoft\Teams\current\resources\app.asar" --renderer-client-id={n2} --mojo-platform-channel-handle={n4} /prefetch:1`},
	"slack.exe":                       {`"{path}" --startup`, `"{path}" --type=renderer --user-data-dir="{home}\AppData\Roaming\Slack" --app-path="{home}\AppData\Local\slack\app-4.41.97\resources\app.asar" --renderer-client-id={n2} --mojo-platform-channel-handle={n4} /prefetch:1`},
	"zoom.exe":                        {`"{path}" "--action=preload"`, `"{path}" "--url=zoommtg://zoom.us/join?action=join&confno={n10}"`},
	"discord.exe":                     {`"{path}" --processStart Discord.exe`, `"{path}" --type=renderer --user-data-dir="{home}\AppData\Roaming\discord" --renderer-client-id={n2} --mojo-platform-channel-handle={n4} /prefetch:1`},
	"onedrive.exe":                    {`"{path}" /background`, `"{path}" /updateInstalled /background`},
	"filecoauth.exe":                  {`"{path}" -Embedding`},
	"filesynchelper.exe":              {`"{path}"`},
	"windowsterminal.exe":             {`"{path}" `},
	"openconsole.exe":                 {`"{path}" --headless --width 120 --height 30 --signal 0x{hex3} --server 0x{hex3}`},
	"calculatorapp.exe":               {`"{path}" -ServerName:App.AppXsm3pg4n7er43kdh1qp4e79f1j7am68r8.mca`},
	"microsoft.media.player.exe":      {`"{path}" -ServerName:Microsoft.ZuneMusic.AppXvgywy35kx7f6n5x7yx4cntw5gdb2v3pv.mca`},
	"systemsettings.exe":              {`"{path}" -ServerName:microsoft.windows.immersivecontrolpanel`},
	"putty.exe":                       {`"{path}" -ssh admin@10.20.9.{n2}`},
	"postman.exe":                     {`"{path}" `},
	"notion.exe":                      {`"{path}" `},
	"winget.exe":                      {`winget  upgrade --all --silent`, `winget  list`},
	"elevation_service.exe":           {`"{path}"`},
	"maintenanceservice.exe":          {`"{path}" `},
	"vds.exe":                         {`C:\Windows\System32\vds.exe`},
	"vssvc.exe":                       {`C:\Windows\system32\vssvc.exe`},
	"mscorsvw.exe":                    {`C:\Windows\Microsoft.NET\Framework64\v4.0.30319\mscorsvw.exe -StartupEvent {n3} -InterruptEvent 0 -NGENProcess {n3} -Pipe {n3} -Comment "NGen Worker Process"`},
	"ngen.exe":                        {`"{path}" install "System.Management.Automation, Version=3.0.0.0, Culture=neutral, PublicKeyToken=31bf3856ad364e35" /NoDependencies /noroot /version:v4.0.30319 /LegacyServiceBehavior`},
	"dismhost.exe":                    {`C:\Windows\TEMP\{GUID}\dismhost.exe {{GUID}}`},
	"gpscript.exe":                    {`gpscript.exe /RefreshSystemParam`},
	"wevtutil.exe":                    {`wevtutil  qe System /c:5 /rd:true /f:text`},
	"sqlceip.exe":                     {`"{path}" -Service MSSQLSERVER`},
	"am_delta_patch_1.421.1208.0.exe": {`"{path}" WD /q`},
	"wlrmdr.exe":                      {`wlrmdr.exe -s 3600 -f 0 -t _ -m _ -a 11 -u ms-settings:signinoptions-launchfaceenrollment`},
	"musnotifyicon.exe":               {`%systemroot%\system32\MusNotifyIcon.exe NotifyTrayIcon 13`},
	"dataexchangehost.exe":            {`C:\Windows\system32\DataExchangeHost.exe -Embedding`},
	"mobsync.exe":                     {`C:\Windows\System32\mobsync.exe -Embedding`},
	"gamebarpresencewriter.exe":       {`"C:\Windows\System32\GameBarPresenceWriter.exe" -ServerName:Windows.Gaming.GameBar.Internal.PresenceWriterServer`},
	"cloudexperiencehostbroker.exe":   {`C:\Windows\System32\CloudExperienceHostBroker.exe -Embedding`},
	"unsecapp.exe":                    {`C:\Windows\system32\wbem\unsecapp.exe -Embedding`},
	"atbroker.exe":                    {`atbroker.exe`},
	"dashost.exe":                     {`dashost.exe {{GUID}}`},
	"audiodg.exe":                     {`C:\Windows\system32\AUDIODG.EXE 0x{hex3}`},
	"query.exe":                       {`query  user`},
	"msdt.exe":                        {`C:\Windows\system32\msdt.exe -skip TRUE -path C:\Windows\diagnostics\system\networking -ep NetworkDiagnosticsPNI`},
	"wscript.exe":                     {`"C:\Windows\System32\WScript.exe" "\\{dnsdomain}\SysVol\{dnsdomain}\scripts\logon.vbs"`},
	"mshta.exe":                       {`"C:\Windows\SysWOW64\mshta.exe" "C:\Program Files (x86)\{word}\help\index.hta"`},
	"locationnotificationwindows.exe": {`C:\Windows\System32\LocationNotificationWindows.exe`},
	"sppextcomobj.exe":                {`C:\Windows\System32\SppExtComObj.Exe -Embedding`},
	"waasmedicagent.exe":              {`C:\Windows\System32\WaaSMedicAgent.exe {hex32} {word}.{n1}.0.0`},
	"userinit.exe":                    {`C:\Windows\system32\userinit.exe`},
}

// spawnRules: which children a parent (spawn key: image base name, lower
// case, or "svchost.exe:<service>", or a key a spawn rule set) starts,
// with integer weights. A child is "image[|command line[|spawn key[|flags]]]":
// the command line replaces the image's cmdTemplates (so that what a
// process runs fits who started it), the spawn key says what the child
// starts in turn ("-": nothing), flags replace the image's activity flags.
// Parents not listed start nothing.
var spawnRules = map[string][]spawn{
	"explorer.exe": {{"chrome.exe|\"{path}\"", 20}, {"msedge.exe|\"{path}\" --no-startup-window --win-session-start", 8},
		{"firefox.exe|\"{path}\"", 4}, {"outlook.exe", 2}, {"winword.exe", 5},
		{"excel.exe", 5}, {"powerpnt.exe", 2}, {"onenote.exe", 1}, {"notepad.exe", 4}, {"cmd.exe|\"{path}\" ", 4},
		{"powershell.exe|\"{path}\" ", 3}, {"code.exe|\"{path}\"", 3}, {"notepad++.exe", 2}, {"7zfm.exe", 1}, {"acrobat.exe", 3},
		{"mstsc.exe|\"{path}\" ", 1}, {"teams.exe|\"{path}\" --system-initiated", 1}, {"slack.exe|\"{path}\" --startup", 1},
		{"zoom.exe", 1}, {"taskmgr.exe", 1}, {"mmc.exe", 1}, {"openwith.exe", 1}, {"windowsterminal.exe", 2},
		{"systemsettings.exe", 1}, {"putty.exe", 1}, {"calculatorapp.exe", 1}, {"microsoft.media.player.exe", 1},
		{"discord.exe|\"{path}\" --processStart Discord.exe", 1}, {"postman.exe", 1}, {"notion.exe", 1}, {"7zg.exe", 1},
		{`msiexec.exe|"C:\Windows\System32\msiexec.exe" /i "{home}\Downloads\{word}-setup-{n1}.{n1}.{n2}.msi"|-`, 1},
		{"rundll32.exe", 1}, {"dyn:installer", 1}},
	"googleupdate.exe":        {{"dyn:chromeinstaller", 1}},
	"microsoftedgeupdate.exe": {{"dyn:edgeupdate", 1}},
	"chrome.exe":              {{"chrome.exe||-", 1}},
	"msedge.exe":              {{"msedge.exe||-", 1}},
	"firefox.exe":             {{"firefox.exe||-", 1}},
	"code.exe": {{"code.exe||-", 10}, {"git.exe", 4}, {"git.exe|git  fetch --all|git.exe:remote", 2}, {"powershell.exe|\"{path}\" -NoLogo", 2},
		{`cmd.exe|C:\Windows\system32\cmd.exe /d /s /c "git rev-parse --show-toplevel"|cmd.exe:git`, 2},
		{`node.exe|"{path}" "{home}\AppData\Local\Programs\Microsoft VS Code\resources\app\extensions\node_modules\typescript\lib\tsserver.js"`, 2}},
	"teams.exe":   {{"teams.exe||-", 1}},
	"slack.exe":   {{"slack.exe||-", 1}},
	"discord.exe": {{"discord.exe||-", 1}},
	"acrobat.exe": {{"acrocef.exe", 1}},
	"outlook.exe": {{"chrome.exe|\"{path}\" --single-argument {url}|-", 2}, {"msedge.exe|\"{path}\" --single-argument {url}|-", 1},
		{`acrobat.exe|"{path}" "{home}\AppData\Local\Microsoft\Windows\INetCache\Content.Outlook\{HEX8}\{doc}.pdf"`, 3},
		{`winword.exe|"{path}" /n "{home}\AppData\Local\Microsoft\Windows\INetCache\Content.Outlook\{HEX8}\{doc}.docx" /o ""`, 2},
		{`excel.exe|"{path}" "{home}\AppData\Local\Microsoft\Windows\INetCache\Content.Outlook\{HEX8}\{doc}.xlsx"`, 2}},
	"windowsterminal.exe": {{"openconsole.exe", 1}, {"powershell.exe|\"{path}\" -NoLogo", 2}, {"cmd.exe|\"{path}\" ", 1}},
	"cmd.exe": {{"ping.exe", 9}, {"ipconfig.exe", 9}, {"net.exe", 6}, {"findstr.exe", 6}, {"where.exe", 3},
		{"tasklist.exe", 6}, {"git.exe", 4}, {"git.exe|git  pull|git.exe:remote", 2}, {`python.exe|python  "{home}\source\{word}\manage.py" test||fds`, 6},
		{`python.exe|python  -m pip install --upgrade pip||nfds`, 1}, {"hostname.exe", 3},
		{"systeminfo.exe", 3}, {"nslookup.exe", 3}, {"reg.exe", 3}, {"sc.exe", 3}, {"schtasks.exe", 3}, {"netsh.exe", 3},
		{"arp.exe", 3}, {"route.exe", 3}, {"quser.exe", 3}, {"w32tm.exe", 3}, {"certutil.exe", 3}, {"gpupdate.exe", 3},
		{"query.exe", 3}, {"winget.exe", 3}},
	"cmd.exe:git": {{"git.exe|git  rev-parse --show-toplevel|-|ds", 1}},
	"powershell.exe": {{"git.exe", 1}, {"git.exe|git  fetch --all|git.exe:remote", 1}, {"ipconfig.exe", 2}, {"net.exe", 1}, {"netsh.exe", 1},
		{"hostname.exe", 1}, {"gpupdate.exe", 1}, {"winget.exe", 1}},
	"net.exe":              {{`net1.exe|C:\Windows\system32\net1{pargs}`, 1}},
	"searchindexer.exe":    {{`searchprotocolhost.exe`, 3}, {`searchfilterhost.exe`, 2}},
	"git.exe:remote":       {{"git-remote-https.exe", 1}}, // fetch and pull talk to the remote
	"trustedinstaller.exe": {{"tiworker.exe", 1}},
	"msmpeng.exe":          {{"mpcmdrun.exe", 1}},
	"ngentask.exe":         {{"ngen.exe", 1}, {"mscorsvw.exe", 2}},
	"sqlservr.exe":         {{"sqlceip.exe", 1}},
	"userinit.exe":         {{"explorer.exe", 1}},
	"winlogon.exe":         {{"wlrmdr.exe", 1}},
	"compattelrunner.exe":  {{"dyn:dismhost", 1}},
	// svchost children depend on the service group of the parent instance;
	// the generator resolves "svchost.exe:<service>" first.
	"svchost.exe:DcomLaunch": {{"dllhost.exe", 10}, {"wmiprvse.exe", 6}, {"runtimebroker.exe", 6}, {"backgroundtaskhost.exe", 6},
		{"smartscreen.exe", 3}, {"applicationframehost.exe", 1}, {"useroobebroker.exe", 1}, {"systemsettingsbroker.exe", 2},
		{"credentialuibroker.exe", 1}, {"pickerhost.exe", 1}, {"lockapp.exe", 1}, {"filecoauth.exe", 1},
		{"unsecapp.exe", 1}, {"sppextcomobj.exe", 1}, {"mobsync.exe", 1}, {"gamebarpresencewriter.exe", 1}, {"cloudexperiencehostbroker.exe", 1}},
	"svchost.exe:Schedule": {{"taskhostw.exe", 60}, {"mpcmdrun.exe", 20}, {"compattelrunner.exe||-", 18}, {"compattelrunner.exe", 2},
		{"devicecensus.exe", 10},
		// Updaters and the appraiser mostly find nothing to do; one run in
		// ten installs an update (or inventories with DISM).
		{"microsoftedgeupdate.exe||-", 18}, {"microsoftedgeupdate.exe", 2}, {"googleupdate.exe||-", 18}, {"googleupdate.exe", 2},
		{"onedrivestandaloneupdater.exe", 10}, {"wermgr.exe", 10},
		{"musnotification.exe", 10}, {"usocoreworker.exe", 20}, {"adobearm.exe", 10}, {"ngentask.exe", 10}, {"tzsync.exe", 10},
		{"sdiagnhost.exe", 10}, {"slui.exe", 10}, {"gpscript.exe", 10}, {"waasmedicagent.exe", 10}},
	"svchost.exe:WerSvc":   {{"werfault.exe", 1}},
	"svchost.exe:Appinfo":  {{"consent.exe", 1}},
	"svchost.exe:wuauserv": {{"mousocoreworker.exe", 1}, {"mpsigstub.exe", 1}, {"am_delta_patch_1.421.1208.0.exe", 1}},
	"svchost.exe:Winmgmt":  {{"wmiprvse.exe", 1}},
	"services.exe": {{"svchost.exe|||rd", 4}, {"trustedinstaller.exe", 1}, {`msiexec.exe|C:\Windows\system32\msiexec.exe /V|msiexec.exe:service`, 1},
		{"sppsvc.exe", 1}, {"elevation_service.exe", 1}, {"maintenanceservice.exe", 1}, {"vds.exe", 1}, {"vssvc.exe", 1}},
	// The Windows Installer service runs custom actions in SYSTEM hosts.
	"msiexec.exe:service": {{`msiexec.exe|C:\Windows\System32\MsiExec.exe -Embedding {HEX32} C|-`, 3},
		{`msiexec.exe|C:\Windows\System32\MsiExec.exe -Embedding {HEX32} E Global\MSI0000|-`, 1}},
}

// spawnRule is a parsed spawnRules child.
type spawnRule struct {
	child, cmd, key string
	flags           string
	weight          int
}

// spawnTable is spawnRules parsed.
var spawnTable = func() map[string][]spawnRule {
	out := make(map[string][]spawnRule, len(spawnRules))
	for parent, rules := range spawnRules {
		for _, s := range rules {
			f := strings.SplitN(s.child, "|", 4)
			r := spawnRule{child: f[0], weight: s.weight}
			if len(f) > 1 {
				r.cmd = f[1]
			}
			if len(f) > 2 {
				r.key = f[2]
			}
			if len(f) > 3 {
				r.flags = f[3]
			}
			out[parent] = append(out[parent], r)
		}
	}
	return out
}()

// dynamicImages are executables that live at a fresh path each time
// (installers and servicing hosts unpacked to a new directory); a spawn
// rule child "dyn:<name>" starts one. Fields: path|OriginalFileName|
// Description|Product|Company|Version|command line.
var dynamicImages = map[string]string{
	"dyn:installer":       `{home}\Downloads\{word}-setup-{n1}.{n1}.{n2}.exe|setup.exe|Setup|{word} installer|{word} Software|{n1}.{n1}.{n2}.0|"{path}" `,
	"dyn:dismhost":        `C:\Windows\Temp\{GUID}\DismHost.exe|DismHost.exe|Dism Host Servicing Process|Microsoft® Windows® Operating System|Microsoft Corporation|10.0.19041.3636 (WinBuild.160101.0800)|{path} {{GUID}}`,
	"dyn:chromeinstaller": `C:\Program Files (x86)\Google\Update\Install\{{GUID}}\131.0.6778.86_chrome_installer.exe|mini_installer.exe|Google Chrome Installer|Google Chrome Installer|Google LLC|131.0.6778.86|"{path}" --system-level --verbose-logging --do-not-launch-chrome`,
	"dyn:edgeupdate":      `C:\Program Files (x86)\Microsoft\EdgeUpdate\Install\{{GUID}}\MicrosoftEdgeUpdateSetup_X86_1.3.195.35.exe|MicrosoftEdgeUpdateSetup.exe|Microsoft Edge Update Setup|Microsoft Edge Update|Microsoft Corporation|1.3.195.35|"{path}" /update /sessionid "{{GUID}}"`,
}

type spawn struct {
	child  string
	weight int
}

// fileClassOf: the file class of an image (base name); unlisted images
// write the files of their account's default class ("system" or
// "userapp").
var fileClassOf = map[string]string{
	"chrome.exe": "chrome", "msedge.exe": "edge", "firefox.exe": "firefox",
	"outlook.exe": "office", "winword.exe": "office", "excel.exe": "office", "powerpnt.exe": "office", "onenote.exe": "office",
	"officeclicktorun.exe": "c2r", "acrobat.exe": "office",
	"msmpeng.exe": "defender", "mpcmdrun.exe": "defender", "nissrv.exe": "defender", "mpdefendercoreservice.exe": "defender",
	"explorer.exe": "explorer", "searchindexer.exe": "search", "onedrive.exe": "onedrive", "filesynchelper.exe": "onedrive",
	"teams.exe": "chat", "ms-teams.exe": "chat", "slack.exe": "chat", "discord.exe": "chat", "zoom.exe": "chat",
	"powershell.exe": "powershell", "cmd.exe": "cmd", "code.exe": "dev", "git.exe": "dev", "python.exe": "dev", "node.exe": "dev",
	"sqlservr.exe": "sql", "w3wp.exe": "iis", "msiexec.exe": "installer", "tiworker.exe": "installer", "trustedinstaller.exe": "installer",
	"dismhost.exe": "installer", "7zfm.exe": "archive", "7zg.exe": "archive", "notepad.exe": "editor", "notepad++.exe": "editor",
	"dfsrs.exe": "dfsr", "dns.exe": "dns", "splunkd.exe": "splunk",
}

// fileTemplates: TargetFilename templates per file class. A leading ~
// marks a transient file: the class also deletes it (Sysmon 23/26) and
// changes its time stamps (Sysmon 2); others are only written.
var fileTemplates = map[string][]string{
	"chrome": {
		`~{home}\AppData\Local\Google\Chrome\User Data\Default\Cache\Cache_Data\f_{hex6}`,
		`~{home}\AppData\Local\Google\Chrome\User Data\Default\Code Cache\js\{hex16}_0`,
		`~{home}\AppData\Local\Google\Chrome\User Data\Default\Network\Cookies-journal`,
		`~{home}\AppData\Local\Google\Chrome\User Data\Default\History-journal`,
		`{home}\AppData\Local\Google\Chrome\User Data\Default\Sessions\Session_{n17}`,
		`~{home}\AppData\Local\Temp\scoped_dir{n4}_{n10}\{word}.tmp`,
		`{home}\Downloads\{doc}.pdf`,
		`{home}\Downloads\{doc}.docx`,
		`{home}\Downloads\{word}.zip`,
	},
	"edge": {
		`~{home}\AppData\Local\Microsoft\Edge\User Data\Default\Cache\Cache_Data\f_{hex6}`,
		`~{home}\AppData\Local\Microsoft\Edge\User Data\Default\Network\Cookies-journal`,
		`{home}\AppData\Local\Microsoft\Edge\User Data\Default\Sessions\Session_{n17}`,
		`{home}\Downloads\{doc}.pdf`,
	},
	"firefox": {
		`~{home}\AppData\Local\Mozilla\Firefox\Profiles\{hex8}.default-release\cache2\entries\{HEX40}`,
		`~{home}\AppData\Roaming\Mozilla\Firefox\Profiles\{hex8}.default-release\cookies.sqlite-wal`,
		`{home}\Downloads\{doc}.pdf`,
	},
	"office": {
		`~{home}\AppData\Local\Microsoft\Windows\INetCache\Content.Word\~WRS{{GUID}}.tmp`,
		`{home}\AppData\Roaming\Microsoft\Office\Recent\{doc}.LNK`,
		`{home}\Documents\{doc}.docx`,
		`~{home}\Documents\~${doc}.docx`,
		`{home}\Documents\{doc}.xlsx`,
		`{home}\OneDrive - Contoso\{doc}.xlsx`,
		`{home}\AppData\Local\Microsoft\Olk\Attachments\ooa-{guid}\{doc}.pdf`,
		`~{home}\AppData\Local\Microsoft\Outlook\{user}@{dnsdomain}.ost.tmp`,
		`{home}\AppData\Local\Temp\Outlook Logging\OUTLOOK_{n8}_{n6}.etl`,
		`{home}\AppData\Local\Microsoft\Office\16.0\OfficeFileCache\{hex8}\FSD-{{GUID}}.FSD`,
		`~{home}\AppData\Local\Temp\{GUID}.tmp`,
	},
	"c2r": {
		`C:\Windows\Temp\{HOST}-{date}-{n4}.log`,
		`~C:\Program Files\Common Files\microsoft shared\ClickToRun\Updates\Download\{GUID}.tmp`,
		`C:\ProgramData\Microsoft\ClickToRun\ProductReleases\{{GUID}}\x-none.16.0.18129.20158.cab`,
	},
	"defender": {
		`C:\ProgramData\Microsoft\Windows Defender\Support\MPLog-{date}-{n6}.log`,
		`~C:\ProgramData\Microsoft\Windows Defender\Scans\mpcache-{HEX40}.bin.{n2}`,
		`C:\Windows\Temp\MpCmdRun.log`,
		`C:\ProgramData\Microsoft\Windows Defender\Definition Updates\{{GUID}}\mpasbase.vdm`,
		`~C:\ProgramData\Microsoft\Windows Defender\Definition Updates\{{GUID}}\mpavdlta.vdm`,
		`~C:\ProgramData\Microsoft\Windows Defender\Scans\History\Store\{HEX32}`,
	},
	"explorer": {
		`{home}\AppData\Roaming\Microsoft\Windows\Recent\{doc}.lnk`,
		`{home}\AppData\Local\Microsoft\Windows\Explorer\thumbcache_{n3}.db`,
		`{home}\AppData\Local\Microsoft\Windows\Explorer\iconcache_{n2}.db`,
		`{home}\Desktop\{doc}.txt`,
		`{home}\AppData\Roaming\Microsoft\Windows\Recent\AutomaticDestinations\{hex16}.automaticDestinations-ms`,
		`~{home}\AppData\Local\Microsoft\Windows\Caches\{{GUID}}.{n1}.ver0x{hex16}.db`,
	},
	"onedrive": {
		`{home}\OneDrive - Contoso\{doc}.docx`,
		`{home}\OneDrive - Contoso\Documents\{doc}.xlsx`,
		`{home}\AppData\Local\Microsoft\OneDrive\logs\Business1\SyncEngine-{date}.{n4}.{n5}.1.odl`,
		`{home}\AppData\Local\Microsoft\OneDrive\settings\Business1\{hex32}.dat`,
		`~{home}\OneDrive - Contoso\.{word}.tmp`,
	},
	"chat": {
		`~{home}\AppData\Roaming\Microsoft\Teams\Cache\f_{hex6}`,
		`{home}\AppData\Roaming\Microsoft\Teams\IndexedDB\https_teams.microsoft.com_0.indexeddb.leveldb\{n6}.log`,
		`~{home}\AppData\Roaming\Slack\Cache\Cache_Data\f_{hex6}`,
		`{home}\AppData\Roaming\Slack\logs\browser.log`,
		`~{home}\AppData\Roaming\discord\Cache\Cache_Data\f_{hex6}`,
		`{home}\AppData\Roaming\Zoom\data\{hex16}.enc.db`,
		`{home}\Downloads\{doc}.pdf`,
	},
	"powershell": {
		`~{home}\AppData\Local\Temp\__PSScriptPolicyTest_{alnum8}.{alnum3}.ps1`,
		`{home}\AppData\Local\Microsoft\Windows\PowerShell\StartupProfileData-NonInteractive`,
		`{home}\AppData\Local\Microsoft\Windows\PowerShell\StartupProfileData-Interactive`,
		`{home}\AppData\Roaming\Microsoft\Windows\PowerShell\PSReadLine\ConsoleHost_history.txt`,
		`C:\ProgramData\contoso\services.csv`,
		`~{home}\AppData\Local\Temp\{word}.log`,
	},
	"cmd": {
		`~{home}\AppData\Local\Temp\{word}.log`,
		`{home}\Documents\{word}.txt`,
	},
	"dev": {
		`~{home}\source\{word}\.git\index.lock`,
		`{home}\source\{word}\.git\FETCH_HEAD`,
		`{home}\source\{word}\.git\objects\{hex2}\{hex38}`,
		`{home}\source\{word}\src\{word}.py`,
		`{home}\source\{word}\node_modules\{word}\package.json`,
		`~{home}\source\{word}\node_modules\.cache\{hex16}.json`,
		`{home}\AppData\Roaming\Code\logs\{date}T{n6}\window1\renderer.log`,
		`{home}\AppData\Local\pip\cache\http-v2\{hex1}\{hex1}\{hex1}\{hex56}`,
		`{home}\.vscode\extensions\{word}.{word}-{n1}.{n1}.{n2}\package.json`,
	},
	"sql": {
		`C:\Program Files\Microsoft SQL Server\MSSQL16.MSSQLSERVER\MSSQL\DATA\{word}_log.ldf`,
		`C:\Program Files\Microsoft SQL Server\MSSQL16.MSSQLSERVER\MSSQL\Log\ERRORLOG`,
		`C:\Program Files\Microsoft SQL Server\MSSQL16.MSSQLSERVER\MSSQL\Log\system_health_0_{n18}.xel`,
		`C:\Program Files\Microsoft SQL Server\MSSQL16.MSSQLSERVER\MSSQL\Backup\{word}_{date}.bak`,
	},
	"iis": {
		`C:\inetpub\logs\LogFiles\W3SVC1\u_ex{date}.log`,
		`C:\Windows\Microsoft.NET\Framework64\v4.0.30319\Temporary ASP.NET Files\root\{hex8}\{hex8}\App_Web_{word}.{hex8}.dll`,
		`~C:\Windows\Microsoft.NET\Framework64\v4.0.30319\Temporary ASP.NET Files\root\{hex8}\{hex8}\assembly\tmp\{HEX8}.tmp`,
		`~C:\inetpub\temp\IIS Temporary Compressed Files\DefaultAppPool\$^_gzip_C^\INETPUB\WWWROOT\{word}.JS`,
	},
	"installer": {
		`C:\Windows\Installer\{hex5}.msi`,
		`~C:\Windows\Installer\MSI{HEX4}.tmp`,
		`~C:\Windows\WinSxS\Temp\InFlight\{hex16}\{word}.dll`,
		`C:\Windows\Logs\CBS\CBS.log`,
		`C:\Windows\SoftwareDistribution\Download\{hex32}\{word}.cab`,
		`~C:\Windows\Temp\MSI{hex5}.LOG`,
	},
	"archive": {
		`{home}\Downloads\{word}\{doc}.pdf`,
		`{home}\Downloads\{word}\{word}.dll`,
		`{home}\Downloads\{word}\{word}.exe`,
		`~{home}\AppData\Local\Temp\7zO{hex8}\{doc}.docx`,
	},
	"editor": {
		`{home}\Documents\{doc}.txt`,
		`~{home}\AppData\Roaming\Notepad++\backup\new {n1}@{date}_{n6}`,
		`{home}\AppData\Local\Packages\Microsoft.WindowsNotepad_8wekyb3d8bbwe\LocalState\TabState\{guid}.bin`,
	},
	"system": { // services without files of their own
		`~C:\Windows\Temp\{GUID}.tmp`,
		`C:\Windows\ServiceProfiles\NetworkService\AppData\Local\Microsoft\Windows\DeliveryOptimization\Cache\{hex40}\content.phf`,
		`~C:\ProgramData\Microsoft\Windows\WER\Temp\WER{HEX4}.tmp.WERInternalMetadata.xml`,
		`~C:\Windows\System32\sru\SRU{n5}.log`,
		`C:\Windows\ServiceState\EventLog\Data\lastalive{n1}.dat`,
		`~C:\Windows\System32\config\systemprofile\AppData\Local\Microsoft\Windows\INetCache\IE\{HEX8}\{word}[{n1}].xml`,
		`~C:\Windows\Temp\{word}{n4}.log`,
	},
	"userapp": { // the user's applications without files of their own
		`~{home}\AppData\Local\Temp\{word}{n4}.tmp`,
		`{home}\AppData\Local\{word}\User Data\Local State`,
		`{home}\AppData\Roaming\{word}\config.json`,
		`~{home}\AppData\Local\Microsoft\Windows\INetCache\IE\{HEX8}\{word}[{n1}].htm`,
	},
	"search": {
		`~C:\ProgramData\Microsoft\Search\Data\Applications\Windows\GatherLogs\SystemIndex\SystemIndex.{n2}.gthr`,
		`C:\ProgramData\Microsoft\Search\Data\Applications\Windows\GatherLogs\SystemIndex\SystemIndex.{n2}.Crwl`,
		`C:\ProgramData\Microsoft\Search\Data\Applications\Windows\Windows.jfm`,
	},
	"sysmain": { // prefetch (the SysMain service)
		`~C:\Windows\Prefetch\{EXE}-{HEX8}.pf`,
		`C:\Windows\Prefetch\Layout.ini`,
	},
	"wu": { // Windows Update, BITS, update medic
		`~C:\Windows\SoftwareDistribution\DataStore\Logs\tmp.edb`,
		`C:\Windows\SoftwareDistribution\Download\{hex32}\{word}.cab`,
		`C:\Windows\Logs\WindowsUpdate\WindowsUpdate.{date}.{n6}.{n3}.etl`,
		`C:\ProgramData\Microsoft\Network\Downloader\qmgr.db`,
		`C:\Windows\Logs\waasmedic\waasmedic.{date}_{n6}_{n3}.etl`,
	},
	"wmi": {
		`C:\Windows\System32\wbem\Repository\OBJECTS.DATA`,
		`C:\Windows\System32\wbem\Repository\INDEX.BTR`,
		`C:\Windows\System32\wbem\Repository\MAPPING{n1}.MAP`,
	},
	"crypt": { // CryptSvc: catalog database, URL cache of CRLs and certificates
		`C:\Windows\System32\catroot2\{F750E6C3-38EE-11D1-85E5-00C04FC295EE}\catdb`,
		`~C:\Windows\System32\catroot2\edb{n5}.log`,
		`C:\Windows\ServiceProfiles\NetworkService\AppData\LocalLow\Microsoft\CryptnetUrlCache\Content\{HEX32}`,
		`C:\Windows\ServiceProfiles\NetworkService\AppData\LocalLow\Microsoft\CryptnetUrlCache\MetaData\{HEX32}`,
	},
	"diagtrack": {
		`C:\ProgramData\Microsoft\Diagnosis\ETLLogs\AutoLogger\AutoLogger-Diagtrack-Listener.etl`,
		`C:\ProgramData\Microsoft\Diagnosis\EventStore.db`,
		`~C:\ProgramData\Microsoft\Diagnosis\ETLLogs\ShutdownLogger\AutoLogger-Diagtrack-Listener_{n3}.etl`,
	},
	"appmodel": {
		`C:\ProgramData\Microsoft\Windows\AppRepository\StateRepository-Machine.srd-wal`,
		`C:\ProgramData\Microsoft\Windows\AppRepository\StateRepository-Deployment.srd-wal`,
	},
	"dns":    {`C:\Windows\System32\dns\dns.log`},
	"dfsr":   {`C:\System Volume Information\DFSR\Database_{HEX8}\dfsr.db`, `C:\Windows\debug\DFSR{n5}.log`},
	"splunk": {`C:\Program Files\Splunk\var\log\splunk\splunkd.log`, `C:\Program Files\Splunk\var\log\splunk\metrics.log`},
}

// regTemplates: the registry values each kind of writer sets, as
// kind[flags]|TargetObject[|Details;Details…]. Kind: D DWORD, Q QWORD,
// B Binary Data, S string (Details by kind unless listed). Flag x: a
// transient value, also deleted (DeleteValue / DeleteKey); others are only
// set (and their keys opened with CreateKey). Writers: regClassOf by image,
// svchostGroups by service, else "service" for service accounts and
// "user" for the interactive user's processes.
var regTemplates = map[string][]string{
	"kernel": { // the System process: Background Activity Moderator
		`B|HKLM\System\CurrentControlSet\Services\bam\State\UserSettings\{sid}\\Device\HarddiskVolume3\Windows\System32\{exe}`,
		`B|HKLM\System\CurrentControlSet\Services\bam\State\UserSettings\{sid}\\Device\HarddiskVolume3\Program Files\{word}\{exe}`,
		`D|HKLM\System\CurrentControlSet\Services\bam\State\UserSettings\{sid}\SequenceNumber|DWORD (0x000000{hex2})`,
	},
	"service": {
		`B|HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Notifications\Data\{HEX16}`,
		`Q|HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Diagnostics\DiagTrack\HeartBeats\Default\LastHeartBeatTime`,
		`Bx|HKLM\SYSTEM\CurrentControlSet\Control\Session Manager\PendingFileRenameOperations`,
		`S|HKLM\SYSTEM\CurrentControlSet\Control\DeviceClasses\{{guid}}\##?#SWD#PRINTENUM#{{GUID}}#{{guid}}\DeviceInstance|SWD\PRINTENUM\{{GUID}}`,
	},
	"services": { // the service control manager
		`D|HKLM\System\CurrentControlSet\Control\ServiceCurrent\(Default)|DWORD (0x000000{hex2})`,
		`D|HKLM\System\CurrentControlSet\Services\{svc}\Start|DWORD (0x00000002);DWORD (0x00000003)`,
	},
	"schedule": { // the Task Scheduler service records each task run
		`B|HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Schedule\TaskCache\Tasks\{{GUID}}\DynamicInfo`,
	},
	"wu": {
		`D|HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\Results\Detect\LastError|DWORD (0x00000000)`,
		`S|HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\Results\Detect\LastSuccessTime|2026-01-0{n1} 0{n1}:1{n1}:3{n1}`,
		`S|HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\Results\Install\LastSuccessTime|2026-01-0{n1} 0{n1}:4{n1}:1{n1}`,
		`Qx|HKLM\SOFTWARE\Microsoft\WindowsUpdate\UpdatePolicy\Settings\LastScanTime`,
	},
	"crypt": { // automatic root and disallowed certificate list updates
		`B|HKLM\SOFTWARE\Microsoft\SystemCertificates\AuthRoot\AutoUpdate\LastSyncTime`,
		`B|HKLM\SOFTWARE\Microsoft\SystemCertificates\AuthRoot\AutoUpdate\DisallowedCertLastSyncTime`,
		`B|HKLM\SOFTWARE\Microsoft\SystemCertificates\AuthRoot\AutoUpdate\EncodedCtl`,
		`B|HKLM\SOFTWARE\Microsoft\SystemCertificates\AuthRoot\AutoUpdate\DisallowedCertEncodedCtl`,
	},
	"dhcp": {
		`S|HKLM\System\CurrentControlSet\Services\Tcpip\Parameters\Interfaces\{{guid}}\DhcpIPAddress|10.20.1.{n2}`,
		`D|HKLM\System\CurrentControlSet\Services\Tcpip\Parameters\Interfaces\{{guid}}\LeaseObtainedTime|DWORD (0x695{hex5})`,
		`D|HKLM\System\CurrentControlSet\Services\Tcpip\Parameters\Interfaces\{{guid}}\T1|DWORD (0x695{hex5})`,
	},
	"time": {
		`Q|HKLM\System\CurrentControlSet\Services\W32Time\Config\LastKnownGoodTime`,
		`B|HKLM\System\CurrentControlSet\Services\W32Time\SecureTimeLimits\RunTime\SecureTimeTickCount`,
	},
	"gp": {
		`D|HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Group Policy\State\Machine\Extension-List\{00000000-0000-0000-0000-000000000000}\EndTimeLow|DWORD (0x{hex8})`,
		`D|HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Group Policy\State\Machine\Extension-List\{00000000-0000-0000-0000-000000000000}\StartTimeLow|DWORD (0x{hex8})`,
		`D|HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Group Policy\State\Machine\Extension-List\{827D319E-6EAC-11D2-A4EA-00C04F79F83A}\Status|DWORD (0x00000000)`,
	},
	"appmodel": {
		`D|HKCR\Local Settings\Software\Microsoft\Windows\CurrentVersion\AppModel\Repository\Packages\Microsoft.{word}_1.0.{n4}.0_x64__8wekyb3d8bbwe\PackageState|DWORD (0x00000000)`,
		`Bx|HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\AppModel\StateChange\PackageList\Microsoft.{word}_8wekyb3d8bbwe\PackageStatus`,
	},
	"defender": {
		`B|HKLM\SOFTWARE\Microsoft\Windows Defender\Signature Updates\SignaturesLastUpdated`,
		`B|HKLM\SOFTWARE\Microsoft\Windows Defender\Signature Updates\AVSignatureApplied`,
		`S|HKLM\SOFTWARE\Microsoft\Windows Defender\Signature Updates\AVSignatureVersion|1.421.1208.0;1.421.1224.0`,
		`S|HKLM\SOFTWARE\Microsoft\Windows Defender\Signature Updates\ASSignatureVersion|1.421.1208.0;1.421.1224.0`,
		`S|HKLM\SOFTWARE\Microsoft\Windows Defender\Signature Updates\EngineVersion|1.1.24090.11`,
		`D|HKLM\SOFTWARE\Microsoft\Windows Defender\Features\TamperProtection|DWORD (0x00000005)`,
	},
	"search": {
		`D|HKLM\SOFTWARE\Microsoft\Windows Search\Gather\Windows\SystemIndex\Sites\LocalHost\Paths\{n4}\PathFlags|DWORD (0x00000000);DWORD (0x00000001)`,
		`Q|HKLM\SOFTWARE\Microsoft\Windows Search\Gather\Windows\SystemIndex\StartPageTimeStamp`,
	},
	"installer": { // Windows Installer service and component servicing
		`S|HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Installer\UserData\S-1-5-18\Products\{HEX32}\InstallProperties\DisplayVersion|{n1}.{n1}.{n3}.0`,
		`S|HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Installer\UserData\S-1-5-18\Components\{HEX32}\{HEX32}|C:\Program Files\{word}\{word}.dll`,
		`Dx|HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\SessionsPending\Exclusive|DWORD (0x00000000);DWORD (0x00000001)`,
		`D|HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\Packages\Package_for_KB50{n5}~31bf3856ad364e35~amd64~~19041.{n4}.1.{n1}\CurrentState|DWORD (0x00000070)`,
	},
	"userinstaller": { // per-user installs
		`S|HKU\{sid}\Software\Microsoft\Windows\CurrentVersion\Uninstall\{word}\DisplayName|{word}`,
		`S|HKU\{sid}\Software\Microsoft\Windows\CurrentVersion\Uninstall\{word}\InstallLocation|{home}\AppData\Local\Programs\{word}`,
	},
	"explorer": {
		`B|HKU\{sid}\Software\Microsoft\Windows\CurrentVersion\Explorer\RecentDocs\.docx\{n1}`,
		`B|HKU\{sid}\Software\Microsoft\Windows\CurrentVersion\Explorer\RecentDocs\MRUListEx`,
		`B|HKU\{sid}\Software\Microsoft\Windows\CurrentVersion\Explorer\UserAssist\{CEBFF5CD-ACE2-4F4F-9178-9926F41749EA}\Count\{1NP14R77-02R7-4R5Q-O744-2RO1NR5198O7}\{rotexe}`,
		`D|HKU\{sid}\Software\Microsoft\Windows\CurrentVersion\Explorer\FeatureUsage\AppSwitched\{exe}`,
		`D|HKU\{sid}\Software\Microsoft\Windows\CurrentVersion\Explorer\FeatureUsage\ShowJumpView\{exe}`,
		`D|HKU\{sid}\Software\Microsoft\Windows\Shell\Bags\{n2}\Shell\{{GUID}}\Mode`,
		`Bx|HKU\{sid}\Software\Microsoft\Windows\CurrentVersion\Explorer\SessionInfo\{n1}\ApplicationViewManagement\W32:{hex16}\VirtualDesktop`,
		`B|HKU\{sid}\Software\Microsoft\Windows\CurrentVersion\CloudStore\Store\Cache\DefaultAccount\$de${{guid}}$windows.data.notifications.quiethourssettings\Current\Data`,
		`S|HKU\{sid}_Classes\Local Settings\Software\Microsoft\Windows\Shell\MuiCache\C:\Program Files\{word}\{exe}.FriendlyAppName`,
	},
	"office": {
		`S|HKU\{sid}\Software\Microsoft\Office\16.0\Common\Roaming\Identities\{hex32}_ADAL\Profiles\{hex32}\Last`,
		`Bx|HKU\{sid}\Software\Microsoft\Office\16.0\Word\Reading Locations\Document {n1}\Position`,
		`S|HKU\{sid}\Software\Microsoft\Office\16.0\Common\ExperimentEcs\Overrides\{word}`,
		`S|HKU\{sid}\Software\Microsoft\Office\16.0\Word\User MRU\ADAL_{HEX32}\File MRU\Item {n1}|[F00000000][T01DB{HEX12}][O00000000]*{home}\Documents\{doc}.docx`,
	},
	"chrome": {
		`D|HKU\{sid}\Software\Google\Chrome\BLBeacon\state|DWORD (0x00000001);DWORD (0x00000002)`,
		`S|HKU\{sid}\Software\Google\Chrome\BLBeacon\version|131.0.6778.86`,
	},
	"edge": {
		`D|HKU\{sid}\Software\Microsoft\Edge\BLBeacon\state|DWORD (0x00000001);DWORD (0x00000002)`,
		`S|HKU\{sid}\Software\Microsoft\Edge\BLBeacon\version|131.0.2903.63`,
	},
	"onedrive": {
		`Q|HKU\{sid}\Software\Microsoft\OneDrive\Accounts\Business1\LastSignInTime`,
		`S|HKU\{sid}\Software\Microsoft\OneDrive\Accounts\Business1\UserFolder|{home}\OneDrive - Contoso`,
		`Dx|HKU\{sid}\Software\Microsoft\OneDrive\Accounts\Business1\Tenants\Contoso\{home}\OneDrive - Contoso|DWORD (0x00000001)`,
	},
	"searchapp": {
		`Q|HKU\{sid}\Software\Microsoft\Windows\CurrentVersion\Search\Flighting\{word}\RefreshTime`,
		`D|HKU\{sid}\Software\Microsoft\Windows\CurrentVersion\SearchSettings\IsDeviceSearchHistoryEnabled|DWORD (0x00000001)`,
	},
	"usersvc": { // per-user services (svchost as the user)
		`Q|HKU\{sid}\Software\Microsoft\Windows\CurrentVersion\Notifications\Settings\Microsoft.{word}\LastNotificationAddedTime`,
		`Bx|HKU\{sid}\Software\Microsoft\Windows\CurrentVersion\CloudStore\Store\Cache\DefaultAccount\$de${{guid}}$windows.data.clipboard\Current\Data`,
	},
	"user": { // the WinINet zone and proxy settings every user process writes
		`D|HKU\{sid}\Software\Microsoft\Windows\CurrentVersion\Internet Settings\ZoneMap\ProxyBypass|DWORD (0x00000001)`,
		`D|HKU\{sid}\Software\Microsoft\Windows\CurrentVersion\Internet Settings\ZoneMap\IntranetName|DWORD (0x00000001)`,
		`D|HKU\{sid}\Software\Microsoft\Windows\CurrentVersion\Internet Settings\ZoneMap\UNCAsIntranet|DWORD (0x00000001)`,
		`D|HKU\{sid}\Software\Microsoft\Windows\CurrentVersion\Internet Settings\ZoneMap\AutoDetect|DWORD (0x00000000)`,
	},
}

// regClassOf: the registry class of an image (base name).
var regClassOf = map[string]string{
	"services.exe": "services", "msmpeng.exe": "defender", "mpcmdrun.exe": "defender", "nissrv.exe": "defender",
	"mpdefendercoreservice.exe": "defender", "searchindexer.exe": "search", "msiexec.exe": "installer", "tiworker.exe": "installer",
	"trustedinstaller.exe": "installer", "dismhost.exe": "installer", "explorer.exe": "explorer", "outlook.exe": "office",
	"winword.exe": "office", "excel.exe": "office", "powerpnt.exe": "office", "onenote.exe": "office", "chrome.exe": "chrome",
	"msedge.exe": "edge", "onedrive.exe": "onedrive", "searchapp.exe": "searchapp", "mousocoreworker.exe": "wu",
	"usocoreworker.exe": "wu",
}

// services: names used for svchost -s and registry service keys.
var serviceNames = []string{"Schedule", "Dnscache", "wuauserv", "BITS", "Winmgmt", "SysMain", "CryptSvc", "DiagTrack", "gpsvc",
	"ProfSvc", "nsi", "Dhcp", "Appinfo", "WaaSMedicSvc", "lmhosts", "EventLog", "LanmanServer", "LanmanWorkstation",
	"StateRepository", "WerSvc", "TermService", "DsmSvc", "BFE", "mpssvc", "W32Time", "WinHttpAutoProxySvc", "Themes",
	"AudioSrv", "Wcmsvc", "DPS", "UsoSvc", "TokenBroker", "StorSvc", "DoSvc", "WpnService", "CDPSvc", "iphlpsvc", "WSearch"}

// words feed generated names (documents, domains, folders).
var words = []string{"alpha", "budget", "contoso", "delta", "report", "invoice", "project", "summary", "quarterly", "roadmap",
	"meeting", "notes", "design", "review", "payroll", "backup", "inventory", "customer", "sales", "market", "atlas", "beacon",
	"cobalt", "drift", "ember", "falcon", "granite", "harbor", "iris", "juniper", "kepler", "lumen", "meridian", "nimbus",
	"orbit", "pioneer", "quartz", "raven", "summit", "tundra", "umbra", "vertex", "willow", "xenon", "yonder", "zephyr",
	"cloud", "data", "portal", "shop", "media", "stream", "edge", "metrics", "analytics", "assets", "static", "images", "api"}

var docNames = []string{"Q3 budget", "Quarterly report", "Invoice {n5}", "Project plan", "Meeting notes {n2}", "Roadmap 2026",
	"Sales forecast", "Team offsite", "Customer list", "Architecture review", "Expense report", "Contract draft v{n1}",
	"Onboarding checklist", "Release notes {n1}.{n1}", "Vendor assessment", "Board deck", "Security policy", "Timesheet week {n2}"}

var tlds = []string{"com", "net", "io", "org", "co", "cloud", "app", "dev"}
