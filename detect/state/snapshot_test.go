package state

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/edr-lab/edr/corpus/synth"
	"github.com/edr-lab/edr/event"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// synthEvents returns a generated stream with handcrafted Security
// 4688/4689 process trees and PID reuse mixed in, in time order.
func synthEvents(t testing.TB, n int64) []*event.Event {
	g := synth.New(synth.Options{Seed: 3, Hosts: 4, Events: n, MeanGap: 5 * time.Millisecond})
	var out []*event.Event
	var e event.Event
	for g.Next(&e) {
		out = append(out, e.Clone())
	}
	require.NotEmpty(t, out)
	t0, span := out[0].Time, out[len(out)-1].Time-out[0].Time
	host := out[0].Host
	var extra []*event.Event
	for i := 0; i < 40; i++ {
		at := t0 + span*int64(i)/40
		pid := fmt.Sprintf("0x%x", 0x1000+i%7) // PIDs are reused
		extra = append(extra, ev(event.ChannelSecurity, 4688, at+1, host, "NewProcessId", pid,
			"NewProcessName", fmt.Sprintf(`C:\Tools\t%d.exe`, i), "ProcessId", "0x4", "CommandLine", fmt.Sprintf("t%d --run", i),
			"SubjectUserName", "svc", "SubjectDomainName", "CORP"))
		if i%3 == 0 {
			extra = append(extra, ev(event.ChannelSecurity, 4689, at+span/80, host, "ProcessId", pid))
		}
	}
	out = append(out, extra...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Time < out[j].Time })
	return out
}

func hostsOf(evs []*event.Event) []string {
	seen := map[string]bool{}
	var hs []string
	for _, e := range evs {
		if !seen[e.Host] {
			seen[e.Host] = true
			hs = append(hs, e.Host)
		}
	}
	sort.Strings(hs)
	return hs
}

// stateEngine is the state an engine with options o holds.
func stateEngine(_ testing.TB, o Options) *State { return New(o) }

// restore is State.Restore for tests that only check the error.
func restore(s *State, data []byte) error {
	_, err := s.Restore(data)
	return err
}

// TestSnapshotRestoreThenObserveEqualsFullState: restoring each host's
// snapshot taken at a cut and observing the rest gives, byte for byte, the
// state of an engine that observed everything; the producers' tracker and
// the engine snapshot the same bytes.
func TestSnapshotRestoreThenObserveEqualsFullState(t *testing.T) {
	evs := synthEvents(t, 40000)
	hosts := hostsOf(evs)
	opts := Options{ProcessTTL: 20 * time.Second} // exits expire within the stream
	for _, cut := range []int{1, len(evs) / 3, len(evs) - 1} {
		full := stateEngine(t, opts)
		tr := NewTracker(Options{ProcessTTL: opts.ProcessTTL}, SnapshotLimits{})
		for _, e := range evs[:cut] {
			full.Observe(e)
			tr.Observe(e)
		}
		at := evs[cut].Time
		restored := stateEngine(t, opts)
		var procs, dns int
		for _, h := range hosts {
			snap := tr.Snapshot(h, at)
			require.Equal(t, full.Snapshot(h, at, SnapshotLimits{}), snap, "tracker and engine agree on %s", h)
			require.NoError(t, restore(restored, snap))
			s, err := DecodeSnapshot(snap)
			require.NoError(t, err)
			procs, dns = procs+len(s.Processes), dns+s.DNSAnswers()
		}
		for _, e := range evs[cut:] {
			full.Observe(e)
			restored.Observe(e)
		}
		end := evs[len(evs)-1].Time + 1
		for _, h := range hosts {
			assert.Equal(t, full.Snapshot(h, end, SnapshotLimits{}), restored.Snapshot(h, end, SnapshotLimits{}), "cut %d host %s", cut, h)
		}
		if cut > 1 {
			assert.Greater(t, procs, 100, "the snapshots carry processes")
			assert.Greater(t, dns, 10, "and DNS answers")
		}
		assert.Zero(t, full.Procs.Evicted, "no eviction: the claim is exact equality")
		assert.Greater(t, full.Procs.Expired, uint64(0), "exits expired during the stream")
	}
}

