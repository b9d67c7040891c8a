package sigma

import (
	"regexp/syntax"
	"sort"
	"strings"

	"github.com/edr-lab/edr/event"
)

// Needle extraction for the prefilter: for each rule, a set of (field,
// folded literal) pairs of which at least one occurs in every event the
// rule matches. "top" means no such set exists (the rule is always
// evaluated). The rules: a matcher's values are OR-ed, so every value must
// contribute a literal (the union); of AND-ed parts any one suffices (the
// best is kept); not, null, exists, neq and numeric/CIDR/fieldref tests
// give top.

type needle struct {
	field fieldRef // fkKeyword: any field
	lit   string   // folded
}

type needleSet struct {
	top   bool
	items []needle
}

var topSet = needleSet{top: true}

// score ranks sets for AND: a longer shortest needle means fewer false
// candidates; fewer needles break ties. Needles on fields with a handful of
// values (booleans, integrity levels, signature states…) rank below any
// other, since most events carry them.
func (s needleSet) score() int {
	if s.top || len(s.items) == 0 {
		return -1 << 30
	}
	min := 1 << 30
	weak, common := false, false
	for _, n := range s.items {
		if l := len(n.lit); l < min {
			min = l
		}
		weak = weak || n.field.kind == fkSchema && lowCardinality[n.field.id]
		common = common || isCommonText(n.lit)
	}
	if min > 12 {
		min = 12 // beyond this length needles are all selective enough
	}
	score := min*1000 - len(s.items)
	if weak {
		score -= 100_000
	}
	if common {
		score -= 50_000
	}
	return score
}

