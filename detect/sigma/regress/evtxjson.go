package regress

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/edr-lab/edr/event"
)

// ReadEvtxJSON reads an evtx_dump-style JSON file (one or more concatenated
// {"Event": {...}} objects, as SigmaHQ ships beside each regression EVTX)
// into events: System becomes the header and envelope fields, EventData or
// UserData children become fields, and values are normalized to the
// Windows XML rendering of their schema type (evtx_dump prints GUIDs upper
// case without braces and integers as numbers). A JSON null is an absent
// field.
func ReadEvtxJSON(path string) ([]*event.Event, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	dec.UseNumber()
	var out []*event.Event
	for i := 1; ; i++ {
		var doc struct {
			Event map[string]any `json:"Event"`
		}
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("%s: object %d: %w", path, i, err)
		}
		if doc.Event == nil {
			return out, fmt.Errorf("%s: object %d: no Event", path, i)
		}
		ev, err := convertEvent(doc.Event)
		if err != nil {
			return out, fmt.Errorf("%s: object %d: %w", path, i, err)
		}
		ev.Source = event.SourceJSON
		out = append(out, ev)
	}
}

func convertEvent(e map[string]any) (*event.Event, error) {
	sys, _ := e["System"].(map[string]any)
	if sys == nil {
		return nil, errors.New("no System section")
	}
	ev := &event.Event{}
	id, err := strconv.ParseUint(scalar(text(sys["EventID"])), 10, 16)
	if err != nil {
		return nil, fmt.Errorf("EventID %v: %w", sys["EventID"], err)
	}
	ev.EventID = uint16(id)
	ev.Channel = event.CanonicalChannel(scalar(sys["Channel"]))
	if ev.Channel == "" {
		ev.Flags |= event.FlagNoChannel
	}
	ev.Provider = scalar(attr(sys["Provider"], "Name"))
	if rid, err := strconv.ParseUint(scalar(sys["EventRecordID"]), 10, 64); err == nil {
		ev.RecordID = rid
	}
	if ts := scalar(attr(sys["TimeCreated"], "SystemTime")); ts != "" {
		t, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			return nil, fmt.Errorf("TimeCreated %q: %w", ts, err)
		}
		ev.Time = t.UnixNano()
	}
	def := event.Lookup(ev.Channel, ev.EventID)
	set := func(name string, v any) {
		s, ok := v.(string)
		if !ok {
			if v == nil {
				return
			}
			s = scalar(v)
		}
		name = event.NormalizeName(name)
		if id, ok := event.FieldByName(name); ok && !id.Virtual() {
			ev.Set(id, event.Normalize(def.TypeOf(id), s))
			return
		}
		ev.SetByName(name, s)
	}
	computer := scalar(sys["Computer"])
	set("Computer", sys["Computer"])
	ev.Host = computer
	set("Security_UserID", attr(sys["Security"], "UserID"))
	set("Provider_Guid", attr(sys["Provider"], "Guid"))
	set("EventVersion", sys["Version"])
	for _, k := range []string{"Level", "Task", "Opcode", "Keywords"} {
		set(k, sys[k])
	}
	set("Execution_ProcessID", attr(sys["Execution"], "ProcessID"))
	set("Execution_ThreadID", attr(sys["Execution"], "ThreadID"))
	set("ActivityID", attr(sys["Correlation"], "ActivityID"))
	for _, sec := range []string{"EventData", "UserData"} {
		data, ok := e[sec].(map[string]any)
		if !ok {
			continue
		}
		if sec == "UserData" && len(data) == 1 {
			for _, inner := range data { // UserData wraps its fields in one element
				if m, ok := inner.(map[string]any); ok {
					data = m
				}
			}
		}
		keys := make([]string, 0, len(data))
		for k := range data {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if k == "#attributes" {
				continue
			}
			set(k, flatten(data[k]))
		}
	}
	return ev, nil
}

// text unwraps {"#text": v} (EventID with Qualifiers).
func text(v any) any {
	if m, ok := v.(map[string]any); ok {
		return m["#text"]
	}
	return v
}

func attr(v any, name string) any {
	m, _ := v.(map[string]any)
	a, _ := m["#attributes"].(map[string]any)
	return a[name]
}

// flatten renders nested values (unnamed <Data> lists) as newline-joined text.
func flatten(v any) any {
	switch x := v.(type) {
	case []any:
		parts := make([]string, 0, len(x))
		for _, p := range x {
			parts = append(parts, scalar(flatten(p)))
		}
		return strings.Join(parts, "\n")
	case map[string]any:
		if t, ok := x["#text"]; ok {
			return flatten(t)
		}
		b, _ := json.Marshal(x)
		return string(b)
	}
	return v
}

func scalar(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return strconv.FormatBool(x)
	}
	return fmt.Sprint(v)
}
