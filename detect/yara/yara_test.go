//go:build cgo && !noyara

package yara

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const marker = "EDR-YARA-DEMO-MARKER-7f3a"

func compileTestdata(t *testing.T, dirs ...string) *Rules {
	t.Helper()
	r, errs := Compile(dirs, CompileOptions{})
	require.Empty(t, errs)
	require.NotNil(t, r)
	return r
}

func TestCompileDirectoryRecursively(t *testing.T) {
	r := compileTestdata(t, "testdata/rules")
	assert.Equal(t, []string{"testdata/rules/example.yar", "testdata/rules/sub/externals.yara"}, r.Files())
	assert.Equal(t, 2, r.NumRules())
}

func TestBadFilesAreNamedErrorsOthersCompile(t *testing.T) {
	r, errs := Compile([]string{"testdata/rules", "testdata/bad", "testdata/absent.yar"}, CompileOptions{})
	require.NotNil(t, r)
	require.Len(t, errs, 4, "%v", errs)
	assert.ErrorIs(t, errs[0], os.ErrNotExist)
	bad := map[string]*FileError{}
	for _, e := range errs[1:] {
		var fe *FileError
		require.True(t, errors.As(e, &fe), "%v", e)
		bad[filepath.Base(fe.File)] = fe
	}
	require.Contains(t, bad, "broken.yar")
	assert.Contains(t, bad["broken.yar"].Error(), "undefined_identifier")
	assert.Equal(t, 6, bad["broken.yar"].Line)
	require.Contains(t, bad, "dup.yar", "a rule name used by an earlier file")
	assert.Contains(t, bad["dup.yar"].Error(), "ExampleMarkerString")
	require.Contains(t, bad, "module.yar")
	assert.Contains(t, bad["module.yar"].Error(), "nosuchmodule")
	assert.Equal(t, 3, r.NumRules(), "example, externals and zgood compile")
	assert.Contains(t, r.Files(), "testdata/bad/zgood.yar")
}

func TestScanBytesReportsRuleTagsMetaStrings(t *testing.T) {
	s, err := NewScanner(compileTestdata(t, "testdata/rules"), ScannerOptions{SnippetBytes: 10})
	require.NoError(t, err)
	defer s.Close()
	data := []byte("MZ\x90\x00 padding " + marker + " and again " + marker)
	m, err := s.ScanBytes(context.Background(), data, Externals{})
	require.NoError(t, err)
	require.Len(t, m, 1)
	assert.Equal(t, "ExampleMarkerString", m[0].Rule)
	assert.Equal(t, "default", m[0].Namespace)
	assert.Equal(t, []string{"demo", "test"}, m[0].Tags)
	assert.Equal(t, []Meta{{"description", "edr demo marker"}, {"score", int64(80)}, {"private_flag", false}}, m[0].Meta)
	require.Len(t, m[0].Strings, 3)
	first := bytes.Index(data, []byte(marker))
	second := bytes.LastIndex(data, []byte(marker))
	assert.Equal(t, StringMatch{Name: "$marker", Offset: uint64(first), Data: []byte(marker[:10])}, m[0].Strings[0])
	assert.Equal(t, uint64(second), m[0].Strings[1].Offset)
	assert.Equal(t, "$hex", m[0].Strings[2].Name)

	none, err := s.ScanBytes(context.Background(), []byte("clean"), Externals{})
	require.NoError(t, err)
	assert.Empty(t, none)
}

func TestMaxStrings(t *testing.T) {
	s, err := NewScanner(compileTestdata(t, "testdata/rules"), ScannerOptions{MaxStrings: 1})
	require.NoError(t, err)
	defer s.Close()
	m, err := s.ScanBytes(context.Background(), []byte(marker+marker), Externals{})
	require.NoError(t, err)
	require.Len(t, m, 1)
	assert.Len(t, m[0].Strings, 1)
	s2, err := NewScanner(compileTestdata(t, "testdata/rules"), ScannerOptions{MaxStrings: -1})
	require.NoError(t, err)
	defer s2.Close()
	m, err = s2.ScanBytes(context.Background(), []byte(marker), Externals{})
	require.NoError(t, err)
	require.Len(t, m, 1)
	assert.Empty(t, m[0].Strings)
}

