package jsonl

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edr-lab/edr/corpus/evtx"
	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/internal/testutil"
)

// TestSecurityDatasets reads every archive of the OTRF Security-Datasets
// (inside the zips): no document fails, every event has a channel, an
// EventID, a host and a time, and the Sysmon ones carry Sysmon's renderings.
func TestSecurityDatasets(t *testing.T) {
	dir := testutil.Corpus(t, "security-datasets")
	var zips []string
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".zip") {
			zips = append(zips, p)
		}
		return err
	}))
	require.NotEmpty(t, zips)
	var total Stats
	perChannel := map[string]int{}
	for _, z := range zips {
		st, err := ReadFile(z, Options{}, func(e *event.Event) error {
			perChannel[e.Channel]++
			if e.Channel == "" || e.EventID == 0 || e.Host == "" || e.Time == 0 {
				t.Errorf("%s: incomplete header: channel %q id %d host %q time %d", z, e.Channel, e.EventID, e.Host, e.Time)
			}
			if e.Channel == event.ChannelSysmon {
				for _, f := range []event.FieldID{event.FProcessGuid, event.FParentProcessGuid} {
					if v, ok := e.Get(f); ok && v != strings.ToLower(v) {
						t.Errorf("%s: %s not in the Windows rendering: %q", z, f.Name(), v)
					}
				}
			}
			return nil
		})
		require.NoError(t, err, z)
		assert.Zero(t, st.Failed, "%s: %v", z, st.Failures)
		assert.Zero(t, st.NoTime, z)
		total.Add(st, 10)
	}
	t.Logf("%d archives: %d documents, %d events, dialects %v, channels %v", len(zips), total.Documents, total.Records, total.Dialects, perChannel)
	assert.Equal(t, total.Documents, total.Records)
	assert.Greater(t, perChannel[event.ChannelSysmon], 0)
	assert.Greater(t, perChannel[event.ChannelSecurity], 0)
}

// TestJSONSnapshots: the evtx_dump JSON renderings in expected_snapshots
// (the Rust crate's) agree with the EVTX records they were rendered from,
// both imported. Times compare to the microsecond (the crate's precision)
// and trailing whitespace, which evtx_dump's JSON drops, is tolerated.
func TestJSONSnapshots(t *testing.T) {
	dir := testutil.Corpus(t, "evtx-parser-samples")
	srcs := map[string]string{}
	raw, err := os.ReadFile(filepath.Join(dir, "expected_snapshots", "SNAPSHOT_SOURCES.tsv"))
	require.NoError(t, err)
	for _, line := range strings.Split(string(raw), "\n") {
		if cols := strings.Split(line, "\t"); len(cols) >= 2 && !strings.HasPrefix(line, "#") {
			srcs[cols[0]] = cols[1]
		}
	}
	snaps, _ := filepath.Glob(filepath.Join(dir, "expected_snapshots", "*__event_json_*.snap"))
	compared := 0
	for _, snap := range snaps {
		base := strings.TrimSuffix(filepath.Base(snap), ".snap")
		test := "test_" + strings.TrimPrefix(strings.TrimSuffix(base, "-2"), "test_record_samples__")
		body, err := os.ReadFile(snap)
		require.NoError(t, err)
		parts := strings.SplitN(string(body), "\n---\n", 2)
		require.Len(t, parts, 2, snap)
		if !strings.HasPrefix(strings.TrimSpace(parts[1]), "{") {
			continue // an XML rendering (checked in corpus/evtx)
		}
		src := filepath.Join(dir, "samples", srcs[test])
		if _, err := os.Stat(src); srcs[test] == "" || err != nil {
			t.Logf("%s: sample %q not in the corpus, skipped", base, srcs[test])
			continue
		}
		evs, st := decodeAll(t, parts[1])
		require.Len(t, evs, 1, "%s: %v", base, st.Failures)
		je := evs[0]
		var ee *event.Event
		_, err = evtx.ReadFile(src, func(e *event.Event) error {
			if ee == nil && e.RecordID == je.RecordID {
				ee = e.Clone()
			}
			return nil
		})
		require.NoError(t, err)
		require.NotNil(t, ee, "%s: record %d not in %s", base, je.RecordID, src)
		what := base + " (record " + strconv.FormatUint(je.RecordID, 10) + ")"
		if strings.Contains(base, "multiple_nodes_same_name") {
			// The crate renames repeated elements itself (Header_1 … per
			// parent, Action_1) before they reach the importer, so names of
			// repeated elements differ; compare the values under each name
			// with the repeat suffixes removed.
			assert.Equal(t, baseNames(fieldMap(ee)), baseNames(fieldMap(je)), what)
		} else {
			assertSameEvent(t, what, ee, je)
		}
		compared++
	}
	assert.GreaterOrEqual(t, compared, 6)
}

var repeatSuffix = regexp.MustCompile(`_\d+`)

// baseNames groups values by name without repeat suffixes, sorted.
func baseNames(m map[string]string) map[string][]string {
	out := map[string][]string{}
	for k, v := range m {
		b := repeatSuffix.ReplaceAllString(k, "")
		out[b] = append(out[b], v)
	}
	for _, vs := range out {
		sort.Strings(vs)
	}
	return out
}
