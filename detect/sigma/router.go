package sigma

import (
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/edr-lab/edr/event"
)

// router finds the rules an event can meet: by channel, then EventID.
// The maps are the build-time form; an event is routed through the flat
// tables beside them (chanList, chanRoute.dense, secViews), which cost a
// few compares and an index where a hashed map look-up cost a string or
// struct hash per event, twice (Pre and Finish).
type router struct {
	channels map[string]*chanRoute
	anyChan  *chanRoute // rules of `product: windows` without category/service
	views    map[viewKey]*viewBucket

	chanList []namedRoute // channels, the busiest first (see routeOrder)
	secViews []eidView    // views, all on the Security channel
	nBuckets int          // buckets numbered 0..nBuckets-1 (bucket.id)
}

type viewKey struct {
	channel string
	eid     uint16
}

type namedRoute struct {
	name string
	cr   *chanRoute
}

type eidView struct {
	eid uint16
	vb  *viewBucket
}

// viewBucket holds the Sysmon-category rules run on an audit event's view.
type viewBucket struct {
	kind auditKind
	bucket
}

type chanRoute struct {
	byEID map[uint16]*bucket
	other *bucket // EventIDs no rule names
	// dense[eid] is byEID[eid] (nil when absent) for EventIDs below
	// len(dense); sparse says whether byEID has EventIDs beyond it
	dense  []*bucket
	sparse bool
}

// maxDense bounds a channel's EventID table (8 bytes an entry); EventIDs
// at or above it stay in the map.
const maxDense = 1 << 13

// bucket is the rules of one (channel, EventID), in load order, with the
// prefilter built over exactly those rules.
type bucket struct {
	entries []entry
	pf      *prefilter
	id      int // index in per-bucket tables (LatePlan), 0..router.nBuckets-1
}

type entry struct {
	rule  *Rule
	guard []*matcher // thor.yml conditions beyond EventID (EventType)
}

type placement struct {
	rule    *Rule
	channel string // "" = every channel
	eids    []uint16
	guard   []*matcher
}

func buildRouter(rs *Ruleset, rt *routeTable) *router {
	var places []placement
	cc := &compileCtx{res: rs.res}
	for _, r := range rs.rules {
		if r.Unsupported != "" || r.Correlation != "" {
			continue
		}
		targets, _ := rt.targets(r.Logsource)
		for _, t := range targets {
			eids := intersectIDs(t.eids, r.eventIDs)
			if eids != nil && len(eids) == 0 {
				continue // the detection's EventIDs never occur on this logsource
			}
			var guard []*matcher
			for _, k := range slices.Sorted(maps.Keys(t.guard)) {
				guard = append(guard, guardMatcher(cc, k, t.guard[k]))
			}
			if t.channels == nil {
				places = append(places, placement{rule: r, eids: eids, guard: guard})
				continue
			}
			for _, ch := range t.channels {
				places = append(places, placement{rule: r, channel: event.CanonicalChannel(ch), eids: eids, guard: guard})
			}
		}
	}
	rtr := &router{channels: map[string]*chanRoute{}}
	// first pass: the buckets. Every-channel placements (channel "") name
	// EventIDs on every channel.
	eidSets := map[string]map[uint16]bool{}
	for _, p := range places {
		if eidSets[p.channel] == nil {
			eidSets[p.channel] = map[uint16]bool{}
		}
	}
	for _, p := range places {
		for ch, set := range eidSets {
			if p.channel == "" || p.channel == ch {
				for _, id := range p.eids {
					set[id] = true
				}
			}
		}
	}
	for ch, ids := range eidSets {
		cr := &chanRoute{byEID: map[uint16]*bucket{}, other: &bucket{}}
		for id := range ids {
			cr.byEID[id] = &bucket{}
		}
		if ch == "" {
			rtr.anyChan = cr
		} else {
			rtr.channels[ch] = cr
		}
	}
	// second pass: rules into buckets, in rule order
	for _, p := range places {
		var targets []*chanRoute
		if p.channel == "" {
			for _, ch := range slices.Sorted(maps.Keys(rtr.channels)) {
				targets = append(targets, rtr.channels[ch])
			}
			targets = append(targets, rtr.anyChan)
		} else {
			targets = []*chanRoute{rtr.channels[p.channel]}
		}
		for _, cr := range targets {
			e := entry{rule: p.rule, guard: p.guard}
			if p.eids == nil {
				cr.other.entries = append(cr.other.entries, e)
				for _, b := range cr.byEID {
					b.entries = append(b.entries, e)
				}
				continue
			}
			for _, id := range p.eids {
				cr.byEID[id].entries = append(cr.byEID[id].entries, e)
			}
		}
	}
	all := []*chanRoute{rtr.anyChan}
	for _, cr := range rtr.channels {
		all = append(all, cr)
	}
	if rs.opts.SecurityAudit || rs.opts.SecurityAuditAuto {
		rtr.views = map[viewKey]*viewBucket{}
		for _, r := range rs.rules {
			if r.Unsupported != "" || r.Correlation != "" || (r.Logsource.Service != "" && r.Logsource.Service != "security") {
				continue
			}
			kind, eid := auditTarget(r.Logsource.Category)
			if kind == auditNone {
				continue
			}
			k := viewKey{event.ChannelSecurity, eid}
			if rtr.views[k] == nil {
				rtr.views[k] = &viewBucket{kind: kind}
			}
			rtr.views[k].entries = append(rtr.views[k].entries, entry{rule: r})
		}
		for _, vb := range rtr.views {
			if !rs.opts.NoPrefilter {
				vb.pf = buildPrefilter(vb.entries)
			}
		}
	}
	built := map[string]*prefilter{} // buckets with the same rules share one prefilter
	for _, cr := range all {
		if cr == nil {
			continue
		}
		for _, b := range append([]*bucket{cr.other}, mapValues(cr.byEID)...) {
			sort.SliceStable(b.entries, func(i, j int) bool { return b.entries[i].rule.index < b.entries[j].rule.index })
			b.entries = dedupEntries(b.entries)
			if rs.opts.NoPrefilter || len(b.entries) == 0 {
				continue
			}
			key := entriesKey(b.entries)
			if pf, ok := built[key]; ok {
				b.pf = pf
				continue
			}
			b.pf = buildPrefilter(b.entries)
			built[key] = b.pf
		}
	}
	rtr.flatten()
	return rtr
}

