package eventlog

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edr-lab/edr/corpus/evtx"
	"github.com/edr-lab/edr/corpus/jsonl"
	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/internal/testutil"
)

// subscribed reports whether e is one of the events Subscriptions select.
func subscribed(e *event.Event) bool {
	for _, s := range Subscriptions {
		if event.CanonicalChannel(s.Channel) != e.Channel {
			continue
		}
		for _, id := range s.IDs {
			if id == e.EventID {
				return true
			}
		}
	}
	return false
}

// System keys the importer keeps in the key/value part, rendered back as
// the attributes they came from.
const (
	extraEventSource = "Provider_EventSourceName"
	extraQualifiers  = "Qualifiers"
)

// renderXML renders an imported event as EvtRender(EvtRenderEventXml)
// lays an event out: compact, single-quoted attributes, the System
// elements in Windows' order, named <Data> elements, entities escaped and
// line breaks literal (a CR-LF in TaskContent stays a CR-LF).
func renderXML(t *testing.T, e *event.Event) string {
	var sb strings.Builder
	esc := func(s string) string {
		return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", "'", "&apos;", `"`, "&quot;").Replace(s)
	}
	get := func(name string) string { v, _ := e.Lookup(name); return v }
	at := func(name, v string) {
		if v != "" {
			sb.WriteString(" " + name + "='" + esc(v) + "'")
		}
	}
	el := func(name, v string) {
		if v != "" {
			sb.WriteString("<" + name + ">" + esc(v) + "</" + name + ">")
		}
	}
	src, _ := e.LookupExtra(extraEventSource)
	qual, _ := e.LookupExtra(extraQualifiers)
	sb.WriteString("<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider")
	at("Name", e.Provider)
	at("Guid", get("Provider_Guid"))
	at("EventSourceName", src)
	sb.WriteString("/><EventID")
	at("Qualifiers", qual)
	sb.WriteString(">" + strconv.Itoa(int(e.EventID)) + "</EventID>")
	el("Version", get("EventVersion"))
	el("Level", get("Level"))
	el("Task", get("Task"))
	el("Opcode", get("Opcode"))
	el("Keywords", get("Keywords"))
	sb.WriteString("<TimeCreated SystemTime='" + time.Unix(0, e.Time).UTC().Format("2006-01-02T15:04:05.0000000Z") + "'/>")
	if e.RecordID != 0 {
		el("EventRecordID", strconv.FormatUint(e.RecordID, 10))
	}
	sb.WriteString("<Correlation")
	at("ActivityID", get("ActivityID"))
	at("RelatedActivityID", get("RelatedActivityID"))
	sb.WriteString("/><Execution")
	at("ProcessID", get("Execution_ProcessID"))
	at("ThreadID", get("Execution_ThreadID"))
	sb.WriteString("/>")
	el("Channel", e.Channel)
	el("Computer", get("Computer"))
	sb.WriteString("<Security")
	at("UserID", get("Security_UserID"))
	sb.WriteString("/></System><EventData>")
	system := map[string]bool{"Provider_Guid": true, "EventVersion": true, "Level": true, "Task": true, "Opcode": true,
		"Keywords": true, "ActivityID": true, "RelatedActivityID": true, "Execution_ProcessID": true,
		"Execution_ThreadID": true, "Computer": true, "Security_UserID": true}
	data := func(name, v string) { sb.WriteString("<Data Name='" + esc(name) + "'>" + esc(v) + "</Data>") }
	e.Range(func(id event.FieldID, v string) bool {
		require.NotEqual(t, "Data", id.Name(), "unnamed data is not rendered here")
		if !system[id.Name()] {
			data(id.Name(), v)
		}
		return true
	})
	for _, kv := range e.Extra() {
		if kv.Key != extraEventSource && kv.Key != extraQualifiers {
			data(kv.Key, kv.Value)
		}
	}
	sb.WriteString("</EventData></Event>")
	return sb.String()
}

// imported reads the subscribed events of the corpus as edr import
// renders them: every EVTX file of the corpus and the Event Log records
// of shared/etw/otrf-event-log.
func imported(t *testing.T) (evs []*event.Event, files int) {
	keep := func(e *event.Event) error {
		if subscribed(e) {
			evs = append(evs, e.Clone())
		}
		return nil
	}
	root := testutil.CorpusDir()
	require.NoError(t, filepath.Walk(root, func(p string, _ os.FileInfo, err error) error {
		if err != nil || filepath.Ext(p) != ".evtx" {
			return err
		}
		n := len(evs)
		_, err = evtx.ReadFile(p, keep)
		if len(evs) > n {
			files++
		}
		return err
	}))
	otrf, err := filepath.Glob(filepath.Join(testutil.Shared(t, "etw/otrf-event-log"), "*.jsonl"))
	require.NoError(t, err)
	for _, f := range otrf {
		n := len(evs)
		_, err := jsonl.ReadFile(f, jsonl.Options{}, keep)
		require.NoError(t, err, f)
		if len(evs) > n {
			files++
		}
	}
	return evs, files
}

