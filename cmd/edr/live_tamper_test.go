package main

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edr-lab/edr/capture"
	"github.com/edr-lab/edr/capture/live"
	"github.com/edr-lab/edr/capture/raw"
	"github.com/edr-lab/edr/capture/tamper"
	"github.com/edr-lab/edr/detect/sink"
)

// stoppedProbe reports sessions stopped and providers disabled as told.
type stoppedProbe struct {
	stopped  map[string]bool
	disabled map[raw.ProviderID]bool
}

func (p stoppedProbe) Query(session string, ids []raw.ProviderID) (tamper.State, error) {
	if p.stopped[session] {
		return tamper.State{}, nil
	}
	st := tamper.State{Present: true, Enabled: map[raw.ProviderID]bool{}}
	for _, id := range ids {
		st.Enabled[id] = !p.disabled[id]
	}
	return st, nil
}

// TestTamperFindingsRaiseAlerts: a stopped session and a disabled
// provider, as the poller finds them, become alerts through live's alert
// path (counted in the status, written as ECS by the alert writer) and
// error records in the operational log; a recovery is only logged.
func TestTamperFindingsRaiseAlerts(t *testing.T) {
	kp, kr := capture.ProviderByGUID(capture.KernelProcess), capture.ProviderByGUID(capture.KernelRegistry)
	want := []tamper.Want{
		{Session: "edr-process", Providers: []tamper.Provider{{Name: kp.Name, GUID: kp.GUID}}},
		{Session: "edr-bulk", Providers: []tamper.Provider{{Name: kr.Name, GUID: kr.GUID}}},
	}
	probe := stoppedProbe{stopped: map[string]bool{"edr-process": true}, disabled: map[raw.ProviderID]bool{kr.GUID: true}}
	p := tamper.New(probe, want)

	var out, logs bytes.Buffer
	w := sink.NewStreamWriter(&out, sink.WriterOptions{Queue: 16})
	lv := live.New(live.Options{})
	to := lv.AlertSink(w)
	log := slog.New(slog.NewTextHandler(&logs, nil))
	fs, errs := p.Check()
	require.Empty(t, errs)
	require.Len(t, fs, 2)
	for _, f := range fs {
		reportTamper(log, to, f)
	}
	probe.stopped["edr-process"] = false
	delete(probe.disabled, kr.GUID)
	fs, _ = p.Check()
	require.Len(t, fs, 2) // both restored
	for _, f := range fs {
		reportTamper(log, to, f)
	}
	require.NoError(t, w.Close())
	assert.Equal(t, uint64(2), lv.Snapshot().Alerts)

	lines := bytes.Split(bytes.TrimSpace(out.Bytes()), []byte("\n"))
	require.Len(t, lines, 2)
	var docs []map[string]any
	for _, l := range lines {
		var d map[string]any
		require.NoError(t, json.Unmarshal(l, &d), string(l))
		docs = append(docs, d)
	}
	assert.Contains(t, string(lines[0]), `"edr-tamper-etw-session-stopped"`)
	assert.Contains(t, string(lines[0]), `edr-process`)
	assert.Contains(t, string(lines[1]), `"edr-tamper-etw-provider-disabled"`)
	assert.Contains(t, string(lines[1]), `Microsoft-Windows-Kernel-Registry`)
	assert.Contains(t, string(lines[1]), `70eb4f03-c1de-4f73-a051-33d13d5413bd`)
	for _, l := range lines {
		assert.Contains(t, string(l), `"severity":73`, "high")
		assert.Contains(t, string(l), `"replayed":false`)
	}
	assert.Equal(t, 2, bytes.Count(logs.Bytes(), []byte("level=ERROR msg=\"ETW session tampered with\"")), logs.String())
	assert.Equal(t, 2, bytes.Count(logs.Bytes(), []byte("ETW session watch: restored")), logs.String())
}
