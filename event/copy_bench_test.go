package event

import "testing"

// benchFields are a process-creation event's typical dozen fields.
var benchFields = [][2]string{{"UtcTime", "2024-01-01 00:00:00.000"}, {"ProcessGuid", "{00000000-0000-0000-0000-000000000001}"},
	{"ProcessId", "42"}, {"Image", `C:\Windows\System32\whoami.exe`}, {"CommandLine", "whoami /all"}, {"User", `CORP\bob`},
	{"ParentProcessGuid", "{00000000-0000-0000-0000-000000000002}"}, {"ParentProcessId", "41"},
	{"ParentImage", `C:\Windows\System32\cmd.exe`}, {"ParentCommandLine", "cmd"}, {"IntegrityLevel", "Medium"},
	{"Hashes", "SHA1=00,MD5=00"}}

func benchEvent() *Event {
	src := &Event{Time: 1, Host: "ws1", Channel: ChannelSysmon, EventID: 1}
	for _, kv := range benchFields {
		src.SetByName(kv[0], kv[1])
	}
	return src
}

// BenchmarkCopyFrom copies a process-creation event with a typical dozen
// fields into reused storage (the replay merge and alert queues do this).
func BenchmarkCopyFrom(b *testing.B) {
	src := benchEvent()
	var dst Event
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		dst.CopyFrom(src)
	}
	if !Equal(&dst, src) {
		b.Fatal("copy differs")
	}
}

// BenchmarkFill resets a reused event and sets a dozen fields in FieldID
// order, as the recording reader and the decoders do: through Set, and
// through Append (which the order allows).
func BenchmarkFill(b *testing.B) {
	src := benchEvent()
	var ids []FieldID
	var vals []string
	src.Range(func(id FieldID, v string) bool { ids, vals = append(ids, id), append(vals, v); return true })
	for _, viaAppend := range []bool{false, true} {
		name := map[bool]string{false: "Set", true: "Append"}[viaAppend]
		b.Run(name, func(b *testing.B) {
			var e Event
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				e.Reset()
				for j, id := range ids {
					if viaAppend {
						e.Append(id, vals[j])
					} else {
						e.Set(id, vals[j])
					}
				}
			}
			e.Time, e.Host, e.Channel, e.EventID = src.Time, src.Host, src.Channel, src.EventID
			if !Equal(&e, src) {
				b.Fatal("fill differs")
			}
		})
	}
}

// BenchmarkGet reads the dozen present fields and as many absent ones, as
// rule evaluation does.
func BenchmarkGet(b *testing.B) {
	e := benchEvent()
	var ids []FieldID
	for _, kv := range benchFields {
		ids = append(ids, MustField(kv[0]))
	}
	for _, n := range []string{"TargetFilename", "QueryName", "DestinationIp", "TargetObject", "Details", "ImageLoaded",
		"PipeName", "ScriptBlockText", "ServiceName", "TargetImage", "SourceImage", "GrandParentImage"} {
		ids = append(ids, MustField(n))
	}
	n := 0
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		for _, id := range ids {
			if _, ok := e.Get(id); ok {
				n++
			}
		}
	}
	if n != b.N*len(benchFields) {
		b.Fatal("present fields miscounted")
	}
}