// commonText are path and registry fragments most Windows events contain;
// a needle inside one of them selects little.
var commonText = []string{`C:\WINDOWS\SYSTEM32\`, `C:\WINDOWS\SYSWOW64\`, `C:\PROGRAM FILES (X86)\`,
	`C:\PROGRAM FILES\`, `C:\PROGRAMDATA\`, `C:\USERS\`, `\APPDATA\LOCAL\TEMP\`, `\APPDATA\ROAMING\`,
	`.EXE`, `.DLL`, `HKLM\SOFTWARE\MICROSOFT\WINDOWS\CURRENTVERSION\`, `HKLM\SOFTWARE\WOW6432NODE\MICROSOFT\WINDOWS\CURRENTVERSION\`,
	`HKLM\SOFTWARE\MICROSOFT\WINDOWS NT\CURRENTVERSION\`, `HKLM\SYSTEM\CURRENTCONTROLSET\SERVICES\`}

func isCommonText(lit string) bool {
	for _, c := range commonText {
		if strings.Contains(c, lit) {
			return true
		}
	}
	return false
}

// lowCardinality marks fields whose values repeat across most events.
var lowCardinality = func() []bool {
	low := make([]bool, event.NumFields())
	for _, f := range event.Fields() {
		low[f.ID] = f.Type == event.Bool
	}
	for _, name := range []string{"Signed", "SignatureStatus", "IntegrityLevel", "EventType", "Protocol", "State", "Operation", "TokenElevationType", "LogonType", "ObjectType", "OperationType"} {
		if id, ok := event.FieldByName(name); ok {
			low[id] = true
		}
	}
	return low
}()

func bestOf(sets []needleSet) needleSet {
	best := topSet
	for _, s := range sets {
		if s.score() > best.score() {
			best = s
		}
	}
	return best
}

func unionOf(sets []needleSet) needleSet {
	var out needleSet
	for _, s := range sets {
		if s.top {
			return topSet
		}
		out.items = append(out.items, s.items...)
	}
	if len(out.items) == 0 {
		return topSet
	}
	return out
}

func ruleNeedles(conds []*condNode, searches []*search) needleSet {
	sets := make([]needleSet, len(conds))
	for i, c := range conds {
		sets[i] = nodeNeedles(c, searches)
	}
	return unionOf(sets)
}

func nodeNeedles(n *condNode, searches []*search) needleSet {
	switch n.op {
	case opSearch:
		return searchNeedles(searches[n.search])
	case opNot:
		return topSet
	case opAnd:
		return bestOf(kidNeedles(n.kids, searches))
	case opOr:
		return unionOf(kidNeedles(n.kids, searches))
	default: // opOf: at least one kid holds; all of: every kid holds
		if n.n == len(n.kids) {
			return bestOf(kidNeedles(n.kids, searches))
		}
		return unionOf(kidNeedles(n.kids, searches))
	}
}

func kidNeedles(kids []*condNode, searches []*search) []needleSet {
	out := make([]needleSet, len(kids))
	for i, k := range kids {
		out[i] = nodeNeedles(k, searches)
	}
	return out
}

func searchNeedles(s *search) needleSet {
	alts := make([]needleSet, len(s.alts))
	for i, alt := range s.alts {
		ms := make([]needleSet, len(alt))
		for j, m := range alt {
			ms[j] = matcherNeedles(m)
		}
		alts[i] = bestOf(ms)
	}
	return unionOf(alts)
}

func matcherNeedles(m *matcher) needleSet {
	if m.exists >= 0 || m.null || m.neq || len(m.groups) == 0 {
		return topSet
	}
	groupSet := func(g []test) needleSet {
		var out needleSet
		for i := range g {
			lits, ok := testNeedles(&g[i])
			if !ok {
				return topSet
			}
			for _, lit := range lits {
				out.items = append(out.items, needle{field: m.field, lit: lit})
			}
		}
		if len(out.items) == 0 {
			return topSet
		}
		return out
	}
	if m.all {
		sets := make([]needleSet, len(m.groups))
		for i, g := range m.groups {
			sets[i] = groupSet(g)
		}
		return bestOf(sets)
	}
	if m.acTests != nil {
		return groupSet(m.acTests)
	}
	return groupSet(m.groups[0])
}

// testNeedles returns literals of which a value test requires one (folded).
func testNeedles(t *test) ([]string, bool) {
	switch t.kind {
	case tPattern:
		lits := t.pat.literals()
		best := ""
		for _, l := range lits {
			if t.dashed {
				l = longestDashFree(l)
			}
			if len(l) > len(best) {
				best = l
			}
		}
		if best == "" {
			return nil, false
		}
		if t.pat.cased {
			best = fold(best)
		}
		return []string{best}, true
	case tRegex:
		re, err := syntax.Parse(t.re.String(), syntax.Perl)
		if err != nil {
			return nil, false
		}
		s := regexNeedles(re.Simplify())
		if s.top {
			return nil, false
		}
		lits := make([]string, 0, len(s.items))
		for _, n := range s.items {
			if n.lit == "" {
				return nil, false
			}
			lits = append(lits, n.lit)
		}
		return lits, true
	}
	return nil, false
}

// longestDashFree returns the longest run of s without dash-like
// characters, so that the windash expansions of a value (which differ only
// at dashes) share one needle.
func longestDashFree(s string) string {
	if !strings.ContainsAny(s, "-/\u2013\u2014\u2015") {
		return s
	}
	best := ""
	for _, part := range splitDashes(s) {
		if !isDash(part) && len(part) > len(best) {
			best = part
		}
	}
	return best
}

// regexNeedles finds literals a regex match must contain.
func regexNeedles(re *syntax.Regexp) needleSet {
	switch re.Op {
	case syntax.OpLiteral:
		if len(re.Rune) == 0 {
			return topSet
		}
		return needleSet{items: []needle{{lit: fold(string(re.Rune))}}}
	case syntax.OpCapture:
		return regexNeedles(re.Sub[0])
	case syntax.OpPlus:
		return regexNeedles(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return regexNeedles(re.Sub[0])
		}
		return topSet
	case syntax.OpAlternate:
		sets := make([]needleSet, len(re.Sub))
		for i, s := range re.Sub {
			sets[i] = regexNeedles(s)
		}
		return unionOf(sets)
	case syntax.OpConcat:
		// runs of literals and small character classes become sets of
		// alternative literals (cross product, bounded)
		var sets []needleSet
		run := []string{""}
		flush := func() {
			if len(run) > 0 && run[0] != "" {
				var ns needleSet
				for _, r := range run {
					ns.items = append(ns.items, needle{lit: fold(r)})
				}
				sets = append(sets, ns)
			}
			run = []string{""}
		}
		for _, sub := range re.Sub {
			alts, ok := smallAlternatives(sub)
			if !ok || len(run)*len(alts) > 16 {
				flush()
				if !ok {
					sets = append(sets, regexNeedles(sub))
					continue
				}
			}
			next := make([]string, 0, len(run)*len(alts))
			for _, r := range run {
				for _, a := range alts {
					next = append(next, r+a)
				}
			}
			run = next
		}
		flush()
		return bestOf(sets)
	}
	return topSet
}

// smallAlternatives returns the strings a literal or a small character
// class (at most 4 runes) can match.
func smallAlternatives(re *syntax.Regexp) ([]string, bool) {
	switch re.Op {
	case syntax.OpLiteral:
		return []string{string(re.Rune)}, len(re.Rune) > 0
	case syntax.OpCharClass:
		var out []string
		for i := 0; i+1 < len(re.Rune); i += 2 {
			for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
				if len(out) == 4 {
					return nil, false
				}
				out = append(out, string(r))
			}
		}
		return out, len(out) > 0
	}
	return nil, false
}

// maxClauses bounds the needle clauses kept per rule (the most selective
// ones; a clause bit per entry fits a byte).
const maxClauses = 4

// ruleClauses returns needle sets of which each must have a hit in an event
// the rule matches (a conjunction; ruleNeedles is the best single one):
// every search an and (or all of) requires, and within a search of one map
// every matcher. Parts under not, and alternatives (or, 1 of, lists of
// maps), give one clause or none. No clause: the rule is evaluated on every
// event.
func ruleClauses(conds []*condNode, searches []*search) []needleSet {
	var cl []needleSet
	if len(conds) == 1 {
		cl = nodeClauses(conds[0], searches)
	} else if ns := ruleNeedles(conds, searches); !ns.top {
		cl = []needleSet{ns}
	}
	sort.SliceStable(cl, func(i, j int) bool { return cl[i].score() > cl[j].score() })
	// beyond the best clause, keep only selective ones: a clause with a
	// needle under 4 bytes (" ", "-") or on common text has hits on most
	// events, so it costs marks and rarely removes a candidate
	keep := min(len(cl), 1)
	for keep < len(cl) && keep < maxClauses && cl[keep].score() >= minClauseScore {
		keep++
	}
	return cl[:keep]
}

// minClauseScore is the score of a set whose shortest needle has 4 bytes
// (needleSet.score), less a margin for its number of needles.
const minClauseScore = 4*1000 - 1000

func nodeClauses(n *condNode, searches []*search) []needleSet {
	switch {
	case n.op == opSearch:
		return searchClauses(searches[n.search])
	case n.op == opNot:
		return nil
	case n.op == opAnd || n.op == opOf && n.n == len(n.kids):
		var out []needleSet
		for _, k := range n.kids {
			out = append(out, nodeClauses(k, searches)...)
		}
		return out
	}
	if ns := nodeNeedles(n, searches); !ns.top {
		return []needleSet{ns}
	}
	return nil
}

func searchClauses(s *search) []needleSet {
	if len(s.alts) != 1 {
		if ns := searchNeedles(s); !ns.top {
			return []needleSet{ns}
		}
		return nil
	}
	var out []needleSet
	for _, m := range s.alts[0] {
		if ns := matcherNeedles(m); !ns.top {
			out = append(out, ns)
		}
	}
	return out
}
