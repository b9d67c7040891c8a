package enrich

import (
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strings"
)

// MachineID identifies the machine in derived ProcessGuids (on Windows the
// MachineGuid of HKLM\SOFTWARE\Microsoft\Cryptography).
type MachineID [16]byte

// ParseMachineID reads a GUID in text form, with or without braces.
func ParseMachineID(s string) (MachineID, error) {
	var m MachineID
	h := strings.ReplaceAll(strings.Trim(s, "{}"), "-", "")
	if len(h) != 32 {
		return m, fmt.Errorf("machine id %q: want a GUID", s)
	}
	if _, err := hex.Decode(m[:], []byte(h)); err != nil {
		return m, fmt.Errorf("machine id %q: %v", s, err)
	}
	return m, nil
}

// ProcessGUID derives a process's ProcessGuid from the machine, the PID and
// the process start time (UTC nanoseconds since the Unix epoch, as the
// kernel's CreateTime reports it in 100 ns units):
//
//	h = SHA-1("edr.ProcessGuid\x00" ‖ machine (16 bytes) ‖ PID (uint32 LE) ‖ start (int64 LE))
//	guid = h[0:16] with the RFC 4122 version 5 and variant bits set
//
// rendered as Sysmon does, "{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}" in
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
	var out [38]byte
	out[0], out[37] = '{', '}'
	hex.Encode(out[1:9], h[0:4])
	out[9] = '-'
	hex.Encode(out[10:14], h[4:6])
	out[14] = '-'
	hex.Encode(out[15:19], h[6:8])
	out[19] = '-'
	hex.Encode(out[20:24], h[8:10])
	out[24] = '-'
	hex.Encode(out[25:37], h[10:16])
	return string(out[:])
}
