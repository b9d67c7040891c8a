package raw

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
)

// Provenance describes a fixture file (shared/etw/README.md §2.3).
type Provenance struct {
	WindowsBuild string `json:"windows_build"`
	Recorded     string `json:"recorded"`
	Host         string `json:"host"`
	Scenario     string `json:"scenario"`
}

// Synthetic reports a hand-made file (scenario "SYNTHETIC. …"): it is not a
// recording and must not stand in for one in decoder tests.
func (p Provenance) Synthetic() bool { return strings.HasPrefix(p.Scenario, "SYNTHETIC.") }

// Fixture is a loaded fixture file: provenance (zero for raw recorder
// output, which has none) and records in arrival order.
type Fixture struct {
	Provenance Provenance
	Records    []*Record
}

type jsonHeader struct {
	Provider  *string      `json:"provider"`
	EventID   *json.Number `json:"event_id"`
	Opcode    *json.Number `json:"opcode"`
	Version   *json.Number `json:"version"`
	ProcessID *json.Number `json:"process_id"`
	Timestamp *json.Number `json:"timestamp"`
}

type jsonRecord struct {
	Header     *jsonHeader                           `json:"header"`
	Properties map[string]map[string]json.RawMessage `json:"properties"`
}

// LoadFixture reads a fixture: either one {provenance, records} object, or
// the recorder's raw output of one {header, properties} record per line.
// name is used in errors only. Errors say the file, the record index and
// the member at fault.
func LoadFixture(r io.Reader, name string) (*Fixture, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, fmt.Errorf("%s: empty file", name)
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &probe); err == nil {
		if _, ok := probe["records"]; ok {
			return loadWrapped(probe, name)
		}
	}
	return loadLines(data, name)
}

func loadWrapped(top map[string]json.RawMessage, name string) (*Fixture, error) {
	for k := range top {
		if k != "provenance" && k != "records" {
			return nil, fmt.Errorf("%s: unexpected top-level member %q", name, k)
		}
	}
	f := &Fixture{}
	pv, ok := top["provenance"]
	if !ok {
		return nil, fmt.Errorf("%s: no provenance", name)
	}
	if err := json.Unmarshal(pv, &f.Provenance); err != nil {
		return nil, fmt.Errorf("%s: provenance: %w", name, err)
	}
	for _, m := range []struct{ k, v string }{{"windows_build", f.Provenance.WindowsBuild},
		{"recorded", f.Provenance.Recorded}, {"host", f.Provenance.Host}, {"scenario", f.Provenance.Scenario}} {
		if m.v == "" {
			return nil, fmt.Errorf("%s: provenance.%s missing or empty", name, m.k)
		}
	}
	var recs []json.RawMessage
	if err := json.Unmarshal(top["records"], &recs); err != nil {
		return nil, fmt.Errorf("%s: records: %w", name, err)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("%s: records is empty", name)
	}
	for i, m := range recs {
		rec, err := parseRecord(m)
		if err != nil {
			return nil, fmt.Errorf("%s: records[%d]: %w", name, i, err)
		}
		f.Records = append(f.Records, rec)
	}
	return f, nil
}

func loadLines(data []byte, name string) (*Fixture, error) {
	f := &Fixture{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		rec, err := parseRecord(b)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, line, err)
		}
		f.Records = append(f.Records, rec)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: %w", name, line+1, err)
	}
	if len(f.Records) == 0 {
		return nil, fmt.Errorf("%s: no records", name)
	}
	return f, nil
}

func parseRecord(b []byte) (*Record, error) {
	var jr jsonRecord
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&jr); err != nil {
		return nil, err
	}
	h := jr.Header
	if h == nil {
		return nil, fmt.Errorf("no header")
	}
	if jr.Properties == nil {
		return nil, fmt.Errorf("no properties")
	}
	r := &Record{}
	if h.Provider == nil {
		return nil, fmt.Errorf("header.provider missing")
	}
	g, err := ParseGUID(*h.Provider)
	if err != nil {
		return nil, fmt.Errorf("header.provider %q: %w", *h.Provider, err)
	}
	r.Provider = g
	nums := []struct {
		name string
		n    *json.Number
		bits int
		dst  func(uint64)
	}{
		{"event_id", h.EventID, 16, func(v uint64) { r.EventID = uint16(v) }},
		{"opcode", h.Opcode, 8, func(v uint64) { r.Opcode = uint8(v) }},
		{"version", h.Version, 8, func(v uint64) { r.Version = uint8(v) }},
		{"process_id", h.ProcessID, 32, func(v uint64) { r.PID = uint32(v) }},
		{"timestamp", h.Timestamp, 63, func(v uint64) { r.Timestamp = int64(v) }},
	}
	for _, n := range nums {
		if n.n == nil {
			return nil, fmt.Errorf("header.%s missing", n.name)
		}
		v, err := strconv.ParseUint(string(*n.n), 10, n.bits)
		if err != nil {
			return nil, fmt.Errorf("header.%s %s: not a uint%d", n.name, *n.n, n.bits)
		}
		n.dst(v)
	}
	// The recorder sorts names, hand-made files need not: sort so the bag
	// order (and everything downstream) is deterministic.
	names := make([]string, 0, len(jr.Properties))
	for k := range jr.Properties {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if err := addTagged(r, k, jr.Properties[k]); err != nil {
			return nil, fmt.Errorf("properties.%s: %w", k, err)
		}
	}
	return r, nil
}

var tagKinds = map[string]Kind{"u8": U8, "u16": U16, "u32": U32, "u64": U64}
var tagBits = map[string]int{"u8": 8, "u16": 16, "u32": 32, "u64": 64}

func addTagged(r *Record, name string, tv map[string]json.RawMessage) error {
	if len(tv) != 1 {
		return fmt.Errorf("want one tagged member, have %d", len(tv))
	}
	for tag, v := range tv {
		switch tag {
		case "u8", "u16", "u32", "u64":
			// Parse the literal text: u64 pointers exceed 2^53 and would
			// lose bits through float64.
			s := string(bytes.TrimSpace(v))
			n, err := strconv.ParseUint(s, 10, tagBits[tag])
			if err != nil {
				return fmt.Errorf("%s %s: not a %s", tag, s, tag)
			}
			r.AddNum(name, tagKinds[tag], n)
		case "string", "ip":
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return fmt.Errorf("%s: %w", tag, err)
			}
			k := String
			if tag == "ip" {
				k = IP
			} else if isSID(s) {
				// The recorder stores win:SID as its text under "string".
				k = SID
			}
			r.AddString(name, k, s)
		case "bytes":
			var s string
			if err := json.Unmarshal(v, &s); err != nil {
				return fmt.Errorf("bytes: %w", err)
			}
			b, err := hex.DecodeString(s)
			if err != nil {
				return fmt.Errorf("bytes: not hex: %w", err)
			}
			r.AddBytes(name, Binary, b)
		default:
			return fmt.Errorf("unknown tag %q", tag)
		}
	}
	return nil
}

// isSID: "S-1-" followed by digits and dashes only.
func isSID(s string) bool {
	if len(s) < 5 || !strings.HasPrefix(s, "S-1-") {
		return false
	}
	for i := 4; i < len(s); i++ {
		if c := s[i]; c != '-' && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// LoadFixtureFile is LoadFixture on a file.
func LoadFixtureFile(path string) (*Fixture, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return LoadFixture(f, path)
}
