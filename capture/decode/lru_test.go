package decode

import (
	"testing"

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
