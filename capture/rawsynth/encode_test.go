package rawsynth_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edr-lab/edr/capture/decode"
	"github.com/edr-lab/edr/capture/raw"
	"github.com/edr-lab/edr/capture/rawsynth"
	"github.com/edr-lab/edr/corpus/synth"
	"github.com/edr-lab/edr/event"
)

// decodeAll decodes recs on d and returns copies of the events.
func decodeAll(d *decode.Decoder, recs []*raw.Record) []*event.Event {
	var out []*event.Event
	for _, r := range recs {
		d.Decode(r, func(e *event.Event) { out = append(out, e.Clone()) })
	}
	return out
}

// TestNativeEventsRoundTrip: the generator's PowerShell 4104 and Task
// Scheduler 106 events come back from their raw records with the fields
// the providers carry (the Sysmon ones are decode's round-trip test).
func TestNativeEventsRoundTrip(t *testing.T) {
	carried := map[string][]string{
		event.ChannelPowerShell:    {"MessageNumber", "MessageTotal", "ScriptBlockText", "ScriptBlockId", "Path"},
		event.ChannelTaskScheduler: {"TaskName", "UserContext"},
	}
	g := synth.New(synth.Options{Seed: 11, Hosts: 2, Events: 200_000})
	var x rawsynth.Encoder
	d := decode.New(decode.Options{})
	var gen event.Event
	n := map[string]int{}
	for g.Next(&gen) {
		fields := carried[gen.Channel]
		if fields == nil {
			continue
		}
		recs := x.Encode(&gen)
		if gen.Channel == event.ChannelTaskScheduler && gen.EventID != 106 {
			assert.Nil(t, recs)
			continue
		}
		got := decodeAll(d, recs)
		require.Len(t, got, 1)
		e := got[0]
		assert.Equal(t, gen.Channel, e.Channel)
		assert.Equal(t, gen.EventID, e.EventID)
		assert.Equal(t, gen.Time, e.Time)
		if pid, ok := gen.Get(event.MustField("Execution_ProcessID")); ok { // (the generator's 106 has none: the header says 0)
			assert.Equal(t, pid, e.Value(event.MustField("Execution_ProcessID")))
		}
		for _, f := range fields {
			id := event.MustField(f)
			assert.Equal(t, gen.Value(id), e.Value(id), f)
		}
		n[gen.Channel]++
	}
	assert.Positive(t, n[event.ChannelPowerShell])
	assert.Positive(t, n[event.ChannelTaskScheduler])
}

// FuzzEncode: any field values the generator's shapes may take encode
// without panicking, and a record set that encodes decodes to one event.
func FuzzEncode(f *testing.F) {
	f.Add(uint16(13), "SetValue", `HKLM\Software\x\(Default)`, "DWORD (0x0000000a)", "10.0.0.1", "80")
	f.Add(uint16(13), "SetValue", `HKU\S-1-5\Run\v`, "QWORD (0x1-0x2)", "::1", "443")
	f.Add(uint16(3), "", "", "", "fe80::1", "70000")
	f.Add(uint16(12), "DeleteValue", `HKCR\x`, "", "not-an-ip", "x")
	f.Fuzz(func(t *testing.T, id uint16, typ, target, details, ip, port string) {
		var e event.Event
		e.Channel, e.EventID, e.Host, e.Time = event.ChannelSysmon, id, "h", 1_700_000_000_000_000_000
		for k, v := range map[string]string{"EventType": typ, "TargetObject": target, "Details": details, "SourceIp": ip,
			"DestinationIp": ip, "SourcePort": port, "DestinationPort": port, "ProcessId": port, "Image": target, "Protocol": typ} {
			e.Set(event.MustField(k), v)
		}
		var x rawsynth.Encoder
		recs := x.Encode(&e)
		if recs == nil {
			return
		}
		got := decodeAll(decode.New(decode.Options{Host: "h"}), recs)
		require.Len(t, got, 1, "records %d", len(recs))
		assert.Equal(t, e.Time, got[0].Time)
	})
}

// TestHandlesAreClosed: every file and registry handle the encoder opens
// is closed, so the decoder's join maps stay as small as the handles open
// at once: 100k events through maps of 256 entries evict nothing.
func TestHandlesAreClosed(t *testing.T) {
	g := synth.New(synth.Options{Seed: 12, Hosts: 1, Events: 100_000})
	var x rawsynth.Encoder
	d := decode.New(decode.Options{Host: "h", MaxFiles: 256, MaxKeys: 256})
	var gen event.Event
	events := 0
	for g.Next(&gen) {
		events += len(decodeAll(d, x.Encode(&gen)))
	}
	assert.Greater(t, events, 50_000)
	assert.Empty(t, d.Stats.Evicted, "join entries pushed out: handles left open")
}
