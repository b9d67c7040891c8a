package sigma

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/edr-lab/edr/event"
)

// Correlation rules (sigma-correlation-rules-specification.md) in event
// time. Windows and counts follow these semantics:
//
//   - A correlation counts the events of the rules it references per group
//     (the group-by values; a missing field groups as "").
//   - Conditions with only lower bounds (gt, gte) fire as soon as the
//     events within the last `timespan` before the current event satisfy
//     them (a sliding window); the group is then cleared, so the next alert
//     needs a fresh set of events.
//   - Conditions with an upper bound (lt, lte, eq, neq, or a range) can only
//     be decided when a window is over: the window starts at the group's
//     first event and is decided when an event later than start+timespan
//     arrives (for any group of the same correlation) or at Flush.
//   - temporal fires when every referenced rule (or the condition's count of
//     distinct rules) matched within timespan; temporal_ordered when they
//     matched in the listed order within timespan.
//   - value_sum, value_avg and value_percentile (spec v2.1, "metric"
//     correlations) are always decided when the window is over, whatever
//     the operators: a sum can fall again (negative values) and an average
//     or a share can move either way, so no prefix of a window decides
//     them. Field values that are missing or not finite decimal numbers are
//     skipped (not 0) and counted (Matcher.SkippedValues); a window with no
//     numeric value has no sum or average and never fires.
//   - value_percentile: the spec defines it as "when a certain percentage of
//     observed values occur" (its example: an Image seen in at most 1 % of a
//     host's process creations). So for each distinct value of the field in
//     a window, its share is 100 × (events with that value) / (events in the
//     window), and the condition is tested on that share: one match per
//     value that satisfies it (Group is the group-by key, then "\x1f" and
//     the value). It is a relative frequency, not a nearest-rank or
//     interpolated quantile of a numeric field: the spec names no
//     percentile rank to compute, only a threshold on the percentage.
//   - State is bounded: groups older than timespan are dropped, and at most
//     MaxCorrelationGroups groups are kept per correlation (oldest dropped);
//     value_percentile tracks at most maxPercentileValues distinct values per
//     window (later new values still count in the window's total).

// corrKind is a correlation type, so that feeding an event switches on an
// enum rather than the type's name.
type corrKind uint8

const (
	corrEventCount corrKind = iota
	corrValueCount
	corrTemporal
	corrTemporalOrdered
	corrValueSum
	corrValueAvg
	corrValuePercentile
)

// maxPercentileValues bounds value_percentile's distinct values per window.
const maxPercentileValues = 4096

var corrKinds = map[string]corrKind{"event_count": corrEventCount, "value_count": corrValueCount,
	"temporal": corrTemporal, "temporal_ordered": corrTemporalOrdered,
	"value_sum": corrValueSum, "value_avg": corrValueAvg, "value_percentile": corrValuePercentile}

// metric reports a correlation over a field's numbers or value shares
// (decided per window, thresholds may be decimal).
func (k corrKind) metric() bool { return k >= corrValueSum }

type correlation struct {
	rule        *Rule
	typ         string // as written, for messages
	kind        corrKind
	refs        []*Rule
	span        int64 // ns
	cond        corrCond
	groupBy     []string
	groupFields [][]fieldRef // [ref][group-by field]
	valueFields [][]fieldRef // value_count: [ref][field]
	parents     []*correlation
	index       int
}

type corrCond struct {
	set      [6]bool // gt gte lt lte eq neq
	val      [6]int64
	fval     [6]float64 // the thresholds as numbers (metric correlations may use decimals)
	monotone bool       // only gt/gte: decidable as counts grow
	given    bool
	// maxValues bounds value_count's distinct values per group: beyond the
	// largest threshold + 1 no condition can change its verdict
	maxValues int
}

var condOps = [6]string{"gt", "gte", "lt", "lte", "eq", "neq"}

// holds tests a count (fval holds the integer thresholds too; counts and
// thresholds below 2^53 convert exactly).
func (c *corrCond) holds(n int64) bool { return c.holdsF(float64(n)) }

// holdsF tests a count or a metric correlation's aggregate.
func (c *corrCond) holdsF(x float64) bool {
	for i, set := range c.set {
		if !set {
			continue
		}
		v := c.fval[i]
		ok := [6]bool{x > v, x >= v, x < v, x <= v, x == v, x != v}[i]
		if !ok {
			return false
		}
	}
	return true
}

