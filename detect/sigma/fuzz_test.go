package sigma_test

import (
	"strings"
	"testing"

	"github.com/edr-lab/edr/detect/sigma"
	"github.com/edr-lab/edr/event"
)

// FuzzRule feeds random rule YAML and a random event: loading must never
// panic or hang, matching with and without the prefilter must agree (the
// prefilter may only skip rules that cannot match), and split matching
// with User and GrandParentImage set late must agree with Match.
func FuzzRule(f *testing.F) {
	seeds := []string{
		ruleYAML("sel:\n    CommandLine|contains|windash: ' -enc '\ncondition: sel"),
		ruleYAML("sel:\n    CommandLine|base64offset|contains: 'Invoke'\ncondition: sel"),
		ruleYAML("sel:\n    Image|endswith: '\\x.exe'\nf:\n    User: null\ncondition: sel and not f"),
		ruleYAML("keywords:\n    - 'a*b'\n    - 'c?d'\ncondition: keywords"),
		ruleYAML("a_1:\n    CommandLine|re|i: '^x.*y$'\na_2:\n    ParentImage|fieldref: Image\ncondition: 1 of a_* or all of them"),
		ruleYAML("sel:\n    TerminalSessionId|gte: 2\n    CommandLine|contains|all:\n        - 'x'\n        - 'y'\ncondition: 2 of sel*"),
		bruteForceYAML,
		// metric correlations: value_percentile and value_sum (of a
		// non-numeric field) on the failed logins
		replaceOnce(replaceOnce(bruteForceYAML, "type: event_count", "type: value_percentile"), "gte: 3", "field: User\n        lte: 50"),
		replaceOnce(replaceOnce(bruteForceYAML, "type: event_count", "type: value_sum"), "gte: 3", "field: User\n        gt: 0"),
	}
	for _, s := range seeds {
		f.Add(s, "x -enc SW52b2tl", `C:\x.exe`, "bob")
	}
	f.Fuzz(func(t *testing.T, yml, cmd, image, user string) {
		if len(yml) > 1<<14 {
			return
		}
		ev := &event.Event{Channel: event.ChannelSysmon, EventID: 1, Time: 1}
		ev.SetByName("CommandLine", cmd)
		ev.SetByName("Image", image)
		if user != "" {
			ev.SetByName("User", user)
		}
		ev.AddExtra("Free Field", cmd)
		sec := &event.Event{Channel: event.ChannelSecurity, EventID: 4625, Time: 2}
		sec.SetByName("User", user)
		a, _ := sigma.LoadBytes("fuzz.yml", []byte(yml), sigma.Options{})
		b, _ := sigma.LoadBytes("fuzz.yml", []byte(yml), sigma.Options{NoPrefilter: true})
		ma0, mb0 := a.NewMatcher(), b.NewMatcher()
		split, fin := a.PlanLate([]event.FieldID{event.FUser, event.FGrandParentImage}), a.NewMatcher()
		w, ref := a.NewMatcher(), b.NewMatcher() // ref: own correlation state
		for _, e := range []*event.Event{ev, sec, ev} {
			ma, mb := ids(ma0.Match(e, nil)), ids(mb0.Match(e, nil))
			if ma != mb {
				t.Fatalf("prefilter changes the result: %q vs %q", ma, mb)
			}
			// Pre without the late fields, Finish with them, as the engine
			// does; ref says what Match gives with them.
			u, hadUser := e.Lookup("User")
			e.Del(event.FUser)
			var p sigma.Pre
			w.Pre(split, e, &p)
			e.SetByName("User", user+u)
			e.Set(event.FGrandParentImage, image)
			ms, mw := ids(fin.Finish(e, &p, nil)), ids(ref.Match(e, nil))
			if ms != mw {
				t.Fatalf("split matching differs from Match: %q vs %q", ms, mw)
			}
			e.Del(event.FGrandParentImage)
			e.Del(event.FUser)
			if hadUser {
				e.SetByName("User", u)
			}
		}
		ma0.Flush(nil)
	})
}

func ids(ms []sigma.Match) string {
	var b strings.Builder
	for _, m := range ms {
		b.WriteString(m.Rule.ID + m.Rule.Title + ";")
	}
	return b.String()
}
