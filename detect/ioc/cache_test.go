package ioc

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
	"testing"
	"unsafe"

	"github.com/edr-lab/edr/event"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// memoLists holds indicators of every class, some listed twice (a chain of
// duplicates: several hits for one key) and one path value matching more
// regexes than a memo entry holds.
func memoLists(t testing.TB) Paths {
	return writeLists(t, eicarMD5+"\n"+eicarSHA256+"\n"+eicarSHA256+";again\n",
		"10.0.0.0/8\n10.1.1.1\n10.1.1.1;again\n2001:db8::/32\n",
		"evil.example\n.bad.example\nbad.example;exact\n",
		`\\Users\\Public\\`+"\n"+`\\Public\\`+"\n"+`\\Users\\`+"\n"+`(?i)public`+"\n"+`\.exe$`+"\n"+`\\AppData\\Roaming\\[^\\]+\.exe$`+"\n")
}

// memoValues are field values of every class, hits and misses, some longer
// than a small memo's ring.
func memoValues() [][2]string {
	long := `C:\Users\Public\` + strings.Repeat("d", 300) + `\x.exe`
	return [][2]string{
		{"Hashes", "SHA1=AA,MD5=" + strings.ToUpper(eicarMD5) + ",SHA256=" + eicarSHA256 + ",IMPHASH=CC"},
		{"Hashes", "MD5=" + eicarMD5},
		{"Hashes", "SHA256=" + strings.Repeat("0", 64)},
		{"DestinationIp", "10.1.1.1"},
		{"DestinationIp", "10.9.9.9"},
		{"DestinationIp", "2001:db8::1%eth0"},
		{"DestinationIp", "192.0.2.1"},
		{"DestinationIp", "-"},
		{"QueryName", "www.BAD.example."},
		{"QueryName", "bad.example"},
		{"QueryName", "evil.example"},
		{"QueryName", "good.example"},
		{"QueryResults", "type:  5 a.bad.example;::ffff:10.1.1.1;192.0.2.7;"},
		{"QueryResults", "::ffff:10.1.1.1;"},
		{"Image", `C:\Users\Public\x.exe`}, // six regexes: more than an entry holds
		{"Image", `C:\Users\a\AppData\Roaming\y.exe`},
		{"Image", `C:\Windows\notepad.exe`},
		{"Image", `C:\Windows\notepad.dll`},
		{"TargetFilename", long},
	}
}

// TestMemoSameHitsAsUncached: MatchWith with memos so small that values
// evict each other and the ring wraps all the time gives exactly the hits
// of a Set without any cache, event after event.
func TestMemoSameHitsAsUncached(t *testing.T) {
	p := memoLists(t)
	ref, errs := Load(p, Options{PathCache: -1})
	require.Empty(t, errs)
	vals := memoValues()
	for _, size := range []int{1, 2, 8, 0} {
		s, errs := Load(p, Options{PathCache: size})
		require.Empty(t, errs)
		c := s.NewCache()
		require.NotNil(t, c.m)
		hits := 0
		for round := 0; round < 3; round++ {
			for i := range vals {
				// Every value alone, then with its neighbours (several
				// classes in one event).
				for _, ev := range []*event.Event{
					sysmon(1, vals[i][0], vals[i][1]),
					sysmon(1, vals[i][0], vals[i][1], vals[(i+1)%len(vals)][0], vals[(i+1)%len(vals)][1],
						vals[(i+5)%len(vals)][0], vals[(i+5)%len(vals)][1]),
				} {
					want := ref.Match(ev, nil)
					got := s.MatchWith(c, ev, nil)
					require.Equal(t, want, got, "size %d round %d value %q", size, round, vals[i][1])
					hits += len(got)
				}
			}
		}
		assert.Positive(t, hits)
	}
}

// TestMemoRemembers: a repeated value is answered from the memo (its entry
// holds it), with the hits a fresh match gives.
func TestMemoRemembers(t *testing.T) {
	s, errs := Load(memoLists(t), Options{})
	require.Empty(t, errs)
	m := s.NewCache().m
	v := "type:  5 a.bad.example;::ffff:10.1.1.1;"
	slot, tag := m.find(classResults, v)
	_, ok := m.get(slot, tag, classResults, v, nil)
	require.False(t, ok, "nothing remembered yet")
	want := s.valueHits(classResults, v, nil, nil)
	require.NotEmpty(t, want)
	m.put(slot, tag, classResults, v, want)
	// A copy of the value (other bytes, same text) is the same key.
	v2 := strings.Clone(v)
	got, ok := m.get(slot, tag, classResults, v2, nil)
	require.True(t, ok)
	require.Len(t, got, len(want))
	for i := range want {
		assert.Equal(t, want[i].idx, got[i].idx)
		assert.Equal(t, want[i].val, got[i].val)
	}
	// The same text in another class is another key.
	_, ok = m.get(slot, tag, classDomain, v, nil)
	assert.False(t, ok)
}

// TestMemoForgetsOverwrittenKey: once the ring has wrapped over an entry's
// key, the entry answers nothing even where the bytes now in the ring equal
// the value looked up and its tag collides (simulated): without the check
// it would hand one value's hits to another.
func TestMemoForgetsOverwrittenKey(t *testing.T) {
	s, errs := Load(memoLists(t), Options{})
	require.Empty(t, errs)
	m := newMemo(2) // one set, a 128-byte ring
	// Keys too long to sit in an entry, of the same length.
	k := `C:\Windows\` + strings.Repeat("k", memoInline) + `.exe`
	v := `C:\Windows\` + strings.Repeat("v", memoInline) + `.dll` // no hit
	slot, tag := m.find(classPath, k)
	m.put(slot, tag, classPath, k, s.valueHits(classPath, k, nil, nil))
	w := 0
	if m.ents[1].class == classPath {
		w = 1
	}
	require.Equal(t, 1, int(m.ents[w].nhits))
	kpos := binary.LittleEndian.Uint64(m.ents[w].key[:8])
	// Fill the ring with v, written for the other way, until k's bytes are
	// overwritten by v's at the same place.
	vslot, vtag := m.find(classDomain, v)
	for m.head-kpos <= uint64(len(m.ring)) {
		m.tags[w] |= memoMRU // keep k's entry; v takes the other way
		m.tags[w^1] &^= memoMRU
		m.put(vslot, vtag, classDomain, v, nil)
	}
	p := kpos % uint64(len(m.ring))
	require.Equal(t, v, string(m.ring[p:p+uint64(len(v))]), "the ring now holds v where k was")
	_, vtag = m.find(classPath, v)
	m.tags[w] = vtag // a tag collision between k and v
	got, ok := m.get(slot, vtag, classPath, v, nil)
	assert.False(t, ok, "an overwritten key must not answer: got %v", got)
}

// TestMemoInlineKeyCompared: a key held in its entry answers only a value
// of the same bytes, even where the tags collide (simulated).
func TestMemoInlineKeyCompared(t *testing.T) {
	s, errs := Load(memoLists(t), Options{})
	require.Empty(t, errs)
	m := newMemo(2)
	k, v := "evil.example", "good.example" // same length; k has a hit
	slot, tag := m.find(classDomain, k)
	m.put(slot, tag, classDomain, k, s.valueHits(classDomain, k, nil, nil))
	got, ok := m.get(slot, tag, classDomain, strings.Clone(k), nil)
	require.True(t, ok)
	require.Len(t, got, 1)
	assert.Zero(t, m.head, "a short key takes no ring bytes")
	// Longest inline key and one byte more: both remembered, only the
	// longer one in the ring.
	for _, n := range []int{memoInline, memoInline + 1} {
		x := strings.Repeat("x", n)
		xs, xt := m.find(classPath, x)
		m.put(xs, xt, classPath, x, nil)
		_, ok = m.get(xs, xt, classPath, strings.Clone(x), nil)
		assert.True(t, ok, "length %d", n)
	}
	assert.Equal(t, uint64(memoInline+1), m.head)
	assert.Equal(t, 64, int(unsafe.Sizeof(memoEntry{})), "an entry is one cache line")
	slot, tag = m.find(classDomain, k)
	m.put(slot, tag, classDomain, k, s.valueHits(classDomain, k, nil, nil))
	_, vtag := m.find(classDomain, v)
	for w := slot; w < slot+2; w++ {
		if m.ents[w].class == classDomain {
			m.tags[w] = vtag // collide with v's tag
		}
	}
	got, ok = m.get(slot, vtag, classDomain, v, nil)
	assert.False(t, ok, "another value of the same length must not answer: got %v", got)
}

// TestMemoDoesNotAllocate: MatchWith stays allocation-free once warm, hit
// or miss, with values of every class.
func TestMemoDoesNotAllocate(t *testing.T) {
	if raceEnabled {
		t.Skip("misses rerun regexes, whose machines come from a sync.Pool that drops items at random under -race")
	}
	s, errs := Load(memoLists(t), Options{PathCache: 4})
	require.Empty(t, errs)
	vals := memoValues()
	evs := make([]*event.Event, len(vals))
	for i, v := range vals {
		evs[i] = sysmon(1, v[0], v[1], "SourceIp", fmt.Sprintf("10.0.0.%d", i))
	}
	c := s.NewCache()
	out := make([]Hit, 0, 64)
	for _, ev := range evs {
		out = s.MatchWith(c, ev, out[:0])
	}
	allocs := testing.AllocsPerRun(50, func() {
		for _, ev := range evs {
			out = s.MatchWith(c, ev, out[:0])
		}
	})
	assert.Zero(t, allocs)
}

// TestFieldListsHaveNoRepeats: a field has one place in the order of hits
// (fieldSlots keeps one), so a repeated field would lose its hits in one
// class.
func TestFieldListsHaveNoRepeats(t *testing.T) {
	seen := map[event.FieldID]bool{}
	for _, fc := range fieldClasses {
		for _, id := range fc.ids {
			assert.False(t, id.Virtual(), "%s: Event.AppendPresent leaves virtual fields out", id.Name())
			assert.False(t, seen[id], "class %d lists %s twice", fc.class, id.Name())
			seen[id] = true
		}
	}
}

// TestEveryFieldOfAClassIsRead: an event carrying every field of every
// class (the last of each list included) gets the hits of each, in the
// order of the lists (which is not the fields' order in the event), with
// more values than Set.match has room for on the stack.
func TestEveryFieldOfAClassIsRead(t *testing.T) {
	s, errs := Load(memoLists(t), Options{})
	require.Empty(t, errs)
	ev := &event.Event{Channel: event.ChannelSysmon, EventID: 1}
	var want []Hit
	for _, fc := range fieldClasses {
		for _, id := range fc.ids {
			v := map[uint8]string{classHashes: "MD5=" + eicarMD5, classAddr: "10.1.1.1", classDomain: "evil.example",
				classResults: "evil.example;", classPath: `C:\Windows\x.exe`}[fc.class]
			ev.Set(id, v)
			want = s.value(fc.class, v, id.Name(), nil, nil, want)
		}
	}
	require.NotEmpty(t, want)
	assert.Equal(t, want, s.Match(ev, nil))
	assert.Equal(t, want, s.MatchWith(s.NewCache(), ev, nil))
	sorted := slices.IsSortedFunc(want, func(a, b Hit) int {
		return int(event.MustField(a.Field)) - int(event.MustField(b.Field))
	})
	assert.False(t, sorted, "the lists' order differs from FieldID order somewhere")
}
