package sigma

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/edr-lab/edr/event"
	"github.com/stretchr/testify/require"
)

// affixRule has one search per indexed kind: endswith, startswith and exact
// lists (short values among them), a list mixing indexed values with
// globs and contains, and lists whose values share long suffixes and
// prefixes (one value a suffix or prefix of another).
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
    shared:
        Image|endswith: ['\a.exe', 'b.exe', '\ab.exe', 'a.exe', '\bb.exe', 'x.exe', '.exe.exe', 'c:\b\a.exe']
    sharedpre:
        Image|startswith: ['c:\a', 'c:\a\b', 'c:\ab', 'c:\b\', 'c:\b\b', 'c:\x', 'c:\']
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

// A regex test rejects values shorter than its shortest match without
// running the regex: minRunes is a lower bound of every match's length.
func TestRegexMinRunes(t *testing.T) {
	cases := map[string]int{
		`\s[a-fA-F0-9]{64}\s[a-fA-F0-9]{16}`: 82,
		`net\s+user\s+`:                      9,
		`(?i)ab|cde`:                         2,
		`^x*$`:                               0,
		`(ab){2,}c?`:                         4,
		`é.`:                                 2,
	}
	r := rand.New(rand.NewPCG(5, 6))
	alpha := []string{"a", "b", "c", "d", "e", " ", "x", "é", "0", "F", "net", "user"}
	for expr, want := range cases {
		tt, err := compileRegex(nil, nil, expr, &modSet{})
		require.NoError(t, err)
		require.Equal(t, want, tt.minLen, expr)
		for k := 0; k < 2000; k++ {
			var b strings.Builder
			for n := r.IntN(12); n > 0; n-- {
				b.WriteString(alpha[r.IntN(len(alpha))])
			}
			for _, m := range tt.re.FindAllString(b.String(), -1) {
				require.GreaterOrEqual(t, len([]rune(m)), tt.minLen, "%s matched %q", expr, m)
			}
		}
	}
}

// A glob's longest literal is checked before the glob itself: the answer is
// globMatch's.
func TestGlobLiteralFirst(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	alpha := "ab*?"
	text := "abAB"
	matched := 0
	for k := 0; k < 3000; k++ {
		var pb, sb strings.Builder
		for n := 1 + r.IntN(7); n > 0; n-- {
			pb.WriteByte(alpha[r.IntN(len(alpha))])
		}
		for n := r.IntN(9); n > 0; n-- {
			sb.WriteByte(text[r.IntN(len(text))])
		}
		p := compilePattern(parseSigmaString(pb.String()), false)
		if p.kind != patGlob {
			continue
		}
		s := fold(sb.String())
		want := globMatch(p.glob, s)
		require.Equal(t, want, p.match(s), "%q on %q", pb.String(), s)
		if want {
			matched++
		}
	}
	require.Greater(t, matched, 100)
}
