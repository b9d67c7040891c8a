// Package eventlog turns Windows Event Log records into events: the
// subscriptions edr live needs beside its ETW sessions (System 7045,
// Security 4688/4697/4698 — the channels rules expect those events on),
// and the portable parser of the event XML the Event Log renders.
//
// The parser feeds the shared Windows-event builder (winevt) in the same
// order and under the same keys as the EVTX importer's walker, so an event
// subscribed live and the same record imported later from the .evtx file
// are the same event, field by field. The subscription itself
// (EvtSubscribe/EvtNext/EvtRender from wevtapi.dll) is in
// eventlog_windows.go; everything else is portable and tested on Linux.
package eventlog

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/winevt"
)

// Bounds on one record: the Event Log caps a record at 64 KB of BinXML,
// which renders to well under these.
const (
	MaxXML      = 4 << 20
	maxDepth    = 64
	maxElements = 100_000
)

// renderingPrefix keeps RenderingInfo's localized texts apart from the
// System fields of the same names, as the EVTX importer does.
const renderingPrefix = "RenderingInfo_"

type mode uint8

const (
	modeTop mode = iota
	modeEvent
	modeSystem      // a child of System: header key/attributes
	modeSystemInner // below a System child: ignored, as the importer does
	modeEventData   // a <Data> child of EventData (until it shows a child)
	modeGeneric     // UserData, RenderingInfo and anything else
)

// frame is one open element.
type frame struct {
	name   string
	mode   mode // how this element is mapped
	prefix string
	attrs  []xml.Attr
	text   []byte
	kids   bool // has child elements
}

// Parser parses rendered event XML. It reuses its buffers; not safe for
// concurrent use.
type Parser struct {
	// Host overrides the partition host (default: the event's Computer).
	// edr live sets it to the name its ETW events carry, so both sources of
	// one machine land in one partition.
	Host string

	b     winevt.Builder
	stack []frame
	rd    bytes.Reader
	buf   []byte
	// mapped: the document carried control characters, stood in for by
	// private-use runes while encoding/xml reads it (see escapeControls).
	mapped bool
}

// Error is a record the parser rejected: where, and why.
type Error struct {
	Offset int64 // byte offset in the XML
	Err    error
}

func (e *Error) Error() string { return fmt.Sprintf("event XML at byte %d: %v", e.Offset, e.Err) }
func (e *Error) Unwrap() error { return e.Err }

var (
	errNotEvent = errors.New("root element is not <Event>")
	errDepth    = fmt.Errorf("elements nested deeper than %d", maxDepth)
	errElements = fmt.Errorf("more than %d elements", maxElements)
	errTooLong  = fmt.Errorf("longer than %d bytes", MaxXML)
	errNoRoot   = errors.New("no <Event> element")
)

// Parse fills e from the XML of one event, as EvtRender(EvtRenderEventXml)
// returns it (converted to UTF-8). On error e holds what was parsed before
// it and must not be used.
func (p *Parser) Parse(doc []byte, e *event.Event) error {
	if len(doc) > MaxXML {
		return &Error{0, errTooLong}
	}
	b := &p.b
	b.Host = p.Host
	b.Reset(e, event.SourceEVTX)
	doc, err := p.escapeControls(doc)
	if err != nil {
		return &Error{0, err}
	}
	p.rd.Reset(doc)
	dec := xml.NewDecoder(&p.rd)
	p.stack = p.stack[:0]
	elements, done := 0, false
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return &Error{dec.InputOffset(), err}
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if done {
				return &Error{dec.InputOffset(), errors.New("content after </Event>")}
			}
			if elements++; elements > maxElements {
				return &Error{dec.InputOffset(), errElements}
			}
			if len(p.stack) >= maxDepth {
				return &Error{dec.InputOffset(), errDepth}
			}
			if err := p.start(t); err != nil {
				return &Error{dec.InputOffset(), err}
			}
		case xml.EndElement:
			p.end()
			done = len(p.stack) == 0
		case xml.CharData:
			if n := len(p.stack); n > 0 {
				p.stack[n-1].text = append(p.stack[n-1].text, t...)
			}
		case xml.ProcInst, xml.Comment, xml.Directive:
			// <?xml …?> and the like carry no event data.
		}
	}
	if !done {
		return &Error{dec.InputOffset(), errNoRoot}
	}
	if msg := b.TimeError(); msg != "" {
		return &Error{0, errors.New(msg)}
	}
	b.Finish()
	if def := e.Def(); def != nil {
		for _, f := range def.Fields {
			if f.Type == event.GUID && e.Has(f.ID) {
				e.Set(f.ID, guid(e.Value(f.ID)))
			}
		}
	}
	return nil
}