func (rs *Ruleset) compileCorrelation(d *rawDoc, byRef map[string]*Rule) (*Rule, error) {
	cs := d.corr
	r := newRule(d)
	r.Correlation = cs.Type
	kind, ok := corrKinds[cs.Type]
	if !ok {
		return nil, &LoadError{Construct: "correlation type", Err: fmt.Errorf("unknown type %q", cs.Type)}
	}
	c := &correlation{rule: r, typ: cs.Type, kind: kind, groupBy: cs.GroupBy}
	if d.meta.Title == "" {
		return nil, &LoadError{Construct: "title", Err: errors.New("correlation has no title")}
	}
	span, err := parseTimespan(cs.Timespan)
	if err != nil {
		return nil, &LoadError{Construct: "timespan", Err: err}
	}
	c.span = span
	if len(cs.Rules) == 0 {
		return nil, &LoadError{Construct: "correlation rules", Err: errors.New("no rules referenced")}
	}
	for _, ref := range cs.Rules {
		target, ok := byRef[ref]
		if !ok {
			return nil, &LoadError{Construct: "correlation rules", Err: fmt.Errorf("no loaded rule has id or name %q", ref)}
		}
		c.refs = append(c.refs, target)
		if target.Unsupported != "" && r.Unsupported == "" {
			r.Unsupported = fmt.Sprintf("referenced rule %s: %s", ref, target.Unsupported)
		}
	}
	valueField, err := c.parseCondition(cs)
	if err != nil {
		return nil, err
	}
	for _, ref := range c.refs {
		var gf []fieldRef
		for _, g := range cs.GroupBy {
			gf = append(gf, rs.res.resolve(aliasFor(cs.Aliases, g, ref)))
		}
		c.groupFields = append(c.groupFields, gf)
		var vf []fieldRef
		for _, v := range valueField {
			vf = append(vf, rs.res.resolve(aliasFor(cs.Aliases, v, ref)))
		}
		c.valueFields = append(c.valueFields, vf)
	}
	for _, ref := range c.refs {
		if ref.corr == nil {
			ref.corrRefs = append(ref.corrRefs, c)
		} else {
			ref.corr.parents = append(ref.corr.parents, c)
		}
		ref.referenced = true
		ref.generate = ref.generate || cs.Generate
	}
	r.corr = c
	return r, nil
}

func aliasFor(aliases map[string]map[string]string, field string, ref *Rule) string {
	if m, ok := aliases[field]; ok {
		if f, ok := m[ref.Name]; ok && ref.Name != "" {
			return f
		}
		if f, ok := m[ref.ID]; ok && ref.ID != "" {
			return f
		}
	}
	return field
}

