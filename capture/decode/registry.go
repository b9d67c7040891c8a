package decode

import (
	"encoding/binary"
	"strings"

	"github.com/edr-lab/edr/capture"
	"github.com/edr-lab/edr/capture/raw"
)

func init() {
	v0 := []uint8{0}
	route(capture.KernelRegistry, v0, (*Decoder).regCreateKey, 1)
	route(capture.KernelRegistry, v0, (*Decoder).regOpenKey, 2)
	route(capture.KernelRegistry, v0, (*Decoder).regWrite, 3, 5, 6)
	route(capture.KernelRegistry, v0, (*Decoder).regCloseKey, 13)
}

// Sysmon 14 (key rename: EventType RenameKey, TargetObject, NewName) is not
// decoded: Microsoft-Windows-Kernel-Registry has no rename event. Its
// manifest, in every dumped release up to 26H1, defines 1–15 (Create,
// Open, Delete, Query, SetValue, DeleteValue, QueryValue, Enumerate,
// EnumerateValue, QueryMultipleValue, SetInformation, Flush, Close,
// QuerySecurity, SetSecurity — all version 0, none with a new name) and
// 16–45 (hive mount/unload/flush/load/restore/export and shutdown
// timings), and no keyword for renames; NtRenameKey reaches it at most as
// the Close of the renamed key's handle, which names neither the old nor
// the new path. TestNoRegistryRenameInManifests holds this; a release that
// adds a rename event fails it.

// regCreatedNewKey is CreateKey's Disposition when the key did not exist.
const regCreatedNewKey = 1

// Sysmon's EventType values.
const (
	evCreateKey   = "CreateKey"
	evDeleteKey   = "DeleteKey"
	evSetValue    = "SetValue"
	evDeleteValue = "DeleteValue"
)

// regCreateKey (1): names the key, and is a Sysmon 12 when it created it.
func (d *Decoder) regCreateKey(r *raw.Record) Result {
	path, ok := d.regName(r)
	if !ok {
		return State
	}
	res := d.release(r)
	if disp, ok := r.Uint("Disposition"); ok && disp == regCreatedNewKey {
		b := d.sysmon(r, 12)
		b.Data("EventType", evCreateKey)
		d.regPID(b, r)
		b.Data("TargetObject", path)
		return d.finish()
	}
	return res
}

// regOpenKey (2): names the key; emits nothing itself.
func (d *Decoder) regOpenKey(r *raw.Record) Result {
	if _, ok := d.regName(r); !ok {
		return State
	}
	return d.release(r)
}

// regCloseKey (13): the KeyObject may be reused for another key.
func (d *Decoder) regCloseKey(r *raw.Record) Result {
	if k, ok := r.Uint("KeyObject"); ok {
		d.keys.del(k)
	}
	return State
}

// regName records the path a create/open gives its KeyObject. A zero
// KeyObject or a failed status is a failed open: nothing is named.
func (d *Decoder) regName(r *raw.Record) (string, bool) {
	k, ok := r.Uint("KeyObject")
	if !ok || k == 0 {
		return "", false
	}
	if st, ok := r.Uint("Status"); ok && st != 0 {
		return "", false
	}
	rel, _ := r.Str("RelativeName")
	base := ""
	if bo, ok := r.Uint("BaseObject"); ok && bo != 0 {
		base, _ = d.keys.get(bo)
	}
	if base == "" {
		base, _ = r.Str("BaseName")
	}
	path := d.st.regPath(d.st.joinKey(base, rel))
	d.keys.put(k, path)
	return path, true
}

// release emits the writes held for the key r just named, in arrival order.
func (d *Decoder) release(r *raw.Record) Result {
	k, _ := r.Uint("KeyObject")
	path, _ := d.keys.get(k)
	res := State
	kept := d.held[:0]
	for _, h := range d.held {
		if hk, _ := h.Uint("KeyObject"); hk == k {
			d.registryWrite(h, path, true)
			raw.Put(h)
			res = Emitted
			continue
		}
		kept = append(kept, h)
	}
	for i := len(kept); i < len(d.held); i++ {
		d.held[i] = nil
	}
	d.held = kept
	return res
}

