package recording

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/edr-lab/edr/event"
	"github.com/stretchr/testify/require"
)

// values lists an event's field values and the key/value entries left, as
// "name=value", sorted.
func values(e *event.Event, kvs []event.KV) []string {
	var out []string
	e.Range(func(_ event.FieldID, v string) bool {
		out = append(out, v)
		return true
	})
	for _, kv := range kvs {
		out = append(out, kv.Value)
	}
	slices.Sort(out)
	return out
}

// FuzzRespell applies arbitrary Spellings values (a damaged or foreign
// file) to a row: it never panics and never drops or duplicates a value,
// whatever it moves.
func FuzzRespell(f *testing.F) {
	f.Add(uint8(0), "ProcessID", "k")
	f.Add(uint8(2), "ProcessID +processid", "k processid")
	f.Add(uint8(6), "+ProcessID +ProcessID", "ProcessID ProcessID")
	f.Add(uint8(5), "processid ProcessID +ProcessId", "ProcessId")
	f.Add(uint8(1), "+", "")
	f.Fuzz(func(t *testing.T, sel uint8, spell, keys string) {
		kinds := []struct {
			channel string
			id      uint16
		}{{event.ChannelSysmon, 1}, {event.ChannelSecurity, 5156}, {"X", 1}}
		k := kinds[int(sel)%len(kinds)]
		e := &event.Event{Channel: k.channel, EventID: k.id}
		def := e.Def()
		if sel&4 != 0 { // the ProcessId column has a value
			e.Set(def.Spelling(event.FProcessId), "column")
		}
		if sel&8 != 0 {
			e.Set(event.FImage, "image")
		}
		var kvs []event.KV
		for i, key := range strings.Fields(keys) {
			kvs = append(kvs, event.KV{Key: key, Value: fmt.Sprint("extra", i)})
		}
		before := values(e, kvs)
		rest := respell(e, def, spell, slices.Clone(kvs))
		require.Equal(t, before, values(e, rest))
		require.Equal(t, kvs[:len(rest)], rest, "what stays in Extra is its beginning")
	})
}
