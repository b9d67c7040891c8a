// Package ecs encodes alerts: the ECS document of an alert (the event's
// fields mapped to ECS, the process context, ATT&CK threat fields, match
// details), written as NDJSON by the NDJSON encoder, and Text, the console
// line. Both implement detect.Encoder. Documents are ordered, nested JSON
// objects, validated against the ECS field definitions (ecs_flat.yml).
//
// Objects keep their keys in insertion order, so the same sequence of Set
// calls always encodes to the same bytes: alert output is deterministic
// without sorting or map iteration.
package ecs

import (
	"math"
	"math/bits"
	"strconv"
	"unicode/utf8"
)

// Empty is a value that encodes as the empty string. Set skips "" (ECS
// documents omit unknown values); Empty keeps a present-but-empty value
// where that distinction matters (the original event's fields).
type Empty struct{}

// Object is an ordered JSON object. The zero value is empty and ready to use.
//
// Values are stored typed (no interface boxing), and the nested objects of
// a root come from an arena that Reset recycles: an encoder that builds one
// document after another in the same root allocates almost nothing once it
// has warmed up.
type Object struct {
	fields []field
	arena  *arena // shared by a root and its nested objects; nil until needed
}

type valKind uint8

const (
	kString valKind = iota
	kEmpty
	kInt
	kUint
	kFloat
	kBool
	kStrings
	kObject
	kObjects
	kNull // a value of an unsupported type
	kRaw  // s is the value already encoded as JSON (NDJSON's per-rule fragments)
	// the value already encoded as JSON in the arena's raw storage, at
	// [n>>32, n&0xffffffff) (NDJSON's winlog.event_data)
	kRawArena
)

type field struct {
	key  string
	kind valKind
	s    string
	n    int64 // int64, bool (0/1), uint64 and float64 (bits)
	ss   []string
	obj  *Object
	objs []*Object
}

// arena hands out the nested objects of a root; the root's Reset returns
// them all.
type arena struct {
	root *Object
	objs []*Object
	used int
	// the last walk that went through nested objects: from o through
	// prefix (its path up to the last dot) it reached obj. Documents are
	// built a namespace at a time ("winlog.channel", "winlog.event_id",
	// …), so most walks repeat the last one. Only walks whose objects
	// all come from this arena are kept, so a change that could detach
	// obj (a Reset, or a put over an object) is made through this arena
	// and forgets it.
	from, obj *Object
	prefix    string
	// raw holds values encoded straight into JSON (kRawArena), until the
	// root's Reset
	raw []byte
}

// forget drops the cached walk.
func (a *arena) forget() { a.from, a.obj, a.prefix = nil, nil, "" }

func (a *arena) get() *Object {
	if a.used == len(a.objs) {
		a.objs = append(a.objs, &Object{arena: a})
	}
	o := a.objs[a.used]
	a.used++
	return o
}

// Len is the number of keys at this level.
func (o *Object) Len() int { return len(o.fields) }

// Reset empties the object, keeping its storage. On a root object (one not
// made by another's New, Obj or dotted Set) it also recycles every nested
// object made through it: values from before the Reset must not be used
// afterwards.
func (o *Object) Reset() {
	clear(o.fields) // drop references to strings and objects
	o.fields = o.fields[:0]
	if a := o.arena; a != nil {
		a.forget()
	}
	if a := o.arena; a != nil && a.root == o {
		for _, c := range a.objs[:a.used] {
			clear(c.fields)
			c.fields = c.fields[:0]
		}
		a.used = 0
		a.raw = a.raw[:0]
	}
}

// New returns an empty object from o's arena (recycled by the root's
// Reset), for values such as list items that are Set into o's document.
func (o *Object) New() *Object { return o.arenaOf().get() }

// arenaOf is o's arena, made (with o as its root) if o has none.
func (o *Object) arenaOf() *arena {
	if o.arena == nil {
		o.arena = &arena{root: o}
	}
	return o.arena
}