// regWrite (3 DeleteKey, 5 SetValueKey, 6 DeleteValueKey): the path comes
// from KeyName when the record has one, else from the create/open that
// named KeyObject; a write whose key is not named yet is held until it is.
func (d *Decoder) regWrite(r *raw.Record) Result {
	k, _ := r.Uint("KeyObject")
	if path, ok := d.keys.get(k); ok {
		return d.registryWrite(r, path, true)
	}
	// KeyName is usually empty, and may be relative: only a full
	// \REGISTRY\… name stands on its own.
	if name, ok := r.Str("KeyName"); ok && hasPrefixFold(name, `\REGISTRY\`) {
		return d.registryWrite(r, d.st.regPath(name), true)
	}
	if len(d.held) >= d.opt.MaxHeld {
		old := d.held[0]
		copy(d.held, d.held[1:])
		d.held = d.held[:len(d.held)-1]
		d.Stats.Evicted["registry-held"]++
		d.registryWrite(old, "", false)
		raw.Put(old)
	}
	c := raw.Get()
	c.CopyFrom(r)
	d.held = append(d.held, c)
	return Held
}

// registryWrite emits the Sysmon event of a write whose key path is known
// (or, when known is false, was never learnt: TargetObject stays absent).
func (d *Decoder) registryWrite(r *raw.Record, path string, known bool) Result {
	id, typ := uint16(12), evDeleteKey
	switch r.EventID {
	case 5:
		id, typ = 13, evSetValue
	case 6:
		typ = evDeleteValue
	}
	b := d.sysmon(r, id)
	b.Data("EventType", typ)
	d.regPID(b, r)
	if !known {
		// Never named: a relative KeyName is the best there is.
		d.Stats.Unresolved++
		if name, _ := r.Str("KeyName"); name != "" {
			path, known = name, true
		}
	}
	switch {
	case !known:
	case r.EventID == 3:
		b.Data("TargetObject", path)
	default:
		v, _ := r.Str("ValueName")
		if v == "" {
			v = "(Default)"
		}
		b.Data("TargetObject", d.st.concat(path, `\`, v))
	}
	if r.EventID == 5 {
		if det, ok := d.st.regDetails(r); ok {
			b.Data("Details", det)
		}
	}
	return d.finish()
}

func (d *Decoder) regPID(b builder, r *raw.Record) { b.Data("ProcessId", d.itoa32(r.PID)) }

func (t *strTab) joinKey(base, rel string) string {
	switch {
	case base == "":
		return rel
	case rel == "":
		return base
	}
	return t.concat(strings.TrimSuffix(base, `\`), `\`, strings.TrimPrefix(rel, `\`))
}

// regPath rewrites the kernel's hive roots to the HKLM/HKU form Sysmon
// writes. A relative path (its base key was never named) stays relative.
func (t *strTab) regPath(p string) string {
	for _, m := range [...]struct{ nt, root string }{{`\REGISTRY\MACHINE`, "HKLM"}, {`\REGISTRY\USER`, "HKU"}} {
		if hasPrefixFold(p, m.nt) && (len(p) == len(m.nt) || p[len(m.nt)] == '\\') {
			return t.concat(m.root, p[len(m.nt):])
		}
	}
	return p
}

// Registry value types.
const (
	regNone      = 0
	regSZ        = 1
	regExpandSZ  = 2
	regBinary    = 3
	regDWORD     = 4
	regDWORDBE   = 5
	regLink      = 6
	regMultiSZ   = 7
	regQWORD     = 11
	maxDetailLen = 4096
)

// regDetails renders value data as Sysmon's Details: strings verbatim
// ("(Empty)" when empty), "DWORD (0x%08x)", "QWORD (0x%08x-0x%08x)" (high
// then low), "Binary Data" otherwise. Data the provider did not capture,
// (CapturedData missing, or empty while DataSize is not), or integers cut
// short, leave Details absent.
func (t *strTab) regDetails(r *raw.Record) (string, bool) {
	typ, ok := r.Uint("Type")
	if !ok {
		return "", false
	}
	data, ok := r.Bytes("CapturedData")
	if !ok {
		return "", false
	}
	if n, ok := r.Uint("DataSize"); ok && n > 0 && len(data) == 0 {
		// A value with data, none captured: the session did not get the
		// value-data request through (or Windows ignored it). Not "(Empty)".
		return "", false
	}
	switch typ {
	case regSZ, regExpandSZ, regLink:
		s := t.utf16le(data)
		if s == "" {
			return "(Empty)", true
		}
		return s, true
	case regMultiSZ:
		parts := strings.Split(t.utf16le(data), "\x00")
		for len(parts) > 0 && parts[len(parts)-1] == "" {
			parts = parts[:len(parts)-1]
		}
		if len(parts) == 0 {
			return "(Empty)", true
		}
		return strings.Join(parts, "\n"), true
	case regDWORD, regDWORDBE:
		if len(data) < 4 {
			return "", false
		}
		v := binary.LittleEndian.Uint32(data)
		if typ == regDWORDBE {
			v = binary.BigEndian.Uint32(data)
		}
		t.buf = append(appendHex8(append(t.buf[:0], "DWORD ("...), v), ')')
		return t.Intern(t.buf), true
	case regQWORD:
		if len(data) < 8 {
			return "", false
		}
		v := binary.LittleEndian.Uint64(data)
		t.buf = appendHex8(append(t.buf[:0], "QWORD ("...), uint32(v>>32))
		t.buf = append(appendHex8(append(t.buf, '-'), uint32(v)), ')')
		return t.Intern(t.buf), true
	}
	return "Binary Data", true
}

// appendHex8 appends 0x and v in 8 lower-case hex digits.
func appendHex8(dst []byte, v uint32) []byte {
	const digits = "0123456789abcdef"
	dst = append(dst, '0', 'x')
	for sh := 28; sh >= 0; sh -= 4 {
		dst = append(dst, digits[v>>uint(sh)&0xf])
	}
	return dst
}

// utf16le decodes UTF-16LE bytes, dropping the terminating NUL(s), as the
// raw record's own decoder does (interned).
func (t *strTab) utf16le(b []byte) string {
	if len(b) > maxDetailLen*2 {
		b = b[:maxDetailLen*2]
	}
	b = b[:len(b)&^1] // a trailing odd byte is no character
	for len(b) >= 2 && b[len(b)-1] == 0 && b[len(b)-2] == 0 {
		b = b[:len(b)-2]
	}
	t.buf = raw.AppendUTF16LE(t.buf[:0], b)
	return t.Intern(t.buf)
}

func hasPrefixFold(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}
