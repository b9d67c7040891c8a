package sigma

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/edr-lab/edr/event"
	"github.com/stretchr/testify/require"
)

const affixRule = `title: t
id: 00000000-0000-4000-8000-000000000001
logsource: {product: windows, category: process_creation}
detection:
    suf:
        Image|endswith: ['\a.exe', '\b.exe', 'ab.dll', '.x', 'b', 'Ab\', 'é.DLL', 'bab']
    pre:
        Image|startswith: ['C:\a', 'c:\B', 'ab', 'a', 'Ba\', 'bbbb']
    ex:
        Image: ['a', 'ab', 'AB\A.EXE', 'bb', 'b\b', 'x', 'aaaaaa']
    mixed:
        Image: ['a.exe', 'b*', '*c', 'ab', 'ba', 'aab', 'bba', '*a*b*', 'x?']
    condition: 1 of them
`

// The affix index answers exactly what comparing each value would: over
// random values, every indexed matcher agrees with its values one by one.
func TestAffixIndex(t *testing.T) {
	rs, errs := LoadBytes("affix.yml", []byte(affixRule), Options{})
	require.Empty(t, errs)
	var ms []*matcher
	for _, s := range rs.rules[0].searches {
		ms = append(ms, s.alts[0][0])
	}
	for _, m := range ms {
		require.NotNil(t, m.affix, m.src)
	}
	r := rand.New(rand.NewPCG(3, 4))
	alpha := []string{"a", "B", "b", "\\", ".", "exe", "dll", "x", "c:", "é", "É"}
	c := newEvalCtx(0)
	hits := 0
	for k := 0; k < 20000; k++ {
		var b strings.Builder
		for n := r.IntN(7); n > 0; n-- {
			b.WriteString(alpha[r.IntN(len(alpha))])
		}
		v := b.String()
		ev := &event.Event{Channel: event.ChannelSysmon, EventID: 1}
		ev.Set(event.FImage, v)
		c.reset(ev)
		for _, m := range ms {
			want := false
			for i := range m.acTests {
				if m.acTests[i].pat.match(fold(v)) {
					want = true
				}
			}
			require.Equal(t, want, c.evalMatcher(m), "%s on %q", m.src, v)
			if want {
				hits++
			}
		}
	}
	require.Greater(t, hits, 2000)
}

// EventID lists long enough for the index still restrict the rule's
// routing to those EventIDs, and it matches each of them.
func TestAffixEventIDs(t *testing.T) {
	rs, errs := LoadBytes("eids.yml", []byte(`title: t
id: 00000000-0000-4000-8000-000000000002
logsource: {product: windows, service: security}
detection:
    sel:
        EventID: [4624, 4625, 4634, 4647, 4648, 4672, 4673]
    condition: sel
`), Options{})
	require.Empty(t, errs)
	require.NotNil(t, rs.rules[0].searches[0].alts[0][0].affix)
	require.Equal(t, []uint16{4624, 4625, 4634, 4647, 4648, 4672, 4673}, rs.rules[0].eventIDs)
	m := rs.NewMatcher()
	for _, id := range []uint16{4624, 4672, 4673} {
		ev := &event.Event{Channel: event.ChannelSecurity, EventID: id}
		require.Len(t, m.Match(ev, nil), 1, "EventID %d", id)
	}
	require.Empty(t, m.Match(&event.Event{Channel: event.ChannelSecurity, EventID: 4688}, nil))
}
