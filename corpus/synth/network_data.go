package synth

// The Internet as the simulated hosts see it: named endpoints, who
// operates them (so that their addresses come from that operator's real
// announced ranges) and which kind of process talks to them. A browser
// reaches any of them; every other process only the endpoints of its own
// vendor or service, as on a real host (Outlook talks to Exchange Online,
// Defender to its cloud, svchost to Windows Update).

// ipOwners: operator|IPv4 prefixes|IPv6 prefixes (space separated). The
// prefixes are announced by that operator; the Microsoft ones are those
// Microsoft publishes for Exchange Online, Microsoft 365 common and
// SharePoint (the "Office 365 URLs and IP address ranges" list).
const ipOwners = `
google|142.250.0.0/15 172.217.0.0/16 216.58.192.0/19 142.251.0.0/16|2a00:1450:4001::/48 2607:f8b0:4004::/48
gcp|34.64.0.0/10 35.184.0.0/13|
ms|20.184.0.0/13 40.76.0.0/14 204.79.197.0/24|
mslogin|20.190.128.0/18 40.126.0.0/18|2603:1036:3000::/48
msexo|52.96.0.0/14 40.96.0.0/13|2603:1036::/36
msoffice|52.108.0.0/14|2603:1063:2000::/38
msteams|52.112.0.0/14 52.122.0.0/15|
msdata|13.64.0.0/11 20.40.0.0/14|
sharepoint|13.107.136.0/22 52.104.0.0/14|2620:1ec:8f8::/46
azure|20.36.0.0/14 40.112.0.0/13 52.224.0.0/11|
akamai|23.32.0.0/11 23.192.0.0/11 104.64.0.0/10 2.16.0.0/13|2600:1400::/24
edgecast|192.229.128.0/17|
cloudflare|104.16.0.0/13 172.64.0.0/13 162.159.0.0/16|2606:4700::/32
amazon|52.0.0.0/11 54.64.0.0/11 3.0.0.0/9 18.128.0.0/9|
cloudfront|13.32.0.0/15 13.224.0.0/14 99.84.0.0/16 18.64.0.0/14|
fastly|151.101.0.0/16 199.232.0.0/16|2a04:4e42::/32
github|140.82.112.0/20|
githubuc|185.199.108.0/22|2606:50c0:8000::/46
facebook|157.240.0.0/16 31.13.64.0/18|2a03:2880::/32
twitter|104.244.40.0/21|
wikimedia|208.80.152.0/22 185.15.56.0/22|
zoom|170.114.0.0/16 206.247.0.0/16|
`

// hostingOwners operate the long tail of generated web sites.
var hostingOwners = []string{"akamai", "cloudflare", "amazon", "fastly", "google", "gcp", "azure", "cloudfront"}

