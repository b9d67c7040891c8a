package ioc

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// filterCase loads n indicators of every filtered kind and returns the set
// and, per indicator, an event value that must hit it.
func filterCase(t *testing.T, n int) (*Set, []*filterProbe) {
	r := rand.New(rand.NewPCG(7, 12))
	var hashes, ips, domains strings.Builder
	var probes []*filterProbe
	hex := func(bytes int) string {
		b := make([]byte, bytes)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return fmt.Sprintf("%x", b)
	}
	for i := 0; i < n; i++ {
		for _, alg := range []struct {
			name  string
			bytes int
		}{{"MD5", 16}, {"SHA1", 20}, {"SHA256", 32}} {
			d := hex(alg.bytes)
			hashes.WriteString(d + "\n")
			probes = append(probes, &filterProbe{field: "Hashes", value: "IMPHASH=" + hex(16) + "," + alg.name + "=" + strings.ToUpper(d)})
		}
		v4 := fmt.Sprintf("%d.%d.%d.%d", r.IntN(256), r.IntN(256), r.IntN(256), r.IntN(256))
		v6 := fmt.Sprintf("2001:db8:%x::%x", r.IntN(65536), r.IntN(65536))
		ips.WriteString(v4 + "\n" + v6 + "\n")
		probes = append(probes, &filterProbe{field: "DestinationIp", value: v4}, &filterProbe{field: "SourceIp", value: "::ffff:" + v4},
			&filterProbe{field: "DestinationIp", value: v6})
		exact := fmt.Sprintf("h%d.example-%d.com", i, r.IntN(1000))
		suffix := fmt.Sprintf("s%d.corp%d.net", i, r.IntN(1000))
		domains.WriteString(exact + "\n*." + suffix + "\n")
		probes = append(probes, &filterProbe{field: "QueryName", value: strings.ToUpper(exact) + "."},
			&filterProbe{field: "QueryName", value: suffix}, &filterProbe{field: "DestinationHostname", value: "a.b.c." + suffix})
	}
	s, errs := Load(writeLists(t, hashes.String(), ips.String(), domains.String(), ""), Options{})
	require.Empty(t, errs)
	return s, probes
}

type filterProbe struct{ field, value string }

// The filters in front of the hash, address and domain maps only save
// probes: every indicator still matches the values that name it, and
// values that name none match what the maps alone say.
func TestFiltersNeverHideAHit(t *testing.T) {
	s, probes := filterCase(t, 3000)
	require.NotNil(t, s.hashes.filter.bits)
	require.NotNil(t, s.domains.suffixF.bits)
	unfiltered := *s
	unfiltered.hashes.filter, unfiltered.ips.filter = bitFilter{}, bitFilter{}
	unfiltered.domains.exactF, unfiltered.domains.suffixF = bitFilter{}, bitFilter{}
	r := rand.New(rand.NewPCG(1, 2))
	for _, p := range probes {
		hits := s.Match(sysmon(1, p.field, p.value), nil)
		require.Len(t, hits, 1, "%s=%s", p.field, p.value)
		// A near miss: the same value with one character changed.
		b := []byte(p.value)
		b[len(b)-1-r.IntN(4)] ^= 1
		ev := sysmon(1, p.field, string(b))
		assert.Equal(t, unfiltered.Match(ev, nil), s.Match(ev, nil), "%s=%s", p.field, b)
	}
}

// A filter that lets every key through would be correct and useless.
func TestFilterRejectsMostAbsentKeys(t *testing.T) {
	f := newBitFilter(10000)
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 10000; i++ {
		f.add(r.Uint64())
	}
	passed := 0
	for i := 0; i < 100000; i++ {
		if f.mayHave(r.Uint64()) {
			passed++
		}
	}
	assert.Less(t, passed, 10000, "more than 10 %% false positives at %d bits per key", filterBitsPerKey)
}
