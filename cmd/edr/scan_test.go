//go:build unix

package main

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/edr-lab/edr/detect/filescan"
	"github.com/edr-lab/edr/detect/yara"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The standard 68-byte EICAR anti-virus test file.
const eicar = `X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*`

const eicarSHA256 = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"

// failOpener makes the named files unreadable, whoever runs the test.
type failOpener struct{ deny map[string]bool }

func (f failOpener) Open(path string) (io.ReadCloser, error) {
	if f.deny[filepath.Base(path)] {
		return nil, &os.PathError{Op: "open", Path: path, Err: syscall.EACCES}
	}
	return os.Open(path)
}

type scanAlert struct {
	Rule struct {
		ID string `json:"id"`
	} `json:"rule"`
	File struct {
		Path string `json:"path"`
		Name string `json:"name"`
		Size int64  `json:"size"`
		Hash struct {
			MD5    string `json:"md5"`
			SHA1   string `json:"sha1"`
			SHA256 string `json:"sha256"`
		} `json:"hash"`
	} `json:"file"`
	EDR struct {
		Engine string `json:"engine"`
	} `json:"edr"`
}

// scanTree builds the triage folder: EICAR, a file matching the
// shipped YARA rule, an unreadable file, a symlink out of the tree, a file
// over the size cap, a FIFO and a symlink loop.
func scanTree(t *testing.T) (root, outside string) {
	t.Helper()
	base := t.TempDir()
	root, outside = filepath.Join(base, "triage"), filepath.Join(base, "outside")
	require.NoError(t, os.MkdirAll(filepath.Join(root, "C", "Users", "Public"), 0o755))
	require.NoError(t, os.MkdirAll(outside, 0o755))
	write := func(rel, data string) {
		require.NoError(t, os.WriteFile(filepath.Join(root, rel), []byte(data), 0o644))
	}
	write("eicar.com", eicar)
	write("C/Users/Public/dropper.exe", "MZ\x90\x00 junk EDR_EXAMPLE_MARKER_STRING_7f3a9c more junk")
	write("clean.txt", "nothing to see")
	write("locked.bin", eicar) // would match, but cannot be read
	write("C/big.iso", strings.Repeat("A", 4096)+eicar)
	require.NoError(t, os.WriteFile(filepath.Join(outside, "eicar.com"), []byte(eicar), 0o644))
	require.NoError(t, os.Symlink(filepath.Join(outside, "eicar.com"), filepath.Join(root, "escape.com")))
	require.NoError(t, os.Symlink(root, filepath.Join(root, "C", "loop")))
	require.NoError(t, syscall.Mkfifo(filepath.Join(root, "pipe"), 0o644))
	return root, outside
}

