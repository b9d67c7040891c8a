package decode

import (
	"encoding/binary"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edr-lab/edr/capture/raw"
	"github.com/edr-lab/edr/event"
)

// encodeUserData lays a bag out as Windows would deliver it for template t
// (the test-side inverse of raw.ParseUserData).
func encodeUserData(t testing.TB, r *raw.Record, tmpl raw.Template) []byte {
	var b []byte
	for _, f := range tmpl {
		p := r.Prop(f.Name)
		require.NotNil(t, p, f.Name)
		switch f.Type {
		case raw.InUnicodeString:
			for _, u := range utf16.Encode([]rune(p.Str)) {
				b = binary.LittleEndian.AppendUint16(b, u)
			}
			b = append(b, 0, 0)
		case raw.InAnsiString:
			b = append(append(b, p.Str...), 0)
		case raw.InSID:
			parts := strings.Split(p.Str, "-")
			rev, _ := strconv.Atoi(parts[1])
			auth, _ := strconv.ParseUint(parts[2], 10, 48)
			b = append(b, byte(rev), byte(len(parts)-3), 0, 0, byte(auth>>24), byte(auth>>16), byte(auth>>8), byte(auth))
			for _, s := range parts[3:] {
				v, _ := strconv.ParseUint(s, 10, 32)
				b = binary.LittleEndian.AppendUint32(b, uint32(v))
			}
		case raw.InGUID:
			g := p.Bytes
			b = append(b, g[3], g[2], g[1], g[0], g[5], g[4], g[7], g[6])
			b = append(b, g[8:16]...)
		case raw.InBinary:
			b = append(b, p.Bytes...)
		case raw.InUInt8:
			b = append(b, byte(p.Num))
		case raw.InUInt16:
			b = binary.LittleEndian.AppendUint16(b, uint16(p.Num))
		case raw.InUInt32, raw.InHexInt32, raw.InBoolean, raw.InInt32:
			b = binary.LittleEndian.AppendUint32(b, uint32(p.Num))
		default: // 64-bit ints, pointers (64-bit logger), FILETIME
			b = binary.LittleEndian.AppendUint64(b, p.Num)
		}
	}
	return b
}

// TestUserDataRoundTrip: for every routed template, the bag built from the
// manifest, laid out as UserData and parsed back, is the same bag, and
// decodes to the same event.
func TestUserDataRoundTrip(t *testing.T) {
	evs := loadManifests(t)
	n := 0
	for i, me := range evs {
		tmpl := Template(me.key)
		if tmpl == nil {
			continue
		}
		want := bag(me, i)
		for _, f := range tmpl {
			if f.Type == raw.InBinary && f.LenFrom >= 0 {
				b, _ := want.Bytes(f.Name)
				want.Prop(tmpl[f.LenFrom].Name).Num = uint64(len(b))
			}
		}
		got := &raw.Record{Provider: want.Provider, EventID: want.EventID, Version: want.Version, PID: want.PID,
			Timestamp: want.Timestamp, HeaderFlags: raw.HeaderFlag64Bit}
		got.SetUserData(encodeUserData(t, want, tmpl))
		require.NoError(t, raw.ParseUserData(got, tmpl), "%v", me.key)
		require.Len(t, got.Props, len(want.Props), "%v", me.key)
		for j := range want.Props {
			w, g := want.Props[j], got.Props[j]
			assert.Equal(t, w.Name, g.Name)
			assert.Equal(t, w.Kind, g.Kind, "%v %s", me.key, w.Name)
			assert.Equal(t, w.Num, g.Num, "%v %s", me.key, w.Name)
			assert.Equal(t, w.Str, g.Str, "%v %s", me.key, w.Name)
			assert.Equal(t, string(w.Bytes), string(g.Bytes), "%v %s", me.key, w.Name)
		}
		var ew, eg []*event.Event
		dw, dg := New(Options{}), New(Options{})
		dw.Decode(want, func(e *event.Event) { ew = append(ew, e.Clone()) })
		dg.Decode(got, func(e *event.Event) { eg = append(eg, e.Clone()) })
		dw.Flush(func(e *event.Event) { ew = append(ew, e.Clone()) })
		dg.Flush(func(e *event.Event) { eg = append(eg, e.Clone()) })
		require.Len(t, eg, len(ew))
		for j := range ew {
			assert.True(t, event.Equal(ew[j], eg[j]), "%v event %d", me.key, j)
		}
		n++
	}
	assert.Equal(t, len(templates), n, "every template round-trips")
}

func TestParseUserDataShort(t *testing.T) {
	tmpl := Template(Key{kernelNetwork, 12, 0})
	r := &raw.Record{}
	r.SetUserData([]byte{1, 0, 0, 0, 2, 0})
	err := raw.ParseUserData(r, tmpl)
	assert.EqualError(t, err, "field size (#1): user data ends inside the field")
	v, ok := r.Uint("PID")
	assert.True(t, ok, "fields before the cut are kept")
	assert.Equal(t, uint64(1), v)
}

func TestFillCountsShortPayload(t *testing.T) {
	d := New(Options{})
	r := &raw.Record{Provider: kernelNetwork, EventID: 12}
	r.SetUserData([]byte{1, 0, 0, 0})
	err := d.Fill(r)
	assert.EqualError(t, err, "Microsoft-Windows-Kernel-Network event 12 v0: field size (#1): user data ends inside the field")
	assert.Equal(t, uint64(1), d.Stats.ShortUserData)
	assert.Equal(t, Emitted, d.Decode(r, func(*event.Event) {}), "the fields before the cut still decode")
	// An unrouted template: UserData kept, no props, counted by Decode.
	u := &raw.Record{Provider: kernelNetwork, EventID: 10}
	u.SetUserData([]byte{1})
	assert.NoError(t, d.Fill(u))
	assert.Equal(t, Unhandled, d.Decode(u, func(*event.Event) {}))
}

func FuzzParseUserData(f *testing.F) {
	keys := make([]Key, 0, len(templates))
	for k := range templates {
		keys = append(keys, k)
	}
	// map order is random: sort for a stable key index.
	sortKeys(keys)
	f.Add(uint16(0), []byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, which uint16, data []byte) {
		k := keys[int(which)%len(keys)]
		r := &raw.Record{Provider: k.Provider, EventID: k.EventID, Version: k.Version}
		r.SetUserData(data)
		if raw.ParseUserData(r, templates[k]) == nil {
			New(Options{}).Decode(r, func(*event.Event) {})
		}
	})
}
