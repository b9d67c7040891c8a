package rank

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestByCount(t *testing.T) {
	got := ByCount(map[string]int{"b": 2, "a": 2, "c": 5, "d": 1})
	assert.Equal(t, []Entry[string, int]{{"c", 5}, {"a", 2}, {"b", 2}, {"d", 1}}, got)
	assert.Empty(t, ByCount(map[string]uint64{}))
}
