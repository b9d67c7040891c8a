package evtx

import (
	"errors"
	"strings"

	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/winevt"
)

// walker turns a decoded record (pieces bound to values) into Builder calls:
// System into the header, EventData/UserData flattened into one namespace.
type walker struct {
	p         *parser
	b         *winevt.Builder
	sb        strings.Builder
	badValues int
	one       [1]string
	budget    int
	err       error // first error parsing an embedded BinXML value
}

type mode uint8

const (
	modeTop mode = iota
	modeEvent
	modeSystem
	modeEventData
	modeGeneric
)

// maxElements bounds the elements one record may expand to.
const maxElements = 100_000

var errExpansion = errors.New("binxml: record expands to more than 100000 elements")

// renderingPrefix keeps RenderingInfo's localized texts (Level "Information",
// Task names, …) apart from the System fields of the same names.
const renderingPrefix = "RenderingInfo_"

// elems visits every element among ps, expanding template instances and
// BinXML substitution values in place.
func (w *walker) elems(ps []piece, vals []value, m mode, prefix string) {
	for i := range ps {
		pc := &ps[i]
		switch pc.kind {
		case pElem:
			w.visit(pc.elem, vals, m, prefix)
		case pInst:
			w.elems(pc.inst.tpl.pieces, pc.inst.vals, m, prefix)
		case pSubst:
			if v, ok := subst(pc, vals); ok && v.typ == tBinXML {
				if frag := w.embedded(v); frag != nil {
					w.elems(frag, nil, m, prefix)
				}
			}
		}
	}
}

// embedded parses a BinXML substitution value (it lies in the chunk, so
// name and template offsets inside it resolve as usual).
func (w *walker) embedded(v value) []piece {
	p := w.p
	if p.depth >= maxDepth {
		w.setErr(errDepth)
		return nil
	}
	savePos, saveEnd := p.pos, p.end
	p.pos, p.end = v.off, v.off+len(v.data)
	p.depth++
	frag, err := p.fragment(nil)
	p.depth--
	p.pos, p.end = savePos, saveEnd
	if err != nil {
		w.setErr(err)
	}
	return frag
}

func (w *walker) setErr(err error) {
	if w.err == nil {
		w.err = err
	}
}

func subst(pc *piece, vals []value) (value, bool) {
	if int(pc.sub) >= len(vals) {
		return value{}, false
	}
	return vals[pc.sub], true
}

func (w *walker) visit(el *elem, vals []value, m mode, prefix string) {
	// Templates may include other templates several times; a crafted chunk
	// can make that expansion exponential. No real record comes near this.
	if w.budget--; w.budget < 0 {
		w.setErr(errExpansion)
		return
	}
	switch m {
	case modeTop:
		// The root is Event; anything else is flattened as data.
		if el.name == "Event" {
			w.elems(el.content, vals, modeEvent, "")
			return
		}
		w.generic(el, vals, "")
	case modeEvent:
		switch el.name {
		case "System":
			w.elems(el.content, vals, modeSystem, "")
		case "EventData":
			w.attrs(el, vals, "")
			w.elems(el.content, vals, modeEventData, "")
			if t := w.text(el.content, vals); t != "" {
				w.b.Data(el.name, t)
			}
		case "UserData":
			w.elems(el.content, vals, modeGeneric, "")
		case "RenderingInfo":
			w.generic(el, vals, "")
		default:
			w.generic(el, vals, "")
		}
	case modeSystem:
		w.system(el, vals)
	case modeEventData:
		if el.name == "Data" && !w.hasChildren(el.content, vals) {
			name, named := w.attr(el, "Name", vals)
			for _, v := range w.texts(el.content, vals) {
				if named {
					w.b.Data(name, v)
				} else {
					w.b.Unnamed(v)
				}
			}
			return
		}
		w.generic(el, vals, prefix)
	default:
		w.generic(el, vals, prefix)
	}
}

// system maps one System child: attributes to "<Element>_<Attribute>",
// text to "<Element>".
func (w *walker) system(el *elem, vals []value) {
	for i := range el.attrs {
		a := &el.attrs[i]
		if el.name == "TimeCreated" && a.name == "SystemTime" && w.fileTime(a.val, vals) {
			continue
		}
		if v, ok := w.attrValue(a, vals); ok {
			w.b.System(el.name+"_"+a.name, v)
		}
	}
	if t := w.text(el.content, vals); t != "" {
		w.b.System(el.name, t)
	}
}