func (c *correlation) parseCondition(cs *corrSpec) ([]string, error) {
	var fields []string
	for k, n := range cs.Condition {
		if k == "field" {
			var l strList
			if err := n.Decode(&l); err != nil {
				return nil, &LoadError{Construct: "correlation condition", Err: err}
			}
			fields = l
			continue
		}
		i := indexOf(condOps[:], k)
		if i < 0 {
			return nil, &LoadError{Construct: "correlation condition", Err: fmt.Errorf("unknown operator %q", k)}
		}
		if c.kind.metric() {
			f, ok := parseNumber(n.Value)
			if !ok {
				return nil, &LoadError{Construct: "correlation condition", Err: fmt.Errorf("%s: %q is not a number", k, n.Value)}
			}
			c.cond.set[i], c.cond.fval[i], c.cond.given = true, f, true
			continue
		}
		v, err := strconv.ParseInt(n.Value, 10, 64)
		if err != nil {
			return nil, &LoadError{Construct: "correlation condition", Err: fmt.Errorf("%s: %q is not an integer", k, n.Value)}
		}
		c.cond.set[i], c.cond.val[i], c.cond.fval[i], c.cond.given = true, v, float64(v), true
	}
	c.cond.monotone = c.cond.given && !c.kind.metric() && !c.cond.set[2] && !c.cond.set[3] && !c.cond.set[4] && !c.cond.set[5]
	for i, set := range c.cond.set {
		if set && int(c.cond.val[i])+2 > c.cond.maxValues {
			c.cond.maxValues = int(min(c.cond.val[i]+2, 1<<30))
		}
	}
	switch c.kind {
	case corrEventCount, corrValueCount, corrValueSum, corrValueAvg, corrValuePercentile:
		if !c.cond.given {
			return nil, &LoadError{Construct: "correlation condition", Err: fmt.Errorf("%s needs a condition", c.typ)}
		}
		if c.kind != corrEventCount && len(fields) == 0 {
			return nil, &LoadError{Construct: "correlation condition", Err: fmt.Errorf("%s needs condition.field", c.typ)}
		}
		if c.kind.metric() && len(fields) != 1 {
			return nil, &LoadError{Construct: "correlation condition", Err: fmt.Errorf("%s takes one field, not %d", c.typ, len(fields))}
		}
	case corrTemporal, corrTemporalOrdered:
		if !c.cond.given {
			c.cond = corrCond{given: true, monotone: true}
			c.cond.set[1], c.cond.val[1], c.cond.fval[1] = true, int64(len(cs.Rules)), float64(len(cs.Rules))
		}
		if !c.cond.monotone {
			return nil, &LoadError{Construct: "correlation condition", Err: fmt.Errorf("%s supports only gt/gte conditions (counts of rules)", c.typ)}
		}
		if len(fields) > 0 {
			return nil, &LoadError{Construct: "correlation condition", Err: fmt.Errorf("%s takes no field", c.typ)}
		}
	}
	return fields, nil
}

// parseNumber reads a decimal number (surrounding spaces allowed); NaN
// and infinities are not numbers here, so they never reach a sum.
func parseNumber(s string) (float64, bool) {
	f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

func parseTimespan(s string) (int64, error) {
	if len(s) < 2 {
		return 0, fmt.Errorf("timespan %q: want a number and one of s, m, h, d", s)
	}
	n, err := strconv.ParseInt(s[:len(s)-1], 10, 64)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("timespan %q: want a positive number and one of s, m, h, d", s)
	}
	unit := map[byte]int64{'s': 1e9, 'm': 60e9, 'h': 3600e9, 'd': 86400e9}[s[len(s)-1]]
	if unit == 0 {
		return 0, fmt.Errorf("timespan %q: unit must be s, m, h or d", s)
	}
	return n * unit, nil
}

// finishCorrelations numbers correlations, rejects cycles and decides which
// referenced rules stay standalone.
func (rs *Ruleset) finishCorrelations() {
	for _, r := range rs.rules {
		if r.corr != nil {
			r.corr.index = len(rs.corrs)
			rs.corrs = append(rs.corrs, r.corr)
		}
	}
	// A rule referenced by correlations is reported on its own only if one
	// of them says generate: true. Correlations compile after what they
	// reference, so chains cannot be cyclic.
	for _, r := range rs.rules {
		r.Standalone = !r.referenced || r.generate
	}
}

// corrState is one Matcher's correlation state.
type corrState struct {
	rs       *Ruleset
	per      []*corrGroups
	maxGroup int
	skipped  int64 // metric field values missing or not numbers
}

type corrGroups struct {
	groups  map[string]*corrGroup
	order   []string // creation order, for bounded eviction (lazy)
	minOpen int64    // earliest window start among non-monotone groups
	feeds   int
}

// expire drops groups with no event within timespan (they can no longer
// contribute to a sliding window).
func (cs *corrState) expire(c *correlation, st *corrGroups, t int64) {
	for k, g := range st.groups {
		if g.last < t-c.span {
			delete(st.groups, k)
		}
	}
	cs.compact(st)
}

type corrGroup struct {
	start  int64            // window start (non-monotone) / first event
	last   int64            // latest event
	times  []int64          // event_count (monotone): event times in the window
	count  int64            // event_count (non-monotone)
	values map[string]int64 // value_count: value → latest time
	seen   []int64          // temporal: per ref latest time (0: none); ordered: chain start per step
	has    []bool
	sum    float64          // value_sum, value_avg: numeric values in the window
	nums   int64            // value_sum, value_avg: how many; value_percentile: events
	freq   map[string]int64 // value_percentile: events per value
}

