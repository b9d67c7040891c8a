// Package ecs builds ECS documents as ordered, nested JSON objects and
// validates them against the ECS field definitions (ecs_flat.yml).
//
// Objects keep their keys in insertion order, so the same sequence of Set
// calls always encodes to the same bytes: alert output is deterministic
// without sorting or map iteration.
package ecs

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Empty is a value that encodes as the empty string. Set skips "" (ECS
// documents omit unknown values); Empty keeps a present-but-empty value
// where that distinction matters (the original event's fields).
type Empty struct{}

// Object is an ordered JSON object. The zero value is empty and ready to use.
type Object struct {
	fields []field
}

type field struct {
	key string
	val any // string, int64, uint64, float64, bool, []string, *Object, []*Object
}

// Len is the number of keys at this level.
func (o *Object) Len() int { return len(o.fields) }

// Reset empties the object, keeping its storage.
func (o *Object) Reset() { o.fields = o.fields[:0] }

// Set stores v at a dotted path ("process.parent.pid"), creating the nested
// objects on the way. Setting an existing key replaces its value in place
// (its position is kept). Supported values: string, int, int64, uint64,
// float64, bool, []string, *Object, []*Object. Empty strings and empty
// slices are skipped: ECS documents omit unknown values rather than carry
// empty ones.
func (o *Object) Set(path string, v any) {
	switch x := v.(type) {
	case string:
		if x == "" {
			return
		}
	case int:
		v = int64(x)
	case []string:
		if len(x) == 0 {
			return
		}
	case []*Object:
		if len(x) == 0 {
			return
		}
	case *Object:
		if x == nil || x.Len() == 0 {
			return
		}
	}
	parent, key := o.walk(path, true)
	parent.put(key, v)
}

// Get returns the value at a dotted path.
func (o *Object) Get(path string) (any, bool) {
	parent, key := o.walk(path, false)
	if parent == nil {
		return nil, false
	}
	for _, f := range parent.fields {
		if f.key == key {
			return f.val, true
		}
	}
	return nil, false
}

// Has reports whether a dotted path is set.
func (o *Object) Has(path string) bool {
	_, ok := o.Get(path)
	return ok
}

// Obj returns the nested object at a dotted path, creating it if needed.
func (o *Object) Obj(path string) *Object {
	parent, key := o.walk(path, true)
	return parent.child(key, true)
}

// walk returns the object that holds the last component of path and that
// component, creating intermediate objects when create is set.
func (o *Object) walk(path string, create bool) (*Object, string) {
	cur := o
	for {
		head, rest, more := strings.Cut(path, ".")
		if !more {
			return cur, head
		}
		cur = cur.child(head, create)
		if cur == nil {
			return nil, ""
		}
		path = rest
	}
}

func (o *Object) child(key string, create bool) *Object {
	for i := range o.fields {
		if o.fields[i].key == key {
			if c, ok := o.fields[i].val.(*Object); ok {
				return c
			}
			if !create {
				return nil
			}
			c := &Object{}
			o.fields[i].val = c
			return c
		}
	}
	if !create {
		return nil
	}
	c := &Object{}
	o.fields = append(o.fields, field{key, c})
	return c
}

func (o *Object) put(key string, v any) {
	for i := range o.fields {
		if o.fields[i].key == key {
			o.fields[i].val = v
			return
		}
	}
	o.fields = append(o.fields, field{key, v})
}

// AppendJSON appends the object as compact JSON. Nested objects that ended
// up empty are omitted.
func (o *Object) AppendJSON(dst []byte) []byte {
	dst = append(dst, '{')
	first := true
	for _, f := range o.fields {
		if c, ok := f.val.(*Object); ok && c.empty() {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = AppendString(dst, f.key)
		dst = append(dst, ':')
		dst = appendValue(dst, f.val)
	}
	return append(dst, '}')
}

// empty reports whether the object encodes to {} (no key, or only empty
// nested objects).
func (o *Object) empty() bool {
	for _, f := range o.fields {
		if c, ok := f.val.(*Object); !ok || !c.empty() {
			return false
		}
	}
	return true
}

// String encodes the object as JSON.
func (o *Object) String() string { return string(o.AppendJSON(nil)) }

func appendValue(dst []byte, v any) []byte {
	switch x := v.(type) {
	case string:
		return AppendString(dst, x)
	case Empty:
		return append(dst, '"', '"')
	case int64:
		return strconv.AppendInt(dst, x, 10)
	case uint64:
		return strconv.AppendUint(dst, x, 10)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return append(dst, "null"...)
		}
		return strconv.AppendFloat(dst, x, 'f', -1, 64)
	case bool:
		return strconv.AppendBool(dst, x)
	case []string:
		dst = append(dst, '[')
		for i, s := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendString(dst, s)
		}
		return append(dst, ']')
	case *Object:
		return x.AppendJSON(dst)
	case []*Object:
		dst = append(dst, '[')
		for i, c := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = c.AppendJSON(dst)
		}
		return append(dst, ']')
	default:
		return append(dst, "null"...)
	}
}

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD so
// every line is valid UTF-8 JSON; HTML characters are not escaped (command
// lines stay readable).
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != 0x7f {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 || r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			if r == utf8.RuneError {
				dst = append(dst, `\ufffd`...)
			} else {
				dst = append(dst, `\u202`...)
				dst = append(dst, hexDigits[r&0xf])
			}
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
