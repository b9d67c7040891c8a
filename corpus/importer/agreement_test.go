package importer

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/xml"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/Velocidex/ordereddict"
	"github.com/stretchr/testify/require"
	vx "www.velocidex.com/golang/evtx"

	"github.com/edr-lab/edr/corpus/internal/eventxml"
	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/internal/testutil"
)

// TestEveryFieldReplaysOut imports both EVTX attack collections into a
// recording, replays it, and checks every field of every record against an
// independent rendering of the record:
//
//   - records with a template instance: the velocidex evtx library's own
//     output, corrected for its known rendering defects (HexInt32/64 printed
//     as decimal, signed integers, SYSTEMTIME and SizeT left as raw bytes,
//     GUIDs without braces, FILETIME as float seconds) by comparing values,
//     not renderings;
//   - records without one (the library loses their content): XML rendered
//     here by a small template-less BinXML printer and read with
//     encoding/xml.
//
// Every field the independent rendering has must be in the replayed event
// with an equal value.
func TestEveryFieldReplaysOut(t *testing.T) {
	if testing.Short() {
		t.Skip("imports ~10k records")
	}
	var srcs []string
	for _, rel := range []string{"evtx-attack-samples", "evtx-to-mitre-attack"} {
		srcs = append(srcs, testutil.Corpus(t, rel))
	}
	out := t.TempDir()
	sum, err := Run(context.Background(), srcs, Options{Out: out})
	require.NoError(t, err)
	require.Zero(t, sum.Failed)
	require.Zero(t, sum.ExitCode())

	byKey := map[string][]*event.Event{}
	for _, e := range replayAll(t, out) {
		k := recKey(e.Value(event.FComputer), e.Channel, e.RecordID)
		byKey[k] = append(byKey[k], e)
	}
	inputs, _, err := expand(srcs, FormatAuto)
	require.NoError(t, err)
	imported := map[string]bool{}
	for _, f := range sum.Files {
		imported[f.Path] = f.Status == Imported // copies of a file are imported once
	}
	var records, fields, viaXML int
	for _, in := range inputs {
		if !imported[in.path] {
			continue
		}
		want := independentRecords(t, in.path)
		for i, w := range want {
			if w.viaXML {
				viaXML++
			}
			cands := byKey[recKey(fmt.Sprint(w.fields["Computer"]), event.CanonicalChannel(fmt.Sprint(w.fields["Channel"])), w.recordID)]
			var problems []string
			ok := false
			for _, e := range cands {
				if problems = compareRecord(w, e); len(problems) == 0 {
					ok = true
					break
				}
			}
			if !ok {
				t.Errorf("%s record #%d (EventRecordID %d, %d candidates): %s", in.path, i, w.recordID, len(cands), strings.Join(problems, "; "))
				continue
			}
			records++
			fields += len(w.fields)
		}
	}
	t.Logf("%d records, %d fields checked (%d records via the template-less XML printer); library defects corrected: %v", records, fields, viaXML, corrections)
	require.EqualValues(t, sum.Records, records, "every imported record was checked")
	require.Equal(t, 265, viaXML, "the records without a template instance")
}

func recKey(computer, channel string, rid uint64) string {
	return computer + "\x00" + channel + "\x00" + strconv.FormatUint(rid, 10)
}

// wantRecord is an independent rendering: flattened names to values as the
// renderer gave them (velocidex Go values, or XML text).
type wantRecord struct {
	recordID uint64
	fields   map[string]any // keys as the importer names them; see flattenVX
	viaXML   bool
}

