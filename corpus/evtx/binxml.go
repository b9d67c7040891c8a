package evtx

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf16"
	"unicode/utf8"
)

// BinXML tokens. Tokens 0x01, 0x05–0x09 have a variant with bit 0x40 set
// (element with attributes; "more data follows" for the others).
const (
	tokEOF          = 0x00
	tokOpenStart    = 0x01
	tokCloseStart   = 0x02
	tokCloseEmpty   = 0x03
	tokEndElement   = 0x04
	tokValue        = 0x05
	tokAttribute    = 0x06
	tokCDATA        = 0x07
	tokCharRef      = 0x08
	tokEntityRef    = 0x09
	tokPITarget     = 0x0a
	tokPIData       = 0x0b
	tokTemplate     = 0x0c
	tokNormalSubst  = 0x0d
	tokOptionalSubs = 0x0e
	tokFragment     = 0x0f
	tokMore         = 0x40
)

const (
	maxDepth      = 64 // element nesting and BinXML-in-BinXML depth
	maxValues     = 4096
	chunkHeaderSz = 512
)

var (
	errTruncated = errors.New("binxml: truncated")
	errDepth     = errors.New("binxml: nesting too deep")
	errLoop      = errors.New("binxml: template refers to itself")
)

type pieceKind uint8

const (
	pText  pieceKind = iota // literal text
	pSubst                  // substitution of a template value
	pElem                   // child element
	pInst                   // template instance
)

// piece is one item of element content or of an attribute value.
type piece struct {
	kind pieceKind
	opt  bool   // optional substitution: omitted when the value is null
	sub  uint16 // substitution index
	text string
	elem *elem
	inst *instance
}

type attr struct {
	name string
	val  []piece
}

type elem struct {
	name    string
	attrs   []attr
	content []piece
}

// template is a parsed template definition, cached per chunk by the offset
// of its definition.
type template struct {
	pieces []piece
	err    error
	busy   bool
}

// value is one substitution value of a template instance; data aliases the
// chunk, off is its offset in the chunk (BinXML values are parsed there).
type value struct {
	typ  byte
	off  int
	data []byte
}

type instance struct {
	tpl  *template
	vals []value
}

// parser decodes BinXML inside one chunk. Names and templates are cached for
// the chunk's lifetime; offsets in the chunk are absolute.
type parser struct {
	buf   []byte // the whole chunk
	pos   int
	end   int // limit of the current stream
	depth int

	names map[uint32]string
	tpls  map[uint32]*template
	vals  []value // arena for instance values, reset per record
}

func (p *parser) reset(chunk []byte) {
	p.buf = chunk
	if p.names == nil {
		p.names = make(map[uint32]string, 256)
		p.tpls = make(map[uint32]*template, 32)
	} else {
		clear(p.names)
		clear(p.tpls)
	}
}

func (p *parser) need(n int) error {
	if n < 0 || p.pos+n > p.end {
		return errTruncated
	}
	return nil
}

func (p *parser) u8() (byte, error) {
	if p.pos >= p.end {
		return 0, errTruncated
	}
	b := p.buf[p.pos]
	p.pos++
	return b, nil
}

func (p *parser) u16() (uint16, error) {
	if err := p.need(2); err != nil {
		return 0, err
	}
	v := binary.LittleEndian.Uint16(p.buf[p.pos:])
	p.pos += 2
	return v, nil
}

func (p *parser) u32() (uint32, error) {
	if err := p.need(4); err != nil {
		return 0, err
	}
	v := binary.LittleEndian.Uint32(p.buf[p.pos:])
	p.pos += 4
	return v, nil
}

// utf16At decodes n UTF-16LE code units at p.pos and advances.
func (p *parser) utf16(n int) (string, error) {
	if err := p.need(2 * n); err != nil {
		return "", err
	}
	s := decodeUTF16(p.buf[p.pos : p.pos+2*n])
	p.pos += 2 * n
	return s, nil
}

