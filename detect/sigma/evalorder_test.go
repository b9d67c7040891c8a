package sigma

import (
	"path/filepath"
	"runtime"
	"slices"
	"testing"

	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/internal/cputime"
	"github.com/edr-lab/edr/internal/testutil"
	"github.com/stretchr/testify/require"
)

// sourceOrder makes rs evaluate every map in the rule's own order (the
// evaluation before evalOrder), for comparisons.
func sourceOrder(rs *Ruleset) {
	for _, r := range rs.rules {
		for _, s := range r.searches {
			s.eval = s.alts
		}
		for _, f := range r.filters {
			for _, s := range f.searches {
				s.eval = s.alts
			}
		}
	}
}

func loadSigmaHQDebug(t testing.TB) *Ruleset {
	root := testutil.Corpus(t, "sigma")
	var paths []string
	for _, d := range sigmaHQDirs {
		paths = append(paths, filepath.Join(root, d))
	}
	rs, _ := Load(paths, Options{Debug: true})
	return rs
}

// TestEvalOrderSameMatches: with every SigmaHQ map evaluated in
// evalOrder's order, each regression event and generated event matches
// exactly the rules it matches in the rules' own order, with the same
// match_debug fields; every reordered map holds the same matchers, and
// the reordering is not vacuous (the AppData rule tests its extensions
// before the C:\Users\ prefix the prefilter keys it on).
func TestEvalOrderSameMatches(t *testing.T) {
	ordered := loadSigmaHQDebug(t)
	source := loadSigmaHQDebug(t)
	sourceOrder(source)
	moved := 0
	for _, r := range ordered.rules {
		check := func(ss []*search) {
			for _, s := range ss {
				require.Len(t, s.eval, len(s.alts))
				for i, alt := range s.alts {
					ev := s.eval[i]
					require.ElementsMatch(t, alt, ev, "rule %s search %s", r.ID, s.name)
					if !slices.Equal(alt, ev) {
						moved++
					}
				}
			}
		}
		check(r.searches)
		for _, f := range r.filters {
			check(f.searches)
		}
		if r.ID == "d7b50671-d1ad-4871-aa60-5aa5b331fe04" { // Suspicious File Creation In Uncommon AppData Folder
			sel := r.searches[slices.Index(r.searchNames, "selection")]
			var got []string
			for _, m := range sel.eval[0] {
				got = append(got, m.src)
			}
			require.Equal(t, []string{"TargetFilename|contains", "TargetFilename|endswith", "TargetFilename|startswith"}, got)
		}
	}
	require.Greater(t, moved, 100, "maps evaluated in another order")
	evs := cacheTestEvents(t)
	mo, ms := ordered.NewMatcher(), source.NewMatcher()
	hits := 0
	for i, ev := range evs {
		got, want := mo.Match(ev, nil), ms.Match(ev, nil)
		require.Equal(t, len(want), len(got), "event %d", i)
		for j := range want {
			require.Equal(t, want[j].Rule.ID, got[j].Rule.ID, "event %d", i)
			require.Equal(t, want[j].Fields, got[j].Fields, "event %d rule %s", i, want[j].Rule.ID)
		}
		hits += len(want)
	}
	t.Logf("%d maps reordered; %d events, %d matches alike", moved, len(evs), hits)
	require.Positive(t, hits)
}

// BenchmarkEvalOrderRecording compares, in one process, routing, the
// prefilter's scan and the evaluation of its candidates (matchEntry) with
// maps in the rules' own order and in evalOrder's, block by block
// alternating, over the events of EDR_BENCH_REC; only the evaluation
// differs. It reports the thread's CPU nanoseconds per event of each and
// their ratio.
func BenchmarkEvalOrderRecording(b *testing.B) {
	evs := recordedEvents(b)
	newRS, _, _ := loadSigmaHQ(b)
	oldRS, _, _ := loadSigmaHQ(b)
	sourceOrder(oldRS)
	sets := []*Ruleset{oldRS, newRS}
	ms := []*Matcher{oldRS.NewMatcher(), newRS.NewMatcher()}
	const block = 4096
	batch := make([]event.Event, block)
	var cpu [2]int64
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	i := 0
	for b.Loop() {
		materialize(batch, evs, i)
		for v := range 2 {
			rs, c := sets[v], ms[v].ctx
			t0 := cputime.Thread()
			for j := range batch {
				bk, _ := rs.buckets(&batch[j])
				if bk == nil {
					continue
				}
				cand := bk.scan(c, &batch[j])
				n := len(bk.entries)
				for k := cand.next(0, n); k < n; k = cand.next(k+1, n) {
					matchEntry(c, &bk.entries[k])
				}
			}
			cpu[v] += int64(cputime.Thread() - t0)
		}
		i += block
	}
	n := float64(b.N * block)
	b.ReportMetric(float64(cpu[0])/n, "source-ns/event")
	b.ReportMetric(float64(cpu[1])/n, "ordered-ns/event")
	b.ReportMetric(float64(cpu[1])/float64(cpu[0]), "ratio")
}
