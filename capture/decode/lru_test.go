package decode

import (
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
)

func TestLRUEvictsLeastRecentlyUsed(t *testing.T) {
	ev := map[string]uint64{}
	l := newLRU(2, "x", ev)
	l.put(1, "a")
	l.put(2, "b")
	_, _ = l.get(1) // 2 is now the least recent
	l.put(3, "c")
	_, ok := l.get(2)
	assert.False(t, ok)
	v, ok := l.get(1)
	assert.True(t, ok)
	assert.Equal(t, "a", v)
	assert.Equal(t, uint64(1), ev["x"])
	l.del(1)
	l.put(4, "d") // reuses the freed slot, no eviction
	assert.Equal(t, uint64(1), ev["x"])
	assert.Equal(t, 2, l.len())
	l.put(3, "c2")
	v, _ = l.get(3)
	assert.Equal(t, "c2", v)
}

// An entry must not share memory with the string it was given: those are
// carved from 8 kB slabs, and a long-lived entry holding one keeps the
// whole slab alive (the live heap grew with run length).
func TestLRUValuesDoNotPinTheirSource(t *testing.T) {
	slab := strings.Repeat("x", 8<<10) + "C:\\Windows\\a.txt"
	v := slab[8<<10:]
	l := newLRU(4, "x", map[string]uint64{})
	l.put(1, v)
	l.put(2, "y")
	l.put(2, v) // an update copies too
	for _, k := range []uint64{1, 2} {
		got, ok := l.get(k)
		assert.True(t, ok)
		assert.Equal(t, v, got)
		assert.NotEqual(t, uintptr(unsafe.Pointer(unsafe.StringData(v))), uintptr(unsafe.Pointer(unsafe.StringData(got))), "key %d shares the slab", k)
	}
}
