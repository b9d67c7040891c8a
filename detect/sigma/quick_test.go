package sigma

import (
	"maps"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/edr-lab/edr/corpus/synth"
	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/internal/cputime"
	"github.com/stretchr/testify/require"
)

// eachMatcher calls fn for every matcher of the rules' searches and
// filters.
func eachMatcher(rs *Ruleset, fn func(r *Rule, m *matcher)) {
	visit := func(r *Rule, ss []*search) {
		for _, s := range ss {
			for _, alt := range s.alts {
				for _, m := range alt {
					fn(r, m)
				}
			}
		}
	}
	for _, r := range rs.rules {
		visit(r, r.searches)
		for _, f := range r.filters {
			visit(r, f.searches)
		}
	}
}

// quickProbeValues returns values of m's field that meet m's literals
// every way a faulty quick path could get wrong: each literal as is, in
// other case, with text around it, cut short, and in Unicode look-alikes
// that fold to it (Kelvin sign, long s).
func quickProbeValues(m *matcher) []string {
	var out []string
	add := func(lit string) {
		up, low := strings.ToUpper(lit), strings.ToLower(lit)
		out = append(out, lit, up, low, "x"+lit, lit+"x", "x"+low+"x", "\u212a"+up+"\u017f", "é"+lit, lit+"é", "\u017f"+lit, lit+"\u212a",
			strings.ReplaceAll(up, "K", "\u212a"), strings.ReplaceAll(low, "s", "\u017f"))
		if len(lit) > 1 {
			out = append(out, lit[1:], lit[:len(lit)-1])
		}
	}
	tests := m.acTests
	if tests == nil && len(m.groups) > 0 {
		tests = m.groups[0]
	}
	for _, t := range tests {
		for _, lit := range t.pat.literals() {
			add(lit)
		}
		add(t.src)
		for _, p := range parseSigmaString(t.src) {
			if p.lit != "" {
				add(p.lit)
			}
		}
	}
	return append(out, "", " ", "\xff\xfe", "ı", "İ")
}

// quickCrafted exercises what SigmaHQ's Windows rules do not write but a
// quick matcher must get right: cased and neq values, null among values,
// globs with '?', key/value fields, and long lists split between the
// automaton, the affix index and the one-by-one rest.
const quickCrafted = `title: crafted
id: 00000000-0000-4000-8000-0000000000a1
logsource:
    product: windows
    category: process_creation
detection:
    cased:
        Image|cased|endswith: ['\\Cmd.exe', '\\POWERSHELL.EXE']
    cased_mixed:
        CommandLine|cased|contains: ['-Enc', 'IEX']
    neq:
        User|neq: ['NT AUTHORITY\\SYSTEM', 'corp\\bob']
    neq_cased:
        Company|cased|neq: Microsoft Corporation
    null_or:
        OriginalFileName: [null, 'cmd.exe', 'pwsh*']
    glob:
        CommandLine: ['*a?c*', 'C:\\W*\\*.exe', '?md.exe', 'x*y?']
    extra:
        SomeKeyValueName|startswith: ['abc', 'K']
        OtherName: [null, 'v1']
    long_mix:
        ParentImage|endswith: ['\\a.exe', '\\b.exe', '\\c.exe', '\\d.exe', '\\e.exe', '\\f.exe', '\\g.exe']
        ParentCommandLine|contains: ['one', 'two', 'three', 'four', 'five', 'six', 'seven']
        Description: ['*x?y*', 'exact', 'Exact2', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6']
    long_neq:
        Product|neq: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']
    empty:
        Hashes: ''
    condition: 1 of them
level: high
`