func TestScanCommand(t *testing.T) {
	if !yara.Available {
		t.Skip("YARA compiled out")
	}
	root, _ := scanTree(t)
	iocDir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(iocDir, "hashes.txt"), []byte("# test\n"+eicarSHA256+";EICAR test file\n"), 0o644))
	scanOpener = failOpener{deny: map[string]bool{"locked.bin": true}}
	defer func() { scanOpener = nil }()

	alerts := filepath.Join(t.TempDir(), "alerts.ndjson")
	args := []string{"scan", "--yara", "../../rules/yara", "--ioc", iocDir, "--max-size", "1024", "--alerts", alerts, root}
	out, code := edr(t, args...)
	require.Equal(t, 0, code, out)
	raw, got := readNDJSON[scanAlert](t, alerts)
	// Exactly two alerts, in path order: the dropper (YARA), then EICAR
	// (its SHA-256); the locked copy, the big file and the file behind the
	// escaping symlink are never read.
	require.Len(t, got, 2, string(raw))
	dropper, eic := got[0], got[1]
	assert.Equal(t, "yara", dropper.EDR.Engine)
	assert.Equal(t, "default:ExampleMarkerString", dropper.Rule.ID)
	assert.Equal(t, filepath.Join(root, "C", "Users", "Public", "dropper.exe"), dropper.File.Path)
	assert.Equal(t, "dropper.exe", dropper.File.Name)
	assert.EqualValues(t, 52, dropper.File.Size)
	assert.Len(t, dropper.File.Hash.SHA256, 64)
	assert.Equal(t, "ioc", eic.EDR.Engine)
	assert.Equal(t, "edr-ioc-sha256", eic.Rule.ID)
	assert.Equal(t, filepath.Join(root, "eicar.com"), eic.File.Path)
	assert.EqualValues(t, 68, eic.File.Size)
	assert.Equal(t, eicarSHA256, eic.File.Hash.SHA256)
	assert.Equal(t, "44d88612fea8a8f36de82e1278abb02f", eic.File.Hash.MD5)
	assert.Equal(t, "3395856ce81f2b7382dee72602f798b642f14140", eic.File.Hash.SHA1)

	// The summary: what was checked, what loaded, every skip named.
	assert.Contains(t, out, "scan: 3 files, 134 bytes checked") // eicar 68 + dropper 52 + clean 14
	assert.Contains(t, out, "alerts: yara 1, ioc 1")
	assert.Contains(t, out, "loaded: YARA 1 rules from 1 files; indicators md5 0, sha1 0, sha256 1")
	assert.Contains(t, out, "skipped: too large 1, unreadable 1, special file 1, symlink out of tree 1, symlink within tree 1\n")
	assert.Contains(t, out, "too large: "+filepath.Join(root, "C", "big.iso")+" (4164 bytes)")
	assert.Contains(t, out, "unreadable: "+filepath.Join(root, "locked.bin")+": open: permission denied")
	assert.Contains(t, out, "special file: "+filepath.Join(root, "pipe"))
	assert.Contains(t, out, "symlink out of tree: "+filepath.Join(root, "escape.com"))
	assert.Contains(t, out, "symlink within tree: "+filepath.Join(root, "C", "loop"))

	// Byte-identical on a second run (one worker per CPU, any order of
	// completion).
	alerts2 := filepath.Join(t.TempDir(), "alerts.ndjson")
	args[len(args)-2] = alerts2
	_, code = edr(t, args...)
	require.Equal(t, 0, code)
	raw2, _ := readNDJSON[scanAlert](t, alerts2)
	assert.Equal(t, string(raw), string(raw2))
}

// TestScanUnreadableReal makes a file unreadable with its permissions, as a
// responder's collection may have; root reads it anyway, so there the case
// is covered by the injected opener of TestScanCommand only.
func TestScanUnreadableReal(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("running as root: chmod 000 does not stop reads (TestScanCommand injects the failure instead)")
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "locked.bin")
	require.NoError(t, os.WriteFile(p, []byte(eicar), 0o000))
	iocDir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(iocDir, "hashes.txt"), []byte(eicarSHA256+"\n"), 0o644))
	out, code := edr(t, "scan", "--ioc", iocDir, "--alerts", filepath.Join(t.TempDir(), "a.ndjson"), dir)
	require.Equal(t, 0, code, out)
	assert.Contains(t, out, "scan: 0 files")
	assert.Contains(t, out, "unreadable 1")
	assert.Contains(t, out, "unreadable: "+p+": open: permission denied")
}

func TestScanCommandErrors(t *testing.T) {
	dir := t.TempDir()
	emptyIOC := t.TempDir()
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"scan"}, 2, "no path given"},
		{[]string{"scan", filepath.Join(dir, "missing")}, 2, "missing"},
		{[]string{"scan", "--max-size", "-1", dir}, 2, "--max-size"},
		{[]string{"scan", "--yara", filepath.Join(dir, "nope.yar"), dir}, 2, "nope.yar"},
		{[]string{"scan", "--ioc", emptyIOC, dir}, 2, "nothing to check files with"},
	} {
		out, code := edr(t, c.args...)
		assert.Equal(t, c.code, code, "%v: %s", c.args, out)
		assert.Contains(t, out, c.msg, "%v", c.args)
	}
}

// The injected opener fails as the OS does.
func TestFailOpener(t *testing.T) {
	var op filescan.Opener = failOpener{deny: map[string]bool{"x": true}}
	_, err := op.Open("/a/x")
	assert.True(t, errors.Is(err, os.ErrPermission))
}
