package event

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// storeModel is the obvious implementation of an event's schema fields that
// the compact store must behave like.
type storeModel map[FieldID]string

// storeOp is one step of a Set/Del/Reset/CopyFrom sequence.
type storeOp struct {
	kind byte // 0 Set, 1 Del, 2 Reset, 3 copy into a reused event and continue on it
	id   FieldID
	v    string
}

// applyStore runs ops on e and on the model, checking after every step that
// Get, Has, Len, Range, Clone and Equal agree with the model and that the
// unused storage holds no stale value. It returns the event the sequence ended on.
func applyStore(t *testing.T, e *Event, ops []storeOp) *Event {
	t.Helper()
	m := storeModel{}
	spare := &Event{}
	for i, op := range ops {
		switch op.kind {
		case 0:
			require.True(t, e.Set(op.id, op.v))
			m[op.id] = op.v
		case 1:
			e.Del(op.id)
			delete(m, op.id)
		case 2:
			e.Reset()
			clear(m)
		default:
			spare.CopyFrom(e)
			e, spare = spare, e
		}
		checkStore(t, e, m, i)
	}
	return e
}

func checkStore(t *testing.T, e *Event, m storeModel, step int) {
	t.Helper()
	require.Equalf(t, len(m), e.Len(), "step %d: Len", step)
	for id, v := range m {
		got, ok := e.Get(id)
		require.Truef(t, ok, "step %d: field %d absent", step, id)
		require.Equalf(t, v, got, "step %d: field %d", step, id)
		require.Truef(t, e.Has(id), "step %d: Has %d", step, id)
	}
	want := make([]FieldID, 0, len(m))
	for id := range m {
		want = append(want, id)
	}
	slices.Sort(want)
	var got []FieldID
	e.Range(func(id FieldID, v string) bool {
		require.Equalf(t, m[id], v, "step %d: Range value of %d", step, id)
		got = append(got, id)
		return true
	})
	require.Equalf(t, want, append([]FieldID{}, got...), "step %d: Range order", step)
	// Absent fields read as absent, in every word of the bitmap.
	for id := numVirtual; id < maxFields; id += 7 {
		if _, ok := m[id]; !ok {
			v, ok := e.Get(id)
			require.Falsef(t, ok || v != "", "step %d: absent field %d reads %q", step, id, v)
		}
	}
	for _, s := range e.vals[len(e.vals):cap(e.vals)] {
		require.Emptyf(t, s, "step %d: stale value in unused storage", step)
	}
	c := e.Clone()
	require.Truef(t, Equal(e, c), "step %d: clone differs", step)
	if len(m) > 0 {
		id := got[len(got)/2]
		c.Set(id, m[id]+"x")
		require.Falsef(t, Equal(e, c), "step %d: Equal misses a changed value", step)
		require.Equalf(t, m[id], e.Value(id), "step %d: clone aliases", step)
	}
}

// randomStoreOps draws a sequence of n operations over all bitmap words,
// weighted towards Set (so events grow) and, like the decoders, often in
// ascending FieldID order.
func randomStoreOps(r *rand.Rand, n int) []storeOp {
	ops := make([]storeOp, 0, n)
	next := numVirtual
	for range n {
		op := storeOp{id: numVirtual + FieldID(r.IntN(maxFields-int(numVirtual)))}
		switch x := r.IntN(100); {
		case x < 2:
			op.kind = 2
			next = numVirtual
		case x < 5:
			op.kind = 3
		case x < 25:
			op.kind = 1
		case x < 60 && next < maxFields-1:
			op.id = next + FieldID(r.IntN(int(maxFields-next)))
			next = op.id + 1
		}
		if op.kind == 0 {
			op.v = string(rune('a' + r.IntN(26)))
		}
		ops = append(ops, op)
	}
	return ops
}

func TestEventStoreMatchesModel(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	for range 60 {
		applyStore(t, &Event{}, randomStoreOps(r, 120))
	}
}

func TestEventStoreOverwriteAndDelKeepNeighbours(t *testing.T) {
	var e Event
	e.Set(FUser, "u")
	e.Set(FImage, "i") // inserted below User
	e.Set(FUser, "u2") // overwrite in place
	last := FieldID(maxFields - 1)
	e.Set(last, "z")
	e.Del(FImage)
	e.Del(FImage) // absent: no effect
	e.Del(FieldEventID)
	require.Equal(t, 2, e.Len())
	require.Equal(t, "u2", e.Value(FUser))
	require.Equal(t, "z", e.Value(last))
	require.Equal(t, uint16(0), e.EventID)
	require.False(t, e.Has(FImage))
}

// FuzzEventStore reads the input as operations: each is 2 bytes of FieldID
// (taken modulo the bitmap) and a byte choosing Set (with that byte as the
// value), Del, Reset or a copy.
func FuzzEventStore(f *testing.F) {
	f.Add([]byte{0, 10, 0, 0, 5, 1, 1, 244, 2, 0, 10, 200})
	f.Add([]byte{1, 255, 0, 0, 4, 0, 0, 4, 201, 0, 5, 250, 1, 255, 202})
	f.Fuzz(func(t *testing.T, b []byte) {
		var ops []storeOp
		for ; len(b) >= 3; b = b[3:] {
			op := storeOp{id: numVirtual + (FieldID(b[0])<<8|FieldID(b[1]))%(maxFields-numVirtual)}
			switch c := b[2]; {
			case c < 200:
				op.v = string(rune(c))
			case c < 240:
				op.kind = 1
			case c < 250:
				op.kind = 3
			default:
				op.kind = 2
			}
			ops = append(ops, op)
		}
		applyStore(t, &Event{}, ops)
	})
}
