package recording

import (
	"fmt"
	"math/rand/v2"

	"github.com/edr-lab/edr/event"
)

// mixGen produces a deterministic, realistic Sysmon mix for tests and
// benchmarks (until corpus/synth is on main): network 40 %, file 20 %,
// registry 15 %, image load 10 %, DNS 8 %, process 5 %, other 2 %, with
// value cardinalities shaped like storage-limits.md §1 (300 images, ~100k
// process GUIDs, 11 users, Zipf IPs and domains, high-cardinality paths).
type mixGen struct {
	r     *rand.Rand
	hosts []string
	t     int64
	rec   uint64
	n     int
	zipIP *rand.Zipf
	zipDN *rand.Zipf
	zipIm *rand.Zipf
}

var (
	mixUsers = []string{`NT AUTHORITY\SYSTEM`, `NT AUTHORITY\LOCAL SERVICE`, `NT AUTHORITY\NETWORK SERVICE`,
		`CORP\alice`, `CORP\bob`, `CORP\carol`, `CORP\dave`, `CORP\erin`, `CORP\svc_backup`, `CORP\svc_sql`, `WS01\Administrator`}
	mixDirs = []string{`C:\Windows\System32\`, `C:\Windows\SysWOW64\`, `C:\Program Files\Google\Chrome\Application\`,
		`C:\Program Files\Microsoft Office\root\Office16\`, `C:\Program Files (x86)\Microsoft\Edge\Application\`,
		`C:\Users\alice\AppData\Local\Temp\`, `C:\ProgramData\Microsoft\Windows Defender\Platform\4.18.2301.6-0\`}
	mixExts  = []string{".exe", ".dll", ".tmp", ".log", ".dat", ".txt", ".ps1", ".json", ".xml", ".lnk"}
	mixNames = []string{"chrome", "powershell", "cmd", "svchost", "explorer", "msedge", "outlook", "winword", "excel",
		"teams", "onedrive", "rundll32", "conhost", "taskhostw", "searchindexer", "msmpeng", "lsass", "services",
		"wmiprvse", "dllhost", "runtimebroker", "sihost", "ctfmon", "spoolsv", "python", "java", "node", "code", "git", "ssh"}
)

func newMixGen(seed uint64, hosts int, start int64) *mixGen {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	g := &mixGen{r: r, t: start}
	for i := 0; i < hosts; i++ {
		g.hosts = append(g.hosts, fmt.Sprintf("WS%02d.corp.example.com", i+1))
	}
	g.zipIP = rand.NewZipf(r, 1.2, 1, 4999)
	g.zipDN = rand.NewZipf(r, 1.1, 1, 2999)
	g.zipIm = rand.NewZipf(r, 1.3, 1, 299)
	return g
}

func (g *mixGen) image() string {
	i := int(g.zipIm.Uint64())
	return mixDirs[i%len(mixDirs)] + mixNames[i%len(mixNames)] + fmt.Sprint(i/len(mixNames)) + ".exe"
}

func (g *mixGen) guid(n uint64) string {
	return fmt.Sprintf("{%08x-%04x-65a1-0000-0010%08x}", 0x5770385f, n>>32&0xffff, uint32(n))
}

func (g *mixGen) ip() string {
	i := g.zipIP.Uint64()
	return fmt.Sprintf("%d.%d.%d.%d", 10+i%3*62, i/250%250, i%250, 1+i%7)
}

func (g *mixGen) domain() string {
	i := g.zipDN.Uint64()
	return fmt.Sprintf("host%d.svc%d.%s", i%97, i%31, []string{"example.com", "microsoft.com", "googleapis.com", "cdn.net"}[i%4])
}

// next fills e with the next event of the mix.
func (g *mixGen) next(e *event.Event) {
	e.Reset()
	r := g.r
	g.n++
	g.t += int64(r.ExpFloat64()*400_000) + 1 // ~0.4 ms mean inter-arrival
	g.rec++
	e.Time, e.Host = g.t, g.hosts[r.IntN(len(g.hosts))]
	e.Channel, e.Provider, e.Source, e.RecordID = event.ChannelSysmon, event.ProviderSysmon, event.SourceSynthetic, g.rec
	pg := uint64(r.IntN(100_000))
	e.Set(event.FRuleName, "-")
	e.Set(event.FUtcTime, event.FormatUtcTime(g.t))
	e.Set(event.FProcessGuid, g.guid(pg))
	e.Set(event.FProcessId, event.Itoa(pg%9000+4))
	e.Set(event.FImage, g.image())
	e.Set(event.FUser, mixUsers[r.IntN(len(mixUsers))])
	switch p := r.IntN(1000); {
	case p < 400:
		e.EventID = 3
		e.Set(mustF("Protocol"), "tcp")
		e.Set(mustF("Initiated"), event.FormatBool(r.IntN(10) < 8))
		e.Set(mustF("SourceIsIpv6"), "false")
		e.Set(event.FSourceIp, "10.1.2."+event.Itoa(uint64(r.IntN(250))))
		e.Set(mustF("SourceHostname"), e.Host)
		e.Set(event.FSourcePort, event.Itoa(uint64(49152+r.IntN(16383))))
		e.Set(mustF("SourcePortName"), "-")
		e.Set(mustF("DestinationIsIpv6"), "false")
		e.Set(event.FDestinationIp, g.ip())
		e.Set(event.FDestinationHost, g.domain())
		e.Set(event.FDestinationPort, []string{"443", "80", "53", "445", "135", "3389"}[r.IntN(6)])
		e.Set(mustF("DestinationPortName"), "-")
	case p < 600:
		e.EventID = 11
		e.Set(event.FTargetFilename, fmt.Sprintf(`C:\Users\%s\AppData\Local\Temp\%x%s`, []string{"alice", "bob", "carol"}[r.IntN(3)], r.Uint64()%250_000, mixExts[r.IntN(len(mixExts))]))
		e.Set(mustF("CreationUtcTime"), event.FormatUtcTime(g.t-int64(r.IntN(1e9))))
	case p < 750:
		k := r.IntN(5521)
		e.Set(event.FTargetObject, fmt.Sprintf(`HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\App%d\Key%d`, k%400, k))
		if r.IntN(100) < 87 {
			e.EventID = 13
			e.Set(event.FEventType, "SetValue")
			e.Set(event.FDetails, fmt.Sprintf("DWORD (0x%08x)", r.IntN(66_000)))
		} else {
			e.EventID = 12
			e.Set(event.FEventType, "CreateKey")
		}
	case p < 850:
		e.EventID = 7
		i := r.IntN(400)
		e.Set(event.FImageLoaded, fmt.Sprintf(`C:\Windows\System32\lib%d.dll`, i))
		e.Set(mustF("FileVersion"), "10.0.19041.1")
		e.Set(mustF("Description"), "Library "+event.Itoa(uint64(i)))
		e.Set(mustF("Product"), "Microsoft® Windows® Operating System")
		e.Set(mustF("Company"), "Microsoft Corporation")
		e.Set(event.FOriginalFileName, fmt.Sprintf("lib%d.dll", i))
		e.Set(event.FHashes, hashes(uint64(i)))
		e.Set(mustF("Signed"), "true")
		e.Set(mustF("Signature"), "Microsoft Windows")
		e.Set(mustF("SignatureStatus"), "Valid")
	case p < 930:
		e.EventID = 22
		e.Set(event.FQueryName, g.domain())
		e.Set(mustF("QueryStatus"), "0")
		e.Set(event.FQueryResults, "::ffff:"+g.ip()+";")
	case p < 980:
		e.EventID = 1
		e.Set(mustF("FileVersion"), "10.0.19041.1")
		e.Set(event.FCommandLine, g.commandLine(e.Value(event.FImage)))
		e.Set(event.FCurrentDirectory, `C:\Windows\system32\`)
		e.Set(event.FLogonGuid, g.guid(uint64(r.IntN(50))))
		e.Set(event.FLogonId, event.FormatHex(uint64(0x3e7+r.IntN(50))))
		e.Set(mustF("TerminalSessionId"), "1")
		e.Set(event.FIntegrityLevel, []string{"Medium", "High", "System"}[r.IntN(3)])
		e.Set(event.FHashes, hashes(uint64(r.IntN(700))))
		e.Set(event.FParentProcessGuid, g.guid(uint64(r.IntN(100_000))))
		e.Set(event.FParentProcessId, event.Itoa(uint64(r.IntN(9000))))
		e.Set(event.FParentImage, g.image())
		e.Set(event.FParentCommandLine, g.commandLine(`C:\Windows\explorer.exe`))
		e.Set(event.FParentUser, mixUsers[r.IntN(len(mixUsers))])
	case p < 992:
		e.EventID = 5
	default:
		e.EventID = 10
		e.Del(event.FProcessGuid)
		e.Del(event.FProcessId)
		e.Del(event.FImage)
		e.Set(mustF("SourceProcessGUID"), g.guid(pg))
		e.Set(mustF("SourceProcessId"), event.Itoa(pg%9000+4))
		e.Set(mustF("SourceThreadId"), event.Itoa(uint64(r.IntN(20000))))
		e.Set(event.FSourceImage, g.image())
		e.Set(mustF("TargetProcessGUID"), g.guid(uint64(r.IntN(100_000))))
		e.Set(mustF("TargetProcessId"), "700")
		e.Set(event.FTargetImage, `C:\Windows\system32\lsass.exe`)
		e.Set(mustF("GrantedAccess"), "0x1010")
		e.Set(mustF("CallTrace"), fmt.Sprintf(`C:\Windows\SYSTEM32\ntdll.dll+%x|C:\Windows\System32\KERNELBASE.dll+%x|UNKNOWN(%016X)`, r.IntN(1<<20), r.IntN(1<<20), r.Uint64()))
	}
}

func (g *mixGen) commandLine(image string) string {
	r := g.r
	switch r.IntN(4) {
	case 0:
		return fmt.Sprintf(`"%s" --type=renderer --field-trial-handle=%d --lang=en-US /prefetch:%d`, image, r.IntN(30000), r.IntN(9))
	case 1:
		return fmt.Sprintf(`powershell.exe -NoProfile -EncodedCommand %x%x`, r.Uint64(), r.Uint64())
	case 2:
		return fmt.Sprintf(`cmd.exe /c copy C:\data\file%d.txt \\srv%d\share`, r.IntN(5000), r.IntN(20))
	default:
		return fmt.Sprintf(`C:\Windows\system32\svchost.exe -k netsvcs -p -s Svc%d`, r.IntN(200))
	}
}

func hashes(i uint64) string {
	h := func(n int, salt uint64) string {
		s := fmt.Sprintf("%016X", (i+1)*0x9E3779B97F4A7C15^salt)
		for len(s) < n {
			s += s
		}
		return s[:n]
	}
	return event.FormatHashes(h(40, 1), h(32, 2), h(64, 3), h(32, 4))
}

var mustFCache = map[string]event.FieldID{}

func mustF(name string) event.FieldID {
	id, ok := mustFCache[name]
	if !ok {
		id = event.MustField(name)
		mustFCache[name] = id
	}
	return id
}
