package jsonl

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// The parser turns one JSON document into a flat tree without maps or
// reflection: a node per object key (with its parent), a leaf per scalar.
// Keys and values stay slices of the input until a value is needed as a
// string, so a line costs one pass and the strings the event keeps.

type kind uint8

const (
	kString kind = iota
	kNumber
	kTrue
	kFalse
	kNull
)

// span is a byte range of the input.
type span struct{ s, e int32 }

type node struct {
	key    span
	esc    bool  // key holds escapes
	parent int32 // -1 for top-level keys
}

type leaf struct {
	node int32 // the key the value belongs to (-1: top-level scalar)
	val  span  // for strings, the bytes between the quotes
	kind kind
	esc  bool // string holds escapes
}

const maxNesting = 64

var (
	errIncomplete = errors.New("incomplete JSON document")
	errNotObject  = errors.New("not a JSON object")
)

type syntaxError struct {
	off int
	msg string
}

func (e *syntaxError) Error() string { return fmt.Sprintf("offset %d: %s", e.off, e.msg) }

// doc is the parsed form of one document; its arenas are reused.
type doc struct {
	buf    []byte
	nodes  []node
	leaves []leaf
}

func (d *doc) reset(buf []byte) {
	d.buf = buf
	d.nodes = d.nodes[:0]
	d.leaves = d.leaves[:0]
}

// parse parses one top-level object starting at i (after whitespace) and
// returns the offset just past it. errIncomplete means the input ended
// inside the document.
func (d *doc) parse(i int) (int, error) {
	i = skipWS(d.buf, i)
	if i >= len(d.buf) {
		return i, errIncomplete
	}
	if d.buf[i] != '{' {
		return i, errNotObject
	}
	return d.object(i, -1, 0)
}

