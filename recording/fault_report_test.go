package recording

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// checkRecoveryReport checks the writer's report of one WAL recovered from
// a damaged byte at off: events recovered, bytes kept aside and where.
func checkRecoveryReport(t *testing.T, off int, st WriterStats, walPath string, events, keptAside, keptFrom int64) {
	t.Helper()
	require.Len(t, st.Recovery, 1, "offset %d", off)
	r := st.Recovery[0]
	assert.Equal(t, walPath, r.WAL)
	assert.Equal(t, events, r.Events, "offset %d", off)
	assert.Equal(t, events, st.RecoveredEvents, "offset %d", off)
	assert.Equal(t, keptAside, r.KeptAside, "offset %d", off)
	assert.Equal(t, keptAside, st.KeptAsideBytes, "offset %d", off)
	assert.Equal(t, off < 8, r.MagicDamaged, "offset %d", off)
	if keptAside == 0 {
		assert.Empty(t, r.BadFile)
		return
	}
	assert.Equal(t, walPath+".bad", r.BadFile)
	assert.Equal(t, keptFrom, r.KeptFrom, "offset %d", off)
	assert.NotEmpty(t, r.Reason, "offset %d", off)
}
