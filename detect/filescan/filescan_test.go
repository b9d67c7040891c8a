package filescan_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/edr-lab/edr/detect/allowlist"
	"github.com/edr-lab/edr/detect/filescan"
	"github.com/edr-lab/edr/detect/ioc"
	"github.com/edr-lab/edr/detect/yara"
	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/recording/artifact"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const marker = "EDR-YARA-DEMO-MARKER-7f3a" // detect/yara/testdata/rules/example.yar

type fixture struct {
	root    string
	dropper []byte
	digests artifact.Digests
	store   *artifact.Store
	set     *ioc.Set
	yara    *yara.Scanner
}

func newFixture(t *testing.T) *fixture {
	f := &fixture{root: t.TempDir()}
	write := func(rel string, data []byte) {
		p := filepath.Join(f.root, filepath.FromSlash(rel))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, data, 0o644))
	}
	f.dropper = []byte("MZ\x90\x00 a dropper carrying " + marker)
	f.digests = artifact.Sum(f.dropper)
	write("C/Users/a/AppData/Local/Temp/dropper.exe", f.dropper)
	write("C/Windows/System32/cmd.exe", []byte("MZ system binary "+marker))
	write("C/big.exe", make([]byte, 4096))

	hashes := filepath.Join(t.TempDir(), "hashes.txt")
	require.NoError(t, os.WriteFile(hashes, []byte(f.digests.SHA256+";test dropper\n"), 0o644))
	var errs []error
	f.set, errs = ioc.Load(ioc.Paths{Hashes: hashes}, ioc.Options{})
	require.Empty(t, errs)

	var err error
	f.store, err = artifact.Open(t.TempDir(), artifact.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { f.store.Close() })
	if yara.Available {
		rules, errs := yara.Compile([]string{"../yara/testdata/rules"}, yara.CompileOptions{})
		require.Empty(t, errs)
		f.yara, err = yara.NewScanner(rules, yara.ScannerOptions{Workers: 2})
		require.NoError(t, err)
		t.Cleanup(f.yara.Close)
	}
	return f
}

func (f *fixture) scanner(hashAllow, yaraAllow []string) *filescan.Scanner {
	opts := filescan.Options{Opener: filescan.DirOpener{Root: f.root}, Store: f.store, IOC: f.set,
		HashAllowlist: hashAllow, YARAAllowlist: yaraAllow, MaxFileBytes: 1024}
	if f.yara != nil {
		opts.YARA = f.yara
	}
	return filescan.New(opts)
}

func procStart(image string) *event.Event {
	ev := &event.Event{Channel: event.ChannelSysmon, Provider: event.ProviderSysmon, EventID: 1}
	ev.Set(event.FImage, image)
	ev.Set(event.FProcessId, "4242")
	return ev
}

