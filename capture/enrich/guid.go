package enrich

import (
	"crypto/sha1"
	"encoding/binary"
	"fmt"

	"github.com/edr-lab/edr/capture/raw"
	"github.com/edr-lab/edr/event"
)

// MachineID identifies the machine in derived ProcessGuids (on Windows the
// MachineGuid of HKLM\SOFTWARE\Microsoft\Cryptography).
type MachineID [16]byte

// ParseMachineID reads a GUID in text form, with or without braces.
func ParseMachineID(s string) (MachineID, error) {
	g, err := raw.ParseGUID(s)
	if err != nil {
		return MachineID{}, fmt.Errorf("machine id %q: %v", s, err)
	}
	return MachineID(g), nil
}

// ProcessGUID derives a process's ProcessGuid from the machine, the PID and
// the process start time (UTC nanoseconds since the Unix epoch, as the
// kernel's CreateTime reports it in 100 ns units):
//
//	h = SHA-1("edr.ProcessGuid\x00" ‖ machine ‖ PID (uint32 LE) ‖ start (int64 LE))
//	guid = h[0:16] with the RFC 4122 version 5 and variant bits set
//
// where machine is the 16 bytes of the machine GUID in the order its text
// form spells them (6f1c2a3b-0d4e-… → 6f 1c 2a 3b 0d 4e …), and the GUID
// is rendered from its bytes in the same order,
// as Sysmon does, "{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}" in
// lower case. The same process gets the same GUID in every session and on
// every re-normalization (no counter, no clock); a PID reused later, or the
// same PID on another machine, gets another. Sysmon's own GUIDs pack the
// machine and a time directly; edr's are not meant to equal them, only to
// be stable and unique in the same way.
func ProcessGUID(machine MachineID, pid uint32, start int64) string {
	var in [16 + 16 + 4 + 8]byte
	copy(in[:], "edr.ProcessGuid\x00")
	copy(in[16:], machine[:])
	binary.LittleEndian.PutUint32(in[32:], pid)
	binary.LittleEndian.PutUint64(in[36:], uint64(start))
	h := sha1.Sum(in[:])
	h[6] = h[6]&0x0f | 0x50
	h[8] = h[8]&0x3f | 0x80
	// event.FormatGUID renders a Windows GUID structure (Data1..3 little
	// endian): hand it the bytes so that the text spells h in order. One
	// allocation, the string itself.
	return event.FormatGUID([16]byte{h[3], h[2], h[1], h[0], h[5], h[4], h[7], h[6],
		h[8], h[9], h[10], h[11], h[12], h[13], h[14], h[15]})
}
