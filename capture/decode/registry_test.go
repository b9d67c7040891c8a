package decode

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edr-lab/edr/capture/internal/manifest"
	"github.com/edr-lab/edr/capture/raw"
	"github.com/edr-lab/edr/corpus/evtx"
	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/internal/testutil"
)

func regRec(id uint16, props func(r *raw.Record)) *raw.Record {
	r := &raw.Record{Provider: kernelRegistry, EventID: id, PID: 100, Timestamp: 134360063001409789}
	props(r)
	return r
}

func TestRegPath(t *testing.T) {
	for in, want := range map[string]string{
		`\REGISTRY\MACHINE\SOFTWARE\Microsoft`: `HKLM\SOFTWARE\Microsoft`,
		`\Registry\Machine\System`:             `HKLM\System`,
		`\REGISTRY\USER\S-1-5-21-1\Software`:   `HKU\S-1-5-21-1\Software`,
		`\REGISTRY\MACHINE`:                    `HKLM`,
		`\REGISTRY\MACHINEX\a`:                 `\REGISTRY\MACHINEX\a`,
		`Software\Relative`:                    `Software\Relative`,
	} {
		assert.Equal(t, want, newStrTab().regPath(in), in)
	}
}

func TestRegDetails(t *testing.T) {
	cases := []struct {
		typ  uint64
		data []byte
		want string
		ok   bool
	}{
		{4, []byte{1, 0, 0, 0}, "DWORD (0x00000001)", true},
		{4, []byte{0xef, 0xbe, 0xad, 0xde}, "DWORD (0xdeadbeef)", true},
		{5, []byte{0, 0, 0, 1}, "DWORD (0x00000001)", true}, // REG_DWORD_BIG_ENDIAN
		{4, []byte{1, 0}, "", false},                        // cut short: absent
		// QWORD 0x0000000100000002: high word then low word.
		{11, []byte{2, 0, 0, 0, 1, 0, 0, 0}, "QWORD (0x00000001-0x00000002)", true},
		{1, []byte{'a', 0, 'b', 0, 0, 0}, "ab", true},
		{2, []byte{'%', 0, 'x', 0, '%', 0, 0, 0}, "%x%", true},
		{1, []byte{0, 0}, "(Empty)", true},
		{7, []byte{'a', 0, 0, 0, 'b', 0, 0, 0, 0, 0}, "a\nb", true},
		{3, []byte{1, 2, 3}, "Binary Data", true},
		{0, nil, "Binary Data", true},
	}
	for _, c := range cases {
		r := &raw.Record{}
		r.AddNum("Type", raw.U32, c.typ)
		r.AddBytes("CapturedData", raw.Binary, c.data)
		got, ok := newStrTab().regDetails(r)
		assert.Equal(t, c.ok, ok, "type %d %x", c.typ, c.data)
		assert.Equal(t, c.want, got, "type %d %x", c.typ, c.data)
	}
	r := &raw.Record{}
	r.AddNum("Type", raw.U32, 4)
	_, ok := newStrTab().regDetails(r)
	assert.False(t, ok, "no CapturedData (not requested): Details absent")

	// The provider declares CapturedData but leaves it empty unless the
	// session asked for it: a 6-byte REG_SZ with nothing captured is not
	// "(Empty)"; an empty value (DataSize 0) still is.
	for _, c := range []struct {
		typ, size uint64
		want      string
		ok        bool
	}{{1, 6, "", false}, {4, 4, "", false}, {1, 0, "(Empty)", true}} {
		r := &raw.Record{}
		r.AddNum("Type", raw.U32, c.typ)
		r.AddNum("DataSize", raw.U32, c.size)
		r.AddBytes("CapturedData", raw.Binary, nil)
		got, ok := newStrTab().regDetails(r)
		assert.Equal(t, c.ok, ok, "type %d size %d", c.typ, c.size)
		assert.Equal(t, c.want, got, "type %d size %d", c.typ, c.size)
	}
}

func TestRegistryAbsoluteAndBaseJoin(t *testing.T) {
	d := New(Options{})
	var got []*event.Event
	emit := func(e *event.Event) { got = append(got, e.Clone()) }
	// A base key named absolutely, a subkey opened relative to it.
	d.Decode(regRec(2, func(r *raw.Record) {
		r.AddNum("BaseObject", raw.Pointer, 0)
		r.AddNum("KeyObject", raw.Pointer, 0x10)
		r.AddString("BaseName", raw.String, `\REGISTRY\MACHINE\SOFTWARE`)
		r.AddString("RelativeName", raw.String, `Microsoft\Windows\CurrentVersion\Run`)
	}), emit)
	d.Decode(regRec(2, func(r *raw.Record) {
		r.AddNum("BaseObject", raw.Pointer, 0x10)
		r.AddNum("KeyObject", raw.Pointer, 0x20)
		r.AddString("BaseName", raw.String, "")
		r.AddString("RelativeName", raw.String, `Sub`)
	}), emit)
	d.Decode(regRec(5, func(r *raw.Record) {
		r.AddNum("KeyObject", raw.Pointer, 0x20)
		r.AddString("KeyName", raw.String, "")
		r.AddString("ValueName", raw.String, "")
		r.AddNum("Type", raw.U32, 4)
		r.AddBytes("CapturedData", raw.Binary, []byte{0x2a, 0, 0, 0})
	}), emit)
	// An unnamed KeyObject with an absolute KeyName stands on its own.
	d.Decode(regRec(3, func(r *raw.Record) {
		r.AddNum("KeyObject", raw.Pointer, 0x99)
		r.AddString("KeyName", raw.String, `\REGISTRY\USER\S-1-5-18\Software\X`)
	}), emit)
	// Close evicts: a later write on 0x20 is held, then flushed unresolved.
	d.Decode(regRec(13, func(r *raw.Record) { r.AddNum("KeyObject", raw.Pointer, 0x20) }), emit)
	assert.Equal(t, Held, d.Decode(regRec(6, func(r *raw.Record) {
		r.AddNum("KeyObject", raw.Pointer, 0x20)
		r.AddString("ValueName", raw.String, "v")
	}), emit))
	d.Flush(emit)

	require.Len(t, got, 3)
	to := event.MustField("TargetObject")
	assert.Equal(t, `HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Run\Sub\(Default)`, got[0].Value(to))
	assert.Equal(t, "DWORD (0x0000002a)", got[0].Value(event.MustField("Details")))
	assert.Equal(t, `HKU\S-1-5-18\Software\X`, got[1].Value(to))
	assert.Equal(t, "DeleteKey", got[1].Value(event.MustField("EventType")))
	assert.False(t, got[2].Has(to))
	assert.Equal(t, "DeleteValue", got[2].Value(event.MustField("EventType")))
	assert.Equal(t, uint64(1), d.Stats.Unresolved)
}

