// Package rawsynth turns the generator's normalized events (corpus/synth)
// into the raw ETW records Windows would deliver for the same activity
// (capture/raw property bags, per the providers' manifests), so that the
// whole Windows capture path except the ETW session itself (decode, reorder,
// enrichment, the raw layer of the recording) runs on any OS: edr live
// --source raw-synthetic, and the decoders' round-trip test.
//
// It is the inverse of capture/decode for what a raw record carries and does
// not import it (decode's tests use this package).
package rawsynth

import (
	"encoding/binary"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/edr-lab/edr/capture"
	"github.com/edr-lab/edr/capture/raw"
	"github.com/edr-lab/edr/event"
)

// Carried lists, per Sysmon id, the fields a raw record can carry; every
// other field of a decoded event is enrichment's (or never known).
var Carried = map[uint16][]string{
	1:  {"UtcTime", "ProcessId", "Image", "TerminalSessionId", "IntegrityLevel", "ParentProcessId"},
	3:  {"UtcTime", "ProcessId", "Protocol", "Initiated", "SourceIsIpv6", "SourceIp", "SourcePort", "DestinationIsIpv6", "DestinationIp", "DestinationPort"},
	5:  {"UtcTime", "ProcessId", "Image"},
	7:  {"UtcTime", "ProcessId", "ImageLoaded"},
	11: {"UtcTime", "ProcessId", "TargetFilename"},
	12: {"UtcTime", "ProcessId", "EventType", "TargetObject"},
	13: {"UtcTime", "ProcessId", "EventType", "TargetObject", "Details"},
	22: {"UtcTime", "ProcessId", "QueryName", "QueryStatus", "QueryResults"},
	26: {"UtcTime", "ProcessId", "TargetFilename"},
}

// IntegritySID is the MandatoryLabel SID of each integrity level name
// Sysmon writes (the decoder's table, inverted).
var IntegritySID = map[string]string{
	"Untrusted": "S-1-16-0", "Low": "S-1-16-4096", "Medium": "S-1-16-8192",
	"High": "S-1-16-12288", "System": "S-1-16-16384", "Protected": "S-1-16-20480",
}

// Windows constants the records carry.
const (
	fileCreate       = 2 // CreateDisposition FILE_CREATE (CreateOptions bits 24–31)
	regCreatedNewKey = 1 // REG_CREATED_NEW_KEY
	regSZ            = 1
	regBinary        = 3
	regDWORD         = 4
	regQWORD         = 11
	systemPID        = 4 // Kernel-Network logs in the System process
)

// Encoder encodes events. It numbers the kernel objects (FileObject,
// KeyObject) it invents, so one Encoder serves one stream. Not safe for
// concurrent use.
type Encoder struct {
	obj uint64 // last kernel object address handed out
	out []*raw.Record
}

// Field ids of the names the encoder reads that event does not export,
// resolved once.
var (
	fDestinationIsIpv6, fSourceIsIpv6, fProtocol = event.MustField("DestinationIsIpv6"), event.MustField("SourceIsIpv6"), event.MustField("Protocol")
	fInitiated, fExecProcessID, fQueryStatus     = event.MustField("Initiated"), event.MustField("Execution_ProcessID"), event.MustField("QueryStatus")
	fMessageNumber, fMessageTotal, fTaskName     = event.MustField("MessageNumber"), event.MustField("MessageTotal"), event.MustField("TaskName")
	fTerminalSessionId, fUserContext             = event.MustField("TerminalSessionId"), event.MustField("UserContext")
)

func val(e *event.Event, name string) string { return e.Value(event.MustField(name)) }

func u(s string) uint64 {
	v, _ := strconv.ParseUint(s, 10, 64)
	return v
}

func rec(e *event.Event, p raw.ProviderID, id uint16, pid uint32) *raw.Record {
	r := raw.Get()
	r.Provider, r.EventID, r.PID, r.Timestamp = p, id, pid, int64(event.UnixNanoToFileTime(e.Time))
	return r
}