// Set stores v at a dotted path ("process.parent.pid"), creating the nested
// objects on the way. Setting an existing key replaces its value in place
// (its position is kept). Supported values: string, int, int64, uint64,
// float64, bool, []string, *Object, []*Object, Empty. Empty strings and
// empty slices are skipped: ECS documents omit unknown values rather than
// carry empty ones.
func (o *Object) Set(path string, v any) {
	var f field
	switch x := v.(type) {
	case string:
		if x == "" {
			return
		}
		f.kind, f.s = kString, x
	case Empty:
		f.kind = kEmpty
	case int:
		f.kind, f.n = kInt, int64(x)
	case int64:
		f.kind, f.n = kInt, x
	case uint64:
		f.kind, f.n = kUint, int64(x)
	case float64:
		f.kind, f.n = kFloat, int64(math.Float64bits(x))
	case bool:
		f.kind = kBool
		if x {
			f.n = 1
		}
	case []string:
		if len(x) == 0 {
			return
		}
		f.kind, f.ss = kStrings, x
	case []*Object:
		if len(x) == 0 {
			return
		}
		f.kind, f.objs = kObjects, x
	case *Object:
		if x == nil || x.Len() == 0 {
			return
		}
		f.kind, f.obj = kObject, x
	default:
		f.kind = kNull
	}
	parent, key := o.walk(path, true)
	f.key = key
	parent.put(f)
}

// The typed setters are Set without the interface: a value passed to Set
// is boxed on the heap (Set may keep a *Object), theirs are not. Empty
// strings and slices are skipped as Set skips them.

// SetString sets a string.
func (o *Object) SetString(path, v string) {
	if v != "" {
		o.setField(path, field{kind: kString, s: v})
	}
}

// SetEmpty sets a present-but-empty string ("").
func (o *Object) SetEmpty(path string) { o.setField(path, field{kind: kEmpty}) }

// SetInt sets an integer.
func (o *Object) SetInt(path string, v int64) { o.setField(path, field{kind: kInt, n: v}) }

// SetFloat sets a number.
func (o *Object) SetFloat(path string, v float64) {
	o.setField(path, field{kind: kFloat, n: int64(math.Float64bits(v))})
}

// SetBool sets a boolean.
func (o *Object) SetBool(path string, v bool) {
	f := field{kind: kBool}
	if v {
		f.n = 1
	}
	o.setField(path, f)
}

// SetStrings sets a list of strings.
func (o *Object) SetStrings(path string, v []string) {
	if len(v) > 0 {
		o.setField(path, field{kind: kStrings, ss: v})
	}
}

// SetObject sets a nested object (skipped when nil or empty).
func (o *Object) SetObject(path string, v *Object) {
	if v != nil && v.Len() > 0 {
		o.setField(path, field{kind: kObject, obj: v})
	}
}

// SetObjects sets a list of objects.
func (o *Object) SetObjects(path string, v []*Object) {
	if len(v) > 0 {
		o.setField(path, field{kind: kObjects, objs: v})
	}
}

// RawJSON is a value that is already encoded JSON; Get returns it for the
// parts of a document that were set pre-encoded.
type RawJSON string

// setRaw sets a value already encoded as JSON (v is not empty): what
// AppendJSON writes for it verbatim. Only the NDJSON encoder sets these,
// for parts it encodes once and reuses.
func (o *Object) setRaw(path, v string) { o.setField(path, field{kind: kRaw, s: v}) }

// rawBuf is the document's raw storage, for appending one encoded value
// that setRawBuf then sets: buf[start:] of the grown storage.
func (o *Object) rawBuf() []byte { return o.arenaOf().raw }

// setRawBuf sets path to buf[start:], a JSON value appended to rawBuf's
// storage, and keeps buf as that storage.
func (o *Object) setRawBuf(path string, buf []byte, start int) {
	a := o.arenaOf()
	a.raw = buf
	o.setField(path, field{kind: kRawArena, n: int64(start)<<32 | int64(len(buf))})
}

// rawArena is the encoded value of a kRawArena field of a's document.
func (f *field) rawArena(a *arena) []byte { return a.raw[f.n>>32 : f.n&0xffffffff] }

