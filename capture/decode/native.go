package decode

import (
	"encoding/hex"
	"strings"

	"github.com/edr-lab/edr/capture"
	"github.com/edr-lab/edr/capture/raw"
	"github.com/edr-lab/edr/event"
)

// Providers whose events keep their own channel and id: Sysmon has no
// event of the same meaning, so relabelling them would make rules for one
// match the other.
func init() {
	v0 := []uint8{0}
	route(capture.PowerShell, []uint8{1}, native(event.ChannelPowerShell, event.ProviderPowerShell), 4103, 4104)
	route(capture.WMIActivity, v0, native(event.ChannelWMIActivity, event.ProviderWMIActivity),
		capture.ProviderByGUID(capture.WMIActivity).EventIDs...)
	route(capture.TaskScheduler, v0, native(event.ChannelTaskScheduler, event.ProviderTaskScheduler),
		capture.ProviderByGUID(capture.TaskScheduler).EventIDs...)
	route(capture.DNSClient, v0, native(event.ChannelDNSClient, event.ProviderDNSClient), 3006)
	route(capture.DNSClient, v0, (*Decoder).dnsQuery, 3008)
}

// native decodes a record into its provider's own channel, every property
// under its template name, rendered as the Event Log renders it (win:HexInt
// fields in 0x form, by the schema's type for the field).
func native(channel, provider string) func(*Decoder, *raw.Record) Result {
	return func(d *Decoder, r *raw.Record) Result {
		b := d.start(r, channel, provider, r.EventID)
		def := event.Lookup(channel, r.EventID)
		for i := range r.Props {
			p := &r.Props[i]
			b.Data(p.Name, d.renderProp(def, p))
		}
		return d.finish()
	}
}

func (d *Decoder) renderProp(def *event.Def, p *raw.Prop) string {
	switch {
	case p.Kind == raw.Pointer:
		return d.st.hex(p.Num)
	case p.Kind.Signed():
		if v := p.Int(); v < 0 {
			return d.st.concat("-", d.st.itoa(uint64(-v)))
		}
		return d.st.itoa(p.Num)
	case p.Kind.Numeric():
		if def != nil {
			if id, ok := event.FieldByName(p.Name); ok && def.TypeOf(id) == event.Hex {
				return d.st.hex(p.Num)
			}
		}
		return d.st.itoa(p.Num)
	case p.Kind == raw.GUID && len(p.Bytes) == 16:
		g := raw.ProviderID(p.Bytes)
		return "{" + g.String() + "}"
	case p.Kind == raw.Binary || p.Kind == raw.GUID:
		return strings.ToUpper(hex.EncodeToString(p.Bytes))
	}
	return p.Str
}

// dnsQuery: DNS-Client 3008 (query completed) → Sysmon 22. The querying
// process is the header PID. 3006 (query started) stays native.
func (d *Decoder) dnsQuery(r *raw.Record) Result {
	b := d.sysmon(r, 22)
	b.Data("ProcessId", d.itoa32(r.PID))
	str(b, r, "QueryName", "QueryName")
	d.num(b, r, "QueryStatus", "QueryStatus")
	if v, ok := r.Str("QueryResults"); ok {
		b.Data("QueryResults", d.st.sysmonResults(v))
	}
	return d.finish()
}

// sysmonResults writes non-address records as Sysmon does, "type:  5 name"
// with two spaces (the provider writes one).
func (t *strTab) sysmonResults(s string) string {
	if !strings.Contains(s, "type: ") {
		return s
	}
	// Every "type: " or "type:  " becomes "type:  " (two spaces).
	t.buf = t.buf[:0]
	for {
		i := strings.Index(s, "type: ")
		if i < 0 {
			break
		}
		t.buf = append(append(t.buf, s[:i]...), "type:  "...)
		s = strings.TrimPrefix(s[i+len("type: "):], " ")
	}
	t.buf = append(t.buf, s...)
	return t.Intern(t.buf)
}