// TestSnapshotRestoresLookups checks what alerts see after a restore: a
// process by GUID and by PID (the most recent owner), its parent, partial
// parents, exits, and DNS names.
func TestSnapshotRestoresLookups(t *testing.T) {
	e := stateEngine(t, Options{})
	for _, x := range []*event.Event{
		ev(event.ChannelSysmon, 1, 10*sec, "H", "ProcessGuid", "{p}", "ProcessId", "10", "Image", `C:\p.exe`, "CommandLine", "p",
			"ParentProcessGuid", "{boot}", "ParentProcessId", "4", "ParentImage", `C:\boot.exe`, "ParentCommandLine", "boot"),
		ev(event.ChannelSysmon, 1, 11*sec, "H", "ProcessGuid", "{c1}", "ProcessId", "20", "Image", `C:\c1.exe`, "ParentProcessGuid", "{p}", "ParentProcessId", "10"),
		ev(event.ChannelSysmon, 5, 12*sec, "H", "ProcessGuid", "{c1}", "ProcessId", "20"),
		ev(event.ChannelSysmon, 1, 13*sec, "H", "ProcessGuid", "{c2}", "ProcessId", "20", "Image", `C:\c2.exe`, "ParentProcessGuid", "{p}", "ParentProcessId", "10"),
		ev(event.ChannelSysmon, 22, 14*sec, "H", "QueryName", "evil.example", "QueryResults", "::ffff:10.9.8.7;"),
		ev(event.ChannelSysmon, 1, 15*sec, "OTHER", "ProcessGuid", "{o}", "ProcessId", "30", "Image", `C:\o.exe`),
	} {
		e.Observe(x)
	}
	snap := e.Snapshot("H", 16*sec, SnapshotLimits{})
	r := stateEngine(t, Options{})
	require.NoError(t, restore(r, snap))
	pt := r.Procs
	assert.Equal(t, 4, pt.Len(), "H's processes only: boot (partial), p, c1 (exited), c2")
	c2 := pt.ByPID("H", "20", 16*sec)
	require.NotNil(t, c2)
	assert.Equal(t, `C:\c2.exe`, c2.Image, "the PID's owner is the later process")
	par := pt.Parent(c2)
	require.NotNil(t, par)
	assert.Equal(t, "p", par.CommandLine)
	boot := pt.Parent(par)
	require.NotNil(t, boot)
	assert.True(t, boot.Partial)
	assert.Equal(t, "boot", boot.CommandLine)
	c1 := pt.ByGUID("H", "{c1}")
	require.NotNil(t, c1)
	assert.Equal(t, 12*sec, c1.End)
	assert.Nil(t, pt.ByGUID("OTHER", "{o}"))
	assert.Equal(t, "evil.example", r.DNS.Lookup("H", "10.9.8.7", 16*sec))
	// The exit is queued: c1 is forgotten TTL after it exited.
	r.Observe(ev(event.ChannelSysmon, 3, 12*sec+int64(10*time.Minute)+1, "H"))
	assert.Nil(t, pt.ByGUID("H", "{c1}"))
	assert.NotNil(t, pt.ByGUID("H", "{c2}"))
	// Exited beyond the TTL at the snapshot's time: left out.
	late := e.Snapshot("H", 12*sec+int64(10*time.Minute)+1, SnapshotLimits{})
	s, err := DecodeSnapshot(late)
	require.NoError(t, err)
	assert.Len(t, s.Processes, 3)
}

func TestSnapshotDeterministic(t *testing.T) {
	evs := synthEvents(t, 20000)
	snaps := func() map[string][]byte {
		tr := NewTracker(Options{}, SnapshotLimits{})
		for _, e := range evs {
			tr.Observe(e)
		}
		out := map[string][]byte{}
		for _, h := range hostsOf(evs) {
			out[h] = tr.Snapshot(h, evs[len(evs)-1].Time)
			assert.Equal(t, out[h], tr.Snapshot(h, evs[len(evs)-1].Time), "snapshotting does not change the state")
		}
		return out
	}
	a, b := snaps(), snaps()
	assert.Equal(t, a, b)
	for h, s := range a {
		assert.NotEmpty(t, s, h)
	}
}

// TestSnapshotBounded: huge command lines and many processes stay within
// the limits; the most recently used entries are the ones kept.
func TestSnapshotBounded(t *testing.T) {
	pt := NewProcessTable(100000, int64(time.Hour))
	dns := NewDNSCache(100000, int64(time.Hour))
	long := strings.Repeat("A", 20000)
	for i := 0; i < 5000; i++ {
		pt.Observe(ev(event.ChannelSysmon, 1, int64(i+1)*sec, "H", "ProcessGuid", fmt.Sprintf("{%d}", i), "ProcessId", event.Itoa(uint64(i)),
			"Image", `C:\x.exe`, "CommandLine", fmt.Sprintf("%d %s", i, long)))
		dns.Observe(ev(event.ChannelSysmon, 22, int64(i+1)*sec, "H", "QueryName", fmt.Sprintf("h%d.example", i),
			"QueryResults", fmt.Sprintf("10.0.%d.%d;", i/256, i%256)))
	}
	at := int64(5001) * sec
	lim := SnapshotLimits{MaxBytes: 1 << 20}
	b := encodeSnapshot("H", at, pt.snapshot("H", at), dns.snapshot("H", at), lim)
	assert.LessOrEqual(t, len(b), 1<<20)
	s, err := DecodeSnapshot(b)
	require.NoError(t, err)
	require.NotEmpty(t, s.Processes)
	assert.Less(t, len(s.Processes), 60, "about 1 MiB of 20 kB command lines")
	assert.True(t, strings.HasPrefix(s.Processes[len(s.Processes)-1].CommandLine, "4999 "), "the most recent is kept")
	assert.Less(t, s.DNSAnswers(), 200, "processes come first; DNS answers fill what is left")
	require.NotZero(t, s.DNSAnswers())
	assert.Equal(t, "h4999.example", s.dns[len(s.dns)-1].name, "the most recent answer is kept")

	// Count bounds.
	short := NewProcessTable(100000, int64(time.Hour))
	for i := 0; i < 5000; i++ {
		short.Observe(ev(event.ChannelSysmon, 1, int64(i+1)*sec, "H", "ProcessGuid", fmt.Sprintf("{%d}", i), "ProcessId", event.Itoa(uint64(i))))
	}
	b = encodeSnapshot("H", at, short.snapshot("H", at), dns.snapshot("H", at), SnapshotLimits{MaxProcesses: 1000, MaxDNS: 10})
	s, err = DecodeSnapshot(b)
	require.NoError(t, err)
	assert.Len(t, s.Processes, 1000)
	assert.Equal(t, 10, s.DNSAnswers())
	assert.Equal(t, "{4999}", s.Processes[999].GUID)
}

