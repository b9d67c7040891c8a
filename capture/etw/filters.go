package etw

import "encoding/binary"

// Filter descriptor payloads for EnableTraceEx2, built as bytes so they are
// portable and tested off Windows; etw.go points the descriptors at them.
// (golang-etw builds its event-ID filter in memory it then refers to only
// by a uint64, which the GC does not see; ours stays referenced until the
// call returns.)

// Descriptor types (evntprov.h).
const (
	filterTypeNone    uint32 = 0x0
	filterTypeEventID uint32 = 0x80000200
)

// registryCapturedData is the 4-byte payload that makes Kernel-Registry's
// SetValueKey (event 5) carry the value data (CapturedData). Undocumented:
// measured by the Rustinel authors on Windows 11 26200 (payload 0x2 or 0x3
// gives the full data, absent/0x0/0x1/0x4 give none; the descriptor type is
// not validated except that SCHEMATIZED is refused), see
// ../shared/reference/rustinel-notes.md (#279/#292). Sent with type NONE so
// ETW itself does not read it as a filter.
const registryCapturedData uint32 = 0x2

// filterPayload is one descriptor: its type and the bytes it points at.
type filterPayload struct {
	typ  uint32
	data []byte
}

// eventIDFilter lays out EVENT_FILTER_EVENT_ID: FilterIn (BOOLEAN, 1 =
// deliver only these), Reserved, Count (USHORT), then the USHORT ids; its
// size is FIELD_OFFSET(Events[Count]).
func eventIDFilter(ids []uint16) []byte {
	b := make([]byte, 4+2*len(ids))
	b[0] = 1
	binary.LittleEndian.PutUint16(b[2:], uint16(len(ids)))
	for i, id := range ids {
		binary.LittleEndian.PutUint16(b[4+2*i:], id)
	}
	return b
}

// enableFilters returns the descriptors a provider is enabled with: its
// event-ID scope, and the value-data request when asked. Enabling replaces
// an earlier enablement in full, so both always travel together.
func enableFilters(ids []uint16, capturedData bool) []filterPayload {
	var fs []filterPayload
	if len(ids) > 0 {
		fs = append(fs, filterPayload{typ: filterTypeEventID, data: eventIDFilter(ids)})
	}
	if capturedData {
		fs = append(fs, filterPayload{typ: filterTypeNone, data: binary.LittleEndian.AppendUint32(nil, registryCapturedData)})
	}
	return fs
}