// TestQuickEqualsGeneric: over every matcher with a quick form, of the
// SigmaHQ rules and of a crafted rule (cased, neq, null, globs, key/value
// fields), the quick evaluation decides what the generic evaluator
// decides, on every value the field takes in the regression events and
// the generated mix, on values built from the matcher's own literals
// (cased, folded, cut short, look-alikes) and with the field absent.
func TestQuickEqualsGeneric(t *testing.T) {
	// the values each field takes in the regression events and the
	// generated mix, once each
	evs := cacheTestEvents(t)
	evs = evs[:len(evs)/2]
	seen := map[string]map[string]bool{}
	note := func(field, v string) {
		if seen[field] == nil {
			seen[field] = map[string]bool{}
		}
		seen[field][v] = true
	}
	for _, ev := range evs {
		ev.Range(func(id event.FieldID, v string) bool {
			note(id.Name(), v)
			return true
		})
		for id := event.FieldID(0); id.Virtual(); id++ { // EventID, Channel…: not in Range
			note(id.Name(), ev.Value(id))
		}
		for _, kv := range ev.Extra() {
			note(kv.Key, kv.Value)
		}
	}
	t.Run("SigmaHQ", func(t *testing.T) {
		rs, _, _ := loadSigmaHQ(t)
		quick, total, hits := quickAgreement(t, rs, seen)
		t.Logf("%d of %d matchers are quick; %d probe values matched", quick, total, hits)
		require.Greater(t, quick, total/2, "the common shape is specialised")
		require.Greater(t, hits, quick, "the probes reach the matching side")
	})
	t.Run("crafted", func(t *testing.T) {
		rs, errs := LoadBytes("crafted.yml", []byte(quickCrafted), Options{})
		require.Empty(t, errs)
		quick, total, hits := quickAgreement(t, rs, seen)
		t.Logf("%d of %d matchers are quick; %d probe values matched", quick, total, hits)
		require.Equal(t, total, quick, "every crafted matcher has the quick shape")
		require.Greater(t, hits, quick)
	})
}

// quickAgreement checks every quick matcher of rs against the generic
// evaluator; it returns the quick and total matcher counts and how many
// probes matched.
func quickAgreement(t *testing.T, rs *Ruleset, seen map[string]map[string]bool) (quick, total, hits int) {
	c := newEvalCtx(len(rs.res.extraNames))
	ev := &event.Event{Channel: event.ChannelSysmon, EventID: 1}
	eachMatcher(rs, func(r *Rule, m *matcher) {
		total++
		if !m.fast {
			return
		}
		quick++
		name := m.field.name
		if m.field.kind == fkSchema {
			name = m.field.id.Name()
		}
		vals := quickProbeValues(m)
		// the field's values in a fixed order; with -short (the race
		// run) a sample of at most 100
		field := slices.Sorted(maps.Keys(seen[name]))
		step := 1
		if testing.Short() {
			step = max(1, len(field)/100)
		}
		for i := 0; i < len(field); i += step {
			vals = append(vals, field[i])
		}
		for i := 0; i <= len(vals); i++ {
			ev.Reset()
			v := "(absent)"
			if i < len(vals) {
				v = vals[i]
				switch m.field.kind {
				case fkSchema:
					if !ev.Set(m.field.id, v) {
						continue // a virtual field (EventID) that does not take text
					}
				case fkExtra:
					ev.AddExtra(m.field.name, v)
				}
			}
			// quick first (nothing folded yet), then generic, then quick
			// again (the value folded by now when generic needed it)
			c.reset(ev)
			q := c.evalQuick(m)
			g := c.evalGeneric(m)
			require.Equal(t, g, q, "rule %s matcher %s, value %q", r.ID, m.src, v)
			require.Equal(t, g, c.evalQuick(m), "rule %s matcher %s, value %q, folded", r.ID, m.src, v)
			if g {
				hits++
			}
		}
	})
	return quick, total, hits
}

// setFast turns the quick forms of every SigmaHQ matcher on or off (the
// benchmark's A/B within one binary).
func setFast(rs *Ruleset, on bool) {
	eachMatcher(rs, func(_ *Rule, m *matcher) { m.fast = on && m.quick != nil })
}

