package raw

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGUIDRoundTrip(t *testing.T) {
	g, err := ParseGUID("{22FB2CD6-0E7B-422B-A0C7-2FAD1FD0E716}")
	require.NoError(t, err)
	assert.Equal(t, "22fb2cd6-0e7b-422b-a0c7-2fad1fd0e716", g.String())
	assert.Equal(t, byte(0x22), g[0])
	for _, bad := range []string{"", "22fb2cd6-0e7b-422b-a0c7-2fad1fd0e71", "22fb2cd6x0e7b-422b-a0c7-2fad1fd0e716", "zzfb2cd6-0e7b-422b-a0c7-2fad1fd0e716"} {
		_, err := ParseGUID(bad)
		assert.Error(t, err, bad)
	}
}

func TestRecordBagAndReset(t *testing.T) {
	r := Get()
	defer Put(r)
	r.AddNum("a", I8, 0xff)
	r.AddBytes("b", Binary, []byte{1, 2})
	r.AddString("c", SID, "S-1-5-18")
	assert.Equal(t, int64(-1), r.Prop("a").Int())
	b, ok := r.Bytes("b")
	assert.True(t, ok)
	assert.Equal(t, []byte{1, 2}, b)
	_, ok = r.Uint("c")
	assert.False(t, ok, "a string is not numeric")
	var c Record
	c.CopyFrom(r)
	r.Reset()
	assert.Empty(t, r.Props)
	b, _ = c.Bytes("b")
	assert.Equal(t, []byte{1, 2}, b, "a copy survives the source's reset")
}

func TestRecordAddNoAllocWhenWarm(t *testing.T) {
	r := &Record{}
	data := []byte{1, 2, 3, 4}
	fill := func() {
		r.Reset()
		r.AddNum("KeyObject", Pointer, 1)
		r.AddString("ValueName", String, "Run")
		r.AddBytes("CapturedData", Binary, data)
		_, _ = r.Uint("KeyObject")
	}
	fill()
	assert.Zero(t, testing.AllocsPerRun(100, fill))
}

// TestFileTimeInRange: the bounds convert to Unix nanoseconds and back
// exactly; one tick beyond either does not fit.
func TestFileTimeInRange(t *testing.T) {
	for _, ft := range []int64{MinFileTime, MaxFileTime, fileTimeEpoch} {
		require.True(t, FileTimeInRange(ft), "%d", ft)
		ns := FileTimeToUnixNano(ft)
		require.Equal(t, ft, ns/100+fileTimeEpoch, "%d", ft)
		require.Equal(t, ns < 0, ft < fileTimeEpoch, "%d wrapped", ft)
	}
	for _, ft := range []int64{MinFileTime - 1, MaxFileTime + 1, math.MinInt64, math.MaxInt64, -4459060090898233457} {
		require.False(t, FileTimeInRange(ft), "%d", ft)
	}
}
