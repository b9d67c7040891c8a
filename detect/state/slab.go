package state

// slab hands out zero values of T from allocations of many, so the state
// stage allocates per slab, not per entry. What it handed out is never
// given back to it: its owner keeps removed entries for reuse.
type slab[T any] []T

// next returns a zero T, allocating n more when the slab is used up.
func (s *slab[T]) next(n int) *T {
	if len(*s) == 0 {
		*s = make([]T, n)
	}
	v := &(*s)[0]
	*s = (*s)[1:]
	return v
}