// independentRecords renders every record of a file independently.
func independentRecords(t *testing.T, path string) []wantRecord {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	chunks, err := vx.GetChunks(f)
	require.NoError(t, err, path)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	var out []wantRecord
	for _, c := range chunks {
		recs, err := c.Parse(0)
		require.NoError(t, err)
		chunk := data[c.Offset : c.Offset+0x10000]
		offsets := recordOffsets(chunk)
		require.Len(t, offsets, len(recs), "%s chunk at %#x", path, c.Offset)
		for i, r := range recs {
			w := wantRecord{recordID: r.Header.RecordID, fields: map[string]any{}}
			if d, ok := r.Event.(*ordereddict.Dict); ok && hasTemplate(chunk, offsets[i]) {
				ev, _ := d.Get("Event")
				evd, ok := ev.(*ordereddict.Dict)
				require.True(t, ok, "%s record %d: velocidex gave no Event", path, w.recordID)
				flattenVX(evd, w.fields)
			} else {
				xmlText, err := printTemplateless(chunk, offsets[i])
				require.NoError(t, err, "%s record %d", path, w.recordID)
				flattenXML(t, xmlText, w.fields)
				w.viaXML = true
			}
			if rid, ok := w.fields["EventRecordID"]; ok {
				w.recordID, _ = strconv.ParseUint(fmt.Sprint(rid), 10, 64)
			}
			out = append(out, w)
		}
	}
	return out
}

// recordOffsets lists the record offsets of a chunk (walking by size up to
// the free-space offset), as the library does.
func recordOffsets(c []byte) []int {
	free := int(binary.LittleEndian.Uint32(c[48:]))
	var out []int
	for pos := 512; pos+24 <= free && string(c[pos:pos+4]) == "**\x00\x00"; {
		out = append(out, pos)
		pos += int(binary.LittleEndian.Uint32(c[pos+4:]))
	}
	return out
}

// hasTemplate: the record's BinXML (after the fragment header) starts with
// a template instance token.
func hasTemplate(c []byte, pos int) bool {
	b := c[pos+24:]
	if b[0] == 0x0f {
		b = b[4:]
	}
	return b[0] == 0x0c
}

// flattenVX flattens the library's dictionary with the importer's naming:
// System children "<El>" and "<El>_<Attr>", EventData by name, UserData
// and others by leaf names. The library merges attributes and child
// elements into one dictionary; a key under element E is recorded as
// "E|k" and matched as either "k" or "E_k".
func flattenVX(ev *ordereddict.Dict, out map[string]any) {
	for _, sec := range ev.Keys() {
		v, _ := ev.Get(sec)
		d, ok := v.(*ordereddict.Dict)
		if !ok {
			continue
		}
		switch sec {
		case "System":
			for _, k := range d.Keys() {
				sv, _ := d.Get(k)
				if sub, ok := sv.(*ordereddict.Dict); ok {
					for _, a := range sub.Keys() {
						av, _ := sub.Get(a)
						if a == "Value" {
							out[k] = av
						} else {
							out[k+"_"+a] = av
						}
					}
					continue
				}
				out[k] = sv
			}
		case "EventData":
			for _, k := range d.Keys() {
				dv, _ := d.Get(k)
				// A single <Data Name="X"> is left as {Name, Value} by the
				// library (it normalizes only lists of them).
				if sub, ok := dv.(*ordereddict.Dict); ok && k == "Data" {
					if name, ok := sub.Get("Name"); ok {
						v, _ := sub.Get("Value")
						out["Data|"+fmt.Sprint(name)] = v
						continue
					}
				}
				out["Data|"+k] = dv
			}
		default:
			leavesVX(sec, d, out)
		}
	}
}

func leavesVX(parent string, d *ordereddict.Dict, out map[string]any) {
	for _, k := range d.Keys() {
		v, _ := d.Get(k)
		switch v := v.(type) {
		case *ordereddict.Dict:
			leavesVX(k, v, out)
		case []any:
			for i, item := range v {
				if sub, ok := item.(*ordereddict.Dict); ok {
					leavesVX(k, sub, out)
				} else {
					out[fmt.Sprintf("%s|%s#%d", parent, k, i)] = item
				}
			}
		default:
			if k == "xmlns" || strings.HasPrefix(k, "xmlns:") {
				continue // namespace declarations are not data
			}
			out[parent+"|"+k] = v
		}
	}
}