// decodeUTF16 decodes UTF-16LE text (no NUL trimming: text tokens carry an
// exact length).
func decodeUTF16(b []byte) string {
	n := len(b) / 2
	ascii := true
	for i := 0; i < n; i++ {
		if b[2*i+1] != 0 || b[2*i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		out := make([]byte, n)
		for i := range out {
			out[i] = b[2*i]
		}
		return string(out)
	}
	u := make([]uint16, n)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	buf := make([]byte, 0, n+n/2)
	for _, r := range utf16.Decode(u) {
		buf = utf8.AppendRune(buf, r)
	}
	return string(buf)
}

// name reads a name reference: a chunk offset of a name structure (next
// offset u32, hash u16, length u16, UTF-16 characters, NUL). When the
// offset is the current position the structure is inline and is skipped.
func (p *parser) name() (string, error) {
	off, err := p.u32()
	if err != nil {
		return "", err
	}
	if int(off) == p.pos {
		if err := p.need(8); err != nil {
			return "", err
		}
		n := int(binary.LittleEndian.Uint16(p.buf[p.pos+6:]))
		if err := p.need(8 + 2*n + 2); err != nil {
			return "", err
		}
		p.pos += 8 + 2*n + 2
	}
	return p.nameAt(off)
}

func (p *parser) nameAt(off uint32) (string, error) {
	if s, ok := p.names[off]; ok {
		return s, nil
	}
	o := int(off)
	if o < 0 || o+8 > len(p.buf) {
		return "", fmt.Errorf("binxml: name offset %#x outside the chunk", off)
	}
	n := int(binary.LittleEndian.Uint16(p.buf[o+6:]))
	if o+8+2*n > len(p.buf) {
		return "", fmt.Errorf("binxml: name at %#x runs past the chunk", off)
	}
	s := decodeUTF16(p.buf[o+8 : o+8+2*n])
	p.names[off] = s
	return s, nil
}

// fragment parses a BinXML stream up to its end-of-stream token (or the end
// of the stream) and returns its top-level pieces, appended to dst.
func (p *parser) fragment(dst []piece) ([]piece, error) {
	for p.pos < p.end {
		tok := p.buf[p.pos]
		switch tok &^ tokMore {
		case tokEOF:
			p.pos++
			return dst, nil
		case tokFragment:
			if err := p.need(4); err != nil {
				return dst, err
			}
			p.pos += 4
		case tokOpenStart:
			p.pos++
			el, err := p.element(tok&tokMore != 0)
			if err != nil {
				return dst, err
			}
			dst = append(dst, piece{kind: pElem, elem: el})
		case tokTemplate:
			p.pos++
			inst, err := p.instance()
			if err != nil {
				return dst, err
			}
			dst = append(dst, piece{kind: pInst, inst: inst})
		default:
			var err error
			var ok bool
			dst, ok, err = p.contentToken(dst)
			if err != nil {
				return dst, err
			}
			if !ok {
				return dst, fmt.Errorf("binxml: unexpected token %#02x at top level (offset %#x)", tok, p.pos)
			}
		}
	}
	return dst, nil
}

// contentToken parses a text-like token (value, substitution, character or
// entity reference, CDATA, processing instruction) and appends its piece.
// ok is false when the token at p.pos is not one of these.
func (p *parser) contentToken(dst []piece) ([]piece, bool, error) {
	tok := p.buf[p.pos]
	switch tok &^ tokMore {
	case tokValue:
		p.pos++
		typ, err := p.u8()
		if err != nil {
			return dst, true, err
		}
		if typ != tWString && typ != tString {
			return dst, true, fmt.Errorf("binxml: value token of type %#02x", typ)
		}
		n, err := p.u16()
		if err != nil {
			return dst, true, err
		}
		var s string
		if typ == tWString {
			s, err = p.utf16(int(n))
		} else {
			if err = p.need(int(n)); err == nil {
				s = string(p.buf[p.pos : p.pos+int(n)])
				p.pos += int(n)
			}
		}
		return append(dst, piece{kind: pText, text: s}), true, err
	case tokCDATA:
		p.pos++
		n, err := p.u16()
		if err != nil {
			return dst, true, err
		}
		s, err := p.utf16(int(n))
		return append(dst, piece{kind: pText, text: s}), true, err
	case tokCharRef:
		p.pos++
		c, err := p.u16()
		if err != nil {
			return dst, true, err
		}
		return append(dst, piece{kind: pText, text: string(rune(c))}), true, nil
	case tokEntityRef:
		p.pos++
		n, err := p.name()
		if err != nil {
			return dst, true, err
		}
		return append(dst, piece{kind: pText, text: entity(n)}), true, nil
	case tokNormalSubst, tokOptionalSubs:
		p.pos++
		id, err := p.u16()
		if err != nil {
			return dst, true, err
		}
		if _, err := p.u8(); err != nil { // declared type; the value carries its own
			return dst, true, err
		}
		return append(dst, piece{kind: pSubst, sub: id, opt: tok == tokOptionalSubs}), true, nil
	case tokPITarget:
		// Processing instructions carry no event data; skip them.
		p.pos++
		_, err := p.name()
		return dst, true, err
	case tokPIData:
		p.pos++
		n, err := p.u16()
		if err != nil {
			return dst, true, err
		}
		_, err = p.utf16(int(n))
		return dst, true, err
	}
	return dst, false, nil
}

func entity(name string) string {
	switch name {
	case "amp":
		return "&"
	case "lt":
		return "<"
	case "gt":
		return ">"
	case "quot":
		return `"`
	case "apos":
		return "'"
	}
	return "&" + name + ";"
}

// element parses an element after its open-start token.
func (p *parser) element(hasAttrs bool) (*elem, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxDepth {
		return nil, errDepth
	}
	start := p.pos
	// Dependency identifier (u16), data size (u32), name offset (u32). Some
	// writers omit the dependency identifier (seen in BinXML substitution
	// values): when the layout with it does not make sense, retry without.
	if err := p.need(10); err != nil {
		return nil, err
	}
	if !p.plausibleElement(start+2) && p.plausibleElement(start) {
		p.pos = start
	} else {
		p.pos = start + 2
	}
	p.pos += 4 // data size
	name, err := p.name()
	if err != nil {
		return nil, err
	}
	el := &elem{name: name}
	if hasAttrs {
		if _, err := p.u32(); err != nil { // attribute list size
			return nil, err
		}
	}
	for p.pos < p.end {
		tok := p.buf[p.pos]
		switch tok &^ tokMore {
		case tokAttribute:
			p.pos++
			an, err := p.name()
			if err != nil {
				return el, err
			}
			a := attr{name: an}
			for p.pos < p.end {
				var ok bool
				switch p.buf[p.pos] &^ tokMore {
				case tokValue, tokNormalSubst, tokOptionalSubs, tokCharRef, tokEntityRef, tokCDATA:
					a.val, ok, err = p.contentToken(a.val)
				}
				if err != nil {
					return el, err
				}
				if !ok {
					break
				}
			}
			el.attrs = append(el.attrs, a)
		case tokCloseEmpty:
			p.pos++
			return el, nil
		case tokCloseStart:
			p.pos++
			return el, p.content(el)
		default:
			return el, fmt.Errorf("binxml: unexpected token %#02x in start of element %s (offset %#x)", tok, name, p.pos)
		}
	}
	return el, errTruncated
}

// plausibleElement checks the data-size/name-offset layout at off.
func (p *parser) plausibleElement(off int) bool {
	if off+8 > p.end {
		return false
	}
	size := int(binary.LittleEndian.Uint32(p.buf[off:]))
	name := int(binary.LittleEndian.Uint32(p.buf[off+4:]))
	if size > len(p.buf) || name < chunkHeaderSz || name+8 > len(p.buf) {
		return false
	}
	return true
}

// content parses element content up to and including its end-element token.
func (p *parser) content(el *elem) error {
	for p.pos < p.end {
		tok := p.buf[p.pos]
		switch tok &^ tokMore {
		case tokEndElement:
			p.pos++
			return nil
		case tokOpenStart:
			p.pos++
			child, err := p.element(tok&tokMore != 0)
			if child != nil {
				el.content = append(el.content, piece{kind: pElem, elem: child})
			}
			if err != nil {
				return err
			}
		case tokTemplate:
			p.pos++
			inst, err := p.instance()
			if err != nil {
				return err
			}
			el.content = append(el.content, piece{kind: pInst, inst: inst})
		case tokFragment:
			if err := p.need(4); err != nil {
				return err
			}
			p.pos += 4
		case tokEOF:
			return fmt.Errorf("binxml: end of stream inside element %s", el.name)
		default:
			var ok bool
			var err error
			el.content, ok, err = p.contentToken(el.content)
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("binxml: unexpected token %#02x in element %s (offset %#x)", tok, el.name, p.pos)
			}
		}
	}
	return errTruncated
}

