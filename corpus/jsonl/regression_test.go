package jsonl

import (
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edr-lab/edr/corpus/evtx"
	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/internal/testutil"
)

// TestSigmaRegressionJSONMatchesEVTX: every event of each SigmaHQ
// regression .json (evtx_dump's rendering) equals, field by field, the
// record of the .evtx beside it with the same EventRecordID, once both are
// imported. evtx_dump prints times with microseconds, so times are
// compared to the microsecond.
func TestSigmaRegressionJSONMatchesEVTX(t *testing.T) {
	dir := testutil.Corpus(t, "sigma/regression_data")
	var jsons []string
	require.NoError(t, filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".json") {
			jsons = append(jsons, p)
		}
		return err
	}))
	require.NotEmpty(t, jsons)
	compared := 0
	for _, jp := range jsons {
		var fromJSON []*event.Event
		st, err := ReadFile(jp, Options{}, func(e *event.Event) error {
			fromJSON = append(fromJSON, e.Clone())
			return nil
		})
		require.NoError(t, err, jp)
		require.Zero(t, st.Failed, "%s: %v", jp, st.Failures)
		byID := map[uint64]*event.Event{}
		ep := strings.TrimSuffix(jp, ".json") + ".evtx"
		est, err := evtx.ReadFile(ep, func(e *event.Event) error {
			byID[e.RecordID] = e.Clone()
			return nil
		})
		require.NoError(t, err, ep)
		require.Zero(t, est.Failed, ep)
		for _, je := range fromJSON {
			ee, ok := byID[je.RecordID]
			if !assert.True(t, ok, "%s: record %d not in the EVTX", jp, je.RecordID) {
				continue
			}
			assertSameEvent(t, jp, ee, je)
			compared++
		}
	}
	t.Logf("%d events compared across %d files", compared, len(jsons))
	assert.GreaterOrEqual(t, compared, 150)
}

// assertSameEvent compares an EVTX-imported event with a JSON-imported one.
func assertSameEvent(t *testing.T, what string, ee, je *event.Event) {
	t.Helper()
	assert.Equal(t, ee.Channel, je.Channel, what)
	assert.Equal(t, ee.Provider, je.Provider, what)
	assert.Equal(t, ee.EventID, je.EventID, what)
	assert.Equal(t, ee.Host, je.Host, what)
	assert.Equal(t, ee.Flags&event.FlagNoChannel, je.Flags&event.FlagNoChannel, what)
	assert.Equal(t, time.Unix(0, ee.Time).UnixMicro(), time.Unix(0, je.Time).UnixMicro(), what)
	want, got := fieldMap(ee), fieldMap(je)
	// evtx_dump's JSON drops trailing whitespace of values ("cmd.exe\" "
	// becomes "cmd.exe\""); the EVTX keeps what Windows wrote.
	for k, v := range got {
		if w, ok := want[k]; ok && w != v && strings.TrimRight(w, " \t\r\n") == v {
			got[k] = w
		}
	}
	assert.Equal(t, want, got, "%s record %d", what, ee.RecordID)
}

// fieldMap is every schema field and key/value entry of an event.
func fieldMap(e *event.Event) map[string]string {
	m := map[string]string{}
	e.Range(func(id event.FieldID, v string) bool {
		m[id.Name()] = v
		return true
	})
	for _, kv := range e.Extra() {
		m["+"+kv.Key] = kv.Value
	}
	return m
}
