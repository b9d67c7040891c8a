package synth

import (
	"path/filepath"
	"sort"
	"testing"

	"github.com/edr-lab/edr/detect/ioc"
	"github.com/edr-lab/edr/detect/sigma"
	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/internal/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// benignMediumRules are the SigmaHQ rules of level medium or higher that
// legitimately fire on the benign background, with why. Any other
// medium-or-higher rule firing on background events fails the test: it
// means the generator produced something a real host does not do (or does
// far more rarely).
var benignMediumRules = map[string]string{
	// Outlook hands the links a user clicks in mail to the browser, which
	// then runs as its child with the URL on the command line; the rule
	// flags every browser started with a URL by an Office process.
	"Potential Suspicious Browser Launch From Document Reader Process": "Outlook opening links from mail",
	// A developer's `python -m pip install` downloads from PyPI; the rule
	// flags every connection python.exe makes (its pip filter needs the
	// command line, which Sysmon 3 does not carry).
	"Python Initiated Connection": "pip downloading packages",
}

// Levels low and informational fire on benign activity by design: the
// threat-hunting set's "Scheduled Task Created - Registry" on the Task
// Scheduler's DynamicInfo writes, "User Logoff Event" on every 4634, the
// discovery rules ("Net.EXE Execution", "Suspicious Execution of
// Hostname", "Suspicious Network Command", "Local Accounts Discovery" …)
// on users and admins running net, hostname, ipconfig, quser in a shell,
// "Potential Executable Run Itself As Sacrificial Process" on Electron
// apps in the user profile starting their renderers. They are bounded only
// as a whole.

// TestBackgroundQuietUnderSigmaHQ replays a generated stream through
// SigmaHQ's Windows, emerging-threats and threat-hunting rules. On the
// benign background events:
//   - alerts of level medium or higher stay at or below 0.05 % of events
//     (the unmodified generator raised 3.6 %: 36,000 per million), and
//     only from the rules in benignMediumRules;
//   - alerts of all levels stay at or below 1 % (it raised 5 %).
//
// Why 0.05 %: a real host emits a few million Sysmon events a day and
// untuned SigmaHQ raises tens of medium alerts on it, i.e. around 0.001 %.
// The generator compresses time (process starts are 5 % of events, about
// 25 a second per host, far more than a real host), so the legitimate but
// flagged actions above come up more often per event; measured over seeds
// 1, 2, 3, 42 and 1, 4, 12 hosts they stay between 0.012 % and 0.022 %.
// The bound leaves room for that spread while catching any new kind of
// implausible activity, which tends to fire thousands of times.
//
// The attack scenarios, by contrast, must still raise medium-or-higher
// alerts: the rules load and work.
func TestBackgroundQuietUnderSigmaHQ(t *testing.T) {
	if testing.Short() {
		t.Skip("loads SigmaHQ's Windows rules and matches a generated stream")
	}
	root := testutil.Corpus(t, "sigma")
	var paths []string
	for _, d := range []string{"rules/windows", "rules-emerging-threats", "rules-threat-hunting"} {
		paths = append(paths, filepath.Join(root, d))
	}
	rs, errs := sigma.Load(paths, sigma.Options{})
	require.Greater(t, len(rs.Rules()), 2000, "SigmaHQ rules loaded")
	t.Logf("%d SigmaHQ rules loaded, %d did not", len(rs.Rules()), len(errs))

	g := New(Options{Seed: 1, Events: 1_000_000 / raceScale})
	var (
		e          event.Event
		out        []sigma.Match
		background int
		byLevel    = map[string]int{}
		byRule     = map[string]int{}
		levelOf    = map[string]string{}
		scenario   = map[string]map[string]int{} // scenario → medium+ rule → alerts
	)
	matcher := rs.NewMatcher()
	for g.Next(&e) {
		out = matcher.Match(&e, out[:0])
		name := g.Scenario()
		if name == "" {
			background++
		}
		for _, m := range out {
			r := m.Rule
			if name != "" {
				if mediumOrHigher(r.Level) {
					if scenario[name] == nil {
						scenario[name] = map[string]int{}
					}
					scenario[name][r.Title]++
				}
				continue
			}
			byLevel[r.Level]++
			byRule[r.Title]++
			levelOf[r.Title] = r.Level
		}
	}
	out = matcher.Flush(out[:0])
	require.Empty(t, out, "correlations pending at the end")

	rules := make([]string, 0, len(byRule))
	for r := range byRule {
		rules = append(rules, r)
	}
	sort.Slice(rules, func(i, j int) bool {
		return byRule[rules[i]] > byRule[rules[j]] || byRule[rules[i]] == byRule[rules[j]] && rules[i] < rules[j]
	})
	total, medium := 0, 0
	for _, r := range rules {
		total += byRule[r]
		if mediumOrHigher(levelOf[r]) {
			medium += byRule[r]
			_, ok := benignMediumRules[r]
			assert.Truef(t, ok, "%s rule %q fired %d times on benign background events", levelOf[r], r, byRule[r])
		}
	}
	t.Logf("%d background events: %d alerts (%.4f %%), %d medium or higher (%.4f %%); by level %v",
		background, total, 100*float64(total)/float64(background), medium, 100*float64(medium)/float64(background), byLevel)
	for i, r := range rules {
		if i == 25 {
			break
		}
		t.Logf("%7d %-13s %s", byRule[r], levelOf[r], r)
	}
	assert.LessOrEqual(t, medium*2000, background, "medium-or-higher alerts above 0.05 % of background events")
	assert.LessOrEqual(t, total*100, background, "alerts above 1 % of background events")

	for _, s := range []string{"encoded_powershell", "lsass_dump", "runkey_persistence", "service_install", "scheduled_task", "whoami_discovery"} {
		assert.NotEmptyf(t, scenario[s], "scenario %s raised no medium-or-higher SigmaHQ alert", s)
		t.Logf("%-20s %v", s, scenario[s])
	}
}

func mediumOrHigher(level string) bool {
	return level == "medium" || level == "high" || level == "critical"
}

// TestBackgroundAvoidsSignatureBaseC2 loads signature-base's c2-iocs.txt
// into the IOC matcher (as edr does) and checks that no benign endpoint
// (of the worlds of 20 seeds: every domain and every address it resolves
// to) is an indicator, and that in a generated stream only scenario events
// hit: the C2 beacon does, the background never.
func TestBackgroundAvoidsSignatureBaseC2(t *testing.T) {
	path := testutil.Corpus(t, "iocs/signature-base/c2-iocs.txt")
	set, errs := ioc.Load(ioc.Paths{Loki: []string{path}}, ioc.Options{})
	require.Empty(t, errs)
	st := set.Stats()
	require.Greater(t, st.Domains+st.Suffixes+st.IPs+st.CIDRs, 1000)
	var hits []ioc.Hit
	for seed := uint64(0); seed < 20; seed++ {
		for _, d := range newCatalog(seed).domains {
			hits = set.MatchDomain(d.name, "QueryName", hits[:0])
			for _, ip := range d.ips {
				hits = set.MatchAddr(ip, "DestinationIp", hits)
			}
			assert.Emptyf(t, hits, "seed %d: benign endpoint %s (%v) is an indicator", seed, d.name, d.ips)
		}
	}
	o := Options{Seed: 3}
	o.Events = MinEventsForAllScenarios(o)
	g := New(o)
	var e event.Event
	scenarioHits := map[string]int{}
	for g.Next(&e) {
		hits = set.Match(&e, hits[:0])
		if len(hits) == 0 {
			continue
		}
		if g.Scenario() == "" {
			t.Errorf("background %s/%d hits %s=%s (%s)", e.Channel, e.EventID, hits[0].Field, hits[0].Value, hits[0].Indicator)
			continue
		}
		scenarioHits[g.Scenario()]++
	}
	assert.GreaterOrEqual(t, scenarioHits["c2_beacon"], c2Beacons, "the beacon's indicators come from the list")
	t.Logf("indicator hits by scenario: %v", scenarioHits)
}
