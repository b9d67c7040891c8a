package sigma

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/edr-lab/edr/corpus/jsonl"
	"github.com/edr-lab/edr/corpus/synth"
	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/internal/testutil"
	"github.com/stretchr/testify/require"
)

// withScanCache runs fn with the cache's table set to sets (0: off) and
// every hash ANDed with hmask, restoring both after.
func withScanCache(sets int, hmask uint64, fn func()) {
	s, m := scanCacheSets, scanCacheHMask
	scanCacheSets, scanCacheHMask = sets, hmask
	defer func() { scanCacheSets, scanCacheHMask = s, m }()
	fn()
}

// cacheTestEvents: the SigmaHQ regression events and the generated mix,
// twice (the second pass finds the first pass's values in the cache).
func cacheTestEvents(t *testing.T) []*event.Event {
	var evs []*event.Event
	root := testutil.Corpus(t, "sigma")
	require.NoError(t, filepath.WalkDir(filepath.Join(root, "regression_data"), func(p string, de os.DirEntry, err error) error {
		if err != nil || de.IsDir() || !strings.HasSuffix(p, ".json") {
			return err
		}
		_, err = jsonl.ReadFile(p, jsonl.Options{}, func(e *event.Event) error {
			evs = append(evs, e.Clone())
			return nil
		})
		return err
	}))
	g := synth.New(synth.Options{Seed: 3, Events: 20_000})
	var ev event.Event
	for g.Next(&ev) {
		evs = append(evs, ev.Clone())
	}
	return append(evs, evs...)
}

// scanTrace is what the prefilter decides for each event: its candidate
// entries, and the entries scanLate marks over the late fields. It also
// returns the number of events with a late-field hit and the cache hits.
func scanTrace(rs *Ruleset, evs []*event.Event, late []event.FieldID) ([]string, int, uint64) {
	m := rs.NewMatcher()
	out := make([]string, len(evs))
	lateHits := 0
	for i, ev := range evs {
		b, vb := rs.buckets(ev)
		var sb strings.Builder
		for j, x := range []struct {
			c  *evalCtx
			b  *bucket
			ev *event.Event
		}{{m.ctx, b, ev}, {m.vctx, nil, m.viewEv}} {
			if j == 1 && vb != nil {
				auditView(vb.kind, ev, m.viewEv)
				x.b = &vb.bucket
			}
			if x.b == nil || x.b.pf == nil {
				continue
			}
			fmt.Fprintf(&sb, "%d:%x", j, x.b.scan(x.c, x.ev).bits)
			lh := x.b.pf.scanLate(x.c, late)
			fmt.Fprintf(&sb, " late:%x;", lh)
			for _, w := range lh {
				if w != 0 {
					lateHits++
					break
				}
			}
		}
		out[i] = sb.String()
	}
	var hits uint64
	for _, c := range []*evalCtx{m.ctx, m.vctx} {
		if c.sc != nil {
			hits += c.sc.hits
		}
	}
	return out, lateHits, hits
}

// The scan cache changes no prefilter decision: with the cache off, on,
// and with a table of one set where every value has the same hash (so
// only the comparison of the stored value tells values apart), every
// event of the SigmaHQ regression data and the generated mix (seen twice)
// gets the same candidates and late-field hits.
func TestScanCacheSameCandidates(t *testing.T) {
	rs, _, _ := loadSigmaHQ(t)
	evs := cacheTestEvents(t)
	late := []event.FieldID{event.FGrandParentImage, event.FParentImage, event.FCommandLine, event.MustField("TargetParentImage")}
	var off, on, collide []string
	var lateHits int
	var hitsOff, hitsOn, hitsCollide uint64
	withScanCache(0, ^uint64(0), func() { off, lateHits, hitsOff = scanTrace(rs, evs, late) })
	withScanCache(scanCacheSets, ^uint64(0), func() { on, _, hitsOn = scanTrace(rs, evs, late) })
	withScanCache(1, 0, func() { collide, _, hitsCollide = scanTrace(rs, evs, late) })
	for i := range evs {
		require.Equal(t, off[i], on[i], "event %d (%s/%d)", i, evs[i].Channel, evs[i].EventID)
		require.Equal(t, off[i], collide[i], "event %d (%s/%d), colliding table", i, evs[i].Channel, evs[i].EventID)
	}
	t.Logf("%d events, %d with late-field hits; cache hits: %d (table of 1 set: %d)", len(evs), lateHits, hitsOn, hitsCollide)
	require.Positive(t, lateHits)
	require.Zero(t, hitsOff)
	require.Greater(t, hitsOn, uint64(len(evs)), "repeated values are answered from the cache")
	require.Positive(t, hitsCollide)
}