// guid renders a GUID value as the importer does ("{lower-case}"); the
// Event Log's XML spells GUID-typed values in upper case. Anything that
// is not a GUID stays as written.
func guid(v string) string {
	if g, err := event.NormalizeGUID(v); err == nil {
		return g
	}
	return v
}

// start opens an element: decides its mode from its parent's and maps its
// attributes where the importer maps them on entry.
func (p *Parser) start(t xml.StartElement) error {
	f := frame{name: t.Name.Local, attrs: t.Attr}
	if n := len(p.stack); n == 0 {
		if f.name != "Event" {
			return errNotEvent
		}
		f.mode = modeTop
	} else {
		parent := &p.stack[n-1]
		parent.kids = true
		f.prefix = parent.prefix
		switch parent.mode {
		case modeTop:
			f.mode = modeEvent
			switch f.name {
			case "System":
			case "EventData":
				p.attrs(&f, "")
			case "UserData":
			default: // RenderingInfo and unknown parts of Event
				f.mode = modeGeneric
				p.genericStart(&f)
			}
		case modeEvent:
			switch parent.name {
			case "System":
				f.mode = modeSystem
			case "EventData":
				f.mode = modeEventData
				if f.name != "Data" {
					f.mode = modeGeneric
					p.genericStart(&f)
				}
			default:
				f.mode = modeGeneric
				p.genericStart(&f)
			}
		case modeSystem, modeSystemInner:
			f.mode = modeSystemInner
		case modeEventData:
			// A Data with children: the importer flattens it generically,
			// its attributes first. Known only now, at its first child.
			parent.mode = modeGeneric
			p.genericStart(parent)
			f.mode = modeGeneric
			p.genericStart(&f)
		default:
			f.mode = modeGeneric
			p.genericStart(&f)
		}
	}
	p.stack = append(p.stack, f)
	return nil
}

// end closes the innermost element and maps its text.
func (p *Parser) end() {
	n := len(p.stack)
	if n == 0 {
		return
	}
	f := &p.stack[n-1]
	b := &p.b
	switch f.mode {
	case modeEvent:
		if f.name == "EventData" {
			if t := p.value(string(f.text)); t != "" {
				b.Data(f.name, t)
			}
		}
	case modeSystem:
		p.system(f)
	case modeEventData:
		// A leaf <Data>: named or unnamed data (one with children became
		// modeGeneric at its first child).
		t := p.value(string(f.text))
		if name, ok := attr(f.attrs, "Name"); ok {
			b.Data(p.value(name), t)
		} else {
			b.Unnamed(t)
		}
	case modeGeneric:
		p.genericEnd(f)
	}
	p.stack = p.stack[:n-1]
}

// system maps one System child: attributes to "<Element>_<Attribute>",
// text to "<Element>".
func (p *Parser) system(f *frame) {
	for _, a := range f.attrs {
		if !isNamespace(a) {
			key, v := f.name+"_"+a.Name.Local, p.value(a.Value)
			if key == winevt.KeyProviderGuid || key == winevt.KeyActivityID || key == winevt.KeyRelatedActivity {
				v = guid(v)
			}
			p.b.System(key, v)
		}
	}
	if len(f.text) > 0 {
		p.b.System(f.name, p.value(string(f.text)))
	}
}

// genericStart maps an element's attributes on entry: "<Element>_<Attribute>".
func (p *Parser) genericStart(f *frame) {
	if f.name == "RenderingInfo" {
		f.prefix = renderingPrefix
	}
	p.attrs(f, f.prefix)
}

// genericEnd maps the text of a generically flattened element: after its
// children when it has any, else as a leaf (an attribute-only element
// with no text adds nothing more).
func (p *Parser) genericEnd(f *frame) {
	t := p.value(string(f.text))
	if f.kids {
		if t != "" {
			p.b.Data(f.prefix+f.name, t)
		}
		return
	}
	if t != "" || !hasDataAttrs(f.attrs) {
		p.b.Data(f.prefix+f.name, t)
	}
}

func (p *Parser) attrs(f *frame, prefix string) {
	for _, a := range f.attrs {
		if !isNamespace(a) {
			p.b.Data(prefix+f.name+"_"+a.Name.Local, p.value(a.Value))
		}
	}
}

