package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/edr-lab/edr/corpus/synth"
	"github.com/edr-lab/edr/detect/state"
	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/recording"
	"github.com/parquet-go/parquet-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// liveStart is the synthetic stream's first event time in these tests.
const liveStart = "2026-03-01 23:59:30"

// readDaily concatenates the daily alert files of dir in date order.
func readDaily(t *testing.T, dir string) ([]byte, []string) {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "alerts.json.*"))
	require.NoError(t, err)
	sort.Strings(names)
	var all []byte
	for _, n := range names {
		b, err := os.ReadFile(n)
		require.NoError(t, err)
		all = append(all, b...)
	}
	return all, names
}

// scenarioEvents maps host and event time of every scenario key event of
// the generator's stream to the scenario's name.
func scenarioEvents(o synth.Options) map[string]string {
	out := map[string]string{}
	g := synth.New(o)
	var e event.Event
	for g.Next(&e) {
		for _, sc := range synth.Scenarios() {
			for _, se := range sc.Events {
				if len(se.Key) > 0 && se.Matches(&e) {
					out[e.Host+"|"+time.Unix(0, e.Time).UTC().Format(time.RFC3339Nano)] = sc.Name
				}
			}
		}
	}
	return out
}

// TestLiveSyntheticRecordsAndReplaysToTheSameAlerts: edr live over the
// synthetic source writes a recording edr inspect reads (every event, no
// loss), raises alerts on every attack scenario of the stream into daily
// files, and edr replay of the recording writes the same alerts byte for
// byte once the replay marker is set back.
func TestLiveSyntheticRecordsAndReplaysToTheSameAlerts(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and replays a recording")
	}
	o := synth.Options{Seed: 9, Hosts: 1, Start: time.Date(2026, 3, 1, 23, 59, 30, 0, time.UTC)}
	o.Events = synth.MinEventsForAllScenarios(o)
	n := strconv.FormatInt(o.Events, 10)
	dir := t.TempDir()
	rec, alerts := filepath.Join(dir, "rec"), filepath.Join(dir, "alerts")
	// The stream crosses midnight: alerts of two days go to two files.
	out, code := edr(t, "live", "--source", "synthetic", "--seed", "9", "--hosts", "1", "--events", n, "--start", liveStart,
		"--for", "5m", "--record", rec, "--alerts", alerts, "--set", "logging.console_output=false", "--set", "logging.directory=")
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "live: "+n+" events in")
	assert.Contains(t, out, "record: "+n+" recorded + 0 failed = "+n)
	assert.Contains(t, out, "detect: "+n+" detected + 0 shed + 0 dropped = "+n)
	checkLiveRecording(t, o, o.Events, rec, alerts, nil)
}

