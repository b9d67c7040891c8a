package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/edr-lab/edr/config"
	"github.com/edr-lab/edr/internal/service"
	"github.com/urfave/cli/v2"
)

func init() {
	register(&cli.Command{
		Name:  "service",
		Usage: "install and control edr live as a Windows service (Windows only)",
		Description: "install registers this executable to run `edr service run --config ABS` (the config path made\n" +
			"absolute) and gives the config file and the folders it names (rules, recordings, alerts, logs) ACLs\n" +
			"that let only SYSTEM and Administrators write. At start the service refuses to run when the config or a\n" +
			"rules folder is writable by anyone else. Installing twice or removing a missing service is an error.\n" +
			"Exit codes: 0 done, 1 error, 2 usage or not Windows.",
		Subcommands: []*cli.Command{
			{Name: "install", Usage: "register the service (needs --config FILE)", Flags: []cli.Flag{
				&cli.StringFlag{Name: "config", Usage: "the service's config file (made absolute)"}},
				Action: func(c *cli.Context) error { return serviceInstall(c, service.NewManager, service.ApplyGuard) }},
			{Name: "start", Usage: "start the service", Action: serviceControl(func(m service.Manager) error { return m.Start(service.Name) })},
			{Name: "stop", Usage: "stop the service and wait for it (it drains its queues first)", Action: serviceControl(func(m service.Manager) error { return m.Stop(service.Name) })},
			{Name: "uninstall", Usage: "remove the service (files stay)", Action: serviceControl(func(m service.Manager) error { return m.Remove(service.Name) })},
			{Name: "status", Usage: "print the service's state", Action: func(c *cli.Context) error {
				m, err := service.NewManager()
				if err != nil {
					return exitf(2, "service status: %v", err)
				}
				st, err := m.Status(service.Name)
				if err != nil {
					return exitf(1, "service status: %v", err)
				}
				_, err = fmt.Fprintf(c.App.Writer, "%s: %s\n", service.Name, st)
				return err
			}},
			{Name: "run", Usage: "run as the service (the service control manager starts this)", Hidden: true, Flags: []cli.Flag{
				&cli.StringFlag{Name: "config", Usage: "the service's config file"}},
				Action: serviceRun},
		},
	})
}

func serviceControl(fn func(service.Manager) error) cli.ActionFunc {
	return func(c *cli.Context) error {
		m, err := service.NewManager()
		if err != nil {
			return exitf(2, "service %s: %v", c.Command.Name, err)
		}
		if err := fn(m); err != nil {
			return exitf(1, "service %s: %v", c.Command.Name, err)
		}
		return nil
	}
}

// serviceInstall resolves the config to an absolute path, guards the config
// and the folders it names, and registers the service.
func serviceInstall(c *cli.Context, newManager func() (service.Manager, error), guard func(string) error) error {
	m, err := newManager()
	if err != nil {
		return exitf(2, "service install: %v", err)
	}
	cwd, err := os.Getwd()
	if err != nil {
		return exitf(1, "service install: %v", err)
	}
	cfgPath, err := service.ResolveConfig(c.String("config"), cwd)
	if err != nil {
		return exitf(2, "service install: %v", err)
	}
	conf, err := config.Load(cfgPath, nil)
	if err != nil {
		return exitf(2, "service install: %v", err)
	}
	exe, err := os.Executable()
	if err != nil {
		return exitf(1, "service install: %v", err)
	}
	if exe, err = filepath.Abs(exe); err != nil {
		return exitf(1, "service install: %v", err)
	}
	for _, p := range append([]string{cfgPath}, append(serviceRulePaths(conf, cfgPath), serviceOutputDirs(conf, cfgPath)...)...) {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return exitf(1, "service install: %v", err)
		}
		if _, err := os.Stat(p); errors.Is(err, os.ErrNotExist) {
			if err := os.MkdirAll(p, 0o755); err != nil {
				return exitf(1, "service install: %v", err)
			}
		}
		if err := guard(p); err != nil {
			return exitf(1, "service install: %v", err)
		}
	}
	if err := m.Install(service.Name, service.DisplayName, exe, service.Args(cfgPath)); err != nil {
		return exitf(1, "service install: %v", err)
	}
	_, err = fmt.Fprintf(c.App.Writer, "installed service %s: %s %v\n", service.Name, exe, service.Args(cfgPath))
	return err
}

// serviceRulePaths are the rule folders a config names, absolute against
// the config's folder (the service runs there).
func serviceRulePaths(conf *config.Config, cfgPath string) []string {
	var out []string
	if conf.Scanner.SigmaEnabled {
		out = append(out, conf.Scanner.SigmaRulesPath)
	}
	if conf.Scanner.YaraEnabled {
		out = append(out, conf.Scanner.YaraRulesPath)
	}
	if conf.IOC.Enabled {
		out = append(out, filepath.Dir(conf.IOC.HashesPath))
	}
	return absAgainst(out, filepath.Dir(cfgPath))
}

// serviceOutputDirs are the recordings, alerts and logs folders.
func serviceOutputDirs(conf *config.Config, cfgPath string) []string {
	return absAgainst([]string{conf.Recording.Directory, conf.Alerts.Directory, conf.Logging.Directory}, filepath.Dir(cfgPath))
}

func absAgainst(paths []string, dir string) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range paths {
		if p == "" {
			continue
		}
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		if p = filepath.Clean(p); !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}
