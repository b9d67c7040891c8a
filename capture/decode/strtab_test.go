package decode

import (
	"fmt"
	"net/netip"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edr-lab/edr/event"
)

// FuzzAppendUtcTime: the direct formatter writes what time.Format writes,
// for any time (before 1970 and past the year 9999 included).
func FuzzAppendUtcTime(f *testing.F) {
	for _, ns := range []int64{0, -1, 1791532700140978900, -6213559680_000_000_000, 951782400_123_456_789, -6e18, 9.2e18} {
		f.Add(ns)
	}
	f.Fuzz(func(t *testing.T, ns int64) {
		require.Equal(t, event.FormatUtcTime(ns), string(appendUtcTime(nil, ns)), "%d", ns)
	})
}

// TestStrTab: what the table returns is the text asked for, whatever it
// held (interned, carved, or its caches hit or collided), and stays so.
func TestStrTab(t *testing.T) {
	st := newStrTab()
	var kept []string
	var want []string
	for i := uint64(0); i < 3*internMax; i++ {
		v := i * 7919
		kept = append(kept, st.itoa(v), st.Intern([]byte(event.Itoa(v%500))),
			st.addr(netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 1})), st.utcTime(int64(i)*1e6))
		want = append(want, event.Itoa(v), event.Itoa(v%500),
			netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 1}).String(), event.FormatUtcTime(int64(i)*1e6))
	}
	assert.Equal(t, want, kept)
	assert.Equal(t, "0x1f", st.hex(31))
	assert.Equal(t, `a\b`, st.concat("a", `\`, "b"))
	long := make([]byte, chunkSize)
	assert.Equal(t, string(long), st.Intern(long))
	assert.Equal(t, 0.0, testing.AllocsPerRun(100, func() { st.itoa(123456789); st.Intern([]byte("1")) }))
}

// The table's slabs hold only what it keeps: the times it hands out for
// events (dropped once those are) leave no slab alive beside the key paths
// it interns. When both shared one slab, each interned path kept a whole
// slab of dead times: 2,000 paths, one per 100 events, held ~4.6 MB of
// slabs, and a live run's heap grew with them.
func TestStrTabRetainsOnlyWhatItKeeps(t *testing.T) {
	st := newStrTab()
	retained := func() int64 {
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return int64(m.HeapAlloc)
	}
	before := retained()
	for i := 0; i < 2000; i++ {
		for j := 0; j < 100; j++ {
			st.utcTime(int64(i*100+j) * 1e6)
		}
		st.Intern(fmt.Appendf(nil, `HKLM\SOFTWARE\Vendor\key%d`, i))
	}
	grown := retained() - before
	runtime.KeepAlive(st)
	t.Logf("retained %d bytes", grown)
	require.Equal(t, 2000, len(st.m))
	assert.Less(t, grown, int64(512<<10), "retained %d bytes for 2,000 interned paths", grown)
}
