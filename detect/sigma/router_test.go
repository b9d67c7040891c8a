package sigma

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/internal/testutil"
	"github.com/stretchr/testify/require"
)

// mapBucket is the routing bucketFor replaced: a map look-up by channel,
// then by EventID.
func mapBucket(r *router, ev *event.Event) *bucket {
	cr := r.channels[ev.Channel]
	if cr == nil {
		cr = r.anyChan
		if cr == nil {
			return nil
		}
	}
	if b := cr.byEID[ev.EventID]; b != nil {
		return b
	}
	return cr.other
}

// checkFlatRouting: on every channel of the rules plus one they do not
// name, and every EventID, the flat tables give the bucket (and audit
// view) the maps give.
func checkFlatRouting(t *testing.T, rs *Ruleset) {
	t.Helper()
	r := rs.router
	chans := []string{"Some-Channel/Nobody-Routes"}
	for ch := range r.channels {
		chans = append(chans, ch)
	}
	ev := &event.Event{}
	for _, ch := range chans {
		for id := 0; id <= 0xFFFF; id++ {
			ev.Channel, ev.EventID = ch, uint16(id)
			if got, want := r.bucketFor(ev), mapBucket(r, ev); got != want {
				require.Failf(t, "bucket differs", "channel %q EventID %d", ch, id)
			}
			if got, want := r.viewFor(ev), r.views[viewKey{ch, uint16(id)}]; got != want {
				require.Failf(t, "view differs", "channel %q EventID %d", ch, id)
			}
		}
	}
	seen := make([]bool, r.nBuckets)
	r.eachBucket(func(b *bucket) {
		require.False(t, seen[b.id], "bucket id %d given twice", b.id)
		seen[b.id] = true
	})
}

func TestFlatRoutingSmall(t *testing.T) {
	doc := func(id, ls, sel string) string {
		return "title: t" + id + "\nid: 00000000-0000-4000-8000-00000000000" + id + "\nlogsource:\n" + ls +
			"detection:\n    sel:\n" + sel + "    condition: sel\nlevel: high\n---\n"
	}
	yml := doc("1", "    product: windows\n    service: security\n", "        EventID: 4624\n") +
		doc("2", "    product: windows\n    service: security\n", "        EventID: 60000\n") + // beyond the dense table
		doc("3", "    product: windows\n", "        EventID: 4625\n") + // every channel
		doc("4", "    product: windows\n    service: system\n", "        Provider_Name: x\n") +
		doc("5", "    product: windows\n    category: process_creation\n", "        Image: x\n")
	rs, errs := LoadBytes("routes.yml", []byte(strings.TrimSuffix(yml, "---\n")), Options{SecurityAudit: true})
	require.Empty(t, errs)
	checkFlatRouting(t, rs)
	match := func(ch string, eid uint16) []string {
		ev := &event.Event{Channel: ch, EventID: eid}
		var ids []string
		for _, m := range rs.NewMatcher().Match(ev, nil) {
			ids = append(ids, m.Rule.Title)
		}
		return ids
	}
	require.Equal(t, []string{"t1"}, match(event.ChannelSecurity, 4624))
	require.Equal(t, []string{"t2"}, match(event.ChannelSecurity, 60000))
	require.Equal(t, []string{"t3"}, match(event.ChannelSecurity, 4625))
	require.Equal(t, []string{"t3"}, match("Some-Channel/Nobody-Routes", 4625))
	require.Empty(t, match(event.ChannelSystem, 60000))
}

func TestFlatRoutingSigmaHQ(t *testing.T) {
	if testing.Short() {
		t.Skip("loads SigmaHQ")
	}
	root := testutil.Corpus(t, "sigma")
	var paths []string
	for _, d := range sigmaHQDirs {
		paths = append(paths, filepath.Join(root, d))
	}
	rs, _ := Load(paths, Options{SecurityAudit: true})
	checkFlatRouting(t, rs)
}
