package detect_test

import (
	"strings"
	"testing"

	"github.com/edr-lab/edr/detect"
	"github.com/edr-lab/edr/detect/detecttest"
	"github.com/edr-lab/edr/detect/filescan"
	"github.com/edr-lab/edr/detect/ioc"
	"github.com/edr-lab/edr/detect/yara"
	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/recording/artifact"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFileMatcherYARAOnReplayFromArtifactStore(t *testing.T) {
	if !yara.Available {
		t.Skip("built without YARA")
	}
	rules, errs := yara.Compile([]string{"../rules/yara"}, yara.CompileOptions{})
	require.Empty(t, errs)
	sc, err := yara.NewScanner(rules, yara.ScannerOptions{})
	require.NoError(t, err)
	defer sc.Close()
	store, err := artifact.Open(t.TempDir(), artifact.Options{})
	require.NoError(t, err)
	defer store.Close()
	payload := []byte("MZ\x90\x00 demo binary EDR_EXAMPLE_MARKER_STRING_7f3a9c loops forever")
	_, _, err = store.Put(payload)
	require.NoError(t, err)
	d := artifact.Sum(payload)

	fm := detect.NewFileMatcher(filescan.New(filescan.Options{Store: store, YARA: sc}), detect.SeverityHigh)
	sink := detecttest.NewSink(t)
	eng, err := detect.New(detect.Options{Files: fm, Sink: sink, MatchDebug: detect.MatchDebugFull, Replayed: true})
	require.NoError(t, err)
	evs := []*event.Event{
		detecttest.Sysmon(1, t0, "WS1", "ProcessGuid", "{00000000-0000-0000-0000-0000000000aa}", "ProcessId", "4242",
			"Image", `C:\Users\bob\Desktop\yara_demo.exe`, "CommandLine", "yara_demo.exe",
			"Hashes", event.FormatHashes(d.SHA1, d.MD5, d.SHA256, "")),
		// Not in the store: counted as missing, no alert.
		detecttest.Sysmon(1, t0+1, "WS1", "Image", `C:\Users\bob\x.exe`, "Hashes", "SHA256="+strings.Repeat("AB", 32)),
		// Not a process start: not scanned.
		detecttest.Sysmon(11, t0+2, "WS1", "Image", `C:\Users\bob\x.exe`, "TargetFilename", `C:\x`),
	}
	for _, ev := range evs {
		require.NoError(t, eng.Process(ev))
	}
	require.Equal(t, []string{"ExampleMarkerString"}, sink.Rules())
	assert.Equal(t, detect.SeverityCritical, sink.Alerts[0].Severity)
	line := string(sink.Lines[0])
	assert.Contains(t, line, `"yara":{"rule":"ExampleMarkerString","namespace":"default","file":"C:\\Users\\bob\\Desktop\\yara_demo.exe","sha256":"`+d.SHA256+`","strings":[{"identifier":"$marker","offset":`)
	assert.Contains(t, line, `"rule":{"id":"default:ExampleMarkerString","name":"ExampleMarkerString","description":"Example rule: matches files that contain the edr test marker string","author":["edr project"]`)
	assert.Equal(t, uint64(1), fm.Outcome[filescan.Scanned])
	assert.Equal(t, uint64(1), fm.Outcome[filescan.Missing])
	assert.Equal(t, []detect.EngineCount{{Name: "files", Hits: 1}}, eng.Stats().HitsByEngine)
}

func TestLiveFileResultsEmittedWithContext(t *testing.T) {
	fm := detect.NewFileMatcher(filescan.New(filescan.Options{}), detect.SeverityHigh)
	sink := detecttest.NewSink(t)
	eng, err := detect.New(detect.Options{Sink: sink})
	require.NoError(t, err)
	start := detecttest.Sysmon(1, t0, "WS1", "ProcessGuid", "{00000000-0000-0000-0000-0000000000bb}", "ProcessId", "77",
		"Image", `C:\Users\bob\eicar.exe`, "CommandLine", "eicar.exe", "ParentImage", `C:\Windows\explorer.exe`)
	require.NoError(t, eng.Process(start))
	// The background check filled Hashes and found an EICAR hash and a YARA rule.
	r := filescan.Result{Path: `C:\Users\bob\eicar.exe`, Field: "Image", Outcome: filescan.Scanned, Filled: true,
		IOC:  []ioc.Hit{{Kind: ioc.KindMD5, Indicator: "44d88612fea8a8f36de82e1278abb02f", Field: "Hashes", Value: "44d88612fea8a8f36de82e1278abb02f", Comment: "EICAR"}},
		YARA: []yara.Match{{Rule: "EICAR_Test", Namespace: "default"}}}
	checked := start.Clone()
	checked.Set(event.FHashes, "MD5=44D88612FEA8A8F36DE82E1278ABB02F")
	require.NoError(t, eng.Emit(checked, fm.Hits(r, nil)))
	assert.Equal(t, []string{"IOC match: md5", "EICAR_Test"}, sink.Rules())
	assert.Equal(t, detect.SeverityHigh, sink.Alerts[0].Severity)
	assert.Equal(t, detect.SeverityCritical, sink.Alerts[1].Severity)
	assert.Contains(t, string(sink.Lines[1]), `"parent":{"executable":"C:\\Windows\\explorer.exe"`)
	// Without Filled, the event carried the hashes and the IOC matcher has
	// already reported them: only YARA remains.
	r.Filled = false
	assert.Len(t, fm.Hits(r, nil), 1)
}
