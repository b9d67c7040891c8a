package sigma_test

import (
	"context"
	"os"
	"strings"
	"testing"

	sigmago "github.com/bradleyjkemp/sigma-go"
	"github.com/bradleyjkemp/sigma-go/evaluator"
	"github.com/edr-lab/edr/detect/sigma"
	"github.com/edr-lab/edr/event"
	"github.com/stretchr/testify/require"
)

// sigmaGoComparable reports whether sigma-go v0.6.6 evaluates a rule the
// way the specification says: no wildcards or escapes in values (sigma-go
// compares them literally), no null or empty values (it reads a missing
// field as ""), no keywords.
func sigmaGoComparable(r sigmago.Rule) bool {
	for _, s := range r.Detection.Searches {
		if s.Keywords != nil {
			return false
		}
		for _, em := range s.EventMatchers {
			for _, fm := range em {
				isRe := len(fm.Modifiers) > 0 && fm.Modifiers[0] == "re"
				for _, v := range fm.Values {
					str, ok := v.(string)
					if v == nil || (ok && str == "") || (ok && !isRe && (strings.ContainsAny(str, "*?") || strings.Contains(str, `\\`))) {
						return false
					}
				}
			}
		}
	}
	return true
}

// TestDifferentialSigmaGo: on the SigmaHQ process_creation rules that
// sigma-go v0.6.6 evaluates without error and without its known silent
// gaps, edr and sigma-go agree on every SigmaHQ regression event and on a
// sample of generated process starts.
func TestDifferentialSigmaGo(t *testing.T) {
	if testing.Short() {
		t.Skip("sigma-go is slow")
	}
	files := processCreationRules(t)
	probe := asMap(benignProcessCreation())
	var keep []string
	var evals []*evaluator.RuleEvaluator
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		r, err := sigmago.ParseRule(data)
		if err != nil || !sigmaGoComparable(r) {
			continue
		}
		e := evaluator.ForRule(r)
		if _, err := e.Matches(context.Background(), probe); err != nil {
			continue
		}
		keep = append(keep, f)
		evals = append(evals, e)
	}
	rs, errs := sigma.Load(keep, sigma.Options{})
	require.Empty(t, errs)
	byID := map[string]int{}
	for i, r := range rs.Rules() {
		byID[r.ID] = i
	}
	var evs []*event.Event
	for _, ev := range regressionEvents(t) {
		if ev.Channel == event.ChannelSysmon && ev.EventID == 1 {
			evs = append(evs, ev)
		}
	}
	evs = append(evs, benignProcessCreation())
	n := 0
	for _, ev := range synthEvents(60_000) { // every 10th generated process start
		if ev.Channel == event.ChannelSysmon && ev.EventID == 1 {
			if n++; n%10 == 0 {
				evs = append(evs, ev)
			}
		}
	}
	hits, errored := 0, map[string]bool{}
	matcher := rs.NewMatcher()
	for _, ev := range evs {
		got := map[string]bool{}
		for _, m := range matcher.Match(ev, nil) {
			got[m.Rule.ID] = true
		}
		m := asMap(ev)
		for _, e := range evals {
			res, err := e.Matches(context.Background(), m)
			if err != nil { // a construct sigma-go cannot evaluate, reached on this event
				errored[e.Rule.ID] = true
				continue
			}
			if res.Match {
				hits++
			}
			require.Equal(t, res.Match, got[e.Rule.ID], "rule %s on event %d", e.Rule.ID, ev.RecordID)
		}
	}
	t.Logf("%d comparable rules of %d (%d of them error in sigma-go on some event), %d events, %d matches in agreement",
		len(keep), len(files), len(errored), len(evs), hits)
	require.Positive(t, hits)
}