// compareRecord checks every expected field against the event.
func compareRecord(w wantRecord, e *event.Event) []string {
	var problems []string
	for k, want := range w.fields {
		got, ok := lookupOurs(e, k)
		if !ok {
			problems = append(problems, fmt.Sprintf("%s missing (want %v)", k, want))
			continue
		}
		if !sameValue(want, got) {
			problems = append(problems, fmt.Sprintf("%s: independent %#v, replayed %q", k, want, got))
		}
	}
	return problems
}

// lookupOurs finds a flattened key in the event: header fields, schema
// fields, key/value entries; "E|k" as k or E_k; "Data|k" as k (or one of
// the values of the unnamed Data when k is Data); repeats as k_N.
func lookupOurs(e *event.Event, k string) ([]string, bool) {
	switch k {
	case "Provider_Name":
		return []string{e.Provider}, true
	case "EventID":
		return []string{strconv.Itoa(int(e.EventID))}, true
	case "EventID_Qualifiers":
		v, ok := e.LookupExtra("Qualifiers")
		return []string{v}, ok
	case "EventRecordID":
		return []string{strconv.FormatUint(e.RecordID, 10)}, true
	case "Channel":
		return []string{e.Channel}, true
	case "Version":
		return one(e.Lookup("EventVersion"))
	case "Correlation_ActivityID":
		return one(e.Lookup("ActivityID"))
	case "Correlation_RelatedActivityID":
		return one(e.Lookup("RelatedActivityID"))
	case "TimeCreated_SystemTime":
		return []string{event.FormatFileTime(e.Time)}, true
	}
	parent, name, nested := strings.Cut(k, "|")
	if !nested {
		return one(e.Lookup(k))
	}
	name, _, _ = strings.Cut(name, "#")
	var cands []string
	if parent == "Data" && name == "Data" {
		if v, ok := e.Lookup("Data"); ok {
			return append([]string{v}, strings.Split(v, "\n")...), true
		}
	}
	alt := parent + "_" + name
	if parent == "Data" {
		alt = "EventData_" + name // an attribute of EventData itself
	}
	for _, n := range []string{name, alt} {
		if name == "Value" && parent != "Data" {
			n = parent // the library's key for element text
		}
		// A data field named like a header field (UserData's Channel of
		// event 104) is in the key/value part, beside the header's value.
		if v, ok := e.LookupExtra(event.NormalizeName(n)); ok {
			cands = append(cands, v)
		}
		if v, ok := e.Lookup(event.NormalizeName(n)); ok {
			cands = append(cands, v)
			for i := 1; ; i++ {
				v, ok := e.LookupExtra(event.NormalizeName(n) + "_" + strconv.Itoa(i))
				if !ok {
					break
				}
				cands = append(cands, v)
			}
		}
	}
	return cands, len(cands) > 0
}

func one(v string, ok bool) ([]string, bool) { return []string{v}, ok }

// sameValue compares an independent value with the replayed candidates.
func sameValue(want any, got []string) bool {
	for _, g := range got {
		if equalOne(want, g) {
			return true
		}
	}
	return false
}

// corrections counts the library defects corrected, by kind.
var corrections = map[string]int{}

func corrected(kind string, ok bool) bool {
	if ok {
		corrections[kind]++
	}
	return ok
}

func equalOne(want any, got string) bool {
	switch w := want.(type) {
	case string:
		if w == got {
			return true
		}
		if a, err := time.Parse(time.RFC3339Nano, w); err == nil && strings.Contains(w, "T") {
			b, err := time.Parse(time.RFC3339Nano, got)
			return corrected("time with another fraction length", err == nil && a.Equal(b))
		}
		if a, err := event.NormalizeGUID(w); err == nil {
			b, err := event.NormalizeGUID(got)
			return corrected("GUID without braces, upper case", err == nil && a == b)
		}
		return corrected("raw bytes (signed int, SizeT, SYSTEMTIME)", rawBytesMatch([]byte(w), got))
	case uint8, uint16, uint32, uint64:
		n, _ := strconv.ParseUint(fmt.Sprint(w), 10, 64)
		if strings.HasPrefix(got, "0x") {
			return corrected("HexInt32/64 as decimal", numberIs(got, n))
		}
		return numberIs(got, n)
	case bool:
		return event.FormatBool(w) == got
	case float64: // FILETIME as seconds since 1970
		tm, err := time.Parse(time.RFC3339Nano, got)
		return corrected("FILETIME as float seconds", err == nil && math.Abs(float64(tm.UnixNano())/1e9-w) < 1e-5)
	case []byte:
		return strings.EqualFold(fmt.Sprintf("%X", w), got)
	case []string: // an array: Windows repeats the element per item
		return strings.Join(w, "\n") == got || strings.Join(w, ",") == got || (len(w) > 0 && w[0] == got)
	case nil:
		return got == ""
	}
	return fmt.Sprint(want) == got
}

