package sigma_test

import (
	"testing"
	"time"

	"github.com/edr-lab/edr/detect/sigma"
	"github.com/edr-lab/edr/event"
	"github.com/stretchr/testify/require"
)

// Metric correlations (spec v2.1 "Value Sum", "Value Average", "Value
// Percentile"). Each test loads the spec's example correlation verbatim
// (tests/schema/correlation/*.yml) plus a base rule named as the example
// references it.

// The events carry SourceIp (the schema field, as in Sysmon 3); the
// examples' SourceIP resolves to it, field names being case-insensitive here.

func specMetric(corr, name string) string {
	return corr + `
id: e0000000-0000-4000-8000-000000000001
---
title: base
id: e0000000-0000-4000-8000-000000000002
name: ` + name + `
logsource: {product: windows, service: security}
detection:
    selection: {EventID: 4688}
    condition: selection
`
}

const metricID = "e0000000-0000-4000-8000-000000000001"

const specValueSum = `title: Possible Exfiltration to Website
correlation:
    type: value_sum
    rules:
        - website_access
    group-by:
        - SourceIP
        - User
    timespan: 1h
    condition:
        field: bytes_sent
        gt: 1000000`

const specValueAvg = `title: Suspicious average network traffic
correlation:
    type: value_avg
    rules: 
        - rule_a_id
    group-by:
        - SourceIP
        - User
    timespan: 24h
    condition:
        field: BytesOut
        gt: 500`

const specValuePercentile = `title: A computer spawned a processes name in the last 24h than 1% of all the processes.
correlation:
    type: value_percentile
    rules: 
        - process_creation
    group-by:
        - ComputerName
    timespan: 24h
    condition:
        field: Image
        lte: 1`

func ev4688(at time.Duration, fields ...string) *event.Event { return secEvent(4688, at, fields...) }

// feedAll matches every event (no metric correlation decides before its
// window is over) and returns the matches, then Flush's.
func feedAll(t *testing.T, m *sigma.Matcher, evs ...*event.Event) (during, flushed []sigma.Match) {
	t.Helper()
	for _, ev := range evs {
		during = m.Match(ev, during)
	}
	return during, m.Flush(nil)
}

func TestCorrelationValueSumSpecExample(t *testing.T) {
	m := mustLoad(t, specMetric(specValueSum, "website_access"), sigma.Options{}).NewMatcher()
	bob := []string{"SourceIp", "10.0.0.1", "User", "bob"}
	during, flushed := feedAll(t, m,
		ev4688(0, append(bob, "bytes_sent", "600000")...),
		ev4688(10*time.Minute, "SourceIp", "10.0.0.1", "User", "alice", "bytes_sent", "900000"),
		ev4688(30*time.Minute, append(bob, "bytes_sent", "500000")...),
		ev4688(59*time.Minute, append(bob, "bytes_sent", "n/a")...), // skipped, counted
		ev4688(59*time.Minute, bob...),                              // missing: skipped, counted
		// bob's window [0, 1h] is over: 1.1 MB > 1 MB
		ev4688(61*time.Minute, "SourceIp", "10.0.0.2", "User", "carol", "bytes_sent", "1"),
	)
	require.Len(t, during, 1)
	require.Equal(t, metricID, during[0].Rule.ID)
	require.Equal(t, "10.0.0.1\x1fbob", during[0].Group)
	require.Equal(t, 1100000.0, during[0].Value)
	require.Equal(t, 2, during[0].Count)
	require.Empty(t, flushed, "alice 0.9 MB, carol 1 byte")
	require.Equal(t, int64(2), m.SkippedValues())
}

func TestCorrelationValueSumTimespanInEventTime(t *testing.T) {
	// 1.1 MB, but 61 minutes apart in event time: two windows, neither over
	m := mustLoad(t, specMetric(specValueSum, "website_access"), sigma.Options{}).NewMatcher()
	during, flushed := feedAll(t, m,
		ev4688(0, "SourceIp", "a", "User", "b", "bytes_sent", "600000"),
		ev4688(61*time.Minute, "SourceIp", "a", "User", "b", "bytes_sent", "500000"),
	)
	require.Empty(t, during)
	require.Empty(t, flushed)
	// within the hour the same bytes fire (at Flush: nothing closed it)
	m = mustLoad(t, specMetric(specValueSum, "website_access"), sigma.Options{}).NewMatcher()
	during, flushed = feedAll(t, m,
		ev4688(0, "SourceIp", "a", "User", "b", "bytes_sent", "600000"),
		ev4688(59*time.Minute, "SourceIp", "a", "User", "b", "bytes_sent", "500000"),
	)
	require.Empty(t, during)
	require.Len(t, flushed, 1)
	require.Equal(t, 1100000.0, flushed[0].Value)
}