// TestLiveRawSyntheticRecordsAndReplaysToTheSameAlerts: the generator's
// stream as raw ETW records through decode, reorder and enrichment: the
// exit summary accounts for every generated event (raw records or not
// delivered by ETW) and every record (raw layer), the raw layer holds every
// record linked to the recorded event it produced, and the recording
// replays to the same alerts, which hit the scenarios a raw record can show.
func TestLiveRawSyntheticRecordsAndReplaysToTheSameAlerts(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and replays a recording")
	}
	o := synth.Options{Seed: 9, Hosts: 1, Start: time.Date(2026, 3, 1, 23, 59, 30, 0, time.UTC)}
	o.Events = synth.MinEventsForAllScenarios(o)
	dir := t.TempDir()
	rec, alerts := filepath.Join(dir, "rec"), filepath.Join(dir, "alerts")
	out, code := edr(t, "live", "--source", "raw-synthetic", "--seed", "9", "--hosts", "1", "--events", strconv.FormatInt(o.Events, 10),
		"--start", liveStart, "--for", "5m", "--record", rec, "--alerts", alerts, "--set", "logging.console_output=false", "--set", "logging.directory=")
	require.Equal(t, 0, code, out)
	in := summaryCount(t, out, `live: (\d+) events in`)
	eventLog := summaryCount(t, out, `capture: \d+ generated, (\d+) eventlog`)
	notCaptured := summaryCount(t, out, `capture: \d+ generated, \d+ eventlog, (\d+) not captured`)
	records := summaryCount(t, out, `decode: (\d+) raw records`)
	decoded := in - eventLog
	assert.Equal(t, uint64(o.Events), in+notCaptured, "every generated event is delivered or counted")
	assert.Contains(t, out, fmt.Sprintf("decode: %d raw records → %d events (0 not decoded", records, decoded))
	assert.Contains(t, out, fmt.Sprintf("event log: %d events (with the %d decoded: %d delivered)", eventLog, decoded, in))
	assert.Contains(t, out, fmt.Sprintf("record: %d recorded + 0 failed = %d", in, in))
	assert.Contains(t, out, fmt.Sprintf("detect: %d detected + 0 shed + 0 dropped = %d", in, in))
	assert.Contains(t, out, fmt.Sprintf("raw layer: %d recorded + 0 failed = %d", records, records))
	// Registry writes take a naming open, the write and a close, file
	// creates a close, so records ≥ decoded events; the Event Log's events
	// (Security 4688/4697/4698, System 7045) have no raw record; other
	// Security and System events are captured neither way.
	assert.GreaterOrEqual(t, records, decoded)
	assert.Positive(t, eventLog)
	assert.Positive(t, notCaptured)

	// The raw layer: every record, in capture order per host, and each
	// linked Seq names a recorded event of the record's time.
	times := map[uint64]int64{}
	rd, err := recording.OpenReader(rec, recording.ReaderOptions{Strict: true})
	require.NoError(t, err)
	require.NoError(t, rd.Run(func(b []event.Event) error {
		for i := range b {
			times[b[i].Seq] = b[i].Time
		}
		return nil
	}))
	var n, linked uint64
	require.NoError(t, recording.ReadRaw(rec, recording.RawFilter{}, func(r *recording.RawRecord) error {
		n++
		if r.Seq != 0 {
			linked++
			tm, ok := times[r.Seq]
			if assert.True(t, ok, "raw record linked to Seq %d, not recorded", r.Seq) {
				assert.Equal(t, r.Record.UnixNano(), tm, "Seq %d", r.Seq)
			}
		}
		return nil
	}))
	assert.Equal(t, records, n)
	assert.Equal(t, decoded, linked, "one linked record per decoded event")

	// Scenarios whose key events carry what a raw record cannot (command
	// lines, Security-log events) raise nothing on this path.
	checkLiveRecording(t, o, int64(in), rec, alerts, rawSkips)
}

// summaryCount is the number the first group of pattern finds in out.
func summaryCount(t *testing.T, out, pattern string) uint64 {
	t.Helper()
	m := regexp.MustCompile(pattern).FindStringSubmatch(out)
	require.NotNil(t, m, "%q not in %s", pattern, out)
	n, err := strconv.ParseUint(m[1], 10, 64)
	require.NoError(t, err)
	return n
}

// rawSkips are the scenarios the shipped rules do not see on this path:
// the LSASS dump is found by its command line (Kernel-Process carries none;
// the Event Log's Security 4688 has it, but live applies no Security audit
// view unless scanner.sigma_security_audit = true) and by Sysmon 10
// (process access: no provider edr enables delivers it). The others raise
// alerts: encoded PowerShell (script block), the Run key, the service
// install (System 7045 from the Event Log), the scheduled task, whoami and
// the C2 beacon.
var rawSkips = map[string]bool{"lsass_dump": true}