func newCorrState(rs *Ruleset) *corrState {
	max := rs.opts.MaxCorrelationGroups
	if max <= 0 {
		max = 100000
	}
	cs := &corrState{rs: rs, maxGroup: max}
	for range rs.corrs {
		cs.per = append(cs.per, &corrGroups{groups: map[string]*corrGroup{}})
	}
	return cs
}

// feed passes a matched rule's event to the correlations it references and
// appends the correlation matches that fire.
func (cs *corrState) feed(c *correlation, refIdx int, ev *event.Event, ctx *evalCtx, out []Match) []Match {
	st := cs.per[c.index]
	t := ev.Time
	if !c.cond.monotone {
		out = cs.closeWindows(c, st, t, out)
	} else if st.feeds++; st.feeds%4096 == 0 {
		cs.expire(c, st, t)
	}
	key := groupKey(c.groupFields[refIdx], ctx)
	g := st.groups[key]
	if g == nil {
		if len(st.groups) >= cs.maxGroup {
			cs.evictOldest(st)
		}
		g = &corrGroup{start: t}
		st.groups[key] = g
		st.order = append(st.order, key)
		if !c.cond.monotone && (len(st.groups) == 1 || t < st.minOpen) {
			st.minOpen = t
		}
	}
	g.last = t
	fired, n := false, int64(0)
	switch c.kind {
	case corrEventCount:
		if c.cond.monotone {
			g.times = append(dropBefore(g.times, t-c.span), t)
			n = int64(len(g.times))
			fired = c.cond.holds(n)
		} else {
			g.count++
		}
	case corrValueCount:
		if g.values == nil {
			g.values = map[string]int64{}
		}
		if c.cond.monotone { // sliding window: forget values older than timespan
			for v, vt := range g.values {
				if vt < t-c.span {
					delete(g.values, v)
				}
			}
		}
		v := groupKey(c.valueFields[refIdx], ctx)
		if _, seen := g.values[v]; seen || len(g.values) < c.cond.maxValues {
			g.values[v] = t
		}
		if c.cond.monotone {
			n = int64(len(g.values))
			fired = c.cond.holds(n)
		}
	case corrTemporal:
		if g.seen == nil {
			g.seen, g.has = make([]int64, len(c.refs)), make([]bool, len(c.refs))
		}
		g.seen[refIdx], g.has[refIdx] = t, true
		for i := range g.seen {
			if g.has[i] && g.seen[i] >= t-c.span {
				n++
			}
		}
		fired = c.cond.holds(n)
	case corrTemporalOrdered:
		if g.seen == nil {
			g.seen, g.has = make([]int64, len(c.refs)), make([]bool, len(c.refs))
		}
		if refIdx == 0 {
			g.seen[0], g.has[0] = t, true
		} else if g.has[refIdx-1] && g.seen[refIdx-1] >= t-c.span {
			if !g.has[refIdx] || g.seen[refIdx-1] > g.seen[refIdx] {
				g.seen[refIdx], g.has[refIdx] = g.seen[refIdx-1], true
			}
		}
		for i := range g.has {
			if g.has[i] && g.seen[i] >= t-c.span {
				n = int64(i + 1)
			} else {
				break
			}
		}
		fired = c.cond.holds(n)
	case corrValueSum, corrValueAvg:
		raw, _ := ctx.raw(&c.valueFields[refIdx][0])
		if f, ok := parseNumber(raw); ok {
			g.sum += f
			g.nums++
		} else {
			cs.skipped++
		}
	case corrValuePercentile:
		v, ok := ctx.raw(&c.valueFields[refIdx][0])
		if !ok {
			cs.skipped++
			break
		}
		if g.freq == nil {
			g.freq = map[string]int64{}
		}
		g.nums++
		if _, seen := g.freq[v]; seen || len(g.freq) < maxPercentileValues {
			g.freq[v]++
		}
	}
	if !fired {
		return out
	}
	delete(st.groups, key)
	return cs.fire(c, key, n, ev, ctx, out)
}