func TestRegistryHeldBound(t *testing.T) {
	d := New(Options{MaxHeld: 2})
	n := 0
	for k := uint64(1); k <= 3; k++ {
		d.Decode(regRec(6, func(r *raw.Record) { r.AddNum("KeyObject", raw.Pointer, k) }), func(*event.Event) { n++ })
	}
	assert.Equal(t, 1, n, "the oldest held write is emitted when the bound is hit, not dropped")
	assert.Equal(t, uint64(1), d.Stats.Evicted["registry-held"])
	d.Flush(func(*event.Event) { n++ })
	assert.Equal(t, 3, n)
}

// TestNoRegistryRenameInManifests holds the reason Sysmon 14 is not
// decoded (see registry.go): no Kernel-Registry template, in any dumped
// release, is a rename or carries a new name, and no keyword selects one.
// The day a release adds one, this fails and the decoder should route it.
func TestNoRegistryRenameInManifests(t *testing.T) {
	rows := parseFile(t, filepath.Join(testutil.Shared(t, "etw/manifests"), "Microsoft-Windows-Kernel-Registry.tsv"), manifest.Read)
	require.Len(t, rows, 45)
	ids := map[uint16]bool{}
	for _, r := range rows {
		ids[r.EventID] = true
		assert.NotContains(t, strings.ToLower(r.Name), "rename", "event %d v%d", r.EventID, r.Version)
		assert.NotContains(t, strings.ToLower(r.Keywords), "rename", "event %d v%d", r.EventID, r.Version)
		for _, f := range r.Fields {
			assert.NotContains(t, strings.ToLower(f.Name), "newname", "event %d v%d", r.EventID, r.Version)
		}
	}
	for id := uint16(1); id <= 45; id++ {
		assert.True(t, ids[id], "event %d", id)
	}
	// and the decoder routes nothing to Sysmon 14
	for k := range routes() {
		if k.p == kernelRegistry {
			assert.Contains(t, []uint16{1, 2, 3, 5, 6, 13}, k.id)
		}
	}
}

// TestRegDetailsAsRealSysmon: the DWORD and QWORD renderings real Sysmon
// wrote in the corpus's recordings (e.g. "QWORD (0x01d4de95-0x1de60760)":
// high word first, each 8 lower-case hex digits) come out of regDetails
// for the value they render.
func TestRegDetailsAsRealSysmon(t *testing.T) {
	re := regexp.MustCompile(`^(DWORD|QWORD) \((0x[0-9a-f]{8})(?:-(0x[0-9a-f]{8}))?\)$`)
	n := map[string]int{}
	require.NoError(t, filepath.Walk(testutil.CorpusDir(), func(p string, _ os.FileInfo, err error) error {
		if err != nil || filepath.Ext(p) != ".evtx" {
			return err
		}
		_, err = evtx.ReadFile(p, func(e *event.Event) error {
			d, _ := e.Lookup("Details")
			m := re.FindStringSubmatch(d)
			if e.Channel != event.ChannelSysmon || e.EventID != 13 || m == nil {
				return nil
			}
			r := &raw.Record{}
			hi, _ := strconv.ParseUint(m[2], 0, 32)
			if m[1] == "DWORD" {
				r.AddNum("Type", raw.U32, regDWORD)
				r.AddBytes("CapturedData", raw.Binary, binary.LittleEndian.AppendUint32(nil, uint32(hi)))
			} else {
				lo, _ := strconv.ParseUint(m[3], 0, 32)
				r.AddNum("Type", raw.U32, regQWORD)
				r.AddBytes("CapturedData", raw.Binary, binary.LittleEndian.AppendUint64(nil, hi<<32|lo))
			}
			got, ok := newStrTab().regDetails(r)
			assert.True(t, ok)
			assert.Equal(t, d, got, p)
			n[m[1]]++
			return nil
		})
		return err
	}))
	t.Logf("Sysmon 13 Details checked: %v", n)
	assert.Positive(t, n["QWORD"])
	assert.Positive(t, n["DWORD"])
}