func TestSnapshotCorruptAndUnknownVersion(t *testing.T) {
	e := stateEngine(t, Options{})
	e.Observe(ev(event.ChannelSysmon, 1, sec, "H", "ProcessGuid", "{a}", "ProcessId", "1", "Image", `C:\a.exe`))
	e.Observe(ev(event.ChannelSysmon, 22, sec, "H", "QueryName", "a.example", "QueryResults", "1.2.3.4;"))
	good := e.Snapshot("H", 2*sec, SnapshotLimits{})

	v2 := bytes.Clone(good)
	v2[4] = 2
	flipped := bytes.Clone(good)
	flipped[len(flipped)/2] ^= 0x40
	payload, err := snapDecoder.DecodeAll(good[5:], nil)
	require.NoError(t, err)
	payload[len(payload)/2] ^= 0x01 // inside the checksum
	for name, c := range map[string]struct {
		data []byte
		want error
	}{
		"version 2":  {v2, ErrSnapshotVersion},
		"bit flip":   {flipped, ErrSnapshotCorrupt},
		"payload":    {append([]byte("EDRS\x01"), snapEncoder.EncodeAll(payload, nil)...), ErrSnapshotCorrupt},
		"truncated":  {good[:len(good)-5], ErrSnapshotCorrupt},
		"empty":      {nil, ErrSnapshotCorrupt},
		"not a snap": {[]byte("{\"processes\":[]}"), ErrSnapshotCorrupt},
	} {
		r := stateEngine(t, Options{})
		err := restore(r, c.data)
		require.ErrorIs(t, err, c.want, name)
		assert.Zero(t, r.Procs.Len(), "%s: nothing restored", name)
		assert.Zero(t, r.DNS.Len(), name)
	}
	// Checksum-valid payloads that lie are refused without a panic or a
	// large allocation.
	for name, p := range map[string][]byte{
		"huge string count": binary.AppendUvarint(binary.AppendVarint(appendStr(nil, "H"), 1), 1<<40),
		"huge string":       binary.AppendUvarint(binary.AppendUvarint(binary.AppendVarint(appendStr(nil, "H"), 1), 1), 1<<40),
		"index out of range": func() []byte {
			b := appendStr(nil, "H")
			b = binary.AppendVarint(b, 1)
			b = binary.AppendUvarint(b, 0) // no strings
			b = binary.AppendUvarint(b, 1) // one process
			b = append(b, 0)
			for i := 0; i < 17; i++ {
				b = binary.AppendUvarint(b, 9) // string 9 of 1
			}
			b = binary.AppendVarint(b, 0)
			b = binary.AppendVarint(b, 0)
			return binary.AppendUvarint(b, 0)
		}(),
		"trailing bytes": append(binary.AppendUvarint(binary.AppendUvarint(binary.AppendUvarint(binary.AppendVarint(appendStr(nil, "H"), 1), 0), 0), 0), 7),
	} {
		_, err := DecodeSnapshot(sealSnapshot(p))
		assert.ErrorIs(t, err, ErrSnapshotCorrupt, name)
	}
	empty, err := DecodeSnapshot(sealSnapshot(binary.AppendUvarint(binary.AppendUvarint(binary.AppendUvarint(binary.AppendVarint(appendStr(nil, "H"), 1), 0), 0), 0)))
	require.NoError(t, err, "the same payload without the trailing byte is fine")
	assert.Equal(t, "H", empty.Host)
}

func FuzzDecodeSnapshot(f *testing.F) {
	e := stateEngine(f, Options{})
	for _, x := range synthEvents(f, 300) {
		e.Observe(x)
	}
	for _, h := range []string{"dc01.corp.example.com", "ws03.corp.example.com", "none"} {
		f.Add(e.Snapshot(h, 1<<62, SnapshotLimits{}))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := DecodeSnapshot(data)
		if err != nil {
			if s != nil {
				t.Fatal("snapshot and error")
			}
			return
		}
		// A snapshot that decodes restores and snapshots again.
		r := stateEngine(t, Options{})
		require.NoError(t, restore(r, data))
		again, err := DecodeSnapshot(r.Snapshot(s.Host, s.At, SnapshotLimits{}))
		require.NoError(t, err)
		require.LessOrEqual(t, len(again.Processes), len(s.Processes))
	})
}
