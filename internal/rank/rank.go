// Package rank orders tallies for summaries: most first, then by key, so
// that equal counts print in the same order on every run (map iteration
// order never shows).
package rank

import (
	"cmp"
	"slices"
)

// Entry is a key and its count.
type Entry[K cmp.Ordered, N cmp.Ordered] struct {
	Key   K
	Count N
}

// ByCount lists m by count (descending), then key (ascending).
func ByCount[K cmp.Ordered, N cmp.Ordered](m map[K]N) []Entry[K, N] {
	out := make([]Entry[K, N], 0, len(m))
	for k, n := range m {
		out = append(out, Entry[K, N]{k, n})
	}
	slices.SortFunc(out, func(a, b Entry[K, N]) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return cmp.Compare(a.Key, b.Key)
	})
	return out
}
