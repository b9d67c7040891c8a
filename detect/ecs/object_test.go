package ecs

import (
	"encoding/json"
	"fmt"
	"math/bits"
	"math/rand/v2"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestObjectNestedInsertionOrder(t *testing.T) {
	var o Object
	o.Set("@timestamp", "2024-05-20T15:31:00.456Z")
	o.Set("process.pid", 42)
	o.Set("event.kind", "alert")
	o.Set("process.parent.executable", `C:\Windows\cmd.exe`)
	o.Set("process.name", "a.exe")
	o.Set("process.pid", int64(43)) // replaced in place
	o.Set("skipped", "")
	o.Set("empty.list", []string{})
	o.Obj("never.filled")
	assert.Equal(t, `{"@timestamp":"2024-05-20T15:31:00.456Z","process":{"pid":43,"parent":{"executable":"C:\\Windows\\cmd.exe"},"name":"a.exe"},"event":{"kind":"alert"}}`, o.String())
	v, ok := o.Get("process.parent.executable")
	require.True(t, ok)
	assert.Equal(t, `C:\Windows\cmd.exe`, v)
	assert.False(t, o.Has("process.ppid"))
}

func TestObjectValueKinds(t *testing.T) {
	var o, c Object
	c.Set("type", "A")
	o.Set("b", true)
	o.Set("f", 47.5)
	o.Set("u", uint64(1<<63))
	o.Set("list", []string{"x", "y"})
	o.Set("objs", []*Object{&c})
	assert.Equal(t, `{"b":true,"f":47.5,"u":9223372036854775808,"list":["x","y"],"objs":[{"type":"A"}]}`, o.String())
}

func TestAppendStringIsValidJSON(t *testing.T) {
	for _, s := range []string{"plain", "quote\" back\\slash", "ctl\x00\x01\x1f\x7f", "tab\tnl\nr\r", "bad\xffutf8", "ünïcødé 漢字", "\u2028\u2029", "<html>&"} {
		b := AppendString(nil, s)
		var back string
		require.NoError(t, json.Unmarshal(b, &back), "%q -> %s", s, b)
		if s == "bad\xffutf8" {
			assert.Equal(t, "bad\ufffdutf8", back)
			continue
		}
		assert.Equal(t, s, back)
	}
	assert.Equal(t, `"<html>&"`, string(AppendString(nil, "<html>&")))
}

func FuzzAppendString(f *testing.F) {
	f.Add("a\"b\\c\x00\xff\u2028")
	f.Fuzz(func(t *testing.T, s string) {
		var back string
		if err := json.Unmarshal(AppendString(nil, s), &back); err != nil {
			t.Fatalf("%q: %v", s, err)
		}
	})
}

// plainByte is what plain8 tests for each byte of a word.
func plainByte(c byte) bool { return c >= 0x20 && c < 0x7f && c != '"' && c != '\\' }

func TestPlain8MatchesByteTest(t *testing.T) {
	word := func(b [8]byte) uint64 { return load8(string(b[:]), 0) }
	for pos := range 8 {
		for c := range 256 {
			b := [8]byte{'a', 'a', 'a', 'a', 'a', 'a', 'a', 'a'}
			b[pos] = byte(c)
			require.Equal(t, plainByte(byte(c)), plain8(word(b)), "byte %#x at %d", c, pos)
		}
	}
	// words of several interesting bytes, where borrows between bytes
	// could hide one
	rng := rand.New(rand.NewPCG(1, 2))
	pick := []byte{0, 1, 0x1f, 0x20, 0x21, '"', '#', '\\', ']', '[', 0x7e, 0x7f, 0x80, 0xff, 'a'}
	for range 200000 {
		var b [8]byte
		want := true
		for i := range b {
			b[i] = pick[rng.IntN(len(pick))]
			want = want && plainByte(b[i])
		}
		require.Equal(t, want, plain8(word(b)), "%q", b)
	}
}

// TestSpecial8FindsFirstByte: AppendString jumps to the byte special8's
// lowest bit names and escapes it, so that bit must be the first byte that
// is not plain, exactly, whatever borrows and carries the bytes above make.
func TestSpecial8FindsFirstByte(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	pick := []byte{0, 1, 0x1f, 0x20, 0x21, '"', '#', '\\', ']', '[', 0x7e, 0x7f, 0x80, 0xc3, 0xff, 'a'}
	for range 300000 {
		var b [8]byte
		first := 8
		for i := range b {
			b[i] = pick[rng.IntN(len(pick))]
			if first == 8 && !plainByte(b[i]) {
				first = i
			}
		}
		m := special8(load8(string(b[:]), 0))
		if first == 8 {
			require.Zero(t, m, "%q", b)
			continue
		}
		require.Equal(t, first, bits.TrailingZeros64(m)>>3, "%q", b)
	}
}

// FuzzAppendStringRoundTrip: valid UTF-8 comes back unchanged, whatever
// mix of plain and escaped bytes the word-at-a-time scan meets.
func FuzzAppendStringRoundTrip(f *testing.F) {
	f.Add(`C:\Windows\System32\cmd.exe /c "echo x"` + "\t\x01\x7f€ü\u2028")
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) {
			return
		}
		var back string
		require.NoError(t, json.Unmarshal(AppendString(nil, s), &back), "%q", s)
		require.Equal(t, s, back)
	})
}