// Encode returns the records for e (a naming open first for registry
// writes), or nil when none of the ETW providers edr enables delivers e
// (Security, System and most Sysmon-only events). The records come from
// raw.Get: the caller owns them (raw.Put when done). The returned slice is
// reused by the next call.
func (x *Encoder) Encode(e *event.Event) []*raw.Record {
	x.out = x.out[:0]
	switch e.Channel {
	case event.ChannelSysmon:
		x.sysmon(e)
	case event.ChannelPowerShell:
		if e.EventID == 4104 {
			r := rec(e, capture.PowerShell, 4104, uint32(u(e.Value(fExecProcessID))))
			r.Version = 1
			r.AddNum("MessageNumber", raw.I32, u(e.Value(fMessageNumber)))
			r.AddNum("MessageTotal", raw.I32, u(e.Value(fMessageTotal)))
			for _, f := range [...]string{"ScriptBlockText", "ScriptBlockId", "Path"} {
				r.AddString(f, raw.String, val(e, f))
			}
			x.out = append(x.out, r)
		}
	case event.ChannelTaskScheduler:
		if e.EventID == 106 {
			r := rec(e, capture.TaskScheduler, 106, uint32(u(e.Value(fExecProcessID))))
			r.AddString("TaskName", raw.String, e.Value(fTaskName))
			r.AddString("UserContext", raw.String, e.Value(fUserContext))
			x.out = append(x.out, r)
		}
	}
	if len(x.out) == 0 {
		return nil
	}
	return x.out
}

func (x *Encoder) sysmon(e *event.Event) {
	pid := uint32(u(e.Value(event.FProcessId)))
	switch e.EventID {
	case 1:
		r := rec(e, capture.KernelProcess, 1, uint32(u(e.Value(event.FParentProcessId))))
		r.Version = 4
		r.AddNum("ProcessID", raw.U32, uint64(pid))
		r.AddNum("ParentProcessID", raw.U32, u(e.Value(event.FParentProcessId)))
		r.AddNum("SessionID", raw.U32, u(e.Value(fTerminalSessionId)))
		if sid, ok := IntegritySID[e.Value(event.FIntegrityLevel)]; ok {
			r.AddString("MandatoryLabel", raw.SID, sid)
		}
		r.AddString("ImageName", raw.String, e.Value(event.FImage))
		x.out = append(x.out, r)
	case 5:
		r := rec(e, capture.KernelProcess, 2, pid)
		r.Version = 2
		r.AddNum("ProcessID", raw.U32, uint64(pid))
		r.AddString("ImageName", raw.String, e.Value(event.FImage))
		x.out = append(x.out, r)
	case 7:
		r := rec(e, capture.KernelProcess, 5, pid)
		r.AddNum("ProcessID", raw.U32, uint64(pid))
		r.AddString("ImageName", raw.String, e.Value(event.FImageLoaded))
		x.out = append(x.out, r)
	case 3:
		x.network(e, pid)
	case 11:
		x.obj++
		r := rec(e, capture.KernelFile, 12, pid)
		r.Version = 1
		r.AddNum("FileObject", raw.Pointer, x.obj)
		r.AddNum("CreateOptions", raw.U32, fileCreate<<24)
		r.AddString("FileName", raw.String, e.Value(event.FTargetFilename))
		// The handle is closed, as every handle is: the close ends the
		// decoder's FileObject join (without it the join map only fills).
		c := rec(e, capture.KernelFile, 14, pid)
		c.Version = 1
		c.AddNum("FileObject", raw.Pointer, x.obj)
		x.out = append(x.out, r, c)
	case 26:
		r := rec(e, capture.KernelFile, 26, pid)
		r.Version = 1
		r.AddString("FilePath", raw.String, e.Value(event.FTargetFilename))
		x.out = append(x.out, r)
	case 22:
		r := rec(e, capture.DNSClient, 3008, pid)
		r.AddString("QueryName", raw.String, e.Value(event.FQueryName))
		r.AddNum("QueryStatus", raw.U32, u(e.Value(fQueryStatus)))
		// The provider writes "type: 5", Sysmon "type:  5".
		r.AddString("QueryResults", raw.String, strings.ReplaceAll(e.Value(event.FQueryResults), "type:  ", "type: "))
		x.out = append(x.out, r)
	case 12, 13:
		x.registry(e, pid)
	}
}

// netIDs are Kernel-Network's event ids by (UDP, IPv6, initiated): TCP
// connect/accept 12/15, v6 28/31; UDP send/recv 42/43, v6 58/59.
// Indexed by UDP<<2 | IPv6<<1 | initiated.
var netIDs = [8]uint16{15, 12, 31, 28, 43, 42, 59, 58}

