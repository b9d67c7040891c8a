package evtx

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edr-lab/edr/corpus/internal/eventxml"
	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/internal/testutil"
)

// readAll returns clones of every event of a file.
func readAll(t testing.TB, path string) ([]*event.Event, Stats) {
	t.Helper()
	out, st, err := ReadAll(path)
	require.NoError(t, err, path)
	return out, st
}

// TestExpectedCounts checks the record counts of the hard samples against
// EXPECTED_COUNTS.tsv (from the Rust evtx crate's tests). Those readers walk
// a chunk until its first bad record; the records this reader finds beyond
// such damage are counted apart (Stats.Recovered), and a record that reader
// delivers although its EventRecordID contradicts its header (decoded with
// another generation's templates) is rejected here (Stats.Stale). So the
// crate's count is Records - Recovered + Stale.
func TestExpectedCounts(t *testing.T) {
	dir := testutil.Corpus(t, "evtx-parser-samples")
	f, err := os.Open(filepath.Join(dir, "EXPECTED_COUNTS.tsv"))
	require.NoError(t, err)
	defer f.Close()
	checked := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || strings.HasPrefix(line, "file\t") || line == "" {
			continue
		}
		cols := strings.Split(line, "\t")
		require.GreaterOrEqual(t, len(cols), 6, line)
		want, err := strconv.ParseInt(cols[1], 10, 64)
		if err != nil {
			// No count stated by the crate: use libevtx and python-evtx when
			// they agree on a plain number.
			a, errA := strconv.ParseInt(cols[4], 10, 64)
			b, errB := strconv.ParseInt(cols[5], 10, 64)
			if errA != nil || errB != nil || a != b {
				continue
			}
			want = a
		}
		_, st := readAll(t, filepath.Join(dir, cols[0]))
		assert.Equal(t, want, st.Records-st.Recovered+st.Stale, "%s: records %d, recovered %d, stale %d", cols[0], st.Records, st.Recovered, st.Stale)
		for _, fl := range st.Failures {
			assert.NotEmpty(t, fl.Err)
			assert.Equal(t, st.File, fl.File)
		}
		checked++
	}
	require.NoError(t, sc.Err())
	assert.GreaterOrEqual(t, checked, 12)
}

// TestRecoveredRecordsAreSound: records found by scanning past damage carry
// their own record number, inside their chunk's range, in order.
func TestRecoveredRecordsAreSound(t *testing.T) {
	path := filepath.Join(testutil.Corpus(t, "evtx-parser-samples"), "samples", "sample-with-zero-data-size-event.evtx")
	evs, st := readAll(t, path)
	require.EqualValues(t, 114, st.Recovered, "records after the zero-size record 3 in chunk 0")
	require.EqualValues(t, 1, st.Failed)
	assert.Equal(t, uint64(3), st.Failures[0].RecordID)
	assert.Contains(t, st.Failures[0].Err, "invalid record size 0")
	// Chunk 0 holds records 1-117: all but record 3 are delivered, in order.
	var ids []uint64
	for _, e := range evs {
		if e.RecordID <= 117 {
			ids = append(ids, e.RecordID)
		}
	}
	require.Len(t, ids, 116)
	for i, id := range ids {
		want := uint64(i + 1)
		if want >= 3 {
			want++
		}
		assert.Equal(t, want, id)
	}
}

func TestAttackSamplesDecodeCompletely(t *testing.T) {
	for _, rel := range []string{"evtx-attack-samples", "evtx-to-mitre-attack"} {
		dir := testutil.Corpus(t, rel)
		var files []string
		filepathWalk(dir, &files)
		require.NotEmpty(t, files)
		var records, noTemplate int64
		for _, f := range files {
			evs, st := readAll(t, f)
			assert.Zero(t, st.Failed, "%s: %v", f, st.Failures)
			assert.Zero(t, st.BadValues, f)
			assert.Zero(t, st.BadChunks, f)
			assert.EqualValues(t, len(evs), st.Records)
			for _, e := range evs {
				assert.NotEmpty(t, e.Channel, "%s record %d", f, e.RecordID)
				assert.NotEmpty(t, e.Provider, "%s record %d", f, e.RecordID)
				assert.NotZero(t, e.Time, "%s record %d", f, e.RecordID)
			}
			records += st.Records
			noTemplate += st.NoTemplate
		}
		t.Logf("%s: %d files, %d records, %d without a template instance", rel, len(files), records, noTemplate)
		if rel == "evtx-to-mitre-attack" {
			assert.EqualValues(t, 265, noTemplate, "records stored without a template instance")
		}
	}
}

// snapshot is one expected rendering from the Rust crate's test suite.
type snapshot struct{ name, file string }

// TestXMLSnapshots compares the XML renderings in expected_snapshots with
// the decoded fields of the same records (matched by EventRecordID). The
// XML is flattened here with encoding/xml, independently of the decoder.
// The crate renders GUID values without braces in upper case and times with
// microseconds; those renderings are normalized before comparing.
func TestXMLSnapshots(t *testing.T) {
	dir := testutil.Corpus(t, "evtx-parser-samples")
	sources := snapshotSources(t, dir)
	snaps, _ := filepath.Glob(filepath.Join(dir, "expected_snapshots", "*__event_xml_*.snap"))
	snaps2, _ := filepath.Glob(filepath.Join(dir, "expected_snapshots", "*__event_json_with_multiple_data_elements.snap"))
	snaps = append(snaps, snaps2...)
	require.NotEmpty(t, snaps)
	compared := 0
	for _, snap := range snaps {
		base := strings.TrimSuffix(filepath.Base(snap), ".snap")
		test := "test_" + strings.TrimPrefix(base, "test_record_samples__")
		src, ok := sources[test]
		if !ok {
			t.Errorf("%s: no source in SNAPSHOT_SOURCES.tsv", base)
			continue
		}
		path := filepath.Join(dir, "samples", src)
		if _, err := os.Stat(path); err != nil {
			t.Logf("%s: sample %s not in the corpus, skipped", base, src)
			continue
		}
		want := flattenXMLSnapshot(t, snap)
		rid, err := strconv.ParseUint(want["EventRecordID"], 10, 64)
		require.NoError(t, err, snap)
		evs, _ := readAll(t, path)
		var got *event.Event
		for _, e := range evs {
			if e.RecordID == rid {
				got = e
				break
			}
		}
		require.NotNil(t, got, "%s: record %d not decoded from %s", base, rid, src)
		compareFlat(t, base, want, got)
		compared++
	}
	assert.GreaterOrEqual(t, compared, 7)
}

