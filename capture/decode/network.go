package decode

import (
	"net/netip"

	"github.com/edr-lab/edr/capture"
	"github.com/edr-lab/edr/capture/raw"
	"github.com/edr-lab/edr/event"
)

func init() {
	v0 := []uint8{0}
	route(capture.KernelNetwork, v0, (*Decoder).netConnect, 12, 28, 42, 58)
	route(capture.KernelNetwork, v0, (*Decoder).netAccept, 15, 31, 43, 59)
}

func (d *Decoder) netConnect(r *raw.Record) Result { return d.network(r, "true") }
func (d *Decoder) netAccept(r *raw.Record) Result  { return d.network(r, "false") }

// network → Sysmon 3: TCP connect/accept (12/15, v6 28/31), UDP send/recv
// (42/43, v6 58/59). The header PID is System (4); the owner is the
// payload PID, absent when the record lacks it.
func (d *Decoder) network(r *raw.Record, initiated string) Result {
	b := d.sysmon(r, 3)
	d.num(b, r, "PID", "ProcessId")
	proto := "tcp"
	if r.EventID >= 42 {
		proto = "udp"
	}
	b.Data("Protocol", proto)
	b.Data("Initiated", initiated)
	d.addr(b, r, "saddr", "SourceIsIpv6", "SourceIp")
	d.port(b, r, "sport", "SourcePort")
	d.addr(b, r, "daddr", "DestinationIsIpv6", "DestinationIp")
	d.port(b, r, "dport", "DestinationPort")
	return d.finish()
}

// addr renders an IPv4 address delivered as a u32 read little-endian from
// network-order bytes (so its low byte is the first octet), or an IPv6
// address delivered as 16 bytes.
func (d *Decoder) addr(b builder, r *raw.Record, prop, isV6, field string) {
	p := r.Prop(prop)
	if p == nil {
		return
	}
	var a netip.Addr
	switch {
	case p.Kind.Numeric():
		v := uint32(p.Num)
		a = netip.AddrFrom4([4]byte{byte(v), byte(v >> 8), byte(v >> 16), byte(v >> 24)})
	case p.Kind == raw.Binary && len(p.Bytes) == 16:
		a = netip.AddrFrom16([16]byte(p.Bytes))
	case p.Kind == raw.Binary && len(p.Bytes) == 4:
		a = netip.AddrFrom4([4]byte(p.Bytes))
	case p.Kind == raw.IP:
		var err error
		if a, err = netip.ParseAddr(p.Str); err != nil {
			return
		}
	default:
		return
	}
	b.Data(isV6, event.FormatBool(a.Is6() && !a.Is4In6()))
	b.Data(field, d.st.addr(a.Unmap()))
}

// port byte-swaps a port read as a little-endian u16 from network order.
func (d *Decoder) port(b builder, r *raw.Record, prop, field string) {
	if v, ok := r.Uint(prop); ok {
		p := uint16(v)
		b.Data(field, d.st.itoa(uint64(p>>8|p<<8)))
	}
}
