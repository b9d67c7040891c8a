package decode

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edr-lab/edr/capture/raw"
	"github.com/edr-lab/edr/event"
)

func TestNetworkIPv6AndUDP(t *testing.T) {
	v6 := []byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}
	mapped := []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 7}
	cases := []struct {
		id           uint16
		saddr        []byte
		proto, init  string
		src, srcIsV6 string
	}{
		{28, v6, "tcp", "true", "2001:db8::1", "true"},    // TCP connect v6
		{31, v6, "tcp", "false", "2001:db8::1", "true"},   // TCP accept v6
		{58, mapped, "udp", "true", "10.0.0.7", "false"},  // UDP send v6, v4-mapped
		{59, mapped, "udp", "false", "10.0.0.7", "false"}, // UDP recv v6
	}
	for _, c := range cases {
		r := &raw.Record{Provider: kernelNetwork, EventID: c.id, PID: 4, Timestamp: 134360063001409789}
		r.AddNum("PID", raw.U32, 1234)
		r.AddBytes("daddr", raw.Binary, v6)
		r.AddBytes("saddr", raw.Binary, c.saddr)
		r.AddNum("dport", raw.U16, 0x3500) // 53 in network order
		r.AddNum("sport", raw.U16, 0x01bb) // 47873 swapped
		var got *event.Event
		require.Equal(t, Emitted, New(Options{}).Decode(r, func(e *event.Event) { got = e.Clone() }))
		f := fields(got)
		assert.Equal(t, map[string]string{
			"UtcTime": utc(r.Timestamp), "ProcessId": "1234", "Protocol": c.proto, "Initiated": c.init,
			"SourceIsIpv6": c.srcIsV6, "SourceIp": c.src, "SourcePort": "47873",
			"DestinationIsIpv6": "true", "DestinationIp": "2001:db8::1", "DestinationPort": "53",
		}, f, "event %d", c.id)
	}
}

// TestSysmonResults: non-address records get Sysmon's two spaces after
// "type:", whatever the provider wrote; addresses are untouched.
func TestSysmonResults(t *testing.T) {
	st := newStrTab()
	for in, want := range map[string]string{
		"::ffff:20.190.159.23;":                  "::ffff:20.190.159.23;",
		"type: 5 login.live.com;::ffff:1.2.3.4;": "type:  5 login.live.com;::ffff:1.2.3.4;",
		"type:  5 a;type: 5 b;":                  "type:  5 a;type:  5 b;",
		"type:   5 a;":                           "type:   5 a;",
		"":                                       "",
	} {
		assert.Equal(t, want, st.sysmonResults(in), in)
	}
}

// TestEnvelopeFromRecordHeader: the System header of a decoded event
// (provider GUID, process and thread of the record, the host), alternating
// providers so the decoder's remembered provider is exercised both ways.
func TestEnvelopeFromRecordHeader(t *testing.T) {
	d := New(Options{Host: "ws1"})
	for i := range 3 {
		net := &raw.Record{Provider: kernelNetwork, EventID: 12, PID: 4, TID: 77, Timestamp: 134360063001409789}
		net.AddNum("PID", raw.U32, 1234)
		net.AddNum("daddr", raw.U32, 0x0100007f)
		dns := &raw.Record{Provider: dnsClient, EventID: 3006, PID: 900, Timestamp: 134360063001409790}
		dns.AddString("QueryName", raw.String, "example.com")
		for _, c := range []struct {
			r          *raw.Record
			guid, name string
			pid, tid   string
		}{
			{net, "{7dd42a49-5329-4832-8dfd-43d979153a88}", "Microsoft-Windows-Kernel-Network", "4", "77"},
			{dns, "{1c95126e-7eea-49a9-a3fe-a378b03ddb4d}", "Microsoft-Windows-DNS-Client", "900", ""},
		} {
			var got *event.Event
			require.Equal(t, Emitted, d.Decode(c.r, func(e *event.Event) { got = e.Clone() }), "round %d", i)
			assert.Equal(t, c.guid, got.Value(event.MustField("Provider_Guid")))
			assert.Equal(t, c.name, got.Provider)
			assert.Equal(t, c.pid, got.Value(event.MustField("Execution_ProcessID")))
			tid, ok := got.Get(event.MustField("Execution_ThreadID"))
			assert.Equal(t, c.tid, tid)
			assert.Equal(t, c.tid != "", ok, "no thread id: no field")
			assert.Equal(t, "ws1", got.Value(event.FComputer))
			assert.Equal(t, "ws1", got.Host)
		}
	}
}