func snapshotSources(t *testing.T, dir string) map[string]string {
	data, err := os.ReadFile(filepath.Join(dir, "expected_snapshots", "SNAPSHOT_SOURCES.tsv"))
	require.NoError(t, err)
	out := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		cols := strings.Split(line, "\t")
		if len(cols) >= 2 && !strings.HasPrefix(line, "#") {
			out[cols[0]] = cols[1]
		}
	}
	return out
}

// flattenXMLSnapshot flattens event XML: System children as "<El>" and
// "<El>_<Attr>", named Data by name, unnamed Data joined as Data, other
// elements by their leaf names and "<El>_<Attr>", repeats suffixed _1, _2.
func flattenXMLSnapshot(t *testing.T, path string) map[string]string {
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	s := string(raw)
	i := strings.Index(s, "<Event")
	require.GreaterOrEqual(t, i, 0, path)
	root, err := eventxml.Parse(s[i:])
	require.NoError(t, err, path)
	out := map[string]string{}
	put := func(k, v string) {
		for n, name := 0, k; ; n++ {
			if _, dup := out[name]; !dup {
				out[name] = v
				return
			}
			name = fmt.Sprintf("%s_%d", k, n+1)
		}
	}
	var unnamed []string
	var generic func(n eventxml.Node)
	generic = func(n eventxml.Node) {
		for _, a := range n.Attrs {
			if !eventxml.IsNamespace(a) {
				put(n.XMLName.Local+"_"+a.Name.Local, a.Value)
			}
		}
		txt := snapText(n.Text)
		if len(n.Kids) > 0 {
			for _, k := range n.Kids {
				generic(k)
			}
			if txt != "" {
				put(n.XMLName.Local, txt)
			}
			return
		}
		if txt != "" || len(n.Attrs) == 0 {
			put(n.XMLName.Local, txt)
		}
	}
	for _, part := range root.Kids {
		switch part.XMLName.Local {
		case "System":
			for _, el := range part.Kids {
				for _, a := range el.Attrs {
					out[el.XMLName.Local+"_"+a.Name.Local] = a.Value
				}
				if txt := snapText(el.Text); txt != "" {
					out[el.XMLName.Local] = txt
				}
			}
		case "EventData":
			for _, d := range part.Kids {
				name, _ := d.Attr("Name")
				switch {
				case d.XMLName.Local == "Data" && name != "":
					put(name, snapText(d.Text))
				case d.XMLName.Local == "Data":
					unnamed = append(unnamed, snapText(d.Text))
				default:
					generic(d)
				}
			}
		case "UserData":
			for _, k := range part.Kids {
				generic(k)
			}
		default:
			generic(part)
		}
	}
	if len(unnamed) > 0 {
		put("Data", strings.Join(unnamed, "\n"))
	}
	return out
}

// snapText undoes the crate's pretty printing: an element whose text is
// only a line break and indentation is empty.
func snapText(s string) string {
	if strings.TrimSpace(s) == "" && strings.Contains(s, "\n") {
		return ""
	}
	return s
}

var guidRe = regexp.MustCompile(`^\{?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}?$`)

// compareFlat compares flattened expectations with an event: header keys
// against the header, everything else by name (schema field or key/value).
func compareFlat(t *testing.T, what string, want map[string]string, e *event.Event) {
	t.Helper()
	for k, v := range want {
		var got string
		var ok bool
		switch k {
		case "Provider_Name":
			got, ok = e.Provider, true
		case "EventID":
			got, ok = strconv.Itoa(int(e.EventID)), true
		case "EventRecordID":
			got, ok = strconv.FormatUint(e.RecordID, 10), true
		case "Channel":
			got, ok = e.Channel, true
		case "EventID_Qualifiers":
			got, ok = e.LookupExtra("Qualifiers")
		case "Version":
			got, ok = e.Lookup("EventVersion")
		case "Correlation_ActivityID":
			got, ok = e.Lookup("ActivityID")
		case "Correlation_RelatedActivityID":
			got, ok = e.Lookup("RelatedActivityID")
		case "TimeCreated_SystemTime":
			wt, err := time.Parse(time.RFC3339Nano, v)
			require.NoError(t, err)
			assert.Equal(t, wt.UnixMicro(), time.Unix(0, e.Time).UnixMicro(), "%s: %s", what, k)
			continue
		default:
			got, ok = e.Lookup(k)
		}
		if !assert.True(t, ok, "%s: %s missing (want %q)", what, k, v) {
			continue
		}
		if guidRe.MatchString(v) && guidRe.MatchString(got) {
			v, _ = event.NormalizeGUID(v)
			got, _ = event.NormalizeGUID(got)
		}
		assert.Equal(t, v, got, "%s: %s", what, k)
	}
}

var _ = io.EOF
