package decode

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edr-lab/edr/capture/rawsynth"
	"github.com/edr-lab/edr/corpus/synth"
	"github.com/edr-lab/edr/event"
)

// TestIntegrityTablesAgree: rawsynth's integrity table is the decoder's
// inverted (the encoder writes the SIDs the decoder reads).
func TestIntegrityTablesAgree(t *testing.T) {
	require.Len(t, rawsynth.IntegritySID, len(integrity))
	for sid, name := range integrity {
		assert.Equal(t, sid, rawsynth.IntegritySID[name], name)
	}
}

func val(e *event.Event, name string) string { return e.Value(event.MustField(name)) }

// TestRoundTripGenerated: ≥ 100k generated events; every Sysmon event the
// raw providers deliver is encoded to raw records and decoded back; the
// fields a raw record carries come back equal, every other field absent.
func TestRoundTripGenerated(t *testing.T) {
	const n = 100_000
	g := synth.New(synth.Options{Seed: 7, Events: n})
	var x rawsynth.Encoder
	decoders := map[string]*Decoder{}
	var gen event.Event
	checked, skipped := map[uint16]int{}, 0
	total := 0
	for g.Next(&gen) {
		total++
		if gen.Channel != event.ChannelSysmon {
			skipped++
			continue
		}
		recs := x.Encode(&gen)
		if recs == nil {
			skipped++
			continue
		}
		d := decoders[gen.Host]
		if d == nil {
			d = New(Options{Host: gen.Host})
			decoders[gen.Host] = d
		}
		var got []*event.Event
		for _, r := range recs {
			d.Decode(r, func(e *event.Event) { got = append(got, e.Clone()) })
		}
		require.Len(t, got, 1, "%d %v", gen.EventID, fields(&gen))
		e := got[0]
		if !assert.Equal(t, gen.EventID, e.EventID) || !assert.Equal(t, gen.Time, e.Time) {
			continue
		}
		want := map[string]string{}
		for _, f := range rawsynth.Carried[gen.EventID] {
			if v, ok := gen.Get(event.MustField(f)); ok {
				want[f] = v
			}
		}
		// The generator zero-pads IPv6 groups ("fe80::baa2:07e2:…"); Windows
		// (and the decoder) write the RFC 5952 form ("…:7e2:…").
		for _, f := range []string{"SourceIp", "DestinationIp"} {
			if v, ok := want[f]; ok {
				want[f] = netip.MustParseAddr(v).String()
			}
		}
		if gen.EventID == 1 && rawsynth.IntegritySID[val(&gen, "IntegrityLevel")] == "" {
			delete(want, "IntegrityLevel")
		}
		if !assert.Equal(t, want, fields(e), "event %d at %d", gen.EventID, gen.Time) {
			t.FailNow()
		}
		assert.Equal(t, gen.Host, e.Host)
		checked[gen.EventID]++
	}
	sum := 0
	for _, c := range checked {
		sum += c
	}
	t.Logf("%d generated, %d round-tripped %v, %d not delivered by the raw providers", total, sum, checked, skipped)
	assert.Equal(t, n, total)
	assert.Greater(t, sum, n/2)
	for _, id := range []uint16{1, 3, 5, 7, 11, 12, 13, 22, 26} {
		assert.Positive(t, checked[id], "Sysmon %d", id)
	}
}
