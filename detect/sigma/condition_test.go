package sigma

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestConditionPrecedence(t *testing.T) {
	names := []string{"a", "b", "c", "_d", "sel_1x", "sel_2"}
	for src, want := range map[string]string{
		"a or b and c":          "(a or (b and c))",
		"not a and b":           "(not a and b)",
		"not (a or b)":          "not (a or b)",
		"a and b and c":         "(a and b and c)",
		"1 of sel_1*":           "1 of sel_1*",
		"all of them and not a": "(all of them and not a)",
	} {
		n, err := parseCondition(src, names)
		require.NoError(t, err, src)
		require.Equal(t, want, n.String(names), src)
	}
	n, err := parseCondition("all of them", names)
	require.NoError(t, err)
	require.Len(t, n.kids, 5, "them excludes _d")
	for _, bad := range []string{"", "a and", "(a", "a b", "x", "1 of", "2 of zz*", "a | count() > 3", "0 of a", "sel*"} {
		_, err := parseCondition(bad, names)
		require.Error(t, err, bad)
	}
}

// FuzzCondition: any condition string either parses or fails cleanly, and a
// parsed condition evaluates over any search results without panicking.
func FuzzCondition(f *testing.F) {
	for _, s := range []string{"a and not (b or c)", "1 of sel_*", "all of them", "2 of sel_* or not _d", "any of a", "a | count() > 2"} {
		f.Add(s, uint8(5))
	}
	names := []string{"a", "b", "c", "_d", "sel_1x", "sel_2"}
	f.Fuzz(func(t *testing.T, src string, results uint8) {
		n, err := parseCondition(src, names)
		if err != nil {
			return
		}
		_ = n.String(names)
		// search i holds when bit i of results is set: the results are
		// preset in the memo, so no search is evaluated
		c := &evalCtx{memo: make([]int8, len(names))}
		for i := range names {
			c.memo[i] = 1 + int8(results>>i&1)
		}
		c.evalNode(n, make([]*search, len(names)))
	})
}