func TestCorrelationValueAvgSpecExample(t *testing.T) {
	m := mustLoad(t, specMetric(specValueAvg, "rule_a_id"), sigma.Options{}).NewMatcher()
	u := func(user string, at time.Duration, bytes string) *event.Event {
		return ev4688(at, "SourceIp", "10.0.0.1", "User", user, "BytesOut", bytes)
	}
	_, flushed := feedAll(t, m,
		u("fires", 0, "400"), u("fires", time.Hour, "700"), // 550 > 500
		u("below", 0, "400"), u("below", time.Hour, "500"), // 450
		u("equal", 0, "500"), u("equal", time.Hour, "500"), // 500 is not > 500
		u("skips", 0, "abc"), u("skips", time.Hour, " 600 "), // 600: abc skipped
		u("none", 0, "abc"),                                        // no number: no average
		u("decimals", 0, "500.5"), u("decimals", time.Hour, "501"), // 500.75
	)
	var got []string
	for _, m := range flushed {
		got = append(got, m.Group)
	}
	require.Equal(t, []string{"10.0.0.1\x1fdecimals", "10.0.0.1\x1ffires", "10.0.0.1\x1fskips"}, got)
	require.Equal(t, []float64{500.75, 550, 600}, []float64{flushed[0].Value, flushed[1].Value, flushed[2].Value})
	require.Equal(t, int64(2), m.SkippedValues())

	// decimal thresholds are accepted ("an integer or float threshold")
	m = mustLoad(t, specMetric(replaceOnce(specValueAvg, "gt: 500", "gt: 500.5"), "rule_a_id"), sigma.Options{}).NewMatcher()
	_, flushed = feedAll(t, m, u("x", 0, "500.5"), u("y", 0, "500.6"))
	require.Len(t, flushed, 1)
	require.Equal(t, "10.0.0.1\x1fy", flushed[0].Group)
}

func TestCorrelationValuePercentileSpecExample(t *testing.T) {
	m := mustLoad(t, specMetric(specValuePercentile, "process_creation"), sigma.Options{}).NewMatcher()
	var evs []*event.Event
	add := func(host, image string, n int) {
		for i := 0; i < n; i++ {
			evs = append(evs, ev4688(time.Duration(len(evs))*time.Second, "ComputerName", host, "Image", image))
		}
	}
	// h1: 100 process creations; rare.exe and odd.exe are 1 % each
	add("h1", `C:\Windows\System32\svchost.exe`, 98)
	add("h1", `C:\Users\x\rare.exe`, 1)
	add("h1", `C:\Users\x\odd.exe`, 1)
	// h2: 10 process creations: rare.exe is 10 %
	add("h2", `C:\Windows\System32\svchost.exe`, 9)
	add("h2", `C:\Users\x\rare.exe`, 1)
	evs = append(evs, ev4688(time.Minute, "ComputerName", "h2")) // no Image: skipped
	during, flushed := feedAll(t, m, evs...)
	require.Empty(t, during, "the 24h window is not over")
	require.Len(t, flushed, 2)
	// sorted by value, so the output does not depend on map order
	require.Equal(t, "h1\x1fC:\\Users\\x\\odd.exe", flushed[0].Group)
	require.Equal(t, "h1\x1fC:\\Users\\x\\rare.exe", flushed[1].Group)
	for _, f := range flushed {
		require.Equal(t, 1.0, f.Value)
		require.Equal(t, 1, f.Count)
	}
	require.Equal(t, int64(1), m.SkippedValues())

	// h3 runs a nA times and b nB times; h4's event 25h later ends h3's window
	window := func(nA, nB int) (during, flushed []sigma.Match) {
		m := mustLoad(t, specMetric(specValuePercentile, "process_creation"), sigma.Options{}).NewMatcher()
		evs = nil
		add("h3", "a", nA)
		add("h3", "b", nB)
		evs = append(evs, ev4688(25*time.Hour, "ComputerName", "h4", "Image", "a"))
		return feedAll(t, m, evs...)
	}
	during, _ = window(99, 2)
	require.Len(t, during, 0, "b is 2/101 = 1.98 %")
	during, flushed = window(100, 1) // b is 1/101, below 1 %
	require.Len(t, during, 1, "h3's window ends when h4's event is 24h later")
	require.Equal(t, "h3\x1fb", during[0].Group)
	require.InDelta(t, 100.0/101, during[0].Value, 1e-12)
	require.Empty(t, flushed, "h4's Image a is 100 % of its window")
}

func TestCorrelationMetricOperators(t *testing.T) {
	// C "Condition": every operator on value_sum's 4 + 6 = 10
	for _, c := range []struct {
		cond string
		want bool
	}{
		{"gt: 9", true}, {"gt: 10", false}, {"gte: 10", true}, {"gte: 11", false},
		{"lt: 11", true}, {"lt: 10", false}, {"lte: 10", true}, {"lte: 9", false},
		{"eq: 10", true}, {"eq: 9", false}, {"neq: 9", true}, {"neq: 10", false},
		{"gte: 5\n        lte: 10", true}, {"gt: 10\n        lte: 20", false},
	} {
		yml := specMetric(replaceOnce(specValueSum, "gt: 1000000", c.cond), "website_access")
		m := mustLoad(t, yml, sigma.Options{}).NewMatcher()
		_, flushed := feedAll(t, m,
			ev4688(0, "SourceIp", "a", "User", "b", "bytes_sent", "4"),
			ev4688(time.Second, "SourceIp", "a", "User", "b", "bytes_sent", "6"))
		require.Equal(t, c.want, len(flushed) == 1, c.cond)
	}
}

func TestCorrelationValuePercentileBounded(t *testing.T) {
	// at most 4096 distinct values are tracked per window; values first seen
	// beyond that still count in the window's total (the denominator)
	m := mustLoad(t, specMetric(specValuePercentile, "process_creation"), sigma.Options{}).NewMatcher()
	var evs []*event.Event
	for i := 0; i < 5000; i++ {
		evs = append(evs, ev4688(time.Duration(i)*time.Millisecond, "ComputerName", "h", "Image", "img"+event.Itoa(uint64(i))))
	}
	_, flushed := feedAll(t, m, evs...)
	require.Len(t, flushed, 4096)
	require.Equal(t, 100.0/5000, flushed[0].Value)
}
