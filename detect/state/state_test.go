package state

import (
	"net/netip"
	"testing"
	"time"

	"github.com/edr-lab/edr/event"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func ev(ch string, id uint16, t int64, host string, kv ...string) *event.Event {
	e := &event.Event{Time: t, Host: host, Channel: ch, EventID: id}
	for i := 0; i+1 < len(kv); i += 2 {
		e.SetByName(kv[i], kv[i+1])
	}
	return e
}

const sec = int64(time.Second)

func TestProcessTableExitTTLAndPIDReuse(t *testing.T) {
	pt := NewProcessTable(100, 60*sec)
	pt.Observe(ev(event.ChannelSysmon, 1, 10*sec, "H", "ProcessGuid", "{a}", "ProcessId", "42", "Image", `C:\a.exe`))
	require.NotNil(t, pt.ByPID("H", "42", 11*sec))
	assert.Nil(t, pt.ByPID("H", "42", 9*sec), "not started yet")
	assert.Nil(t, pt.ByPID("OTHER", "42", 11*sec), "hosts are separate")
	pt.Observe(ev(event.ChannelSysmon, 5, 20*sec, "H", "ProcessGuid", "{a}", "ProcessId", "42"))
	assert.NotNil(t, pt.ByGUID("H", "{a}"), "kept after exit for late events")
	assert.Nil(t, pt.ByPID("H", "42", 21*sec), "an exited process does not own its PID any more")
	// PID reuse: a new process with the same PID.
	pt.Observe(ev(event.ChannelSysmon, 1, 30*sec, "H", "ProcessGuid", "{b}", "ProcessId", "42", "Image", `C:\b.exe`))
	assert.Equal(t, `C:\b.exe`, pt.ByPID("H", "42", 31*sec).Image)
	assert.Equal(t, `C:\a.exe`, pt.ByGUID("H", "{a}").Image)
	// Event time passes the TTL: {a} is forgotten, {b} is running and kept.
	pt.Observe(ev(event.ChannelSysmon, 3, 81*sec, "H"))
	assert.Nil(t, pt.ByGUID("H", "{a}"))
	assert.NotNil(t, pt.ByGUID("H", "{b}"))
	assert.Equal(t, uint64(1), pt.Expired)
}

func TestProcessTableBoundAndSecurity4688(t *testing.T) {
	pt := NewProcessTable(3, 60*sec)
	for i, g := range []string{"{1}", "{2}", "{3}", "{4}"} {
		pt.Observe(ev(event.ChannelSysmon, 1, int64(i+1)*sec, "H", "ProcessGuid", g, "ProcessId", event.Itoa(uint64(100+i)), "Image", `C:\x.exe`))
	}
	assert.Equal(t, 3, pt.Len())
	assert.Equal(t, uint64(1), pt.Evicted)
	assert.Nil(t, pt.ByGUID("H", "{1}"), "least recently used goes first")
	assert.Nil(t, pt.ByPID("H", "100", 10*sec), "its PID index entry goes with it")

	sp := NewProcessTable(10, 60*sec)
	sp.Observe(ev(event.ChannelSecurity, 4688, 1*sec, "DC", "NewProcessId", "0x1f4", "NewProcessName", `C:\Windows\System32\cmd.exe`, "ProcessId", "0x4", "CommandLine", "cmd", "SubjectUserName", "bob", "SubjectDomainName", "CORP"))
	sp.Observe(ev(event.ChannelSecurity, 4688, 2*sec, "DC", "NewProcessId", "0x258", "NewProcessName", `C:\Windows\System32\whoami.exe`, "ProcessId", "0x1f4", "CommandLine", "whoami", "TargetUserName", "-", "SubjectUserName", "bob", "SubjectDomainName", "CORP"))
	child := sp.ByPID("DC", "600", 3*sec)
	require.NotNil(t, child)
	assert.Equal(t, `CORP\bob`, child.User)
	parent := sp.Parent(child)
	require.NotNil(t, parent)
	assert.Equal(t, "cmd", parent.CommandLine)
	sp.Observe(ev(event.ChannelSecurity, 4689, 4*sec, "DC", "ProcessId", "0x258"))
	assert.Nil(t, sp.ByPID("DC", "600", 5*sec))
}

func TestDNSCache(t *testing.T) {
	assert.Equal(t, []netip.Addr{netip.MustParseAddr("1.2.3.4"), netip.MustParseAddr("2001:db8::1")},
		ParseQueryResults("type:  5 x.example;::ffff:1.2.3.4;2001:db8::1;garbage;"))
	c := NewDNSCache(2, 60*sec)
	c.Observe(ev(event.ChannelSysmon, 22, 10*sec, "H", "QueryName", "a.example.", "QueryResults", "::ffff:1.2.3.4;"))
	c.Observe(ev(event.ChannelDNSClient, 3008, 11*sec, "H", "QueryName", "b.example", "QueryResults", "5.6.7.8;"))
	assert.Equal(t, "a.example", c.Lookup("H", "::ffff:1.2.3.4", 20*sec), "mapped and plain forms are one address")
	assert.Equal(t, "b.example", c.Lookup("H", "5.6.7.8", 20*sec))
	assert.Equal(t, "", c.Lookup("H", "5.6.7.8", 72*sec), "expired in event time")
	assert.Equal(t, "", c.Lookup("H", "5.6.7.8", 5*sec), "answer not seen yet at that time")
	c.Observe(ev(event.ChannelSysmon, 22, 12*sec, "H", "QueryName", "c.example", "QueryResults", "9.9.9.9;"))
	assert.Equal(t, 2, c.Len())
	assert.Equal(t, uint64(1), c.Evicted)
}

func FuzzParseQueryResults(f *testing.F) {
	f.Add("type:  5 x.example;::ffff:1.2.3.4;2001:db8::1;")
	f.Add(";;;type:")
	f.Fuzz(func(t *testing.T, results string) {
		for _, a := range ParseQueryResults(results) {
			if !a.IsValid() || a.Is4In6() {
				t.Fatalf("bad address %v from %q", a, results)
			}
		}
	})
}

// The table reuses the storage of processes it forgot (evicted by the
// bound, expired after exit) for new ones: a reused entry holds only the
// new process's values, and the entries still held are untouched.
func TestProcessTableReusesForgottenEntries(t *testing.T) {
	pt := NewProcessTable(2, 60*sec)
	start := func(at int64, guid, pid, image string) {
		pt.Observe(ev(event.ChannelSysmon, 1, at, "H", "ProcessGuid", guid, "ProcessId", pid, "Image", image,
			"ParentProcessGuid", "{parent-"+guid+"}", "ParentProcessId", "9", "ParentImage", `C:\p-`+guid+".exe"))
	}
	start(1*sec, "{a}", "1", `C:\a.exe`) // with its partial parent: the table is full
	start(2*sec, "{b}", "2", `C:\b.exe`) // evicts {a}'s parent and {a}
	require.Nil(t, pt.ByGUID("H", "{a}"))
	start(3*sec, "{c}", "3", `C:\c.exe`) // reuses their storage
	for _, g := range []string{"{a}", "{parent-{a}}", "{b}", "{parent-{b}}"} {
		assert.Nil(t, pt.ByGUID("H", g), g)
	}
	c := pt.ByGUID("H", "{c}")
	require.NotNil(t, c)
	assert.Equal(t, Process{Host: "H", GUID: "{c}", PID: "3", Start: 3 * sec, Image: `C:\c.exe`, ParentGUID: "{parent-{c}}",
		ParentPID: "9", ParentImage: `C:\p-{c}.exe`}, values(c))
	assert.Equal(t, `C:\p-{c}.exe`, pt.Parent(c).Image)
	assert.True(t, pt.Parent(c).Partial)
	assert.Same(t, c, pt.ByPID("H", "3", 4*sec))
	assert.Nil(t, pt.ByPID("H", "1", 4*sec), "the PID index forgets reused entries")
	// Expired entries are reused the same way.
	pt.Observe(ev(event.ChannelSysmon, 5, 5*sec, "H", "ProcessGuid", "{c}", "ProcessId", "3"))
	pt.Observe(ev(event.ChannelSysmon, 3, 70*sec, "H"))
	assert.Nil(t, pt.ByGUID("H", "{c}"))
	assert.Equal(t, uint64(1), pt.Expired)
	start(71*sec, "{d}", "4", `C:\d.exe`)
	d := pt.ByGUID("H", "{d}")
	require.NotNil(t, d)
	assert.Equal(t, `C:\d.exe`, d.Image)
	assert.Zero(t, d.End, "nothing of the expired process is left")
}

// Once the table and the cache have seen a host's processes and answers,
// the state allocates nothing for repeated DNS answers and only a
// process's one string copy for a process start: storage of forgotten
// entries, host and query names are reused.
func TestStateSteadyStateAllocations(t *testing.T) {
	s := New(Options{MaxProcesses: 4, MaxDNS: 16})
	dns := ev(event.ChannelSysmon, 22, 1*sec, "H", "QueryName", "a.example.", "QueryResults", "type:  5 cname.example;::ffff:1.2.3.4;5.6.7.8;")
	at := int64(0)
	assert.Zero(t, testing.AllocsPerRun(100, func() {
		at += sec
		dns.Time = at
		s.Observe(dns)
	}), "a repeated DNS answer")
	assert.Equal(t, "a.example", s.DNS.Lookup("H", "5.6.7.8", at))

	starts := make([]*event.Event, 16)
	for i := range starts {
		starts[i] = ev(event.ChannelSysmon, 1, 0, "H", "ProcessGuid", "{p"+event.Itoa(uint64(i))+"}", "ProcessId", event.Itoa(uint64(i)),
			"Image", `C:\x.exe`, "CommandLine", "x --run")
	}
	n := 0
	assert.LessOrEqual(t, testing.AllocsPerRun(100, func() {
		at += sec
		ev := starts[n%len(starts)]
		ev.Time = at
		n++
		s.Observe(ev)
	}), 1.0, "a process start beyond the bound: its strings' one copy")
	assert.Equal(t, 4, s.Procs.Len())
}
