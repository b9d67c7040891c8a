package event

import "testing"

// BenchmarkCopyFrom copies a process-creation event with a typical dozen
// fields into reused storage (the replay merge and alert queues do this).
func BenchmarkCopyFrom(b *testing.B) {
	src := &Event{Time: 1, Host: "ws1", Channel: ChannelSysmon, EventID: 1}
	for _, kv := range [][2]string{{"UtcTime", "2024-01-01 00:00:00.000"}, {"ProcessGuid", "{00000000-0000-0000-0000-000000000001}"},
		{"ProcessId", "42"}, {"Image", `C:\Windows\System32\whoami.exe`}, {"CommandLine", "whoami /all"}, {"User", `CORP\bob`},
		{"ParentProcessGuid", "{00000000-0000-0000-0000-000000000002}"}, {"ParentProcessId", "41"},
		{"ParentImage", `C:\Windows\System32\cmd.exe`}, {"ParentCommandLine", "cmd"}, {"IntegrityLevel", "Medium"},
		{"Hashes", "SHA1=00,MD5=00"}} {
		src.SetByName(kv[0], kv[1])
	}
	var dst Event
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		dst.CopyFrom(src)
	}
	if !Equal(&dst, src) {
		b.Fatal("copy differs")
	}
}
