package recording

import (
	"fmt"
	"hash/maphash"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// indexAll adds each of vals to dict through x unless present and returns
// the index of each value.
func indexAll(x *strIndex, dict *[]string, vals []string) []int32 {
	var out []int32
	for _, v := range vals {
		i, at := x.lookup(*dict, v)
		if i < 0 {
			i = int32(len(*dict))
			*dict = append(*dict, v)
			x.put(at, i)
		}
		out = append(out, i)
	}
	return out
}

// TestStrIndex: every string gets the index of its first occurrence, across
// table growth, and after reset the index is empty.
func TestStrIndex(t *testing.T) {
	var x strIndex
	var dict []string
	var vals []string
	want := map[string]int32{}
	for i := 0; i < 20000; i++ {
		v := fmt.Sprint("value-", i*7919%5003) // repeats, in no order
		vals = append(vals, v)
		if _, ok := want[v]; !ok {
			want[v] = int32(len(want))
		}
	}
	vals = append(vals, "") // the empty string is a value like any other
	want[""] = int32(len(want))
	got := indexAll(&x, &dict, vals)
	for k, v := range vals {
		require.Equal(t, want[v], got[k], "value %q", v)
		assert.Equal(t, v, dict[got[k]])
	}
	assert.Len(t, dict, len(want))
	assert.Equal(t, len(want), x.n)

	x.reset()
	dict = dict[:0]
	i, _ := x.lookup(dict, "value-1")
	assert.Equal(t, int32(-1), i, "reset empties the index")
	assert.Equal(t, []int32{0, 1, 0}, indexAll(&x, &dict, []string{"b", "a", "b"}))
}

// TestStrIndexHashCollision: two different strings whose 32 hash bits are
// equal get different indexes (the slot's hash bits are not taken for
// equality).
func TestStrIndexHashCollision(t *testing.T) {
	var x strIndex
	var dict []string
	indexAll(&x, &dict, []string{"seed"})
	seen := map[uint32]string{}
	var a, b string
	for i := 0; a == ""; i++ {
		s := fmt.Sprint("s", i)
		h := uint32(maphash.String(x.seed, s))
		if o, ok := seen[h]; ok {
			a, b = o, s
		}
		seen[h] = s
	}
	got := indexAll(&x, &dict, []string{a, b, a, b})
	assert.Equal(t, []int32{1, 2, 1, 2}, got)
	assert.Equal(t, []string{"seed", a, b}, dict)
}

// BenchmarkStrIndex against a map[string]int32 on dictionary-column-like
// values: a few hundred distinct strings, mostly hits.
func BenchmarkStrIndex(b *testing.B) {
	vals := make([]string, 4096)
	for i := range vals {
		vals[i] = fmt.Sprintf("C:\\Windows\\System32\\svc%03d.exe", i*7919%300)
	}
	b.Run("strIndex", func(b *testing.B) {
		var x strIndex
		var dict []string
		for i := 0; i < b.N; i++ {
			if i%len(vals) == 0 {
				x.reset()
				dict = dict[:0]
			}
			v := vals[i%len(vals)]
			if j, at := x.lookup(dict, v); j < 0 {
				dict = append(dict, v)
				x.put(at, int32(len(dict)-1))
			}
		}
	})
	b.Run("map", func(b *testing.B) {
		m := map[string]int32{}
		var dict []string
		for i := 0; i < b.N; i++ {
			if i%len(vals) == 0 {
				clear(m)
				dict = dict[:0]
			}
			v := vals[i%len(vals)]
			if _, ok := m[v]; !ok {
				m[v] = int32(len(dict))
				dict = append(dict, v)
			}
		}
	})
}