// fire reports a correlation match and feeds correlations chained on it.
func (cs *corrState) fire(c *correlation, key string, n int64, ev *event.Event, ctx *evalCtx, out []Match) []Match {
	if c.rule.Standalone {
		out = append(out, Match{Rule: c.rule, Correlation: true, Group: key, Count: int(n)})
	}
	for _, p := range c.parents {
		for i, ref := range p.refs {
			if ref == c.rule {
				out = cs.feed(p, i, ev, ctx, out)
			}
		}
	}
	return out
}

// closeWindows decides the non-monotone windows that ended before t.
func (cs *corrState) closeWindows(c *correlation, st *corrGroups, t int64, out []Match) []Match {
	if len(st.groups) == 0 || t <= st.minOpen+c.span {
		return out
	}
	var due []string
	st.minOpen = t
	for k, g := range st.groups {
		if t > g.start+c.span {
			due = append(due, k)
		} else if g.start < st.minOpen {
			st.minOpen = g.start
		}
	}
	sort.Strings(due) // map order must not leak into alert order
	for _, k := range due {
		g := st.groups[k]
		delete(st.groups, k)
		out = cs.decide(c, k, g, out)
	}
	cs.compact(st)
	return out
}

// decide reports a window decided after the fact: there is no current
// event of that group, so chained correlations are not fed.
func (cs *corrState) decide(c *correlation, key string, g *corrGroup, out []Match) []Match {
	if !c.rule.Standalone {
		return out
	}
	m := Match{Rule: c.rule, Correlation: true, Group: key}
	switch c.kind {
	case corrEventCount, corrValueCount:
		n := g.count
		if c.kind == corrValueCount {
			n = int64(len(g.values))
		}
		if c.cond.holds(n) {
			m.Count = int(n)
			out = append(out, m)
		}
	case corrValueSum, corrValueAvg:
		if g.nums == 0 {
			return out // no numbers: no sum or average to test
		}
		m.Count, m.Value = int(g.nums), g.sum
		if c.kind == corrValueAvg {
			m.Value = g.sum / float64(g.nums)
		}
		if c.cond.holdsF(m.Value) {
			out = append(out, m)
		}
	case corrValuePercentile:
		vals := make([]string, 0, len(g.freq))
		for v := range g.freq {
			vals = append(vals, v)
		}
		sort.Strings(vals) // map order must not leak into alert order
		for _, v := range vals {
			share := 100 * float64(g.freq[v]) / float64(g.nums)
			if c.cond.holdsF(share) {
				out = append(out, Match{Rule: c.rule, Correlation: true, Group: key + "\x1f" + v, Count: int(g.freq[v]), Value: share})
			}
		}
	}
	return out
}

// flush decides every open window (end of a replay).
func (cs *corrState) flush(out []Match) []Match {
	for _, c := range cs.rs.corrs {
		st := cs.per[c.index]
		if c.cond.monotone {
			continue
		}
		keys := make([]string, 0, len(st.groups))
		for k := range st.groups {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			out = cs.decide(c, k, st.groups[k], out)
			delete(st.groups, k)
		}
		st.order = st.order[:0]
	}
	return out
}

func (cs *corrState) evictOldest(st *corrGroups) {
	for len(st.order) > 0 {
		k := st.order[0]
		st.order = st.order[1:]
		if _, ok := st.groups[k]; ok {
			delete(st.groups, k)
			return
		}
	}
}

// compact drops keys of deleted groups from the eviction queue.
func (cs *corrState) compact(st *corrGroups) {
	if len(st.order) < 2*len(st.groups)+64 {
		return
	}
	out := st.order[:0]
	for _, k := range st.order {
		if _, ok := st.groups[k]; ok {
			out = append(out, k)
		}
	}
	st.order = out
}

func dropBefore(ts []int64, min int64) []int64 {
	i := 0
	for i < len(ts) && ts[i] < min {
		i++
	}
	if i == 0 {
		return ts
	}
	return append(ts[:0], ts[i:]...)
}

// groupKey joins field values with the unit separator (allocates; only on
// correlation paths, after a rule matched).
func groupKey(fields []fieldRef, ctx *evalCtx) string {
	if len(fields) == 0 {
		return ""
	}
	var b strings.Builder
	for i := range fields {
		if i > 0 {
			b.WriteByte(0x1f)
		}
		v, _ := ctx.raw(&fields[i])
		b.WriteString(v)
	}
	return b.String()
}
