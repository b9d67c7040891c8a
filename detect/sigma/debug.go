package sigma

import "strings"

// explain re-evaluates a matched rule and reports the matchers that held,
// for match_debug. It allocates; Match calls it only with Options.Debug.
func explain(c *evalCtx, r *Rule) []MatchedField {
	var out []MatchedField
	for i, s := range r.searches {
		for _, alt := range s.alts {
			if !c.evalAlt(alt) {
				continue
			}
			for _, m := range alt {
				out = append(out, describe(c, r.searchNames[i], m))
			}
			break
		}
	}
	return out
}

func describe(c *evalCtx, searchName string, m *matcher) MatchedField {
	mf := MatchedField{Search: searchName, Field: m.src}
	if m.field.kind == fkKeyword {
		for _, g := range m.groups {
			for i := range g {
				if c.keywordGroup(m, g[i:i+1]) {
					mf.Pattern = g[i].src
					return mf
				}
			}
		}
		return mf
	}
	raw, ok := c.raw(&m.field)
	if !ok {
		mf.Absent = true
		return mf
	}
	mf.Value = strings.Clone(raw) // the event is reused after Match returns
	if m.exists >= 0 {
		return mf
	}
	if m.neq {
		mf.Negative = true
		return mf
	}
	groups := m.groups
	if m.acTests != nil {
		groups = append([][]test{m.acTests}, groups[1:]...)
	}
	for _, g := range groups {
		for i := range g {
			if c.test(m, &g[i], raw) {
				mf.Pattern = g[i].src
				return mf
			}
		}
	}
	return mf
}