// knownDomains: name|operator|groups|flags, the head of the query
// distribution (more popular first). groups name the kinds of process
// (besides browsers) that talk to the endpoint; flag h marks plain-HTTP
// endpoints (certificate revocation, connectivity checks, update CDNs).
const knownDomains = `
www.google.com|google||
clients2.google.com|google|google|
update.googleapis.com|google|google|
accounts.google.com|google|google|
www.gstatic.com|google||
fonts.gstatic.com|google||
safebrowsing.googleapis.com|google||
content-autofill.googleapis.com|google||
optimizationguide-pa.googleapis.com|google||
www.youtube.com|google||
i.ytimg.com|google||
login.microsoftonline.com|mslogin|office teams onedrive|
login.live.com|mslogin|win onedrive|
outlook.office365.com|msexo|office|
outlook.office.com|msexo|office|
substrate.office.com|msexo|office|
graph.microsoft.com|mslogin|office teams onedrive|
teams.microsoft.com|msteams|teams|
presence.teams.microsoft.com|msteams|teams|
config.teams.microsoft.com|msteams|teams|
officeclient.microsoft.com|msoffice|office c2r|
nexus.officeapps.live.com|msoffice|office|
roaming.officeapps.live.com|msoffice|office|
ecs.office.com|msoffice|office teams c2r|
officecdn.microsoft.com|akamai|c2r|h
self.events.data.microsoft.com|msdata|office teams onedrive c2r|
v10.events.data.microsoft.com|msdata|telemetry|
settings-win.data.microsoft.com|msdata|telemetry win|
watson.telemetry.microsoft.com|msdata|telemetry|
go.microsoft.com|ms|win defender|
www.microsoft.com|ms|win|
fe2cr.update.microsoft.com|ms|wu|
slscr.update.microsoft.com|ms|wu|
sls.update.microsoft.com|ms|wu|
dl.delivery.mp.microsoft.com|akamai|wu|h
tlu.dl.delivery.mp.microsoft.com|akamai|wu|h
ctldl.windowsupdate.com|akamai|win cert|h
www.msftconnecttest.com|akamai|win|h
client.wns.windows.com|ms|win|
activation-v2.sls.microsoft.com|ms|activation|
wdcp.microsoft.com|ms|defender|
wdcpalt.microsoft.com|ms|defender|
definitionupdates.microsoft.com|akamai|defender wu|
smartscreen-prod.microsoft.com|ms|smartscreen defender|
checkappexec.microsoft.com|ms|smartscreen|
arc.msn.com|ms|bing|
api.msn.com|ms|bing|
www.bing.com|ms|bing|
th.bing.com|ms|bing|
edge.microsoft.com|ms|edge|
msedge.api.cdp.microsoft.com|ms|edge|
msedge.b.tlu.dl.delivery.mp.microsoft.com|akamai|edge|h
onedrive.live.com|ms|onedrive|
skyapi.live.net|ms|onedrive|
oneclient.sfx.ms|akamai|onedrive|
g.live.com|ms|onedrive|
contoso.sharepoint.com|sharepoint|office onedrive teams|
contoso-my.sharepoint.com|sharepoint|office onedrive teams|
onedscolprdcus01.centralus.cloudapp.azure.com|azure|telemetry|
ocsp.digicert.com|edgecast|cert|h
crl3.digicert.com|edgecast|cert|h
ocsp.sectigo.com|cloudflare|cert|h
oneocsp.microsoft.com|ms|cert|h
r3.o.lencr.org|akamai|cert|h
x1.c.lencr.org|akamai|cert|h
github.com|github|git code|
api.github.com|github|code|
objects.githubusercontent.com|githubuc||
raw.githubusercontent.com|githubuc||
marketplace.visualstudio.com|azure|code|
update.code.visualstudio.com|azure|code|
vscode-sync.trafficmanager.net|azure|code|
pypi.org|fastly|python|
files.pythonhosted.org|fastly|python|
registry.npmjs.org|cloudflare|node|
www.powershellgallery.com|azure|powershell|
cdn.winget.microsoft.com|akamai|winget|
slack.com|amazon|slack|
wss-primary.slack.com|amazon|slack|
edgeapi.slack.com|amazon|slack|
zoom.us|zoom|zoom|
us05web.zoom.us|zoom|zoom|
discord.com|cloudflare|discord|
gateway.discord.gg|cloudflare|discord|
cdn.discordapp.com|cloudflare|discord|
www.notion.so|cloudflare|notion|
msgstore.www.notion.so|cloudflare|notion|
identity.getpostman.com|amazon|postman|
bifrost-https-v4.gw.postman.com|amazon|postman|
www.linkedin.com|ms||
www.wikipedia.org|wikimedia||
en.wikipedia.org|wikimedia||
www.amazon.com|amazon||
aws.amazon.com|amazon||
s3.amazonaws.com|amazon||
docs.python.org|fastly||
stackoverflow.com|cloudflare||
cdn.jsdelivr.net|fastly||
cdnjs.cloudflare.com|cloudflare||
ajax.googleapis.com|google||
www.googletagmanager.com|google||
www.google-analytics.com|google||
stats.g.doubleclick.net|google||
pagead2.googlesyndication.com|google||
connect.facebook.net|facebook||
www.facebook.com|facebook||
static.xx.fbcdn.net|facebook||
twitter.com|twitter||
abs.twimg.com|fastly||
www.reddit.com|fastly||
www.redditstatic.com|fastly||
incoming.telemetry.mozilla.org|gcp|mozilla|
firefox.settings.services.mozilla.com|gcp|mozilla|
push.services.mozilla.com|gcp|mozilla|
location.services.mozilla.com|gcp|mozilla|
aus5.mozilla.org|gcp|mozilla|
acroipm2.adobe.com|akamai|adobe|
cc-api-data.adobe.io|amazon|adobe|
armmf.adobe.com|akamai|adobe|
geo2.adobe.com|akamai|adobe|
splunkbase.splunk.com|amazon||
falcon.crowdstrike.com|amazon||
ts01-b.cloudsink.net|amazon|crowdstrike|
lfodown01-b.cloudsink.net|amazon|crowdstrike|
dc.services.visualstudio.com|azure|telemetry|
`