// instance parses a template instance after its token: the template
// (inline definition or a reference to one elsewhere in the chunk) and the
// substitution values.
func (p *parser) instance() (*instance, error) {
	if err := p.need(9); err != nil {
		return nil, err
	}
	p.pos++ // unknown, 1
	p.pos += 4
	defOff, _ := p.u32()
	var tpl *template
	if int(defOff) == p.pos {
		// Inline definition: next offset, GUID, data size, body.
		if err := p.need(24); err != nil {
			return nil, err
		}
		size := int(binary.LittleEndian.Uint32(p.buf[p.pos+20:]))
		p.pos += 24
		if err := p.need(size); err != nil {
			return nil, err
		}
		tpl = p.template(defOff)
		p.pos += size
	} else {
		tpl = p.template(defOff)
	}
	if tpl.err != nil {
		return nil, tpl.err
	}
	n, err := p.u32()
	if err != nil {
		return nil, err
	}
	if n > maxValues || int(n)*4 > p.end-p.pos {
		return nil, fmt.Errorf("binxml: template instance with %d values", n)
	}
	descr := p.pos
	p.pos += int(n) * 4
	start := len(p.vals)
	for i := 0; i < int(n); i++ {
		size := int(binary.LittleEndian.Uint16(p.buf[descr+4*i:]))
		typ := p.buf[descr+4*i+2]
		if err := p.need(size); err != nil {
			return nil, fmt.Errorf("binxml: value %d of %d (%d bytes): %w", i, n, size, err)
		}
		p.vals = append(p.vals, value{typ: typ, off: p.pos, data: p.buf[p.pos : p.pos+size : p.pos+size]})
		p.pos += size
	}
	return &instance{tpl: tpl, vals: p.vals[start:len(p.vals):len(p.vals)]}, nil
}

// template returns the template whose definition is at off, parsing and
// caching it on first use.
func (p *parser) template(off uint32) *template {
	if t, ok := p.tpls[off]; ok {
		if t.busy {
			return &template{err: errLoop}
		}
		return t
	}
	t := &template{busy: true}
	p.tpls[off] = t
	o := int(off)
	if o < chunkHeaderSz || o+24 > len(p.buf) {
		t.err = fmt.Errorf("binxml: template definition offset %#x outside the chunk", off)
		t.busy = false
		return t
	}
	size := int(binary.LittleEndian.Uint32(p.buf[o+20:]))
	if o+24+size > len(p.buf) {
		t.err = fmt.Errorf("binxml: template at %#x (%d bytes) runs past the chunk", off, size)
		t.busy = false
		return t
	}
	// A template outlives the record: values of instances nested in its body
	// (rare) must not live in the per-record arena.
	savePos, saveEnd, saveVals := p.pos, p.end, p.vals
	p.pos, p.end, p.vals = o+24, o+24+size, nil
	t.pieces, t.err = p.fragment(nil)
	p.pos, p.end, p.vals = savePos, saveEnd, saveVals
	t.busy = false
	return t
}