// cacheScanner returns an evalCtx and a function scanning one value of
// field id through it (scanValue) with a filter of the needles lits (entry
// i for lits[i]), returning the marked entries.
func cacheScanner(id event.FieldID, lits ...string) (*evalCtx, func(string) []uint64) {
	codes := make([]int32, len(lits))
	for i := range codes {
		codes[i] = int32(i)
	}
	order, needles := needleIndex(lits, codes)
	g := buildGramFilter(order, needles)
	c := newEvalCtx(0)
	c.reset(&event.Event{})
	return c, func(v string) []uint64 {
		st := &scanState{bits: make([]uint64, (len(lits)+63)/64)}
		scanValue(c, g, id, v, st)
		return st.bits
	}
}

// A hit replays the needles the scan found, so a value seen before gets
// the same marks from the cache as from a scan, and a value that only
// shares the slot (same hash) is scanned, not answered from the slot.
func TestScanCacheHitAndCollision(t *testing.T) {
	c, scan := cacheScanner(event.FCommandLine, "mimikatz", "whoami", "-enc")
	withScanCache(1, 0, func() {
		c.sc = newScanCache(scanCacheSets)
		require.Equal(t, []uint64{0b010}, scan(`C:\Windows\whoami.exe /all`))   // miss: scanned
		require.Equal(t, []uint64{0b010}, scan(`C:\Windows\whoami.exe /all`))   // hit
		require.Equal(t, []uint64{0b101}, scan(`mimikatz.exe -enc AAAA`))       // same hash, other value
		require.Equal(t, []uint64{0b000}, scan(`C:\Windows\notepad.exe a.txt`)) // evicts the LRU way
		require.Equal(t, []uint64{0b101}, scan(`mimikatz.exe -enc AAAA`))
		require.Equal(t, []uint64{0b010}, scan(`C:\Windows\whoami.exe /all`))
		require.Equal(t, 2, len(c.sc.ways))
		require.Equal(t, `C:\Windows\whoami.exe /all`, c.sc.ways[0].val(), "the latest value is the most recent way")
	})
}

// A new value goes in as the set's least recently used way: values seen
// once (file names with GUIDs, addresses) displace each other, not the
// value that keeps hitting. With the plain LRU of before, two unique values
// in a row evicted the repeated one and its next look-up was a scan.
func TestScanCacheUniqueValuesKeepRepeated(t *testing.T) {
	c, scan := cacheScanner(event.FTargetFilename, "whoami", "temp")
	withScanCache(1, 0, func() {
		c.sc = newScanCache(scanCacheSets)
		const rep = `C:\Windows\System32\whoami.exe`
		require.Equal(t, []uint64{0b01}, scan(rep)) // miss
		require.Equal(t, []uint64{0b01}, scan(rep)) // hit: the most recent way
		require.Equal(t, uint64(1), c.sc.hits)
		for i := range 10 { // two unique values between the repeats
			require.Equal(t, []uint64{0b10}, scan(fmt.Sprintf(`C:\Windows\Temp\%08X-CEDA.tmp`, 2*i)))
			require.Equal(t, []uint64{0b10}, scan(fmt.Sprintf(`C:\Windows\Temp\%08X-CEDA.tmp`, 2*i+1)))
			require.Equal(t, uint64(1+i), c.sc.hits, "a unique value is scanned")
			require.Equal(t, []uint64{0b01}, scan(rep))
			require.Equal(t, uint64(2+i), c.sc.hits, "after %d unique values the repeated one still hits", 2*i+2)
		}
	})
}