// fileTime sets the event time straight from a FILETIME value.
func (w *walker) fileTime(val []piece, vals []value) bool {
	if len(val) != 1 || val[0].kind != pSubst {
		return false
	}
	v, ok := subst(&val[0], vals)
	if !ok || v.typ != tFileTime || len(v.data) != 8 {
		return false
	}
	ns, ok := fileTimeNanos(leUint64(v.data))
	if ok {
		w.b.SetTime(ns)
	}
	return ok
}

func leUint64(b []byte) uint64 { v, _ := leUint(b, 8); return v }

// generic flattens an element: attributes as "<Element>_<Attribute>", leaf
// text under the element's name, children recursively under their names.
func (w *walker) generic(el *elem, vals []value, prefix string) {
	if el.name == "RenderingInfo" {
		prefix = renderingPrefix
	}
	w.attrs(el, vals, prefix)
	t := w.text(el.content, vals)
	if w.hasChildren(el.content, vals) {
		w.elems(el.content, vals, modeGeneric, prefix)
		if t != "" {
			w.b.Data(prefix+el.name, t)
		}
		return
	}
	if t != "" || len(el.attrs) == 0 {
		for _, v := range w.texts(el.content, vals) {
			w.b.Data(prefix+el.name, v)
		}
	}
}

// texts is the text of element content, or — when the content is one array
// substitution — the text of each item: Windows renders such an element
// once per item.
func (w *walker) texts(ps []piece, vals []value) []string {
	if len(ps) == 1 && ps[0].kind == pSubst {
		if v, ok := subst(&ps[0], vals); ok && v.typ&tArray != 0 && v.typ != tBinXML {
			items, good := arrayItems(v.typ&^tArray, v.data)
			if !good {
				w.badValues++
			}
			return items
		}
	}
	w.one[0] = w.text(ps, vals)
	return w.one[:]
}

func (w *walker) attrs(el *elem, vals []value, prefix string) {
	for i := range el.attrs {
		a := &el.attrs[i]
		if a.name == "xmlns" || strings.HasPrefix(a.name, "xmlns:") {
			continue // namespace declarations are not data
		}
		if v, ok := w.attrValue(a, vals); ok {
			w.b.Data(prefix+el.name+"_"+a.name, v)
		}
	}
}

func (w *walker) attr(el *elem, name string, vals []value) (string, bool) {
	for i := range el.attrs {
		if el.attrs[i].name == name {
			return w.attrValue(&el.attrs[i], vals)
		}
	}
	return "", false
}

// attrValue renders an attribute; an attribute whose only content is a null
// optional substitution is omitted, as Windows omits it.
func (w *walker) attrValue(a *attr, vals []value) (string, bool) {
	if len(a.val) == 1 && a.val[0].kind == pSubst {
		v, ok := subst(&a.val[0], vals)
		if !ok || v.typ == tNull {
			return "", !a.val[0].opt && ok
		}
	}
	return w.text(a.val, vals), true
}

// hasChildren reports whether content holds elements (directly, through a
// template instance, or in a BinXML value).
func (w *walker) hasChildren(ps []piece, vals []value) bool {
	for i := range ps {
		switch ps[i].kind {
		case pElem, pInst:
			return true
		case pSubst:
			if v, ok := subst(&ps[i], vals); ok && v.typ == tBinXML {
				return true
			}
		}
	}
	return false
}

// text concatenates the text of content: literal text and rendered
// substitution values (BinXML values are elements, not text).
func (w *walker) text(ps []piece, vals []value) string {
	if len(ps) == 1 {
		return w.pieceText(&ps[0], vals)
	}
	w.sb.Reset()
	for i := range ps {
		w.sb.WriteString(w.pieceText(&ps[i], vals))
	}
	return w.sb.String()
}

func (w *walker) pieceText(pc *piece, vals []value) string {
	switch pc.kind {
	case pText:
		return pc.text
	case pSubst:
		v, ok := subst(pc, vals)
		if !ok || v.typ == tBinXML {
			return ""
		}
		s, good := render(v.typ, v.data)
		if !good {
			w.badValues++
		}
		return s
	}
	return ""
}

// decodeRecord walks a record's pieces into the builder and reports an
// error from embedded BinXML, if any.
func (w *walker) decodeRecord(ps []piece) error {
	w.err = nil
	w.budget = maxElements
	w.elems(ps, nil, modeTop, "")
	return w.err
}

// usesTemplate reports whether a record's BinXML holds a template instance.
func usesTemplate(ps []piece) bool {
	for i := range ps {
		if ps[i].kind == pInst {
			return true
		}
	}
	return false
}

var _ = event.FlagNoTemplate