// checkLiveRecording: edr inspect reads the recording of a live run (events
// in all, no loss); its alerts are in two daily files, never marked
// replayed, and hit every scenario but those of skip; edr replay of the
// recording writes them again byte for byte apart from the marker.
func checkLiveRecording(t *testing.T, o synth.Options, events int64, rec, alerts string, skip map[string]bool) {
	t.Helper()
	dir := t.TempDir()

	out, code := edr(t, "inspect", "--json", rec)
	require.Equal(t, 0, code, out)
	var sum struct {
		Events int64             `json:"events"`
		Loss   map[string]uint64 `json:"loss"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &sum), out)
	assert.Equal(t, events, sum.Events)
	assert.Empty(t, sum.Loss)

	liveAlerts, files := readDaily(t, alerts)
	require.Len(t, files, 2, "alerts of two days in two daily files")
	assert.True(t, regexp.MustCompile(`alerts\.json\.2026-03-01$`).MatchString(files[0]), files)
	require.NotEmpty(t, liveAlerts)

	// Every scenario raised at least one alert on one of its key events.
	keys := scenarioEvents(o)
	hit := map[string]bool{}
	lines := bytes.Split(bytes.TrimSpace(liveAlerts), []byte("\n"))
	for _, line := range lines {
		var doc struct {
			EDR struct {
				Replayed bool `json:"replayed"`
				Event    struct {
					Time string `json:"time"`
					Host string `json:"host"`
				} `json:"event"`
			} `json:"edr"`
		}
		require.NoError(t, json.Unmarshal(line, &doc))
		assert.False(t, doc.EDR.Replayed, "live alerts are not marked replayed")
		if sc, ok := keys[doc.EDR.Event.Host+"|"+doc.EDR.Event.Time]; ok {
			hit[sc] = true
		}
	}
	for _, sc := range synth.Scenarios() {
		if skip[sc.Name] {
			assert.False(t, hit[sc.Name], "scenario %s is expected to raise no alert here: update the skip list", sc.Name)
			continue
		}
		assert.True(t, hit[sc.Name], "scenario %s raised no alert live", sc.Name)
	}

	// Replay: the same alerts, byte for byte, apart from the marker.
	replayed := filepath.Join(dir, "replayed.json")
	out, code = edr(t, "replay", "--alerts", replayed, rec)
	require.Equal(t, 0, code, out)
	rb, err := os.ReadFile(replayed)
	require.NoError(t, err)
	const marker, unmarked = `"replayed":true`, `"replayed":false`
	require.Equal(t, len(lines), bytes.Count(rb, []byte(marker)), "every replayed alert carries the marker once")
	require.Zero(t, bytes.Count(liveAlerts, []byte(marker)))
	assert.Equal(t, string(liveAlerts), string(bytes.ReplaceAll(rb, []byte(marker), []byte(unmarked))))
}

func TestLiveSourceErrors(t *testing.T) {
	for _, c := range []struct {
		src, goos, msg string
	}{
		{"", "linux", "no --source: on linux use --source ndjson:PATH, - (JSON events on stdin), synthetic[:RATE] or raw-synthetic[:RATE]"},
		{"etw", "linux", "--source etw: ETW capture exists only on Windows; on linux use --source ndjson:PATH"},
		{"etw:x", "windows", `--source "etw:x": want etw (Windows)`},
		{"raw-synthetic:0", "linux", "--source raw-synthetic:0: RATE must be a positive number"},
		{"synthetic:0", "linux", "RATE must be a positive number"},
		{"synthetic:fast", "linux", "RATE must be a positive number"},
		{"synthetic:NaN", "linux", "RATE must be a positive number"},
		{"ndjson:", "linux", "no path"},
		{"kafka:x", "linux", `--source "kafka:x": want`},
	} {
		_, err := parseLiveSource(c.src, c.goos)
		require.Error(t, err, c.src)
		assert.Contains(t, err.Error(), c.msg, c.src)
	}
	for in, want := range map[string]liveSource{
		"-": {kind: "ndjson", path: "-"}, "ndjson:-": {kind: "ndjson", path: "-"}, "ndjson:C:\\x.json": {kind: "ndjson", path: "C:\\x.json"},
		"synthetic": {kind: "synthetic"}, "synthetic:2500": {kind: "synthetic", rate: 2500},
		"raw-synthetic": {kind: "raw-synthetic"}, "raw-synthetic:1e5": {kind: "raw-synthetic", rate: 1e5},
	} {
		got, err := parseLiveSource(in, "linux")
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	// Windows: etw is the default.
	for _, in := range []string{"", "etw"} {
		got, err := parseLiveSource(in, "windows")
		require.NoError(t, err, in)
		assert.Equal(t, liveSource{kind: "etw"}, got, in)
	}
	// The command exits 2 and says what to use.
	if runtime.GOOS != "windows" {
		out, code := edr(t, "live", "--source", "etw")
		assert.Equal(t, 2, code, out)
		assert.Contains(t, out, "raw-synthetic[:RATE]")
	}
	out, code := edr(t, "live", "--source", "synthetic", "--set", `live.shed_first=["Security:4688"]`)
	assert.Equal(t, 2, code, out)
	assert.Contains(t, out, "process creation is never shed")
}

// TestLiveNDJSONFileToOneAlertFile: ndjson:PATH reads the importer's JSON
// forms; a bad document is named, counted and skipped; alerts go to one
// file when --alerts names a .json file.
func TestLiveNDJSONFileToOneAlertFile(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "events.ndjson")
	good := `{"Event":{"System":{"Provider":{"Name":"Microsoft-Windows-Sysmon"},"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","Computer":"ws1","TimeCreated":{"#attributes":{"SystemTime":"2026-02-02T10:00:00.000Z"}},"EventRecordID":7},"EventData":{"Image":"C:\\Users\\Public\\whoami.exe","CommandLine":"whoami /all","ProcessId":"42","ParentImage":"C:\\Windows\\System32\\cmd.exe"}}}`
	require.NoError(t, os.WriteFile(in, []byte(good+"\n{not json\n"+good+"\n"), 0o644))
	alerts := filepath.Join(dir, "out", "alerts.json")
	rules := filepath.Join("..", "..", "rules", "sigma", "example_whoami.yml")
	out, code := edr(t, "live", "--source", "ndjson:"+in, "--sigma", rules, "--record", filepath.Join(dir, "rec"), "--alerts", alerts,
		"--set", "logging.console_output=true", "--set", "logging.directory=",
		// Response acts on live alerts: dry-run outside Windows even when
		// prevention is on.
		"--set", "response.enabled=true", "--set", "response.prevention_enabled=true", "--set", "response.min_severity=low")
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "response.prevention_enabled ignored")
	assert.Contains(t, out, "response: 2 queued, 2 dry-run, 0 terminated, 0 failed, 0 overflow")
	assert.Contains(t, out, "dry-run: would terminate process")
	assert.Contains(t, out, "live: 2 events in, 2 alerts")
	assert.Contains(t, out, "decode: 1 documents could not be decoded")
	assert.Contains(t, out, "events.ndjson:2", "the bad document is named")
	b, err := os.ReadFile(alerts)
	require.NoError(t, err)
	assert.Equal(t, 2, bytes.Count(b, []byte("\n")))
	assert.Contains(t, string(b), `"replayed":false`)
}

func FuzzParseLiveSource(f *testing.F) {
	for _, s := range []string{"", "-", "ndjson:-", "ndjson:/x", "synthetic", "synthetic:10", "synthetic:1e3", "synthetic:NaN", "etw", "raw-synthetic:5", "x:y:z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		src, err := parseLiveSource(s, "linux")
		if err != nil {
			require.Contains(t, err.Error(), "--source", "an error names the flag")
			return
		}
		switch src.kind {
		case "ndjson":
			require.NotEmpty(t, src.path)
		case "synthetic", "raw-synthetic":
			require.True(t, src.rate >= 0 && src.rate <= 1e9)
		default:
			t.Fatalf("kind %q", src.kind)
		}
	})
}

// TestLiveLogsHashesOfConfigAndRules: at start the operational log names
// the config file and every rule file loaded with its SHA-256, then one
// digest over them.
func TestLiveLogsHashesOfConfigAndRules(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "edr.toml")
	require.NoError(t, os.WriteFile(cfg, []byte("[live]\noverload = \"block\"\n"), 0o644))
	rules := filepath.Join(dir, "rules")
	require.NoError(t, os.MkdirAll(rules, 0o755))
	rule, err := os.ReadFile(filepath.Join("..", "..", "rules", "sigma", "example_whoami.yml"))
	require.NoError(t, err)
	ruleFile := filepath.Join(rules, "whoami.yml")
	require.NoError(t, os.WriteFile(ruleFile, rule, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(rules, "notes.txt"), []byte("not a rule"), 0o644))
	in := filepath.Join(dir, "none.ndjson")
	require.NoError(t, os.WriteFile(in, nil, 0o644))
	out, code := edr(t, "live", "--config", cfg, "--source", "ndjson:"+in, "--sigma", rules, "--alerts", filepath.Join(dir, "a.json"),
		"--set", "logging.console_output=true", "--set", "logging.directory=")
	require.Equal(t, 0, code, out)
	sum := func(b []byte) string { h := sha256.Sum256(b); return hex.EncodeToString(h[:]) }
	cfgBytes, err := os.ReadFile(cfg)
	require.NoError(t, err)
	assert.Regexp(t, `loaded file.*kind=config path=\S*edr.toml sha256=`+sum(cfgBytes)+` bytes=`+strconv.Itoa(len(cfgBytes)), out)
	assert.Regexp(t, `loaded file.*kind=sigma path=\S*whoami.yml sha256=`+sum(rule)+` bytes=`+strconv.Itoa(len(rule)), out)
	assert.NotContains(t, out, "notes.txt", "only files a rule was loaded from")
	assert.Regexp(t, `loaded files.*files=2 digest_sha256=[0-9a-f]{64}`, out)
}

// Live's recording tracker holds no more processes per host than a segment
// snapshot carries: with the tracker's defaults a long run whose processes
// seldom exit kept up to 65,536 per host (the heap grew with run length).
func TestLiveTrackerBoundedToSnapshot(t *testing.T) {
	tr := newLiveTracker(nil)
	const n = liveTrackerProcesses + 1000
	for _, h := range []string{"a", "b"} {
		for i := 0; i < n; i++ {
			e := &event.Event{Time: int64(i+1) * int64(time.Millisecond), Host: h, Channel: event.ChannelSysmon, EventID: 1}
			e.SetByName("ProcessGuid", fmt.Sprintf("{%d}", i))
			e.SetByName("ProcessId", strconv.Itoa(1000+i))
			e.SetByName("Image", `C:\x.exe`)
			tr.Observe(e)
		}
	}
	assert.Equal(t, 2*liveTrackerProcesses, tr.Processes())
	s, err := state.DecodeSnapshot(tr.Snapshot("a", int64(n+1)*int64(time.Millisecond)))
	require.NoError(t, err)
	assert.Len(t, s.Processes, liveTrackerProcesses, "the snapshot is as full as the default tracker's")
}

// TestLiveRecordingBufferCutsRowGroups: edr live bounds the recording's
// open row groups by [live] recording_buffer_mb (not recording.max_buffer_mb,
// import's): with 1 MiB the segment is cut into several row groups that
// together still hold every event exactly once, in Seq order; with 64 MiB
// the same stream is one row group.
func TestLiveRecordingBufferCutsRowGroups(t *testing.T) {
	const n = 20000
	groups := func(bufMB string) []int64 {
		dir := t.TempDir()
		rec := filepath.Join(dir, "rec")
		out, code := edr(t, "live", "--source", "synthetic", "--seed", "3", "--hosts", "1", "--events", strconv.Itoa(n), "--start", "2026-03-01",
			"--record", rec, "--alerts", filepath.Join(dir, "alerts"), "--quiet", "--set", "logging.console_output=false", "--set", "logging.directory=",
			"--set", "recording.max_buffer_mb=64", "--set", "live.recording_buffer_mb="+bufMB)
		require.Equal(t, 0, code, out)
		segs, err := filepath.Glob(filepath.Join(rec, "host=*", "date=*", "*.parquet"))
		require.NoError(t, err)
		require.Len(t, segs, 1)
		b, err := os.ReadFile(segs[0])
		require.NoError(t, err)
		pf, err := parquet.OpenFile(bytes.NewReader(b), int64(len(b)))
		require.NoError(t, err)
		var rows []int64
		for _, rg := range pf.RowGroups() {
			rows = append(rows, rg.NumRows())
		}
		var seqs []uint64
		rd, err := recording.OpenReader(rec, recording.ReaderOptions{Strict: true})
		require.NoError(t, err)
		require.NoError(t, rd.Run(func(b []event.Event) error {
			for i := range b {
				seqs = append(seqs, b[i].Seq)
			}
			return nil
		}))
		require.Len(t, seqs, n, "every event is in the recording")
		sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
		for i, s := range seqs {
			require.Equal(t, uint64(i+1), s, "Seq %d: each event exactly once", i+1)
		}
		return rows
	}
	small := groups("1")
	assert.Greater(t, len(small), 2, "1 MiB cuts the row groups: %v", small)
	var total int64
	for _, r := range small {
		total += r
	}
	assert.Equal(t, int64(n), total)
	assert.Equal(t, []int64{n}, groups("64"))
}

// [live] gc_percent and memory_limit_mb set the collector's GOGC and soft
// limit for the run and are restored after it; the GOGC and GOMEMLIMIT
// environment variables win.
func TestLiveApplyGC(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	before := debug.SetGCPercent(100)
	defer debug.SetGCPercent(before)
	limit := debug.SetMemoryLimit(-1)

	restore := liveSettings{gcPercent: 37, memLimit: 900 << 20}.applyGC()
	assert.Equal(t, 37, debug.SetGCPercent(37))
	assert.Equal(t, int64(900<<20), debug.SetMemoryLimit(-1))
	restore()
	assert.Equal(t, 100, debug.SetGCPercent(100))
	assert.Equal(t, limit, debug.SetMemoryLimit(-1))

	t.Setenv("GOGC", "80")
	t.Setenv("GOMEMLIMIT", "1GiB")
	restore = liveSettings{gcPercent: 37, memLimit: 900 << 20}.applyGC()
	assert.Equal(t, 100, debug.SetGCPercent(100), "GOGC wins")
	assert.Equal(t, limit, debug.SetMemoryLimit(-1), "GOMEMLIMIT wins")
	restore()
}