func skipWS(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

func (d *doc) errAt(i int, msg string) error { return &syntaxError{off: i, msg: msg} }

// object parses {...} at i; parent is the node the object is the value of.
func (d *doc) object(i int, parent int32, depth int) (int, error) {
	if depth >= maxNesting {
		return i, d.errAt(i, "nesting too deep")
	}
	b := d.buf
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == '}' {
		return i + 1, nil
	}
	for {
		if i >= len(b) {
			return i, errIncomplete
		}
		if b[i] != '"' {
			return i, d.errAt(i, "expected a key")
		}
		ks, ke, esc, err := d.str(i)
		if err != nil {
			return i, err
		}
		d.nodes = append(d.nodes, node{key: span{int32(ks), int32(ke)}, esc: esc, parent: parent})
		self := int32(len(d.nodes) - 1)
		i = skipWS(b, ke+1)
		if i >= len(b) {
			return i, errIncomplete
		}
		if b[i] != ':' {
			return i, d.errAt(i, "expected ':'")
		}
		if i, err = d.value(skipWS(b, i+1), self, depth+1); err != nil {
			return i, err
		}
		var done bool
		if i, done, err = d.next(i, '}'); done || err != nil {
			return i, err
		}
	}
}

// next moves past the separator after a member or element: ',' (more
// follow) or the closing byte (done).
func (d *doc) next(i int, closing byte) (int, bool, error) {
	b := d.buf
	i = skipWS(b, i)
	if i >= len(b) {
		return i, false, errIncomplete
	}
	switch b[i] {
	case ',':
		return skipWS(b, i+1), false, nil
	case closing:
		return i + 1, true, nil
	}
	return i, false, d.errAt(i, "expected ',' or '"+string(closing)+"'")
}

// value parses any value at i belonging to node n.
func (d *doc) value(i int, n int32, depth int) (int, error) {
	b := d.buf
	if i >= len(b) {
		return i, errIncomplete
	}
	switch c := b[i]; {
	case c == '"':
		s, e, esc, err := d.str(i)
		if err != nil {
			return i, err
		}
		d.leaves = append(d.leaves, leaf{node: n, val: span{int32(s), int32(e)}, kind: kString, esc: esc})
		return e + 1, nil
	case c == '{':
		return d.object(i, n, depth)
	case c == '[':
		return d.array(i, n, depth)
	case c == '-' || (c >= '0' && c <= '9'):
		j := i + 1
		for j < len(b) && numChar(b[j]) {
			j++
		}
		if j >= len(b) {
			return j, errIncomplete
		}
		d.leaves = append(d.leaves, leaf{node: n, val: span{int32(i), int32(j)}, kind: kNumber})
		return j, nil
	default:
		for _, lit := range []struct {
			s string
			k kind
		}{{"true", kTrue}, {"false", kFalse}, {"null", kNull}} {
			if len(b)-i < len(lit.s) {
				if string(b[i:]) == lit.s[:len(b)-i] {
					return len(b), errIncomplete
				}
				continue
			}
			if string(b[i:i+len(lit.s)]) == lit.s {
				d.leaves = append(d.leaves, leaf{node: n, val: span{int32(i), int32(i + len(lit.s))}, kind: lit.k})
				return i + len(lit.s), nil
			}
		}
		return i, d.errAt(i, "unexpected character "+strconv.QuoteRune(rune(c)))
	}
}

func numChar(c byte) bool {
	return c >= '0' && c <= '9' || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-'
}

// array parses [...]: every element belongs to the array's key.
func (d *doc) array(i int, n int32, depth int) (int, error) {
	if depth >= maxNesting {
		return i, d.errAt(i, "nesting too deep")
	}
	b := d.buf
	i = skipWS(b, i+1)
	if i < len(b) && b[i] == ']' {
		return i + 1, nil
	}
	for {
		var err error
		if i, err = d.value(i, n, depth+1); err != nil {
			return i, err
		}
		var done bool
		if i, done, err = d.next(i, ']'); done || err != nil {
			return i, err
		}
	}
}

// str scans the string starting with the quote at i and returns the
// content range [s, e) with e at the closing quote. Between escapes the
// scan is two IndexByte calls, so long strings with many escapes (rendered
// messages) stay linear.
func (d *doc) str(i int) (s, e int, esc bool, err error) {
	b := d.buf
	s = i + 1
	// Most keys and values are short: a plain loop beats two IndexByte
	// calls there.
	for j := s; j < len(b) && j < s+32; j++ {
		switch b[j] {
		case '"':
			return s, j, false, nil
		case '\\':
			return d.strSlow(s)
		}
	}
	return d.strSlow(s)
}

func (d *doc) strSlow(s int) (_, e int, esc bool, err error) {
	b := d.buf
	j := s
	for {
		k := bytes.IndexByte(b[j:], '"')
		if k < 0 {
			return s, len(b), esc, errIncomplete
		}
		q := j + k
		for {
			k := bytes.IndexByte(b[j:q], '\\')
			if k < 0 {
				return s, q, esc, nil
			}
			esc = true
			j += k + 2 // skip the escaped character (\uXXXX continues as plain bytes)
			if j > q {
				break // the quote at q was escaped: find the next one
			}
		}
		if j >= len(b) {
			return s, len(b), esc, errIncomplete
		}
	}
}

// text returns a leaf's value as a string (JSON literals as their text,
// null as "").
func (d *doc) text(l *leaf) string {
	raw := d.buf[l.val.s:l.val.e]
	switch l.kind {
	case kString:
		if l.esc {
			return unescape(raw)
		}
		return string(raw)
	case kNull:
		return ""
	}
	return string(raw)
}

// key returns a node's key bytes (unescaped when needed).
func (d *doc) key(n *node) []byte {
	raw := d.buf[n.key.s:n.key.e]
	if n.esc {
		return []byte(unescape(raw))
	}
	return raw
}

// unescape decodes JSON escapes; malformed escapes are kept verbatim.
func unescape(b []byte) string {
	out := make([]byte, 0, len(b))
	for {
		k := bytes.IndexByte(b, '\\')
		if k < 0 || k+1 >= len(b) {
			out = append(out, b...)
			// out is never written again: share its bytes with the string.
			return unsafe.String(unsafe.SliceData(out), len(out))
		}
		out = append(out, b[:k]...)
		c := b[k+1]
		b = b[k+2:]
		switch c {
		case '"', '\\', '/':
			out = append(out, c)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := hex4(b)
			if !ok {
				out = append(out, '\\', 'u')
				continue
			}
			b = b[4:]
			if utf16.IsSurrogate(r) {
				if len(b) >= 6 && b[0] == '\\' && b[1] == 'u' {
					if r2, ok := hex4(b[2:]); ok {
						if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
							out = utf8.AppendRune(out, dec)
							b = b[6:]
							continue
						}
					}
				}
				r = utf8.RuneError
			}
			out = utf8.AppendRune(out, r)
		default:
			out = append(out, '\\', c)
		}
	}
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	return r, true
}