// A slot's allocation is reused by the values that evict each other in
// it, longer or shorter, with more or fewer needles; a prefix of a cached
// value (the same bytes, shorter) is another value. Every look-up, hit or
// miss, marks what a scan without the cache marks.
func TestScanCacheSlotReuse(t *testing.T) {
	c, scan := cacheScanner(event.FCommandLine, "whoami", "-enc", "mimikatz", "temp")
	long := `mimikatz.exe -enc ` + strings.Repeat("QUFB", 100) + ` C:\Temp\whoami.exe`
	vals := []string{
		long,
		long[:12], // "mimikatz.exe": same data pointer, shorter
		long[:20],
		`C:\Windows\system32\svchost.exe -k netsvcs`,
		long[len(long)-10:],
		`whoami.exe /all`,
		long,
		strings.Repeat("x", 600) + "whoami", // longer than scanCacheMaxLen: scanned
		long[:12],
	}
	var want [][]uint64
	withScanCache(0, ^uint64(0), func() {
		c.sc = nil
		for _, v := range vals {
			want = append(want, scan(v))
		}
	})
	withScanCache(1, 0, func() { // one set: every value shares its two ways
		c.sc = newScanCache(scanCacheSets)
		for round := range 3 {
			for i, v := range vals {
				require.Equal(t, want[i], scan(v), "round %d, value %d", round, i)
				require.Equal(t, want[i], scan(v), "round %d, value %d again", round, i)
			}
		}
		require.Positive(t, c.sc.hits)
	})
}

// Matching does not depend on the cache either: every SigmaHQ rule
// matches the same events, with the same match details, with the cache
// off, on, and of one colliding set.
func TestScanCacheSameMatches(t *testing.T) {
	root := testutil.Corpus(t, "sigma")
	var paths []string
	for _, d := range sigmaHQDirs {
		paths = append(paths, filepath.Join(root, d))
	}
	rs, _ := Load(paths, Options{Debug: true})
	evs := cacheTestEvents(t)
	run := func() ([]string, uint64) {
		m := rs.NewMatcher()
		out := make([]string, len(evs))
		for i, ev := range evs {
			for _, mt := range m.Match(ev, nil) {
				out[i] += fmt.Sprintf("%s %v;", mt.Rule.ID, mt.Fields)
			}
		}
		var hits uint64
		if m.ctx.sc != nil {
			hits = m.ctx.sc.hits
		}
		return out, hits
	}
	var off, on, collide []string
	var hits uint64
	withScanCache(0, ^uint64(0), func() { off, _ = run() })
	withScanCache(scanCacheSets, ^uint64(0), func() { on, hits = run() })
	withScanCache(1, 0, func() { collide, _ = run() })
	matched := 0
	for i := range evs {
		require.Equal(t, off[i], on[i], "event %d (%s/%d)", i, evs[i].Channel, evs[i].EventID)
		require.Equal(t, off[i], collide[i], "event %d (%s/%d), colliding table", i, evs[i].Channel, evs[i].EventID)
		if off[i] != "" {
			matched++
		}
	}
	t.Logf("%d events, %d with matches; values answered from the cache: %d", len(evs), matched, hits)
	require.Positive(t, matched)
	require.Positive(t, hits)
}

// cacheCheck scans every value of rounds (each a list of values) through
// a cache of one set where every value has the same hash, each value twice
// in a row, and requires the marks a scan without the cache gives: with
// one set and one hash, only the comparison of the stored bytes tells
// values of the same length apart. It returns the cache.
func cacheCheck(t *testing.T, c *evalCtx, scan func(string) []uint64, rounds ...[]string) *scanCache {
	t.Helper()
	want := map[string][]uint64{}
	withScanCache(0, ^uint64(0), func() {
		c.sc = nil
		for _, vs := range rounds {
			for _, v := range vs {
				want[v] = scan(v)
			}
		}
	})
	withScanCache(1, 0, func() {
		c.sc = newScanCache(scanCacheSets)
		for r, vs := range rounds {
			for i, v := range vs {
				require.Equal(t, want[v], scan(v), "round %d, value %d (%d bytes)", r, i, len(v))
				require.Equal(t, want[v], scan(v), "round %d, value %d (%d bytes) again", r, i, len(v))
			}
		}
	})
	return c.sc
}

