//go:build windows

package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/edr-lab/edr/config"
	"github.com/edr-lab/edr/internal/service"
	"github.com/urfave/cli/v2"
	"golang.org/x/sys/windows/svc"
)

// serviceRun is what the service control manager starts: it checks that
// nobody but SYSTEM and Administrators can write the config and the rules,
// then runs edr live from the config's folder, reporting its state.
func serviceRun(c *cli.Context) error {
	cfg := c.String("config")
	if !filepath.IsAbs(cfg) {
		return exitf(2, "service run: --config must be absolute (edr service install makes it so)")
	}
	if err := os.Chdir(filepath.Dir(cfg)); err != nil {
		return exitf(1, "service run: %v", err)
	}
	conf, err := config.Load(cfg, os.Environ())
	if err != nil {
		return exitf(2, "service run: %v", err)
	}
	r, err := service.NewSecurityReader()
	if err != nil {
		return exitf(1, "service run: %v", err)
	}
	if err := service.CheckGuarded(r, append([]string{cfg}, serviceRulePaths(conf, cfg)...)); err != nil {
		// The SCM records the exit in the System event log; the file log
		// (logging.directory) gets the reason.
		logRefusal(conf, err)
		return exitf(1, "service run: %v", err)
	}
	code := uint32(0)
	err = svc.Run(service.Name, &handler{config: cfg, code: &code})
	if err != nil {
		return exitf(1, "service run: %v", err)
	}
	if code != 0 {
		return exitf(int(code), "")
	}
	return nil
}

func logRefusal(conf *config.Config, err error) {
	service.EventLog("error", eventRefused, "edr service refused to start: "+err.Error())
	if conf.Logging.Directory == "" {
		return
	}
	f, ferr := os.OpenFile(filepath.Join(conf.Logging.Directory, "edr-service-refused.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if ferr != nil {
		return
	}
	defer f.Close()
	fmt.Fprintf(f, "%v\n", err)
}

// Event ids of the service's event source.
const (
	eventRefused = 1 // refused to start (guard check failed)
	eventStarted = 2
	eventStopped = 3
)

type handler struct {
	config string
	code   *uint32
}

// Execute runs edr live (with the config's logging) and follows the state
// machine: start pending, running, stop pending on Stop or Shutdown (live
// drains its queues), stopped when live returns.
func (h *handler) Execute(_ []string, req <-chan svc.ChangeRequest, status chan<- svc.Status) (bool, uint32) {
	st := service.Stopped
	move := func(e service.Event) {
		if next, err := st.Next(e); err == nil {
			st = next
			status <- service.ToSvc(st)
		}
	}
	move(service.EvStart)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan int, 1)
	go func() { done <- runContext(ctx, []string{"edr", "live", "--config", h.config, "--quiet"}) }()
	move(service.EvStarted)
	service.EventLog("info", eventStarted, "edr service started: edr live --config "+h.config)
	for {
		select {
		case c := <-req:
			switch c.Cmd {
			case svc.Interrogate:
				status <- service.ToSvc(st)
			case svc.Stop, svc.Shutdown:
				move(service.EvStop)
				cancel()
			}
		case code := <-done:
			move(service.EvExited)
			level := "info"
			if code != 0 {
				level = "error"
			}
			service.EventLog(level, eventStopped, fmt.Sprintf("edr service stopped (edr live exit code %d; the file log says why)", code))
			*h.code = uint32(code)
			return code != 0, uint32(code)
		}
	}
}
