package decode

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edr-lab/edr/capture"
	"github.com/edr-lab/edr/capture/internal/manifest"
	"github.com/edr-lab/edr/capture/raw"
	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/internal/testutil"
)

type manifestEvent struct {
	key    Key
	fields [][2]string // in-type, name
}

// loadManifests reads the template dumps of every provider in the table.
func loadManifests(t testing.TB) []manifestEvent {
	sh := testutil.Shared(t, "etw/manifests")
	var out []manifestEvent
	for _, p := range capture.Providers {
		rows := parseFile(t, filepath.Join(sh, p.Name+".tsv"), manifest.Read)
		for _, r := range rows {
			if r.Provider != p.Name {
				continue
			}
			me := manifestEvent{key: Key{p.GUID, r.EventID, r.Version}}
			for _, f := range r.Fields {
				me.fields = append(me.fields, [2]string{f.InType, f.Name})
			}
			out = append(out, me)
		}
	}
	return out
}

// bag builds the property bag Windows would deliver for a template, with
// plausible values for each in-type.
func bag(me manifestEvent, n int) *raw.Record {
	r := &raw.Record{Provider: me.key.Provider, EventID: me.key.EventID, Version: me.key.Version,
		PID: 4242, Timestamp: 134360063001409789 + int64(n)}
	for i, f := range me.fields {
		name := f[1]
		switch f[0] {
		case "UInt8":
			r.AddNum(name, raw.U8, uint64(i+1))
		case "UInt16":
			r.AddNum(name, raw.U16, uint64(i+1))
		case "UInt32", "HexInt32":
			r.AddNum(name, raw.U32, uint64(i+1))
		case "UInt64", "HexInt64":
			r.AddNum(name, raw.U64, 1<<63|uint64(i))
		case "Int32":
			r.AddNum(name, raw.I32, uint64(0xffffffff))
		case "Int64":
			r.AddNum(name, raw.I64, ^uint64(0))
		case "Boolean":
			r.AddNum(name, raw.U32, 1)
		case "Pointer":
			r.AddNum(name, raw.Pointer, 0xffffd00000000000|uint64(i)<<4)
		case "FILETIME":
			r.AddNum(name, raw.FileTime, 134360063001409789)
		case "SID":
			r.AddString(name, raw.SID, "S-1-16-12288")
		case "GUID":
			r.AddBytes(name, raw.GUID, []byte("0123456789abcdef"))
		case "Binary":
			r.AddBytes(name, raw.Binary, []byte{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1})
		default:
			r.AddString(name, raw.String, `\REGISTRY\MACHINE\Software\`+name)
		}
	}
	return r
}

// TestManifestTemplates: for every event id and version of the decoded
// providers, a bag built from the template decodes without panic; ids the
// decoder handles decode (every manifest version is known), the others are
// counted as unhandled.
func TestManifestTemplates(t *testing.T) {
	evs := loadManifests(t)
	d := New(Options{})
	var handled, unhandled int
	for i, me := range evs {
		h, vk := Known(me.key)
		res := d.Decode(bag(me, i), func(e *event.Event) {
			require.NotZero(t, e.Time)
			require.NotEmpty(t, e.Channel)
		})
		if !h {
			assert.Equal(t, Unhandled, res, "%v", me.key)
			unhandled++
			continue
		}
		handled++
		assert.True(t, vk, "%s id %d v%d is in the manifest but not known to the decoder", providerName(me.key.Provider), me.key.EventID, me.key.Version)
		assert.Contains(t, []Result{Emitted, State, Held}, res, "%v", me.key)
	}
	d.Flush(func(*event.Event) {})
	assert.Empty(t, d.Stats.UnknownVersion)
	var counted uint64
	for _, n := range d.Stats.Unhandled {
		counted += n
	}
	assert.Equal(t, uint64(unhandled), counted)
	t.Logf("manifest templates: %d decoded, %d counted unhandled", handled, unhandled)
	assert.Greater(t, handled, 60)
}

// TestUnknownVersionCounted: a version past the newest manifest version of
// every handled id is reported, counted and kept, never decoded.
func TestUnknownVersionCounted(t *testing.T) {
	evs := loadManifests(t)
	maxV := map[Key]uint8{}
	for _, me := range evs {
		k := me.key
		k.Version = 0
		if me.key.Version >= maxV[k] {
			maxV[k] = me.key.Version
		}
	}
	d := New(Options{MaxKept: 1 << 20})
	n := 0
	for _, me := range evs {
		k := me.key
		k.Version = 0
		if h, _ := Known(k); !h || me.key.Version != maxV[k] {
			continue
		}
		r := bag(me, n)
		r.Version++
		emitted := false
		assert.Equal(t, UnknownVersion, d.Decode(r, func(*event.Event) { emitted = true }), "%v", r.EventID)
		assert.False(t, emitted)
		assert.Equal(t, uint64(1), d.Stats.UnknownVersion[Key{r.Provider, r.EventID, r.Version}])
		n++
	}
	require.Len(t, d.Kept, n)
	assert.Equal(t, d.Kept[0].Props, bagFirst(evs, d.Kept[0]).Props, "the raw record is kept whole")
	assert.Greater(t, n, 30)
}

func bagFirst(evs []manifestEvent, r *raw.Record) *raw.Record {
	for _, me := range evs {
		if me.key.Provider == r.Provider && me.key.EventID == r.EventID && me.key.Version == r.Version-1 {
			return bag(me, 0)
		}
	}
	return nil
}