func TestExternalsPerScan(t *testing.T) {
	s, err := NewScanner(compileTestdata(t, "testdata/rules"), ScannerOptions{})
	require.NoError(t, err)
	defer s.Close()
	pe := []byte("MZ\x90\x00rest")
	ext := ExternalsFor(`C:\Users\a\AppData\Local\Temp\dropper.exe`, pe, "")
	assert.Equal(t, Externals{Filename: "dropper.exe", Filepath: `C:\Users\a\AppData\Local\Temp`, Extension: ".exe", Filetype: "EXE"}, ext)
	m, err := s.ScanBytes(context.Background(), pe, ext)
	require.NoError(t, err)
	require.Len(t, m, 1)
	assert.Equal(t, "ExternalsFilename", m[0].Rule)
	// The next scan on the same worker gets its own externals, not the last ones.
	m, err = s.ScanBytes(context.Background(), pe, ExternalsFor(`C:\Temp\other.exe`, pe, ""))
	require.NoError(t, err)
	assert.Empty(t, m)
}

func TestScanFileAndSizeCap(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "dropper.exe")
	require.NoError(t, os.WriteFile(p, []byte("xx"+marker), 0o644))
	s, err := NewScanner(compileTestdata(t, "testdata/rules"), ScannerOptions{MaxFileBytes: 64})
	require.NoError(t, err)
	defer s.Close()
	m, err := s.ScanFile(context.Background(), p, Externals{})
	require.NoError(t, err)
	require.Len(t, m, 1)
	require.NoError(t, os.WriteFile(p, make([]byte, 65), 0o644))
	_, err = s.ScanFile(context.Background(), p, Externals{})
	assert.ErrorIs(t, err, ErrTooLarge)
	_, err = s.ScanFile(context.Background(), filepath.Join(dir, "absent"), Externals{})
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestTimeoutIsADistinctOutcome(t *testing.T) {
	s, err := NewScanner(compileTestdata(t, "testdata/slow"), ScannerOptions{Timeout: time.Second})
	require.NoError(t, err)
	defer s.Close()
	_, err = s.ScanBytes(context.Background(), make([]byte, 1<<16), Externals{})
	assert.ErrorIs(t, err, ErrTimeout)
}

func TestBoundedPoolConcurrentScans(t *testing.T) {
	s, err := NewScanner(compileTestdata(t, "testdata/rules"), ScannerOptions{Workers: 2})
	require.NoError(t, err)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for i := 0; i < 16; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			data := []byte("clean")
			if i%2 == 0 {
				data = []byte(marker)
			}
			m, err := s.ScanBytes(context.Background(), data, Externals{})
			if err == nil && len(m) != 1-i%2 {
				err = errors.New("wrong match count")
			}
			errs <- err
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	s.Close()
}

func TestScanWaitsForContext(t *testing.T) {
	s, err := NewScanner(compileTestdata(t, "testdata/slow"), ScannerOptions{Workers: 1, Timeout: time.Second})
	require.NoError(t, err)
	defer s.Close()
	started := make(chan struct{})
	done := make(chan struct{})
	go func() {
		close(started)
		_, _ = s.ScanBytes(context.Background(), make([]byte, 1<<16), Externals{})
		close(done)
	}()
	<-started
	time.Sleep(50 * time.Millisecond) // let the slow scan take the only worker
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = s.ScanBytes(ctx, []byte(marker), Externals{})
	// Either the worker was busy (context wins) or free (scan ran); both are
	// correct, but a cancelled context must never block.
	if err != nil {
		assert.ErrorIs(t, err, context.Canceled)
	}
	<-done
}

func TestFileType(t *testing.T) {
	assert.Equal(t, "EXE", FileType([]byte("MZ\x90")))
	assert.Equal(t, "EVTX", FileType([]byte("ElfFile\x00...")))
	assert.Equal(t, "ELF", FileType([]byte("\x7fELF\x02")))
	assert.Equal(t, "", FileType([]byte("plain")))
	assert.Equal(t, "", FileType(nil))
}