// Values at the bound of what a way holds inline (4 bytes per needle plus
// the value) and one byte either side, with 0 to 3 needles: each goes to
// the way's own bytes or to its allocation as its size says, and values of
// the same length and hash that differ in one byte (first, middle or
// last), and in their needles, are told apart: dropping the comparison of
// the stored value, or comparing only part of it, fails here.
func TestScanCacheInlineBound(t *testing.T) {
	lits := []string{"alpha", "bravo", "charlie", "delta"}
	c, scan := cacheScanner(event.FCommandLine, lits...)
	for nn := range 4 {
		bound := scanWayInline - 4*nn
		for _, n := range []int{bound - 1, bound, bound + 1} {
			// nn needles at the front, filler, and twins that differ in
			// their last bytes, in bytes of the middle (neither among the
			// first nor the last 8: "delta", which v lacks), or in the
			// first byte (a needle broken, or only the bytes).
			base := []byte(strings.Join(lits[:nn], ""))
			base = append(base, strings.Repeat("x", n-len(base))...)
			v := string(base)
			m := n/2 - 2
			twins := []string{v[:n-5] + "delta", v[:m] + "delta" + v[m+5:], "X" + v[1:]}
			if nn > 0 {
				twins = append(twins, "_"+v[1:])
			}
			vals := append([]string{v}, twins...)
			for _, w := range vals {
				require.Len(t, w, n)
			}
			sc := cacheCheck(t, c, scan, vals, vals, []string{v, twins[0], v})
			require.Positive(t, sc.hits)
			// The last value stored: v (its needles and length decide
			// where its bytes sit).
			w := &sc.ways[0]
			require.Equal(t, v, w.val())
			require.Equal(t, nn, len(w.needles()))
			inline := w.data() == &w.inline[0]
			require.Equal(t, 4*nn+n <= scanWayInline, inline, "%d needles, %d bytes", nn, n)
		}
	}
}

// A value with scanCacheMaxHits needles is stored and then answered from
// the cache; one with a needle more is scanned every time. Twins of the
// same length with a needle fewer are told apart from the stored value.
func TestScanCacheNeedleBound(t *testing.T) {
	var lits []string
	for i := range scanCacheMaxHits + 1 {
		lits = append(lits, fmt.Sprintf("q%02dz", i))
	}
	c, scan := cacheScanner(event.FTargetFilename, lits...)
	atMax := strings.Join(lits[:scanCacheMaxHits], " ")
	over := strings.Join(lits, " ")
	twin := atMax[:len(atMax)-1] + "y" // its last needle broken
	sc := cacheCheck(t, c, scan, []string{atMax, twin, atMax})
	require.Equal(t, uint64(4), sc.hits, "both values hit on their second look-up, then atMax again")
	w := &sc.ways[0]
	require.Equal(t, atMax, w.val())
	require.Len(t, w.needles(), scanCacheMaxHits)
	sc = cacheCheck(t, c, scan, []string{over, over})
	require.Zero(t, sc.hits, "a value with more than scanCacheMaxHits needles is not stored")
	require.Equal(t, uint64(4), sc.scans)
}

// With the bounds raised past what a way records (255 needles, 255 × 64
// bytes), values beyond are scanned, not stored, and still marked right.
func TestScanCacheWayLimits(t *testing.T) {
	var lits []string
	for i := range 300 {
		lits = append(lits, fmt.Sprintf("n%03dz", i))
	}
	c, scan := cacheScanner(event.FCommandLine, lits...)
	ml, mh := scanCacheMaxLen, scanCacheMaxHits
	scanCacheMaxLen, scanCacheMaxHits = 1<<20, 1000
	defer func() { scanCacheMaxLen, scanCacheMaxHits = ml, mh }()
	many := strings.Join(lits, " ")
	long := strings.Repeat("x", 20_000) + "n007z"
	sc := cacheCheck(t, c, scan, []string{many, long})
	require.Zero(t, sc.hits)
	require.Equal(t, uint64(4), sc.scans)
}