// hasDataAttrs: the importer counts namespace declarations among an
// element's attributes when deciding whether an empty leaf is data.
func hasDataAttrs(as []xml.Attr) bool { return len(as) > 0 }

func attr(as []xml.Attr, name string) (string, bool) {
	for _, a := range as {
		if a.Name.Local == name && a.Name.Space == "" {
			return a.Value, true
		}
	}
	return "", false
}

func isNamespace(a xml.Attr) bool { return a.Name.Local == "xmlns" || a.Name.Space == "xmlns" }

// Subscription is one Event Log channel edr subscribes to, and the event
// ids it selects there.
type Subscription struct {
	Channel string
	IDs     []uint16
}

// Subscriptions are the Event Log events rules expect on their own
// channels and ETW does not deliver in that form: new services (System
// 7045, Security 4697), process creation with the command line (4688),
// scheduled tasks (4698).
var Subscriptions = []Subscription{
	{Channel: "System", IDs: []uint16{7045}},
	{Channel: "Security", IDs: []uint16{4688, 4697, 4698}},
}

// Query is the XPath query EvtSubscribe takes for s.
func (s Subscription) Query() string {
	var sb strings.Builder
	sb.WriteString("*[System[(")
	for i, id := range s.IDs {
		if i > 0 {
			sb.WriteString(" or ")
		}
		sb.WriteString("EventID=")
		sb.WriteString(strconv.Itoa(int(id)))
	}
	sb.WriteString(")]]")
	return sb.String()
}

// Control characters. The Event Log keeps a value's bytes as the provider
// wrote them — a TaskContent with CR-LF line ends, a command line with a
// stray control character — and the EVTX importer keeps them too. An XML
// reader must not: it folds CR-LF into LF, and encoding/xml rejects the
// other C0 controls, literal or as character references. So before
// reading, a CR becomes the reference &#xD; (kept as is by the reader),
// and any other C0 control (literal or referenced) a private-use rune
// ctlBase+c, mapped back in value.
const ctlBase = 0xF700

// escapeControls returns doc, or a copy with the controls escaped.
func (p *Parser) escapeControls(doc []byte) ([]byte, error) {
	p.mapped = false
	clean := true
	for _, c := range doc {
		if c < 0x20 && c != '\t' && c != '\n' || c == '&' {
			clean = false
			break
		}
	}
	if clean {
		return doc, nil
	}
	out := p.buf[:0]
	for i := 0; i < len(doc); i++ {
		c := doc[i]
		switch {
		case c == '\r':
			out = append(out, "&#xD;"...)
		case c < 0x20 && c != '\t' && c != '\n':
			out = utf8.AppendRune(out, ctlBase+rune(c))
			p.mapped = true
		case c == '&':
			if code, n, ok := charRef(doc[i:]); ok && code < 0x20 && code != '\t' && code != '\n' && code != '\r' {
				out = utf8.AppendRune(out, ctlBase+rune(code))
				p.mapped = true
				i += n - 1
				continue
			}
			out = append(out, c)
		default:
			out = append(out, c)
		}
	}
	p.buf = out
	if p.mapped && bytes.Contains(doc, []byte(string(rune(ctlBase))[:2])) {
		// A genuine rune of the stand-in block would be mapped back to a
		// control character: refuse rather than alter the value.
		for _, r := range string(doc) {
			if r >= ctlBase && r < ctlBase+0x20 {
				return nil, fmt.Errorf("control characters beside U+%04X: cannot keep both", r)
			}
		}
	}
	return out, nil
}

// charRef parses a numeric character reference (&#NN; or &#xHH;) at the
// start of b: its code and length.
func charRef(b []byte) (code, n int, ok bool) {
	if len(b) < 4 || b[1] != '#' {
		return 0, 0, false
	}
	i, base := 2, 10
	if b[2] == 'x' {
		i, base = 3, 16
	}
	start := i
	for i < len(b) && i-start < 8 && b[i] != ';' {
		i++
	}
	if i >= len(b) || b[i] != ';' || i == start {
		return 0, 0, false
	}
	v, err := strconv.ParseUint(string(b[start:i]), base, 32)
	if err != nil {
		return 0, 0, false
	}
	return int(v), i + 1, true
}

// value undoes escapeControls' stand-ins.
func (p *Parser) value(s string) string {
	if !p.mapped {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r >= ctlBase && r < ctlBase+0x20 {
			return r - ctlBase
		}
		return r
	}, s)
}
