package decode

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edr-lab/edr/corpus/jsonl"
	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/internal/testutil"
)

type chanID struct {
	channel string
	id      uint16
}

// TestEventLogRecordsSameBuilder reads the real Event Log records of
// shared/etw/otrf-event-log through the importer (the same Windows-event
// builder the decoders use) and checks channel and id line by line; then,
// for the events ETW also delivers (TaskScheduler 106, PowerShell 4103),
// that the decoded ETW event lands on the same channel, provider and
// schema fields as the Event Log rendering.
func TestEventLogRecordsSameBuilder(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(testutil.Shared(t, "etw/otrf-event-log"), "*.jsonl"))
	require.NoError(t, err)
	require.Len(t, files, 7)
	seen := map[chanID][]*event.Event{}
	total := 0
	for _, f := range files {
		data, err := os.ReadFile(f)
		require.NoError(t, err)
		type line struct {
			EventID uint16
			Channel string
		}
		var lines []line
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 1<<22)
		for sc.Scan() {
			var l line
			require.NoError(t, json.Unmarshal(sc.Bytes(), &l), f)
			lines = append(lines, l)
		}
		var evs []*event.Event
		st, err := jsonl.ReadFile(f, jsonl.Options{}, func(e *event.Event) error {
			evs = append(evs, e.Clone())
			return nil
		})
		require.NoError(t, err, f)
		assert.Zero(t, st.Failed, f)
		require.Len(t, evs, len(lines), f)
		for i, e := range evs {
			assert.Equal(t, lines[i].EventID, e.EventID, "%s:%d", f, i+1)
			assert.Equal(t, event.CanonicalChannel(lines[i].Channel), e.Channel, "%s:%d", f, i+1)
			k := chanID{e.Channel, e.EventID}
			seen[k] = append(seen[k], e)
		}
		total += len(evs)
	}
	assert.Equal(t, 477, total)
	assert.NotEmpty(t, seen[chanID{event.ChannelSystem, 7045}])
	assert.NotEmpty(t, seen[chanID{event.ChannelSecurity, 4698}])

	for _, fx := range []string{"task_registered.json", "powershell_module_logging.json"} {
		got, _ := decodeAll(t, New(Options{}), loadFixture(t, fx).Records)
		require.Len(t, got, 1)
		e := got[0].ev
		logs := seen[chanID{e.Channel, e.EventID}]
		require.NotEmpty(t, logs, "%s: no Event Log record on %s %d", fx, e.Channel, e.EventID)
		assert.Equal(t, logs[0].Provider, e.Provider, fx)
		def := e.Def()
		require.NotNil(t, def, fx)
		compared := 0
		for _, f := range def.Fields {
			if e.Has(f.ID) {
				compared++
				assert.True(t, logs[0].Has(f.ID), "%s: ETW fills %s, the Event Log record does not", fx, f.ID.Name())
			}
		}
		assert.Equal(t, 2, compared, "%s: TaskName+UserContext / ContextInfo+Payload", fx)
	}
}