// numberIs: got renders n, in decimal or (HexInt, SizeT) as 0x-hex.
func numberIs(got string, n uint64) bool {
	if strings.HasPrefix(got, "0x") {
		v, err := strconv.ParseUint(got[2:], 16, 64)
		return err == nil && v == n
	}
	v, err := strconv.ParseUint(got, 10, 64)
	return err == nil && v == n
}

// rawBytesMatch handles the library's default branch: values of types it
// does not decode (signed integers, SizeT, SYSTEMTIME) come out as their
// raw bytes with trailing zero bytes cut.
func rawBytesMatch(raw []byte, got string) bool {
	if len(raw) > 16 {
		return false
	}
	var buf [16]byte
	copy(buf[:], raw)
	if len(raw) <= 8 {
		le := binary.LittleEndian.Uint64(buf[:8])
		if numberIs(got, le) {
			return true
		}
		if v, err := strconv.ParseInt(got, 10, 64); err == nil {
			for _, size := range []int{1, 2, 4, 8} {
				if size >= len(raw) {
					shift := uint(64 - 8*size)
					if int64(le<<shift)>>shift == v {
						return true
					}
				}
			}
		}
	}
	// SYSTEMTIME: year, month, weekday, day, hour, minute, second, ms.
	f := func(i int) int { return int(binary.LittleEndian.Uint16(buf[2*i:])) }
	st := fmt.Sprintf("%04d-%02d-%02dT%02d:%02d:%02d.%03d0000Z", f(0), f(1), f(3), f(4), f(5), f(6), f(7))
	return st == got
}

// printTemplateless renders a record whose BinXML has no template
// instance as XML text: elements, attributes, text, CDATA, character and
// entity references (names resolved through their chunk offsets).
func printTemplateless(c []byte, pos int) (string, error) {
	size := int(binary.LittleEndian.Uint32(c[pos+4:]))
	p := &printer{c: c, i: pos + 24, end: pos + size - 4}
	err := p.run()
	return p.b.String(), err
}

type printer struct {
	c      []byte
	i, end int
	b      strings.Builder
	open   []string
	inTag  bool
}

func (p *printer) u16() int { v := int(binary.LittleEndian.Uint16(p.c[p.i:])); p.i += 2; return v }
func (p *printer) u32() int { v := int(binary.LittleEndian.Uint32(p.c[p.i:])); p.i += 4; return v }

func (p *printer) name() string {
	off := p.u32()
	n := int(binary.LittleEndian.Uint16(p.c[off+6:]))
	if off == p.i {
		p.i += 8 + 2*n + 2
	}
	return utf16le(p.c[off+8 : off+8+2*n])
}

func utf16le(b []byte) string {
	u := make([]uint16, len(b)/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u))
}

func (p *printer) text(s string) {
	var buf bytes.Buffer
	_ = xml.EscapeText(&buf, []byte(s))
	p.b.Write(buf.Bytes())
}

