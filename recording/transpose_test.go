package recording

import (
	"testing"

	"github.com/edr-lab/edr/event"
	"github.com/stretchr/testify/require"
)

// chunkDumps decodes the first chunk of a segment's first row group and
// materializes its rows in the given order (a permutation of them),
// returning each row's event dump by row.
func chunkDumps(t *testing.T, path string, order func(n int) []int) []string {
	t.Helper()
	s, err := openSegFile(path, fullData)
	require.NoError(t, err)
	defer s.close()
	d, err := newRGDecoder(s, 0, nil)
	require.NoError(t, err)
	defer d.close()
	ch := new(chunk)
	require.NoError(t, d.decode(ch))
	out := make([]string, ch.n)
	var e event.Event
	for _, r := range order(ch.n) {
		ch.event(r, &e, "")
		out[r] = dump(&e)
	}
	return out
}

// TestChunkEventsAnyRowOrder: a chunk's entries are filled a block of
// rows at a time as events need them; materializing its rows backwards
// or jumping between blocks gives the same events as in row order (a
// segment not sorted by time is read out of order), folded columns
// included.
func TestChunkEventsAnyRowOrder(t *testing.T) {
	dir := t.TempDir()
	writeAll(t, dir, WriterOptions{}, synthEvents(7, 1, 3*transposeBlock+100, 0))
	paths, err := listSegments(dir)
	require.NoError(t, err)
	require.Len(t, paths, 1)
	s, err := openSegFile(paths[0], fullData)
	require.NoError(t, err)
	folds := 0
	for _, spec := range s.layout.strs {
		if spec.fold {
			folds++
		}
	}
	s.close()
	require.Positive(t, folds, "no folded column: the test would not cover spellings")

	inOrder := func(n int) []int {
		o := make([]int, n)
		for i := range o {
			o[i] = i
		}
		return o
	}
	want := chunkDumps(t, paths[0], inOrder)
	require.Greater(t, len(want), 2*transposeBlock, "the chunk must span several blocks")
	orders := map[string]func(n int) []int{
		"backwards": func(n int) []int {
			o := inOrder(n)
			for i, j := 0, n-1; i < j; i, j = i+1, j-1 {
				o[i], o[j] = o[j], o[i]
			}
			return o
		},
		// forward across blocks, then back into an earlier one
		"jumping": func(n int) []int {
			var o []int
			seen := make([]bool, n)
			for k := 0; k < n; k++ {
				r := (k * 7919) % n
				if !seen[r] {
					seen[r] = true
					o = append(o, r)
				}
			}
			for r := range seen {
				if !seen[r] {
					o = append(o, r)
				}
			}
			return o
		},
		"last block first": func(n int) []int {
			o := []int{n - 1}
			for r := 0; r < n-1; r++ {
				o = append(o, r)
			}
			return o
		},
	}
	for name, order := range orders {
		got := chunkDumps(t, paths[0], order)
		for r := range want {
			require.Equal(t, want[r], got[r], "%s: row %d", name, r)
		}
	}
}