// cdnPatterns generate the long tail of names: template|operator. The
// first three are the CDNs that popular names CNAME into.
var cdnPatterns = []struct{ tpl, owner string }{
	{"e{n5}.dscb.akamaiedge.net", "akamai"}, {"{word}-{hex6}.azureedge.net", "azure"}, {"d{hex12}.cloudfront.net", "cloudfront"},
	{"{word}{n2}.blob.core.windows.net", "azure"}, {"{word}-{word}.azurewebsites.net", "azure"}, {"r{n1}---sn-{hex8}.googlevideo.com", "google"},
	{"{word}.{word}.{tld}", ""}, {"{word}{word}.{tld}", ""}, {"www.{word}{word}.{tld}", ""}, {"api.{word}-{word}.{tld}", ""},
	{"cdn.{word}{n2}.{tld}", ""}, {"{word}.sharepoint.com", "sharepoint"}, {"{word}-my.sharepoint.com", "sharepoint"},
	{"{hex8}.{word}.cloudapp.azure.com", "azure"},
}

// dynamicNet is netGroupOf for dynamicImages ("cdn": the generated CDN
// names, where installers download their payloads).
var dynamicNet = map[string]string{"dyn:chromeinstaller": "google", "dyn:edgeupdate": "edge", "dyn:installer": "cdn"}

// netGroupOf names the endpoints an image talks to: "browser" (anything),
// a group of knownDomains, or "internal" (only hosts of the domain, see
// Generator.network). Every image with network or DNS activity has one
// (a test checks).
var netGroupOf = map[string]string{
	"chrome.exe": "browser", "msedge.exe": "browser", "firefox.exe": "browser",
	"outlook.exe": "office", "winword.exe": "office", "excel.exe": "office", "powerpnt.exe": "office", "onenote.exe": "office",
	"sdxhelper.exe": "office", "officeclicktorun.exe": "c2r",
	"msmpeng.exe": "defender", "nissrv.exe": "defender", "mpcmdrun.exe": "defender", "mpdefendercoreservice.exe": "defender",
	"mpsigstub.exe": "defender", "smartscreen.exe": "smartscreen",
	"svchost.exe": "win", "explorer.exe": "win", "searchapp.exe": "bing",
	"wermgr.exe": "telemetry", "compattelrunner.exe": "telemetry", "devicecensus.exe": "telemetry", "sqlceip.exe": "telemetry",
	"mousocoreworker.exe": "wu", "usocoreworker.exe": "wu", "slui.exe": "activation",
	"microsoftedgeupdate.exe": "edge", "googleupdate.exe": "google",
	"onedrive.exe": "onedrive", "onedrivestandaloneupdater.exe": "onedrive", "filecoauth.exe": "onedrive",
	"teams.exe": "teams", "ms-teams.exe": "teams",
	"code.exe": "code", "git.exe": "git", "git-remote-https.exe": "git", "python.exe": "python", "node.exe": "node",
	"powershell.exe": "powershell", "winget.exe": "winget",
	"acrobat.exe": "adobe", "acrocef.exe": "adobe", "adobearm.exe": "adobe", "maintenanceservice.exe": "mozilla",
	"csfalconservice.exe": "crowdstrike", "slack.exe": "slack", "zoom.exe": "zoom", "discord.exe": "discord",
	"postman.exe": "postman", "notion.exe": "notion", "microsoft.media.player.exe": "win",
	// Processes whose traffic stays inside the domain.
	"lsass.exe": "internal", "dns.exe": "internal", "dfsrs.exe": "internal", "ismserv.exe": "internal", "w3wp.exe": "internal",
	"inetinfo.exe": "internal", "sqlservr.exe": "internal", "splunkd.exe": "internal", "mstsc.exe": "internal", "putty.exe": "internal",
	"nslookup.exe": "internal", "w32tm.exe": "internal", "ping.exe": "internal", "system": "internal",
}