// flatten fills the tables bucketFor and viewFor read, and numbers the
// buckets.
func (r *router) flatten() {
	for _, ch := range routeOrder(slices.Collect(maps.Keys(r.channels))) {
		r.chanList = append(r.chanList, namedRoute{ch, r.channels[ch]})
	}
	for _, cr := range r.routes() {
		n := 0
		for id := range cr.byEID {
			if int(id) < maxDense {
				n = max(n, int(id)+1)
			} else {
				cr.sparse = true
			}
		}
		cr.dense = make([]*bucket, n)
		for id, b := range cr.byEID {
			if int(id) < n {
				cr.dense[id] = b
			}
		}
	}
	for _, k := range slices.SortedFunc(maps.Keys(r.views), func(a, b viewKey) int { return int(a.eid) - int(b.eid) }) {
		r.secViews = append(r.secViews, eidView{k.eid, r.views[k]})
	}
	r.eachBucket(func(b *bucket) {
		b.id = r.nBuckets
		r.nBuckets++
	})
}

// routes returns the channel routes: every-channel rules' first, then
// chanList's.
func (r *router) routes() []*chanRoute {
	var out []*chanRoute
	if r.anyChan != nil {
		out = append(out, r.anyChan)
	}
	for _, nr := range r.chanList {
		out = append(out, nr.cr)
	}
	return out
}

// routeOrder sorts channel names with Sysmon's and Security's first (most
// events of a Windows recording), then the rest in name order, so the
// linear search of bucketFor usually stops at its first or second compare.
func routeOrder(chs []string) []string {
	rank := func(c string) int {
		switch c {
		case event.ChannelSysmon:
			return 0
		case event.ChannelSecurity:
			return 1
		}
		return 2
	}
	slices.SortFunc(chs, func(a, b string) int {
		if ra, rb := rank(a), rank(b); ra != rb {
			return ra - rb
		}
		return strings.Compare(a, b)
	})
	return chs
}

func entriesKey(es []entry) string {
	b := make([]byte, 0, 4*len(es))
	for _, e := range es {
		b = strconv.AppendInt(b, int64(e.rule.index), 36)
		b = append(b, ',')
	}
	return string(b)
}

func guardMatcher(cc *compileCtx, field, value string) *matcher {
	return &matcher{field: cc.res.resolve(field), exists: -1, src: field,
		groups: [][]test{{{kind: tPattern, pat: compilePattern(literal(value), false), src: value}}}}
}

func dedupEntries(es []entry) []entry {
	out := es[:0]
	for i, e := range es {
		if i > 0 && e.rule == es[i-1].rule {
			// two targets of one rule (registry_delete: DeleteKey or DeleteValue)
			prev := &out[len(out)-1]
			if len(prev.guard) > 0 && len(e.guard) > 0 {
				prev.guard = append(prev.guard[:len(prev.guard):len(prev.guard)], e.guard...)
				prev.anyGuard()
			} else {
				prev.guard = nil
			}
			continue
		}
		out = append(out, e)
	}
	return out
}

func (e *entry) anyGuard() {
	// several alternative guards on one field: merge into one matcher whose
	// values are OR-ed
	if len(e.guard) < 2 {
		return
	}
	m := *e.guard[0]
	m.groups = [][]test{nil}
	for _, g := range e.guard {
		if g.field != m.field {
			return // guards on different fields: keep (AND) — thor.yml has none
		}
		m.groups[0] = append(m.groups[0], g.groups[0]...)
	}
	e.guard = []*matcher{&m}
}

// mapValues returns a bucket map's values in EventID order.
func mapValues(m map[uint16]*bucket) []*bucket {
	out := make([]*bucket, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		out = append(out, m[k])
	}
	return out
}

func intersectIDs(a, b []uint16) []uint16 {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	out := []uint16{}
	for _, x := range a {
		for _, y := range b {
			if x == y {
				out = append(out, x)
			}
		}
	}
	return out
}

// bucketFor returns the rules an event can meet.
func (r *router) bucketFor(ev *event.Event) *bucket {
	cr := r.anyChan
	for i := range r.chanList {
		if r.chanList[i].name == ev.Channel {
			cr = r.chanList[i].cr
			break
		}
	}
	if cr == nil {
		return nil
	}
	var b *bucket
	if id := int(ev.EventID); id < len(cr.dense) {
		b = cr.dense[id]
	} else if cr.sparse {
		b = cr.byEID[ev.EventID]
	}
	if b != nil {
		return b
	}
	return cr.other
}

// viewFor returns the audit view bucket of ev's channel and EventID, nil
// when it has none (or audit views are off).
func (r *router) viewFor(ev *event.Event) *viewBucket {
	if len(r.secViews) == 0 || ev.Channel != event.ChannelSecurity {
		return nil
	}
	for _, v := range r.secViews {
		if v.eid == ev.EventID {
			return v.vb
		}
	}
	return nil
}
