package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/edr-lab/edr/internal/service"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/urfave/cli/v2"
)

type fakeManager struct {
	installed map[string][]string
}

func (f *fakeManager) Install(name, display, exe string, args []string) error {
	if _, ok := f.installed[name]; ok {
		return fmt.Errorf("%s: %w", name, service.ErrExists)
	}
	f.installed[name] = append([]string{exe}, args...)
	return nil
}
func (f *fakeManager) Start(string) error                   { return nil }
func (f *fakeManager) Stop(string) error                    { return nil }
func (f *fakeManager) Remove(string) error                  { return nil }
func (f *fakeManager) Status(string) (service.State, error) { return service.Stopped, nil }

// TestServiceInstallArguments: install registers this executable with
// `service run --config ABS`, guards the config and every folder it names
// (absolute against the config's folder), and a second install is a clear
// error.
func TestServiceInstallArguments(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "edr.toml")
	m := &fakeManager{installed: map[string][]string{}}
	var guarded []string
	guard := func(p string) error { guarded = append(guarded, p); return nil }
	install := func() (string, int) {
		// A command of its own: the registered one is shared by every test.
		var out testWriter
		app := &cli.App{Writer: &out, ErrWriter: &out, Commands: []*cli.Command{{Name: "install",
			Flags: []cli.Flag{&cli.StringFlag{Name: "config"}},
			Action: func(c *cli.Context) error {
				return serviceInstall(c, func() (service.Manager, error) { return m, nil }, guard)
			}}}}
		t.Chdir(dir)
		if err := app.Run([]string{"edr", "install", "--config", "edr.toml"}); err != nil {
			return out.String() + err.Error(), 1
		}
		return out.String(), 0
	}
	require.NoError(t, os.WriteFile(cfg, []byte("[recording]\ndirectory = \"rec\"\n[alerts]\ndirectory = \"out/alerts\"\n[scanner]\nyara_enabled = false\n"), 0o644))
	out, code := install()
	require.Equal(t, 0, code, out)
	exe, err := os.Executable()
	require.NoError(t, err)
	assert.Equal(t, []string{exe, "service", "run", "--config", cfg}, m.installed[service.Name])
	assert.Equal(t, []string{cfg, filepath.Join(dir, "rules", "sigma"), filepath.Join(dir, "rules", "ioc"),
		filepath.Join(dir, "rec"), filepath.Join(dir, "out", "alerts"), filepath.Join(dir, "logs")}, guarded)
	out, code = install()
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "service already installed")
}

type testWriter struct{ b []byte }

func (w *testWriter) Write(p []byte) (int, error) { w.b = append(w.b, p...); return len(p), nil }
func (w *testWriter) String() string              { return string(w.b) }

func TestServiceNotWindows(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the service exists on Windows")
	}
	for _, sub := range []string{"install", "start", "stop", "uninstall", "status", "run"} {
		out, code := edr(t, "service", sub)
		assert.Equal(t, 2, code, sub)
		assert.Contains(t, out, "runs only on Windows", sub)
	}
}
