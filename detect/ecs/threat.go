package ecs

import (
	"strings"

	"github.com/edr-lab/edr/detect"
)

// ATT&CK v19 tactics by Sigma tag shortname. Both '-' and '_' spellings are
// accepted; defense-evasion is the pre-v19 name of TA0005 (Stealth), and
// third-party rules still use it.
var tactics = map[string]struct{ id, name string }{
	"reconnaissance":       {"TA0043", "Reconnaissance"},
	"resource-development": {"TA0042", "Resource Development"},
	"initial-access":       {"TA0001", "Initial Access"},
	"execution":            {"TA0002", "Execution"},
	"persistence":          {"TA0003", "Persistence"},
	"privilege-escalation": {"TA0004", "Privilege Escalation"},
	"stealth":              {"TA0005", "Stealth"},
	"defense-impairment":   {"TA0112", "Defense Impairment"},
	"defense-evasion":      {"TA0005", "Defense Evasion"},
	"credential-access":    {"TA0006", "Credential Access"},
	"discovery":            {"TA0007", "Discovery"},
	"lateral-movement":     {"TA0008", "Lateral Movement"},
	"collection":           {"TA0009", "Collection"},
	"command-and-control":  {"TA0011", "Command and Control"},
	"exfiltration":         {"TA0010", "Exfiltration"},
	"impact":               {"TA0040", "Impact"},
}

// threatInfo holds the ECS threat.* flat arrays derived from tags, in tag
// order without duplicates. Sigma does not pair techniques with tactics, so
// no pairing is invented.
type threatInfo struct {
	tacticIDs, tacticNames, tacticRefs []string
	techIDs, techRefs                  []string
	subIDs, subRefs                    []string
	groups, software                   []string
	cves                               []string
}

func (t *threatInfo) any() bool {
	return len(t.tacticIDs)+len(t.techIDs)+len(t.subIDs)+len(t.groups)+len(t.software) > 0
}

// ruleFragments are the parts of an alert that come from its rule alone,
// encoded once per encoder and rule: the JSON values of the top-level keys
// rule, threat (without enrichments), vulnerability, tags and sigma (its
// rule metadata), each "" when the rule gives that key nothing. They are
// the bytes setRuleMeta and setSigmaMeta would build into those keys.
type ruleFragments struct {
	*threatInfo
	rule, threat, vuln, tags, sigma string
}

// maxRuleFragments bounds an encoder's fragment cache (rules that fired):
// when full it starts over, so a long-lived encoder over reloaded rule sets
// keeps no more than this many.
const maxRuleFragments = 4096

// fragments returns r's fragments, encoding them on the first alert of r.
func (sc *encodeScratch) fragments(r *detect.Rule) *ruleFragments {
	if f, ok := sc.rules[r]; ok {
		return f
	}
	if sc.rules == nil || len(sc.rules) >= maxRuleFragments {
		sc.rules = map[*detect.Rule]*ruleFragments{}
	}
	t := parseThreat(r.Tags)
	var d Object
	setRuleMeta(r, &d, &t, true)
	if r.Engine == detect.EngineSigma {
		setSigmaMeta(r, &d)
	}
	f := &ruleFragments{threatInfo: &t, rule: d.encoded("rule"), threat: d.encoded("threat"),
		vuln: d.encoded("vulnerability"), tags: d.encoded("tags"), sigma: d.encoded("sigma")}
	sc.rules[r] = f
	return f
}

// set sets the top-level key to its fragment, if the rule gives it one
// (else the key stays as it is: omitted when empty).
func setFragment(o *Object, key, frag string) {
	if frag != "" {
		o.setRaw(key, frag)
	}
}

func parseThreat(tags []string) threatInfo {
	var t threatInfo
	for _, tag := range tags {
		ns, val, ok := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), ".")
		if !ok || val == "" {
			continue
		}
		switch ns {
		case "attack":
			t.addAttack(val)
		case "cve":
			t.cves = appendUnique(t.cves, "CVE-"+strings.ToUpper(strings.TrimPrefix(val, "cve-")))
		}
	}
	return t
}

func (t *threatInfo) addAttack(val string) {
	if tc, ok := tactics[strings.ReplaceAll(val, "_", "-")]; ok {
		if !contains(t.tacticIDs, tc.id) {
			t.tacticIDs = append(t.tacticIDs, tc.id)
			t.tacticNames = append(t.tacticNames, tc.name)
			t.tacticRefs = append(t.tacticRefs, "https://attack.mitre.org/tactics/"+tc.id+"/")
		}
		return
	}
	up := strings.ToUpper(val)
	switch {
	case isTechnique(up):
		tech, sub, isSub := strings.Cut(up, ".")
		if !contains(t.techIDs, tech) {
			t.techIDs = append(t.techIDs, tech)
			t.techRefs = append(t.techRefs, "https://attack.mitre.org/techniques/"+tech+"/")
		}
		if isSub && !contains(t.subIDs, up) {
			t.subIDs = append(t.subIDs, up)
			t.subRefs = append(t.subRefs, "https://attack.mitre.org/techniques/"+tech+"/"+sub+"/")
		}
	case isID(up, 'G'):
		t.groups = appendUnique(t.groups, up)
	case isID(up, 'S'):
		t.software = appendUnique(t.software, up)
	}
}

// isTechnique matches TNNNN and TNNNN.NNN.
func isTechnique(s string) bool {
	tech, sub, isSub := strings.Cut(s, ".")
	if !isID(tech, 'T') {
		return false
	}
	if !isSub {
		return true
	}
	return len(sub) == 3 && digits(sub)
}

// isID matches a letter followed by four digits (T1059, G0016, S0002).
func isID(s string, letter byte) bool {
	return len(s) == 5 && s[0] == letter && digits(s[1:])
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func appendUnique(list []string, s string) []string {
	if contains(list, s) {
		return list
	}
	return append(list, s)
}
