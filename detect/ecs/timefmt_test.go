package ecs

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/edr-lab/edr/event"
	"github.com/stretchr/testify/require"
)

// checkTimeFormats requires the direct renderings to be time.Format's.
func checkTimeFormats(t *testing.T, ns int64) {
	tm := time.Unix(0, ns).UTC()
	require.Equal(t, tm.Format("2006-01-02T15:04:05.000Z"), formatTimestamp(ns), ns)
	require.Equal(t, tm.Format(time.RFC3339Nano), formatRFC3339Nano(ns), ns)
	require.Equal(t, event.FormatFileTime(ns), formatFileTime(ns), ns)
}

func TestTimeFormatsMatchTimeFormat(t *testing.T) {
	for _, ns := range []int64{0, 1, -1, 999, 1_000_000, 1_700_000_000_000_000_000, 1_700_000_000_123_400_000,
		1_700_000_000_000_000_100, math.MinInt64, math.MaxInt64} {
		checkTimeFormats(t, ns)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 100000 {
		ns := rng.Int64() - math.MaxInt64/2
		switch rng.IntN(3) { // whole seconds and milliseconds too, where trailing zeros are cut
		case 0:
			ns -= ns % 1e9
		case 1:
			ns -= ns % 1e6
		}
		checkTimeFormats(t, ns)
	}
}

func FuzzTimeFormats(f *testing.F) {
	f.Add(int64(1_700_000_000_123_456_789))
	f.Fuzz(func(t *testing.T, ns int64) { checkTimeFormats(t, ns) })
}