// BenchmarkEvalCandidates times rule evaluation alone: for each event of
// the generated mix, the prefilter's candidate entries are found once, untimed;
// each op then evaluates every candidate of every event, with the quick
// forms on and, alternately, off. It reports thread CPU nanoseconds per
// event for both (each event is read once before its rules, as the
// prefilter's scan reads it before them in Pre).
func BenchmarkEvalCandidates(b *testing.B) {
	rs, _, _ := loadSigmaHQ(b)
	type work struct {
		ev      *event.Event
		entries []*entry
	}
	c := newEvalCtx(len(rs.res.extraNames))
	var ws []work
	g := synth.New(synth.Options{Seed: 1, Events: 50_000})
	var gen event.Event
	for g.Next(&gen) {
		ev := gen.Clone()
		bk, _ := rs.buckets(ev)
		if bk == nil {
			continue
		}
		cand := bk.scan(c, ev)
		w := work{ev: ev}
		n := len(bk.entries)
		for i := cand.next(0, n); i < n; i = cand.next(i+1, n) {
			w.entries = append(w.entries, &bk.entries[i])
		}
		ws = append(ws, w)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var cpu [2]time.Duration
	matches, warm := [2]int{}, 0
	for b.Loop() {
		for k, on := range []bool{true, false} {
			setFast(rs, on)
			c0 := cputime.Thread()
			for _, w := range ws {
				c.reset(w.ev)
				// the prefilter's scan has just read the event in Pre
				w.ev.Range(func(_ event.FieldID, v string) bool { warm += len(v); return true })
				for _, e := range w.entries {
					if matchEntry(c, e) {
						matches[k]++
					}
				}
			}
			cpu[k] += cputime.Thread() - c0
		}
	}
	setFast(rs, true)
	if matches[0] != matches[1] || warm == 0 {
		b.Fatalf("quick forms found %d matches, generic %d", matches[0], matches[1])
	}
	per := float64(b.N * 50_000)
	b.ReportMetric(float64(cpu[0].Nanoseconds())/per, "quick-cpu-ns/event")
	b.ReportMetric(float64(cpu[1].Nanoseconds())/per, "generic-cpu-ns/event")
}

// TestCIDRAddressPerFieldAndEvent: an address parsed for CIDR tests is
// remembered per field and per event only: one Matcher meets events whose
// two address fields swap values, a mapped IPv4 address, a value that is no
// address, and an absent field.
func TestCIDRAddressPerFieldAndEvent(t *testing.T) {
	rs, errs := LoadBytes("cidr.yml", []byte(`title: cidr
id: 00000000-0000-4000-8000-0000000000c1
logsource:
    product: windows
    category: network_connection
detection:
    selection:
        DestinationIp|cidr: ['10.0.0.0/8', 'fc00::/7']
    filter:
        SourceIp|cidr: 10.0.0.0/8
    filter_null:
        SourceIp: ['127.0.0.1', null]
    condition: selection and not filter and not filter_null
level: high
`), Options{})
	require.Empty(t, errs)
	m := rs.NewMatcher()
	for i, tc := range []struct {
		dst, src string
		want     bool
	}{
		{"10.1.1.1", "8.8.8.8", true},
		{"8.8.8.8", "10.1.1.1", false},
		{"10.2.2.2", "", false}, // SourceIp absent: filter_null
		{"::ffff:10.0.0.1", "1.1.1.1", true},
		{"not-an-ip", "1.1.1.1", false},
		{"fc00::1", "10.0.0.1", false},
		{"fc00::1", "192.168.0.1", true},
	} {
		ev := &event.Event{Channel: event.ChannelSysmon, EventID: 3}
		ev.SetByName("DestinationIp", tc.dst)
		if tc.src != "" {
			ev.SetByName("SourceIp", tc.src)
		}
		require.Equal(t, tc.want, len(m.Match(ev, nil)) == 1, "event %d: %s from %s", i, tc.dst, tc.src)
	}
}
