package ecs

import (
	"encoding/json"
	"testing"

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
