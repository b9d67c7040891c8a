package synth

import (
	"encoding/base64"
	"encoding/binary"
	"time"
	"unicode/utf16"

	"github.com/edr-lab/edr/event"
)

const hexdigits = "0123456789abcdef"

// utcFormatter renders Sysmon's UtcTime ("2006-01-02 15:04:05.000") without
// going through time.Format: the date prefix is cached per day and the last
// rendering is reused while the millisecond does not change. It produces
// exactly event.FormatUtcTime's output (a test checks).
type utcFormatter struct {
	mem    arena
	day    int64 // days since the epoch of prefix
	prefix string
	lastMs int64
	last   string
}

func (f *utcFormatter) format(ns int64) string {
	ms := floorDiv(ns, 1e6)
	if ms == f.lastMs && f.last != "" {
		return f.last
	}
	day := floorDiv(ms, 86_400_000)
	if f.prefix == "" || day != f.day {
		f.day = day
		f.prefix = time.UnixMilli(day * 86_400_000).UTC().Format("2006-01-02 ")
	}
	rem := ms - day*86_400_000
	var b [23]byte
	copy(b[:], f.prefix)
	h, m, s, milli := rem/3_600_000, rem/60_000%60, rem/1000%60, rem%1000
	b[11], b[12] = byte('0'+h/10), byte('0'+h%10)
	b[13] = ':'
	b[14], b[15] = byte('0'+m/10), byte('0'+m%10)
	b[16] = ':'
	b[17], b[18] = byte('0'+s/10), byte('0'+s%10)
	b[19] = '.'
	b[20], b[21], b[22] = byte('0'+milli/100), byte('0'+milli/10%10), byte('0'+milli%10)
	f.lastMs, f.last = ms, f.mem.string(b[:])
	return f.last
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// sysmonGUID builds a GUID the way Sysmon lays out ProcessGuid and
// LogonGuid: the first group identifies the machine, the next two carry
// a time stamp, the last eight bytes a counter or logon ID. Rendered in
// the Windows form "{lower-case}".
func sysmonGUID(machine uint32, stamp uint32, tail uint64) string {
	var g [16]byte
	binary.LittleEndian.PutUint32(g[0:4], machine)
	binary.LittleEndian.PutUint16(g[4:6], uint16(stamp))
	binary.LittleEndian.PutUint16(g[6:8], uint16(stamp>>16))
	binary.BigEndian.PutUint64(g[8:16], tail)
	return event.FormatGUID(g)
}

// randGUID is a random (version 4 shaped) GUID.
func randGUID(r *rng) string {
	var g [16]byte
	binary.LittleEndian.PutUint64(g[0:8], r.next())
	binary.LittleEndian.PutUint64(g[8:16], r.next())
	g[7] = g[7]&0x0f | 0x40
	g[8] = g[8]&0x3f | 0x80
	return event.FormatGUID(g)
}

// randHex returns n random lower-case hex digits.
func randHex(r *rng, n int) string {
	b := make([]byte, n)
	var x uint64
	for i := range b {
		if i%16 == 0 {
			x = r.next()
		}
		b[i] = hexdigits[x&15]
		x >>= 4
	}
	return string(b)
}

// appendHex appends v as exactly n lower-case hex digits.
func appendHex(b []byte, v uint64, n int) []byte {
	for i := n - 1; i >= 0; i-- {
		b = append(b, hexdigits[(v>>(uint(i)*4))&15])
	}
	return b
}

// encodePowerShell is what `powershell -EncodedCommand` expects: base64 of
// the UTF-16LE bytes of the script.
func encodePowerShell(script string) string {
	u := utf16.Encode([]rune(script))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		binary.LittleEndian.PutUint16(b[2*i:], c)
	}
	return base64.StdEncoding.EncodeToString(b)
}