func (o *Object) setField(path string, f field) {
	parent, key := o.walk(path, true)
	f.key = key
	parent.put(f)
}

// Get returns the value at a dotted path.
func (o *Object) Get(path string) (any, bool) {
	f := o.lookup(path)
	if f == nil {
		return nil, false
	}
	if f.kind == kRawArena {
		parent, _ := o.walk(path, false)
		return RawJSON(f.rawArena(parent.arena)), true
	}
	return f.value(), true
}

func (f *field) value() any {
	switch f.kind {
	case kString:
		return f.s
	case kEmpty:
		return Empty{}
	case kInt:
		return f.n
	case kUint:
		return uint64(f.n)
	case kFloat:
		return math.Float64frombits(uint64(f.n))
	case kBool:
		return f.n != 0
	case kStrings:
		return f.ss
	case kObject:
		return f.obj
	case kObjects:
		return f.objs
	case kRaw:
		return RawJSON(f.s)
	}
	return nil
}

// lookup finds the field at a dotted path.
func (o *Object) lookup(path string) *field {
	parent, key := o.walk(path, false)
	if parent == nil {
		return nil
	}
	for i := range parent.fields {
		if parent.fields[i].key == key {
			return &parent.fields[i]
		}
	}
	return nil
}

// encoded is the JSON of the top-level key's value, "" when it is absent
// or an object that encodes empty (AppendJSON omits it).
func (o *Object) encoded(key string) string {
	for i := range o.fields {
		if f := &o.fields[i]; f.key == key {
			if f.kind == kObject && f.obj.empty() {
				return ""
			}
			return string(f.appendValue(nil, o.arena))
		}
	}
	return ""
}

// Child returns the nested object at a dotted path, nil when there is none
// (it creates nothing).
func (o *Object) Child(path string) *Object {
	if f := o.lookup(path); f != nil && f.kind == kObject {
		return f.obj
	}
	return nil
}

// Has reports whether a dotted path is set.
func (o *Object) Has(path string) bool { return o.lookup(path) != nil }

// Obj returns the nested object at a dotted path, creating it if needed.
func (o *Object) Obj(path string) *Object {
	parent, key := o.walk(path, true)
	return parent.child(key, true)
}

// walk returns the object that holds the last component of path and that
// component, creating intermediate objects when create is set.
func (o *Object) walk(path string, create bool) (*Object, string) {
	// paths are short: plain loops beat strings.Cut's call into the
	// vectorized byte search
	last := -1
	for i := len(path) - 1; i >= 0; i-- {
		if path[i] == '.' {
			last = i
			break
		}
	}
	if last < 0 {
		return o, path
	}
	prefix, key := path[:last], path[last+1:]
	a := o.arena
	if a != nil && a.from == o && a.prefix == prefix {
		return a.obj, key
	}
	cur, same := o, true
	for rest := prefix; ; {
		dot := -1
		for i := 0; i < len(rest); i++ {
			if rest[i] == '.' {
				dot = i
				break
			}
		}
		head := rest
		if dot >= 0 {
			head = rest[:dot]
		}
		cur = cur.child(head, create)
		if cur == nil {
			return nil, ""
		}
		same = same && cur.arena == a
		if dot < 0 {
			break
		}
		rest = rest[dot+1:]
	}
	if same && a != nil {
		a.from, a.obj, a.prefix = o, cur, prefix
	}
	return cur, key
}

func (o *Object) child(key string, create bool) *Object {
	for i := range o.fields {
		if o.fields[i].key == key {
			if o.fields[i].kind == kObject {
				return o.fields[i].obj
			}
			if !create {
				return nil
			}
			c := o.New()
			o.fields[i] = field{key: key, kind: kObject, obj: c}
			return c
		}
	}
	if !create {
		return nil
	}
	c := o.New()
	o.fields = append(o.fields, field{key: key, kind: kObject, obj: c})
	return c
}

