package etw

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edr-lab/edr/capture"
)

func TestEventIDFilterLayout(t *testing.T) {
	// FilterIn=1, Reserved=0, Count=3 (LE), ids 1, 2, 5 (LE): the layout of
	// EVENT_FILTER_EVENT_ID, 4 + 2×3 bytes.
	assert.Equal(t, []byte{1, 0, 3, 0, 1, 0, 2, 0, 5, 0}, eventIDFilter([]uint16{1, 2, 5}))
	assert.Equal(t, []byte{1, 0, 0, 0}, eventIDFilter(nil))
}

func TestEnableFiltersRegistryValueData(t *testing.T) {
	var reg *capture.Provider
	for i := range capture.Providers {
		if capture.Providers[i].RegistryCapturedData {
			require.Nil(t, reg, "one provider asks for value data")
			reg = &capture.Providers[i]
		}
	}
	require.NotNil(t, reg)
	assert.Equal(t, capture.KernelRegistry, reg.GUID)
	fs := enableFilters(reg.EventIDs, true)
	require.Len(t, fs, 2, "the event-ID scope travels with the value-data request (enabling replaces in full)")
	assert.Equal(t, filterTypeEventID, fs[0].typ)
	assert.Equal(t, eventIDFilter(reg.EventIDs), fs[0].data)
	assert.Equal(t, filterTypeNone, fs[1].typ)
	assert.Equal(t, []byte{2, 0, 0, 0}, fs[1].data)

	assert.Empty(t, enableFilters(nil, false))
	only := enableFilters(nil, true)
	require.Len(t, only, 1)
	assert.Equal(t, filterTypeNone, only[0].typ)
}
