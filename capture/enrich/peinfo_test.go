package enrich

import (
	"bytes"
	"encoding/binary"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadVersionInfoBuiltPE(t *testing.T) {
	img := buildPE(versionBlock([]string{"040904b0"}, testStrings...))
	vi, ok, err := ReadVersionInfo("updater.exe", bytes.NewReader(img))
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, VersionInfo{
		OriginalFileName: "UPDATER.EXE",
		Description:      "Contoso Updater",
		Product:          "Contoso® Suite",
		Company:          "Contoso Ltd.",
		FileVersion:      "10.0.19041.1 (WinBuild.160101.0800)",
	}, vi)
}

func TestReadVersionInfoPrefersUSEnglishTable(t *testing.T) {
	de := vsNode("040704b0", 1, nil, 0, vsString("CompanyName", "Contoso GmbH"))
	en := vsNode("040904b0", 1, nil, 0, vsString("CompanyName", "Contoso Ltd."))
	sfi := vsNode("StringFileInfo", 1, nil, 0, de, en)
	block := vsNode("VS_VERSION_INFO", 0, make([]byte, 52), 52, sfi)
	vi, ok, err := ReadVersionInfo("x.dll", bytes.NewReader(buildPE(block)))
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, "Contoso Ltd.", vi.Company)
}

func TestReadVersionInfoWithoutResource(t *testing.T) {
	vi, ok, err := ReadVersionInfo("plain.exe", bytes.NewReader(buildPE(nil)))
	require.NoError(t, err)
	assert.False(t, ok)
	assert.Equal(t, VersionInfo{}, vi)
}

func TestReadVersionInfoErrorsNameFileAndOffset(t *testing.T) {
	img := buildPE(versionBlock([]string{"040904b0"}, testStrings...))
	// The VS_VERSIONINFO starts 88 bytes into .rsrc (file offset 0x200):
	// claim a length beyond the block.
	at := 0x200 + 88
	binary.LittleEndian.PutUint16(img[at:], 0xfff0)
	_, _, err := ReadVersionInfo(`C:\bad.exe`, bytes.NewReader(img))
	var fe *FormatError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, `C:\bad.exe`, fe.File)
	assert.Equal(t, int64(at), fe.Offset)
	assert.Contains(t, err.Error(), `C:\bad.exe: offset 0x258: version node length 65520`)

	_, _, err = ReadVersionInfo("empty.exe", bytes.NewReader(nil))
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "empty.exe", fe.File)
}

// realPEs looks for Windows images that happen to be on this machine (tool
// test data, Python launchers, the module cache's testdata).
func realPEs(t *testing.T) []string {
	roots := []string{"/usr/lib", "/usr/share"}
	if out, err := exec.Command("go", "env", "GOMODCACHE", "GOROOT").Output(); err == nil {
		roots = append(roots, strings.Fields(string(out))...)
	}
	var found []string
	for _, root := range roots {
		_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || len(found) >= 50 {
				return nil
			}
			ext := strings.ToLower(filepath.Ext(p))
			if !d.IsDir() && (ext == ".exe" || ext == ".dll") {
				found = append(found, p)
			}
			return nil
		})
	}
	return found
}

func TestReadVersionInfoRealPEs(t *testing.T) {
	files := realPEs(t)
	if len(files) == 0 {
		t.Skip("no *.exe or *.dll on this machine")
	}
	withInfo := 0
	for _, p := range files {
		f, err := os.Open(p)
		require.NoError(t, err)
		vi, ok, err := ReadVersionInfo(p, f)
		f.Close()
		if err != nil {
			// Not every *.exe is a PE (test inputs, scripts): it must then
			// be a clear error naming the file, never a panic.
			assert.Contains(t, err.Error(), p)
			continue
		}
		if ok {
			withInfo++
			t.Logf("%s: %+v", p, vi)
			assert.True(t, vi.FileVersion != "" || vi.Company != "" || vi.OriginalFileName != "", p)
		}
		if filepath.Base(p) == "dmdskres.dll" {
			require.True(t, ok)
			assert.Equal(t, "Microsoft Corporation", vi.Company)
			// Checked against `strings -el dmdskres.dll`: the file is a renamed
			// wkscli.dll.
			assert.Equal(t, "WKSCLI.DLL", vi.OriginalFileName)
			assert.Equal(t, "10.0.19041.546 (WinBuild.160101.0800)", vi.FileVersion)
		}
	}
	t.Logf("%d images, %d with a version resource", len(files), withInfo)
}

func FuzzVersionInfo(f *testing.F) {
	block := versionBlock([]string{"040904b0"}, testStrings...)
	f.Add(buildPE(block))
	f.Add(buildPE(nil))
	f.Add(block)
	f.Fuzz(func(t *testing.T, b []byte) {
		// Both entry points: a whole image, and a bare VS_VERSIONINFO (the
		// part a hostile resource controls entirely).
		vi, ok, err := ReadVersionInfo("fuzz.exe", bytes.NewReader(b))
		if err != nil {
			if ok || !strings.HasPrefix(err.Error(), "fuzz.exe") {
				t.Fatalf("error %v with ok=%v", err, ok)
			}
		} else if !ok && vi != (VersionInfo{}) {
			t.Fatalf("no resource but %+v", vi)
		}
		_, _ = parseVersionBlock(b)
	})
}

// TestReadVersionInfoHugeSectionClaim: a header claiming a 4 GB resource
// section costs what the file holds, not what the header says.
func TestReadVersionInfoHugeSectionClaim(t *testing.T) {
	img := buildPE(versionBlock([]string{"040904b0"}, testStrings...))
	const sectionHeader = 0x40 + 4 + 20 + 240
	binary.LittleEndian.PutUint32(img[sectionHeader+8:], 0xfffffff0)  // VirtualSize
	binary.LittleEndian.PutUint32(img[sectionHeader+16:], 0xfffffff0) // SizeOfRawData
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	vi, ok, err := ReadVersionInfo("huge.exe", bytes.NewReader(img))
	runtime.ReadMemStats(&after)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, "UPDATER.EXE", vi.OriginalFileName)
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(1<<20))
}
