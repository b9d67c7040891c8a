package recording

import (
	"strings"

	"github.com/edr-lab/edr/event"
)

// Spellings of the names that differ only in case (see schema.go): the
// encoder side records where a row departs from its event definition, the
// decoder side puts each value back under its spelling.

// foldedLayout is the first schema version that stores a case-insensitive
// group of fields in one column.
const foldedLayout = 2

// spellings is the encoder goroutine's per-row scratch.
type spellings struct {
	// the last row's event definition (channel cloned: rows alias a buffer
	// that is reused)
	channel string
	eventID uint16
	def     *event.Def
	defOK   bool

	rowChannel string
	rowEventID uint16
	taken      []event.FieldID // Folds with a value in this row's column
	buf        []byte          // space-separated tokens
	moved      [][2]string     // second spellings, appended to Extra
}

// start begins a row.
func (s *spellings) start(channel string, eventID uint16) *spellings {
	s.rowChannel, s.rowEventID = channel, eventID
	s.taken, s.buf, s.moved = s.taken[:0], s.buf[:0], s.moved[:0]
	return s
}

func (s *spellings) rowDef() *event.Def {
	if !s.defOK || s.channel != s.rowChannel || s.eventID != s.rowEventID {
		s.channel, s.eventID = strings.Clone(s.rowChannel), s.rowEventID
		s.def, s.defOK = event.Lookup(s.channel, s.eventID), true
	}
	return s.def
}

// add notes folded field id of the row. It reports false when another
// spelling of the name already has the column in this row: the value then
// goes to Extra under its name, marked "+Name".
func (s *spellings) add(id event.FieldID, v string) bool {
	fold := id.Fold()
	for _, t := range s.taken {
		if t == fold {
			s.moved = append(s.moved, [2]string{id.Name(), v})
			s.token("+" + id.Name())
			return false
		}
	}
	s.taken = append(s.taken, fold)
	if s.rowDef().Spelling(id) != id {
		s.token(id.Name())
	}
	return true
}

func (s *spellings) token(t string) {
	if len(s.buf) > 0 {
		s.buf = append(s.buf, ' ')
	}
	s.buf = append(s.buf, t...)
}

// any reports whether the row needs a Spellings value.
func (s *spellings) any() bool { return len(s.buf) > 0 }

func (s *spellings) tokens() string { return string(s.buf) }

// respell applies a row's Spellings value to e, whose folded columns were
// set under def's spellings: each "Name" moves the value of its group to
// Name, and the "+Name" tokens take, in order, the last entries of kvs (the
// row's Extra). It returns the Extra entries that remain. A value that does
// not fit (a damaged file) is left where it is, never dropped.
func respell(e *event.Event, def *event.Def, spell string, kvs []event.KV) []event.KV {
	plus := 0
	for tok := range strings.FieldsSeq(spell) {
		if tok[0] == '+' {
			plus++
			continue
		}
		id, ok := event.FieldByName(tok)
		if !ok || !id.Folded() {
			continue
		}
		if at := def.Spelling(id); at != id && !e.Has(id) {
			if v, ok := e.Get(at); ok {
				e.Del(at)
				e.Set(id, v)
			}
		}
	}
	if plus == 0 || plus > len(kvs) {
		return kvs
	}
	tail := kvs[len(kvs)-plus:]
	i := 0
	for tok := range strings.FieldsSeq(spell) {
		if tok[0] != '+' {
			continue
		}
		if tail[i].Key != tok[1:] {
			return kvs
		}
		if id, ok := event.FieldByName(tok[1:]); !ok || !id.Folded() || e.Has(id) {
			return kvs
		}
		i++
	}
	for i, kv := range tail {
		id, _ := event.FieldByName(kv.Key)
		if e.Has(id) { // named twice: nothing moves
			for _, back := range tail[:i] {
				bid, _ := event.FieldByName(back.Key)
				e.Del(bid)
			}
			return kvs
		}
		e.Set(id, kv.Value)
	}
	return kvs[:len(kvs)-plus]
}
