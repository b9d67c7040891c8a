package sigma_test

import (
	"sync"
	"testing"

	"github.com/edr-lab/edr/detect/sigma"
	"github.com/stretchr/testify/require"
)

// Matchers share the compiled rules and may run in parallel; each gives
// the same matches as the first, in the same order (go test -race checks
// they share no mutable state).
func TestCloneConcurrent(t *testing.T) {
	rs := loadFullSigmaHQ(t, sigma.Options{Debug: true})
	evs := regressionEvents(t)
	want := make([]string, len(evs))
	first := rs.NewMatcher()
	for i, ev := range evs {
		want[i] = ids(first.Match(ev, nil))
	}
	var wg sync.WaitGroup
	got := make([][]string, 4)
	for g := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := rs.NewMatcher()
			for _, ev := range evs {
				got[g] = append(got[g], ids(c.Match(ev, nil)))
			}
		}()
	}
	wg.Wait()
	for g := range got {
		require.Equal(t, want, got[g])
	}
	n := 0
	for _, w := range want {
		if w != "" {
			n++
		}
	}
	require.Positive(t, n)
}

// Debug output names what matched.
func TestMatchDebug(t *testing.T) {
	rs := mustLoad(t, ruleYAML("sel:\n    Image|endswith: '\\whoami.exe'\n    CommandLine|contains|windash: ' -all'\nfilter:\n    User: null\ncondition: sel and not filter"), sigma.Options{Debug: true})
	ms := rs.NewMatcher().Match(procEvent(map[string]string{"Image": `C:\Windows\whoami.exe`, "CommandLine": "whoami /ALL", "User": "bob"}), nil)
	require.Len(t, ms, 1)
	require.Equal(t, []sigma.MatchedField{
		{Search: "sel", Field: "Image|endswith", Pattern: `*\whoami.exe`, Value: `C:\Windows\whoami.exe`},
		{Search: "sel", Field: "CommandLine|contains|windash", Pattern: "* /all*", Value: "whoami /ALL"},
	}, ms[0].Fields)
}

// The prefilter only skips rules that cannot match: over the generated mix
// and the SigmaHQ regression events, every SigmaHQ rule gives the same
// matches with and without it.
func TestPrefilterAgrees(t *testing.T) {
	with := loadFullSigmaHQ(t, sigma.Options{})
	without := loadFullSigmaHQ(t, sigma.Options{NoPrefilter: true})
	evs := append(regressionEvents(t), synthEvents(20_000)...)
	matched := 0
	mw, mwo := with.NewMatcher(), without.NewMatcher()
	for i, ev := range evs {
		a, b := ids(mw.Match(ev, nil)), ids(mwo.Match(ev, nil))
		require.Equal(t, b, a, "event %d (%s/%d)", i, ev.Channel, ev.EventID)
		if a != "" {
			matched++
		}
	}
	t.Logf("%d events, %d with matches", len(evs), matched)
	require.Positive(t, matched)
}