func (o *Object) put(f field) {
	for i := range o.fields {
		if o.fields[i].key == f.key {
			if o.fields[i].kind == kObject && o.arena != nil {
				o.arena.forget() // the replaced object may be the cached one's ancestor
			}
			o.fields[i] = f
			return
		}
	}
	o.fields = append(o.fields, f)
}

// AppendJSON appends the object as compact JSON. Nested objects that ended
// up empty are omitted.
func (o *Object) AppendJSON(dst []byte) []byte {
	dst = append(dst, '{')
	first := true
	for i := range o.fields {
		f := &o.fields[i]
		if f.kind == kObject && f.obj.empty() {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = AppendString(dst, f.key)
		dst = append(dst, ':')
		dst = f.appendValue(dst, o.arena)
	}
	return append(dst, '}')
}

// empty reports whether the object encodes to {} (no key, or only empty
// nested objects).
func (o *Object) empty() bool {
	for i := range o.fields {
		if f := &o.fields[i]; f.kind != kObject || !f.obj.empty() {
			return false
		}
	}
	return true
}

// String encodes the object as JSON.
func (o *Object) String() string { return string(o.AppendJSON(nil)) }

// appendValue appends the value of a field of an object whose arena is a.
func (f *field) appendValue(dst []byte, a *arena) []byte {
	switch f.kind {
	case kString:
		return AppendString(dst, f.s)
	case kEmpty:
		return append(dst, '"', '"')
	case kInt:
		return strconv.AppendInt(dst, f.n, 10)
	case kUint:
		return strconv.AppendUint(dst, uint64(f.n), 10)
	case kFloat:
		x := math.Float64frombits(uint64(f.n))
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return append(dst, "null"...)
		}
		return strconv.AppendFloat(dst, x, 'f', -1, 64)
	case kBool:
		return strconv.AppendBool(dst, f.n != 0)
	case kStrings:
		dst = append(dst, '[')
		for i, s := range f.ss {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = AppendString(dst, s)
		}
		return append(dst, ']')
	case kObject:
		return f.obj.AppendJSON(dst)
	case kObjects:
		dst = append(dst, '[')
		for i, c := range f.objs {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = c.AppendJSON(dst)
		}
		return append(dst, ']')
	case kRaw:
		return append(dst, f.s...)
	case kRawArena:
		return append(dst, f.rawArena(a)...)
	}
	return append(dst, "null"...)
}

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD so
// every line is valid UTF-8 JSON; HTML characters are not escaped (command
// lines stay readable).
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if i+8 <= len(s) {
			// Eight bytes that need no escape are passed over at once;
			// else the scan goes straight to the first that may (Windows
			// paths have a backslash every few bytes).
			m := special8(load8(s, i))
			if m == 0 {
				i += 8
				continue
			}
			i += bits.TrailingZeros64(m) >> 3
		} else if plainASCII[s[i]] {
			i++
			continue
		}
		c := s[i]
		if c < utf8.RuneSelf {
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

// plainASCII marks the bytes AppendString copies as they are, one at a
// time (keys and the ends of strings are shorter than a word).
var plainASCII = func() (t [256]bool) {
	for c := 0x20; c < 0x7f; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// load8 is the 8 bytes of s at i, little-endian.
func load8(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// plain8 reports whether all 8 bytes of w are ASCII that AppendString
// copies as they are: none is ≥ 0x80, < 0x20, '"', '\\' or DEL.
func plain8(w uint64) bool { return special8(w) == 0 }

// special8 has the high bit of the first byte of w (the lowest) that is
// not plain set, and maybe bits above it; 0 when all 8 are plain. Word-wide
// tests set a byte's high bit for: w itself (≥ 0x80), w+1 (0x7f), w-0x20
// (< 0x20, by the borrow), (w^'"')-1 and (w^'\\')-1 (the byte is zero
// after the xor). A plain byte with only plain bytes below sets none (no
// carry or borrow reaches it), and the lowest byte that is not plain sets
// one; bits above it may be wrong.
func special8(w uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	return (w | (w + ones) | (w - 0x20*ones) | ((w ^ '"'*ones) - ones) | ((w ^ '\\'*ones) - ones)) & highs
}
