package rules_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/edr-lab/edr/detect/ioc"
	"github.com/edr-lab/edr/detect/yara"
	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/rules"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestShippedIOCListsLoadWithoutErrors(t *testing.T) {
	set, errs := ioc.Load(ioc.Paths{Hashes: "ioc/hashes.txt", IPs: "ioc/ips.txt", Domains: "ioc/domains.txt", PathsRegex: "ioc/paths_regex.txt"}, ioc.Options{})
	require.Empty(t, errs)
	st := set.Stats()
	assert.Equal(t, 1, st.MD5)
	assert.Equal(t, 1, st.SHA1)
	assert.Equal(t, 1, st.SHA256)
	assert.Equal(t, 5, st.IPs+st.CIDRs)
	assert.Equal(t, 5, st.Domains+st.Suffixes)
	assert.Equal(t, 3, st.Regexes)

	ev := &event.Event{Channel: event.ChannelSysmon, EventID: 1}
	ev.Set(event.FHashes, "MD5=44D88612FEA8A8F36DE82E1278ABB02F")
	ev.Set(event.FImage, `C:\Users\Public\payload.exe`)
	hits := set.Match(ev, nil)
	require.Len(t, hits, 2)
	assert.Equal(t, ioc.KindMD5, hits[0].Kind)
	assert.Equal(t, "EICAR test file (MD5)", hits[0].Comment)
	assert.Equal(t, ioc.KindPath, hits[1].Kind)

	dns := &event.Event{Channel: event.ChannelSysmon, EventID: 22}
	dns.Set(event.FQueryName, "a.b.evil.example")
	dns.Set(event.FQueryResults, "::ffff:203.0.113.9;")
	hits = set.Match(dns, nil)
	var kinds []ioc.Kind
	for _, h := range hits {
		kinds = append(kinds, h.Kind)
	}
	assert.ElementsMatch(t, []ioc.Kind{ioc.KindDomain, ioc.KindIP}, kinds)
}

func TestShippedYARARuleCompilesAndMatchesMarker(t *testing.T) {
	if !yara.Available {
		t.Skip("built without YARA")
	}
	r, errs := yara.Compile([]string{"yara"}, yara.CompileOptions{})
	require.Empty(t, errs)
	require.Equal(t, 1, r.NumRules())
	sc, err := yara.NewScanner(r, yara.ScannerOptions{})
	require.NoError(t, err)
	defer sc.Close()
	m, err := sc.ScanBytes(context.Background(), []byte("MZ....EDR_EXAMPLE_MARKER_STRING_7f3a9c...."), yara.Externals{})
	require.NoError(t, err)
	require.Len(t, m, 1)
	assert.Equal(t, "ExampleMarkerString", m[0].Rule)
	m, err = sc.ScanBytes(context.Background(), []byte("nothing here"), yara.Externals{})
	require.NoError(t, err)
	assert.Empty(t, m)
}

func TestEmbeddedRulesMatchTheTree(t *testing.T) {
	dir, err := rules.Extract(t.TempDir())
	require.NoError(t, err)
	for _, sub := range []string{"sigma", "yara", "ioc"} {
		want, err := os.ReadDir(sub)
		require.NoError(t, err)
		got, err := os.ReadDir(filepath.Join(dir, sub))
		require.NoError(t, err)
		require.Len(t, got, len(want)-countNonRule(want), sub)
		for _, e := range got {
			a, err := os.ReadFile(filepath.Join(sub, e.Name()))
			require.NoError(t, err)
			b, err := os.ReadFile(filepath.Join(dir, sub, e.Name()))
			require.NoError(t, err)
			assert.Equal(t, a, b, e.Name())
		}
	}
}

// countNonRule counts files in a rules directory that are not embedded
// (none today; READMEs would be).
func countNonRule(es []os.DirEntry) int {
	n := 0
	for _, e := range es {
		switch filepath.Ext(e.Name()) {
		case ".yml", ".yar", ".txt":
		default:
			n++
		}
	}
	return n
}
