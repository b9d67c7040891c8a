package detect_test

import (
	"fmt"
	"testing"

	"github.com/edr-lab/edr/detect"
	"github.com/edr-lab/edr/detect/detecttest"
	"github.com/edr-lab/edr/detect/ecs"
	"github.com/edr-lab/edr/detect/ioc"
	"github.com/edr-lab/edr/detect/sigma"
	"github.com/edr-lab/edr/detect/sink"
	"github.com/edr-lab/edr/event"
)

// benchEvents is a mix of mostly benign events of the kinds the shipped
// rules route on; every 200th is a whoami /all (two alerts).
func benchEvents(n int) []event.Event {
	evs := make([]event.Event, n)
	for i := range evs {
		t := t0 + int64(i)*1e6
		guid := fmt.Sprintf("{00000000-0000-0000-0000-%012d}", i%5000)
		var ev *event.Event
		switch i % 5 {
		case 0:
			img := `C:\Windows\System32\svchost.exe`
			if i%200 == 0 {
				img = `C:\Windows\System32\whoami.exe`
			}
			ev = detecttest.Sysmon(1, t, "WS1", "ProcessGuid", guid, "ProcessId", fmt.Sprint(i%5000), "Image", img,
				"CommandLine", img+" -k netsvcs /all", "ParentImage", `C:\Windows\System32\services.exe`, "User", `NT AUTHORITY\SYSTEM`)
		case 1:
			ev = detecttest.Sysmon(3, t, "WS1", "ProcessGuid", guid, "Image", `C:\Program Files\App\app.exe`, "Initiated", "true",
				"DestinationIp", fmt.Sprintf("10.0.%d.%d", i%250, i%200), "DestinationPort", "443", "Protocol", "tcp")
		case 2:
			ev = detecttest.Sysmon(22, t, "WS1", "ProcessGuid", guid, "Image", `C:\Program Files\App\app.exe`,
				"QueryName", fmt.Sprintf("host%d.example.com", i%1000), "QueryResults", "::ffff:10.1.2.3;")
		case 3:
			ev = detecttest.Sysmon(11, t, "WS1", "ProcessGuid", guid, "Image", `C:\Program Files\App\app.exe`,
				"TargetFilename", fmt.Sprintf(`C:\Users\bob\AppData\Local\App\cache\%d.tmp`, i))
		default:
			ev = detecttest.Sysmon(13, t, "WS1", "ProcessGuid", guid, "Image", `C:\Program Files\App\app.exe`, "EventType", "SetValue",
				"TargetObject", `HKLM\SOFTWARE\App\Settings\Value`, "Details", "DWORD (0x00000001)")
		}
		evs[i].CopyFrom(ev)
	}
	return evs
}

type countSink struct{ n int }

func (c *countSink) Alert(*detect.Alert) error { c.n++; return nil }

func benchEngine(b *testing.B, ms []detect.Matcher, s detect.AlertSink) {
	evs := benchEvents(10000)
	eng, err := detect.New(detect.Options{Matchers: ms, Sink: s})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ev := &evs[i%len(evs)]
		if err := eng.Process(ev); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

func shippedMatchers(b *testing.B) []detect.Matcher {
	rs, errs := sigma.Load([]string{"../rules/sigma"}, sigma.Options{})
	if len(errs) > 0 {
		b.Fatal(errs)
	}
	set, lerrs := ioc.Load(ioc.Paths{Hashes: "../rules/ioc/hashes.txt", IPs: "../rules/ioc/ips.txt", Domains: "../rules/ioc/domains.txt", PathsRegex: "../rules/ioc/paths_regex.txt"}, ioc.Options{})
	if len(lerrs) > 0 {
		b.Fatal(lerrs)
	}
	return []detect.Matcher{detect.NewSigmaMatcher(rs), detect.NewIOCMatcher(set, detect.SeverityHigh)}
}

// BenchmarkEngineStateOnly is the baseline: process table and DNS cache,
// no rules.
func BenchmarkEngineStateOnly(b *testing.B) { benchEngine(b, nil, &countSink{}) }

// BenchmarkEngineShippedRules runs the shipped Sigma pack and IOC lists,
// alerts counted but not encoded.
func BenchmarkEngineShippedRules(b *testing.B) { benchEngine(b, shippedMatchers(b), &countSink{}) }

// BenchmarkEngineShippedRulesECS also encodes every alert as ECS JSON.
func BenchmarkEngineShippedRulesECS(b *testing.B) {
	benchEngine(b, shippedMatchers(b), &sink.Memory{})
}

// BenchmarkAlertEncode is the cost of one ECS alert line.
func BenchmarkAlertEncode(b *testing.B) {
	ev := detecttest.Sysmon(1, t0, "WS1", "ProcessGuid", "{00000000-0000-0000-0000-000000000001}", "ProcessId", "700",
		"Image", `C:\Windows\System32\whoami.exe`, "CommandLine", `whoami /all`, "User", `CORP\alice`,
		"ParentImage", `C:\Windows\System32\cmd.exe`, "ParentCommandLine", `cmd.exe /c whoami /all`,
		"Hashes", "SHA1=0123456789ABCDEF0123456789ABCDEF01234567,MD5=0123456789ABCDEF0123456789ABCDEF")
	r := sigmaRule("11111111-1111-4111-8111-111111111111", "Whoami", "medium", "attack.discovery", "attack.t1033")
	a := &detect.Alert{Event: ev, Hit: &detect.Hit{Rule: r}, Severity: detect.SeverityMedium, Replayed: true}
	var buf []byte
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		buf = ecs.AppendAlert(buf[:0], a)
	}
	b.SetBytes(int64(len(buf)))
}
