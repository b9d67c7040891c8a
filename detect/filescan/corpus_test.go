package filescan_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/edr-lab/edr/detect/filescan"
	"github.com/edr-lab/edr/detect/ioc"
	"github.com/edr-lab/edr/detect/yara"
	"github.com/edr-lab/edr/event"
	"github.com/edr-lab/edr/internal/testutil"
	"github.com/edr-lab/edr/recording/artifact"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSignatureBaseLiveAndReplay runs the whole chain on real material: a
// corpus file that the derived cross-check says signature-base YARA rules
// match is "executed" from a fixture directory; the live check hashes it,
// matches a hash IOC list written for it, runs the 5.9k signature-base rules
// and stores it; the replay check, with the fixture gone, finds it in the
// store by the filled Hashes and reaches the same verdicts.
func TestSignatureBaseLiveAndReplay(t *testing.T) {
	if !yara.Available {
		t.Skip(yara.ErrCompiledOut)
	}
	sample := testutil.Corpus(t, "evtx-attack-samples/Lateral Movement/LM_sysmon_psexec_smb_meterpreter.evtx")
	rulesDir := testutil.Corpus(t, "yara/signature-base/yara")
	data, err := os.ReadFile(sample)
	require.NoError(t, err)

	root := t.TempDir()
	local := filepath.Join(root, "C", "Users", "victim", "Downloads", "payload.exe")
	require.NoError(t, os.MkdirAll(filepath.Dir(local), 0o755))
	require.NoError(t, os.WriteFile(local, data, 0o644))

	d := artifact.Sum(data)
	hashes := filepath.Join(t.TempDir(), "hashes.txt")
	require.NoError(t, os.WriteFile(hashes, []byte(d.MD5+";payload under test\n"), 0o644))
	set, errs := ioc.Load(ioc.Paths{Hashes: hashes}, ioc.Options{})
	require.Empty(t, errs)

	compiled, errs := yara.Compile([]string{rulesDir}, yara.CompileOptions{})
	require.Empty(t, errs)
	sc, err := yara.NewScanner(compiled, yara.ScannerOptions{Workers: 1})
	require.NoError(t, err)
	defer sc.Close()
	store, err := artifact.Open(t.TempDir(), artifact.Options{})
	require.NoError(t, err)
	defer store.Close()

	opts := filescan.Options{Opener: filescan.DirOpener{Root: root}, Store: store, IOC: set, YARA: sc,
		HashAllowlist: windowsAllow, YARAAllowlist: windowsAllow, MaxFileBytes: 50 << 20}
	ev := procStart(`C:\Users\victim\Downloads\payload.exe`)
	live := filescan.New(opts).Live(context.Background(), ev)
	require.Equal(t, filescan.Scanned, live.Outcome, "%v", live.Err)
	require.NoError(t, live.YARAErr)
	assert.Equal(t, []string{"SUSP_PS1_FromBase64String_Content_Indicator"}, rules(live.YARA))
	require.Len(t, live.IOC, 1)
	assert.Equal(t, ioc.KindMD5, live.IOC[0].Kind)
	assert.True(t, live.Stored)
	assert.NotEmpty(t, live.YARA[0].Strings, "string snippets for match_debug=full")

	require.NoError(t, os.RemoveAll(root))
	recorded := procStart(`C:\Users\victim\Downloads\payload.exe`)
	recorded.Set(event.FHashes, ev.Value(event.FHashes))
	replay := filescan.New(opts).Replay(context.Background(), recorded)
	require.Equal(t, filescan.Scanned, replay.Outcome, "%v", replay.Err)
	assert.Equal(t, live.IOC, replay.IOC)
	assert.Equal(t, live.YARA, replay.YARA)
	assert.Equal(t, live.Hashes, replay.Hashes)
}