// TestParseAsImport: every System 7045 and Security 4688/4697/4698 record
// of the corpus, rendered as the Event Log renders it and parsed, is the
// event edr import made of the same record, field by field (header,
// schema fields, key/value part, flags), the source aside.
func TestParseAsImport(t *testing.T) {
	evs, files := imported(t)
	perID := map[uint16]int{}
	fromJSON := 0
	var p Parser
	got := &event.Event{}
	for _, want := range evs {
		perID[want.EventID]++
		if want.Source == event.SourceJSON {
			fromJSON++
		}
		w := want.Clone()
		if w.Source == event.SourceJSON {
			// A JSON line's key/value part mixes its shipper's metadata
			// (NXLog's EventType, SourceModuleType, …) into the event's
			// own data: no Event Log XML carries those. Compare the
			// header and the schema fields.
			w = withoutExtras(w)
		}
		w.Source = event.SourceEVTX
		doc := renderXML(t, w)
		require.NoError(t, p.Parse([]byte(doc), got), doc)
		if !event.Equal(w, got) {
			assert.Equal(t, fields(w), fields(got), "%s %d record %d\n%s", want.Channel, want.EventID, want.RecordID, doc)
			assert.Equal(t, *header(w), *header(got))
			t.FailNow()
		}
	}
	t.Logf("%d events from %d files (%d from JSON): %v", len(evs), files, fromJSON, perID)
	for _, id := range []uint16{7045, 4688, 4697, 4698} {
		assert.Positive(t, perID[id], "no %d in the corpus", id)
	}
	assert.Positive(t, fromJSON)
	assert.GreaterOrEqual(t, len(evs), 1000)
}

// withoutExtras is e without its key/value part, System keys aside.
func withoutExtras(e *event.Event) *event.Event {
	c := header(e)
	e.Range(func(id event.FieldID, v string) bool { c.Set(id, v); return true })
	for _, kv := range e.Extra() {
		if kv.Key == extraEventSource || kv.Key == extraQualifiers {
			c.AddExtra(kv.Key, kv.Value)
		}
	}
	return c
}

func fields(e *event.Event) map[string]string {
	m := map[string]string{}
	e.Range(func(id event.FieldID, v string) bool { m[id.Name()] = v; return true })
	for i, kv := range e.Extra() {
		m["extra#"+strconv.Itoa(i)+":"+kv.Key] = kv.Value
	}
	return m
}

func header(e *event.Event) *event.Event {
	return &event.Event{Time: e.Time, Host: e.Host, Channel: e.Channel, Provider: e.Provider, EventID: e.EventID,
		RecordID: e.RecordID, Seq: e.Seq, Source: e.Source, Flags: e.Flags}
}

// TestParseSnapshots reads event XML rendered by another tool — the
// expected XML snapshots of the Rust evtx crate, pretty-printed, with
// UserData, entity references, attributes beside text and trailing spaces
// — and checks each parses to the event edr import makes of the same
// EVTX record. The crate prints GUIDs in upper case and times to the
// microsecond; those are compared accordingly.
func TestParseSnapshots(t *testing.T) {
	dir := testutil.Corpus(t, "evtx-parser-samples")
	snaps, err := filepath.Glob(filepath.Join(dir, "expected_snapshots", "*__event_xml_*.snap"))
	require.NoError(t, err)
	sources := map[string]string{}
	tsv, err := os.ReadFile(filepath.Join(dir, "expected_snapshots", "SNAPSHOT_SOURCES.tsv"))
	require.NoError(t, err)
	for _, line := range strings.Split(string(tsv), "\n") {
		if cols := strings.Split(line, "\t"); len(cols) >= 2 {
			sources[cols[0]] = cols[1]
		}
	}
	indent := regexp.MustCompile(`>[ \t]*\n[ \t\n]*<`)
	var p Parser
	compared := 0
	for _, snap := range snaps {
		base := strings.TrimSuffix(filepath.Base(snap), ".snap")
		src := filepath.Join(dir, "samples", sources["test_"+strings.TrimPrefix(base, "test_record_samples__")])
		if _, err := os.Stat(src); err != nil {
			t.Logf("%s: sample not in the corpus, skipped", base)
			continue
		}
		raw, err := os.ReadFile(snap)
		require.NoError(t, err)
		doc := string(raw)
		doc = strings.TrimSpace(doc[strings.Index(doc, "<?xml"):])
		doc = indent.ReplaceAllString(doc, "><")
		got := &event.Event{}
		require.NoError(t, p.Parse([]byte(doc), got), base)
		evs, _, err := evtx.ReadAll(src)
		require.NoError(t, err)
		var want *event.Event
		for _, e := range evs {
			if e.RecordID == got.RecordID {
				want = e
				break
			}
		}
		require.NotNil(t, want, "%s: record %d", base, got.RecordID)
		assert.Equal(t, time.Unix(0, want.Time).UnixMicro(), time.Unix(0, got.Time).UnixMicro(), base)
		w, g := header(want), header(got)
		w.Time, g.Time = 0, 0
		assert.Equal(t, *w, *g, base)
		assert.Equal(t, guidFold(fields(want)), guidFold(fields(got)), base)
		compared++
	}
	assert.GreaterOrEqual(t, compared, 6)
}

// guidFold lower-cases the values that are GUIDs.
func guidFold(m map[string]string) map[string]string {
	for k, v := range m {
		if g, err := event.NormalizeGUID(v); err == nil {
			m[k] = g
		}
	}
	return m
}