func bit(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (x *Encoder) network(e *event.Event, pid uint32) {
	// An IPv6 event when either end is IPv6 (the generator mixes families
	// on one connection; a v4 end then travels IPv4-mapped).
	v6 := e.Value(fSourceIsIpv6) == "true" || e.Value(fDestinationIsIpv6) == "true"
	id := netIDs[bit(e.Value(fProtocol) == "udp")<<2|bit(v6)<<1|bit(e.Value(fInitiated) == "true")]
	r := rec(e, capture.KernelNetwork, id, systemPID)
	r.AddNum("PID", raw.U32, uint64(pid))
	for _, a := range [...]struct {
		prop string
		f    event.FieldID
	}{{"saddr", event.FSourceIp}, {"daddr", event.FDestinationIp}} {
		ip, err := netip.ParseAddr(e.Value(a.f))
		if err != nil {
			raw.Put(r)
			return // not an address a socket has
		}
		if v6 {
			b := ip.As16()
			r.AddBytes(a.prop, raw.Binary, b[:])
		} else {
			r.AddNum(a.prop, raw.U32, uint64(binary.LittleEndian.Uint32(ip.AsSlice())))
		}
	}
	for _, p := range [...]struct {
		prop string
		f    event.FieldID
	}{{"sport", event.FSourcePort}, {"dport", event.FDestinationPort}} {
		n := uint16(u(e.Value(p.f)))
		r.AddNum(p.prop, raw.U16, uint64(n>>8|n<<8)) // network byte order
	}
	x.out = append(x.out, r)
}

func (x *Encoder) registry(e *event.Event, pid uint32) {
	target := e.Value(event.FTargetObject)
	nt := ""
	for _, m := range [...][2]string{{`HKLM\`, `\REGISTRY\MACHINE\`}, {`HKU\`, `\REGISTRY\USER\`}} {
		if strings.HasPrefix(target, m[0]) {
			nt = m[1] + target[len(m[0]):]
		}
	}
	if nt == "" {
		return // HKCR/HKCU shorthand: not what the kernel names
	}
	x.obj++
	open := func(path string, id uint16, disp uint64) *raw.Record {
		r := rec(e, capture.KernelRegistry, id, pid)
		r.AddNum("BaseObject", raw.Pointer, 0)
		r.AddNum("KeyObject", raw.Pointer, x.obj)
		r.AddNum("Status", raw.U32, 0)
		r.AddNum("Disposition", raw.U32, disp)
		r.AddString("BaseName", raw.String, "")
		r.AddString("RelativeName", raw.String, path)
		return r
	}
	write := func(id uint16) *raw.Record {
		r := rec(e, capture.KernelRegistry, id, pid)
		r.AddNum("KeyObject", raw.Pointer, x.obj)
		r.AddString("KeyName", raw.String, "")
		return r
	}
	key, value := nt, ""
	if i := strings.LastIndexByte(nt, '\\'); i >= 0 {
		key, value = nt[:i], nt[i+1:]
	}
	if value == "(Default)" {
		value = ""
	}
	switch e.Value(event.FEventType) {
	case "CreateKey":
		x.out = append(x.out, open(nt, 1, regCreatedNewKey))
	case "DeleteKey":
		x.out = append(x.out, open(nt, 2, 0), write(3))
	case "DeleteValue":
		w := write(6)
		w.AddString("ValueName", raw.String, value)
		x.out = append(x.out, open(key, 2, 0), w)
	case "SetValue":
		w := write(5)
		w.AddString("ValueName", raw.String, value)
		typ, data := regData(e.Value(event.FDetails))
		w.AddNum("Type", raw.U32, typ)
		w.AddBytes("CapturedData", raw.Binary, data)
		x.out = append(x.out, open(key, 2, 0), w)
	default:
		return
	}
	// CloseKey ends the decoder's KeyObject join, as on a real host.
	c := rec(e, capture.KernelRegistry, 13, pid)
	c.AddNum("KeyObject", raw.Pointer, x.obj)
	x.out = append(x.out, c)
}

// regData inverts Sysmon's Details rendering.
func regData(d string) (uint64, []byte) {
	hex := func(s string) uint64 { v, _ := strconv.ParseUint(strings.TrimPrefix(s, "0x"), 16, 64); return v }
	switch {
	case strings.HasPrefix(d, "DWORD (") && strings.HasSuffix(d, ")"):
		return regDWORD, binary.LittleEndian.AppendUint32(nil, uint32(hex(d[7:len(d)-1])))
	case strings.HasPrefix(d, "QWORD (") && strings.HasSuffix(d, ")"):
		hi, lo, _ := strings.Cut(d[7:len(d)-1], "-")
		return regQWORD, binary.LittleEndian.AppendUint64(nil, hex(hi)<<32|hex(lo))
	case d == "Binary Data":
		return regBinary, []byte{1, 2, 3}
	case d == "(Empty)":
		return regSZ, []byte{0, 0}
	}
	var b []byte
	for _, c := range utf16.Encode([]rune(d)) {
		b = binary.LittleEndian.AppendUint16(b, c)
	}
	return regSZ, append(b, 0, 0)
}