func TestTypedSettersMatchSet(t *testing.T) {
	var a, b Object
	a.Set("s", "x")
	a.Set("e", Empty{})
	a.Set("i", int64(-3))
	a.Set("f", 1.5)
	a.Set("t", true)
	a.Set("l", []string{"p", "q"})
	a.Set("skip", "")
	a.Set("skip2", []string{})
	b.SetString("s", "x")
	b.SetEmpty("e")
	b.SetInt("i", -3)
	b.SetFloat("f", 1.5)
	b.SetBool("t", true)
	b.SetStrings("l", []string{"p", "q"})
	b.SetString("skip", "")
	b.SetStrings("skip2", nil)
	assert.Equal(t, a.String(), b.String())
	assert.Equal(t, `{"s":"x","e":"","i":-3,"f":1.5,"t":true,"l":["p","q"]}`, b.String())
	c := b.New()
	c.SetString("k", "v")
	b.SetObject("o", c)
	b.SetObjects("os", []*Object{c})
	b.SetObject("nil", nil)
	assert.Equal(t, `{"s":"x","e":"","i":-3,"f":1.5,"t":true,"l":["p","q"],"o":{"k":"v"},"os":[{"k":"v"}]}`, b.String())
	assert.Nil(t, b.Child("s"), "not an object")
	assert.Same(t, c, b.Child("o"))
	assert.Nil(t, b.Child("x.y"))
	assert.False(t, b.Has("x"), "Child creates nothing")
}

// TestResetRecyclesNestedObjects: a root reused after Reset builds the same
// documents as fresh roots, whatever was in it before.
func TestResetRecyclesNestedObjects(t *testing.T) {
	build := func(o *Object, i int) {
		o.SetString("a.b.c", "deep")
		if i%2 == 0 {
			o.SetInt("a.n", int64(i))
			o.Obj("empty.never")
		}
		item := o.New()
		item.SetInt("i", int64(i))
		o.SetObjects("list", []*Object{item})
		o.SetString("z", "last")
	}
	var reused Object
	for i := 0; i < 5; i++ {
		reused.Reset()
		build(&reused, i)
		var fresh Object
		build(&fresh, i)
		assert.Equal(t, fresh.String(), reused.String(), "round %d", i)
	}
	// A nested object's Reset empties only itself.
	reused.Obj("a").Reset()
	assert.Equal(t, `{"list":[{"i":4}],"z":"last"}`, reused.String())
}

// A walk repeats the last one from a cache: replacing an object on the
// way, or resetting, must not leave later sets in the detached object.
func TestWalkCacheFollowsReplacedObjects(t *testing.T) {
	var o Object
	o.SetString("a.b.c", "1")
	o.SetString("a.b", "flat") // b was an object
	o.SetString("a.b.d", "2")
	o.SetString("x.y", "3")
	o.SetString("x", "4")
	o.SetString("x.z", "5")
	assert.Equal(t, `{"a":{"b":{"d":"2"}},"x":{"z":"5"}}`, o.String())

	o.Reset()
	o.SetString("a.b.c", "6")
	assert.Equal(t, `{"a":{"b":{"c":"6"}}}`, o.String())
	inner := o.Obj("a")
	inner.Reset()
	o.SetString("a.b.e", "7")
	assert.Equal(t, `{"a":{"b":{"e":"7"}}}`, o.String())

	// a walk through an object of another document is not cached
	var other Object
	other.SetString("p.q", "8")
	o.SetObject("m", &other)
	o.SetString("m.p.r", "9")
	other.SetString("p", "flat")
	o.SetString("m.p.s", "10")
	assert.Equal(t, `{"a":{"b":{"e":"7"}},"m":{"p":{"s":"10"}}}`, o.String())
}

// appendStringByByte is AppendString one byte (or rune) at a time, the
// escaping the word-at-a-time scan must reproduce exactly.
func appendStringByByte(dst []byte, s string) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case plainByte(c):
			dst = append(dst, c)
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c == '\n':
			dst = append(dst, `\n`...)
		case c == '\r':
			dst = append(dst, `\r`...)
		case c == '\t':
			dst = append(dst, `\t`...)
		case c < utf8.RuneSelf:
			dst = append(dst, fmt.Sprintf(`\u%04x`, c)...)
		default:
			r, size := utf8.DecodeRuneInString(s[i:])
			switch {
			case r == utf8.RuneError && size == 1:
				dst = append(dst, `\ufffd`...)
			case r == '\u2028' || r == '\u2029':
				dst = append(dst, fmt.Sprintf(`\u%04x`, r)...)
			default:
				dst = append(dst, s[i:i+size]...)
			}
			i += size
			continue
		}
		i++
	}
	return append(dst, '"')
}

func FuzzAppendStringMatchesByteByByte(f *testing.F) {
	f.Add(`C:\Windows\System32\cmd.exe /c "echo x"` + "\t\x01\x7f€ü\u2028\xff\xc3")
	f.Add("0123456789abcdef\\\"\x1f\x7f\x80\xe2\x80\xa8 tail")
	f.Fuzz(func(t *testing.T, s string) {
		require.Equal(t, string(appendStringByByte(nil, s)), string(AppendString(nil, s)), "%q", s)
	})
}
