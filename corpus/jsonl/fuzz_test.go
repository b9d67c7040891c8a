package jsonl

import (
	"bytes"
	"testing"

	"github.com/edr-lab/edr/event"
)

// FuzzReadJSON: any input (broken JSON, cut documents, odd escapes,
// foreign shapes) never panics, and every document is either an event or a
// counted failure.
func FuzzReadJSON(f *testing.F) {
	for _, s := range []string{
		`{"EventID":1,"Channel":"Microsoft-Windows-Sysmon/Operational","ProcessGuid":"{6004D249-0957-604D-6019-000000000900}","TimeCreated":"2021-03-14T01:39:32.609Z"}`,
		`{"Event":{"System":{"Provider":{"#attributes":{"Name":"P","Guid":"5770385F-C22A-43E0-BF4C-06F5698FFBD9"}},"EventID":{"#attributes":{"Qualifiers":16384},"#text":7036},"Channel":"System","TimeCreated":{"#attributes":{"SystemTime":"2020-01-01T00:00:00Z"}}},"EventData":{"Data":{"#text":["a","b"]},"Binary":null},"UserData":{"W":{"#attributes":{"xmlns":"x"},"T":"v"}}}}`,
		`{"winlog":{"channel":"security","event_id":4625,"event_data":{"Status":"0XC000006D"},"process":{"pid":4,"thread":{"id":8}}},"@timestamp":"2020-01-01T00:00:00Z"}`,
		`{"winlog.channel":"Security","winlog.event_id":"4624"}`,
		`{"EventID":5156,"ProcessID":4,"ProcessId":"3580","Keywords":-9214364837600034816,"SourceModuleType":"im_msvistalog","EventTime":"2020-07-21 23:27:39","EventReceivedTime":"2020-07-21 23:27:42","@timestamp":"2020-07-22T03:27:42.455Z"}`,
		"[{\"EventID\":1},{\"EventID\":2}]",
		"{\"EventID\":1}\n{\"EventID\":\n{bad}\n\"\\ud83d\\ude00\\u00\"",
	} {
		f.Add([]byte(s))
	}
	d := NewDecoder(Options{})
	f.Fuzz(func(t *testing.T, data []byte) {
		n := int64(0)
		st, err := d.Read(bytes.NewReader(data), "fuzz.json", func(e *event.Event) error {
			n++
			_ = e.Clone()
			return nil
		})
		if err != nil {
			t.Fatalf("read error on an in-memory input: %v", err)
		}
		if n != st.Records || st.Records+st.Failed < st.Documents {
			t.Fatalf("documents %d, records %d (delivered %d), failed %d", st.Documents, st.Records, n, st.Failed)
		}
	})
}