func (p *printer) run() error {
	for p.i < p.end {
		tok := p.c[p.i]
		p.i++
		switch tok &^ 0x40 {
		case 0x00:
			return nil
		case 0x0f:
			p.i += 3
		case 0x01:
			// Dependency id (u16, absent in some writers' records), data
			// size (u32), then the name offset: an inline name sits right
			// after it.
			noDep := int(binary.LittleEndian.Uint32(p.c[p.i+4:]))
			withDep := int(binary.LittleEndian.Uint32(p.c[p.i+6:]))
			if noDep == p.i+8 || !(withDep == p.i+10 || (withDep >= 512 && withDep+8 < len(p.c))) {
				p.i += 4
			} else {
				p.i += 2 + 4
			}
			n := p.name()
			if tok&0x40 != 0 {
				p.i += 4
			}
			p.b.WriteString("<" + n)
			p.open = append(p.open, n)
			p.inTag = true
		case 0x06:
			p.b.WriteString(" " + p.name() + `="`)
			// the attribute value: text tokens up to the next attribute or close
			for p.i < p.end {
				switch p.c[p.i] &^ 0x40 {
				case 0x05, 0x07, 0x08, 0x09:
					if err := p.textToken(); err != nil {
						return err
					}
					continue
				}
				break
			}
			p.b.WriteString(`"`)
		case 0x02:
			p.b.WriteString(">")
			p.inTag = false
		case 0x03:
			p.b.WriteString("/>")
			p.open = p.open[:len(p.open)-1]
			p.inTag = false
		case 0x04:
			p.b.WriteString("</" + p.open[len(p.open)-1] + ">")
			p.open = p.open[:len(p.open)-1]
		case 0x05, 0x07, 0x08, 0x09:
			p.i--
			if err := p.textToken(); err != nil {
				return err
			}
		default:
			return fmt.Errorf("token %#x at %#x not expected in a template-less record", tok, p.i-1)
		}
	}
	return nil
}

func (p *printer) textToken() error {
	tok := p.c[p.i]
	p.i++
	switch tok &^ 0x40 {
	case 0x05:
		if t := p.c[p.i]; t != 0x01 {
			return fmt.Errorf("value type %#x", t)
		}
		p.i++
		n := p.u16()
		p.text(utf16le(p.c[p.i : p.i+2*n]))
		p.i += 2 * n
	case 0x07:
		n := p.u16()
		p.text(utf16le(p.c[p.i : p.i+2*n]))
		p.i += 2 * n
	case 0x08:
		p.b.WriteString("&#" + strconv.Itoa(p.u16()) + ";")
	case 0x09:
		p.b.WriteString("&" + p.name() + ";")
	}
	return nil
}

// flattenXML flattens event XML into the same keys as flattenVX.
func flattenXML(t *testing.T, s string, out map[string]any) {
	root, err := eventxml.Parse(s)
	require.NoError(t, err, s)
	var unnamed []string
	for _, part := range root.Kids {
		switch part.XMLName.Local {
		case "System":
			for _, el := range part.Kids {
				for _, a := range el.Attrs {
					out[el.XMLName.Local+"_"+a.Name.Local] = a.Value
				}
				if el.Text != "" {
					out[el.XMLName.Local] = el.Text
				}
			}
		case "EventData":
			for _, d := range part.Kids {
				name, _ := d.Attr("Name")
				if name == "" {
					unnamed = append(unnamed, d.Text)
				} else {
					out["Data|"+name] = d.Text
				}
			}
		case "RenderingInfo":
			for _, el := range part.Kids {
				if el.Text != "" {
					out["RenderingInfo|"+el.XMLName.Local] = el.Text
				}
			}
		default:
			leavesXML(part, out)
		}
	}
	if len(unnamed) > 0 {
		out["Data|Data"] = unnamed
	}
}

func leavesXML(n eventxml.Node, out map[string]any) {
	for _, a := range n.Attrs {
		if !eventxml.IsNamespace(a) {
			out[n.XMLName.Local+"|"+a.Name.Local] = a.Value
		}
	}
	for _, k := range n.Kids {
		if len(k.Kids) > 0 || len(k.Attrs) > 0 {
			leavesXML(k, out)
			if strings.TrimSpace(k.Text) != "" {
				out[n.XMLName.Local+"|"+k.XMLName.Local] = k.Text
			}
			continue
		}
		out[n.XMLName.Local+"|"+k.XMLName.Local] = k.Text
	}
}