var windowsAllow = []string{`C:\Windows\`, `C:\Program Files\`, `C:\Program Files (x86)\`}

func TestLiveFillsHashesChecksIOCsRunsYARAAndStores(t *testing.T) {
	f := newFixture(t)
	s := f.scanner(windowsAllow, windowsAllow)
	ev := procStart(`C:\Users\a\AppData\Local\Temp\dropper.exe`)
	r := s.Live(context.Background(), ev)
	require.NoError(t, r.Err)
	assert.Equal(t, filescan.Scanned, r.Outcome)
	assert.Equal(t, f.digests.SHA256, r.SHA256)
	assert.Equal(t, event.FormatHashes(f.digests.SHA1, f.digests.MD5, f.digests.SHA256, ""), r.Hashes)
	assert.True(t, r.Filled)
	assert.Equal(t, r.Hashes, ev.Value(event.FHashes), "Hashes filled in the event")
	require.Len(t, r.IOC, 1)
	assert.Equal(t, "test dropper", r.IOC[0].Comment)
	assert.Equal(t, ioc.KindSHA256, r.IOC[0].Kind)
	assert.True(t, r.Stored)
	require.NoError(t, r.StoreErr)
	assert.True(t, f.store.Has(f.digests.SHA256))
	if yara.Available {
		require.NoError(t, r.YARAErr)
		assert.Equal(t, []string{"ExampleMarkerString", "ExternalsFilename"}, rules(r.YARA),
			"externals come from the event's Windows path and the file's magic")
	} else {
		assert.True(t, r.YARASkipped)
	}

	// A second start of the same image: checked again, stored once.
	ev2 := procStart(`C:\Users\a\AppData\Local\Temp\dropper.exe`)
	ev2.Set(event.FHashes, "SHA1="+strings.ToUpper(f.digests.SHA1))
	r2 := s.Live(context.Background(), ev2)
	assert.False(t, r2.Stored)
	assert.False(t, r2.Filled, "Hashes present in the event are kept")
	assert.Equal(t, "SHA1="+strings.ToUpper(f.digests.SHA1), ev2.Value(event.FHashes))
	assert.Len(t, r2.IOC, 1)
}

func TestReplayGivesTheLiveVerdicts(t *testing.T) {
	f := newFixture(t)
	live := f.scanner(windowsAllow, windowsAllow)
	ev := procStart(`C:\Users\a\AppData\Local\Temp\dropper.exe`)
	lr := live.Live(context.Background(), ev)
	require.Equal(t, filescan.Scanned, lr.Outcome)

	// Replay reads only the store: the fixture directory is gone.
	require.NoError(t, os.RemoveAll(f.root))
	replay := f.scanner(windowsAllow, windowsAllow)
	for _, hashes := range []string{
		ev.Value(event.FHashes),                                   // as filled live and recorded
		"SHA1=" + strings.ToUpper(f.digests.SHA1) + ",IMPHASH=00", // Sysmon configured for SHA1 only
		"MD5=" + f.digests.MD5,
	} {
		rev := procStart(`C:\Users\a\AppData\Local\Temp\dropper.exe`)
		rev.Set(event.FHashes, hashes)
		rr := replay.Replay(context.Background(), rev)
		require.NoError(t, rr.Err, hashes)
		assert.Equal(t, lr.Outcome, rr.Outcome)
		assert.Equal(t, lr.Hashes, rr.Hashes)
		assert.Equal(t, lr.IOC, rr.IOC)
		assert.Equal(t, lr.YARA, rr.YARA)
		assert.Equal(t, lr.YARAErr, rr.YARAErr)
		assert.Equal(t, hashes, rev.Value(event.FHashes), "replay never rewrites the recorded event")
	}

	// No artifact for these hashes: Missing, never a clean verdict.
	rev := procStart(`C:\Users\a\AppData\Local\Temp\other.exe`)
	rev.Set(event.FHashes, "SHA256="+strings.Repeat("ab", 32))
	rr := replay.Replay(context.Background(), rev)
	assert.Equal(t, filescan.Missing, rr.Outcome)
	assert.Empty(t, rr.IOC)
}

func TestAllowlistsSizeCapAndMissing(t *testing.T) {
	f := newFixture(t)
	s := f.scanner(windowsAllow, windowsAllow)
	ctx := context.Background()

	r := s.Live(ctx, procStart(`c:\windows\system32\CMD.EXE`))
	assert.Equal(t, filescan.Allowlisted, r.Outcome, "case-insensitive prefix")
	assert.False(t, r.Stored)
	r = s.Live(ctx, procStart(`\??\C:\Windows\System32\cmd.exe`))
	assert.Equal(t, filescan.Allowlisted, r.Outcome, "NT prefix removed")

	r = s.Live(ctx, procStart(`C:\big.exe`))
	assert.Equal(t, filescan.TooLarge, r.Outcome)
	assert.Empty(t, r.Hashes)

	r = s.Live(ctx, procStart(`C:\nowhere\x.exe`))
	assert.Equal(t, filescan.Missing, r.Outcome)
	assert.Error(t, r.Err)

	// Module-specific allowlists: hashing allowed, YARA allowlisted.
	s = f.scanner(nil, allowlist.Effective(windowsAllow, []string{`C:\Users`}, true))
	r = s.Live(ctx, procStart(`C:\Users\a\AppData\Local\Temp\dropper.exe`))
	assert.Equal(t, filescan.Scanned, r.Outcome)
	assert.NotEmpty(t, r.Hashes)
	assert.True(t, r.YARASkipped)
	assert.Empty(t, r.YARA)

	// Not a process start: nothing to do.
	ev := &event.Event{Channel: event.ChannelSysmon, EventID: 11}
	ev.Set(event.FTargetFilename, `C:\x.exe`)
	assert.Equal(t, filescan.NotApplicable, s.Live(ctx, ev).Outcome)
}

func TestSecurity4688Target(t *testing.T) {
	f := newFixture(t)
	s := f.scanner(nil, nil)
	ev := &event.Event{Channel: event.ChannelSecurity, EventID: 4688}
	ev.SetByName("NewProcessName", `C:\Users\a\AppData\Local\Temp\dropper.exe`)
	r := s.Live(context.Background(), ev)
	assert.Equal(t, filescan.Scanned, r.Outcome)
	assert.Equal(t, "NewProcessName", r.Field)
	assert.False(t, r.Filled, "4688 has no Hashes field to fill")
	assert.Len(t, r.IOC, 1)
}

func TestDirOpenerMapping(t *testing.T) {
	d := filescan.DirOpener{Root: "/fx"}
	for in, want := range map[string]string{
		`C:\Users\a\x.exe`:  "/fx/C/Users/a/x.exe",
		`c:\x.exe`:          "/fx/C/x.exe",
		`\\srv\share\x.exe`: "/fx/UNC/srv/share/x.exe",
		`\\?\C:\x.exe`:      "/fx/C/x.exe",
		"/usr/bin/x":        "/fx/usr/bin/x",
	} {
		got, err := d.Local(in)
		require.NoError(t, err, in)
		assert.Equal(t, filepath.FromSlash(want), got, in)
	}
	_, err := d.Local(`C:\..\..\etc\passwd`)
	assert.Error(t, err)
}

func TestWorkerQueueAndDrops(t *testing.T) {
	f := newFixture(t)
	s := f.scanner(windowsAllow, windowsAllow)
	var mu sync.Mutex
	var got []filescan.Result
	release := make(chan struct{})
	w := s.Start(context.Background(), 1, 1, func(ev *event.Event, r filescan.Result) {
		<-release
		mu.Lock()
		got = append(got, r)
		mu.Unlock()
		assert.Equal(t, r.Hashes, ev.Value(event.FHashes))
	})
	ev := procStart(`C:\Users\a\AppData\Local\Temp\dropper.exe`)
	accepted := 0
	for i := 0; i < 5; i++ {
		if w.Submit(ev) {
			accepted++
		}
	}
	assert.False(t, ev.Has(event.FHashes), "the caller's event is not touched")
	close(release)
	w.Close()
	st := w.Stats()
	assert.Equal(t, uint64(5), st.Submitted)
	assert.Equal(t, uint64(5-accepted), st.Dropped)
	assert.GreaterOrEqual(t, st.Dropped, uint64(3), "one running, one queued, the rest dropped")
	assert.Equal(t, uint64(accepted), st.Checked)
	assert.Len(t, got, accepted)
	assert.False(t, w.Submit(ev), "closed worker drops")
}

func rules(ms []yara.Match) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Rule)
	}
	return out
}

// Live checks run in the background, so the event may be recorded before
// its Hashes are filled. Replay then finds the file through the link the
// live check made for that process start, and fills Hashes as live did.
func TestReplayOfEventRecordedWithoutHashes(t *testing.T) {
	f := newFixture(t)
	s := f.scanner(windowsAllow, windowsAllow)
	recorded := procStart(`C:\Users\a\AppData\Local\Temp\dropper.exe`)
	recorded.Host, recorded.Time = "ws1", 1700000000123456789
	live := s.Live(context.Background(), recorded.Clone()) // the worker's own copy
	require.Equal(t, filescan.Scanned, live.Outcome)
	require.True(t, live.Filled)
	require.False(t, recorded.Has(event.FHashes))

	require.NoError(t, os.RemoveAll(f.root))
	replay := s.Replay(context.Background(), recorded)
	require.Equal(t, filescan.Scanned, replay.Outcome, "%v", replay.Err)
	assert.True(t, replay.Filled)
	assert.Equal(t, live.Hashes, recorded.Value(event.FHashes))
	assert.Equal(t, live.IOC, replay.IOC)
	assert.Equal(t, live.YARA, replay.YARA)

	// Another start of the same path (another time) has no link of its own.
	other := procStart(`C:\Users\a\AppData\Local\Temp\dropper.exe`)
	other.Host, other.Time = "ws1", 1700000000999999999
	assert.Equal(t, filescan.Missing, s.Replay(context.Background(), other).Outcome)
}
