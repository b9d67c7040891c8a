package tamper

import (
	"encoding/binary"
	"fmt"
)

// Sizes of the structures EnumerateTraceGuidsEx(TraceGuidQueryInfo)
// returns: TRACE_GUID_INFO {InstanceCount, Reserved}, then per provider
// instance TRACE_PROVIDER_INSTANCE_INFO {NextOffset, EnableCount, Pid,
// Flags} followed by EnableCount TRACE_ENABLE_INFO {IsEnabled ULONG,
// LoggerId USHORT, Level UCHAR, Reserved1 UCHAR, EnablePropertyCount
// USHORT, Reserved2 USHORT, 4 bytes of padding, MatchAnyKeyword ULONGLONG,
// MatchAllKeyword ULONGLONG} (32 bytes: the keywords are 8-aligned).
const (
	guidInfoSize     = 8
	instanceInfoSize = 16
	enableInfoSize   = 32
)

// EnabledIn reads a provider's TraceGuidQueryInfo answer and says whether
// the session with LoggerId logger enables it in any registered instance.
// known is false when no instance is registered (a user-mode provider
// whose process is not running): the answer then says nothing about the
// session. A malformed answer is an error naming the offset.
func EnabledIn(info []byte, logger uint16) (enabled, known bool, err error) {
	if len(info) < guidInfoSize {
		return false, false, fmt.Errorf("TRACE_GUID_INFO: %d bytes, want ≥ %d", len(info), guidInfoSize)
	}
	count := binary.LittleEndian.Uint32(info)
	off := guidInfoSize
	for i := uint32(0); i < count; i++ {
		if off < 0 || len(info)-off < instanceInfoSize {
			return false, true, fmt.Errorf("provider instance %d at offset %d: past the end (%d bytes)", i, off, len(info))
		}
		next := binary.LittleEndian.Uint32(info[off:])
		enables := binary.LittleEndian.Uint32(info[off+4:])
		if uint64(enables)*enableInfoSize > uint64(len(info)-off-instanceInfoSize) {
			return false, true, fmt.Errorf("provider instance %d at offset %d: %d enable entries overrun the answer", i, off, enables)
		}
		for j := 0; j < int(enables); j++ {
			e := info[off+instanceInfoSize+j*enableInfoSize:]
			if binary.LittleEndian.Uint32(e) != 0 && binary.LittleEndian.Uint16(e[4:]) == logger {
				return true, true, nil
			}
		}
		if next == 0 {
			break
		}
		if uint64(next) < instanceInfoSize || uint64(off)+uint64(next) > uint64(len(info)) {
			return false, true, fmt.Errorf("provider instance %d at offset %d: next offset %d out of range", i, off, next)
		}
		off += int(next)
	}
	return false, count > 0, nil
}
