//go:build windows

package service

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/sys/windows"
	"golang.org/x/sys/windows/svc"
	"golang.org/x/sys/windows/svc/eventlog"
	"golang.org/x/sys/windows/svc/mgr"
)

// NewManager connects to the service control manager.
func NewManager() (Manager, error) { return scm{}, nil }

type scm struct{}

func (scm) with(name string, fn func(*mgr.Service) error) error {
	m, err := mgr.Connect()
	if err != nil {
		return fmt.Errorf("connecting to the service control manager: %w", err)
	}
	defer m.Disconnect()
	s, err := m.OpenService(name)
	if errors.Is(err, windows.ERROR_SERVICE_DOES_NOT_EXIST) {
		return fmt.Errorf("%s: %w", name, ErrNotInstalled)
	}
	if err != nil {
		return fmt.Errorf("opening service %s: %w", name, err)
	}
	defer s.Close()
	return fn(s)
}

func (scm) Install(name, display, exe string, args []string) error {
	m, err := mgr.Connect()
	if err != nil {
		return fmt.Errorf("connecting to the service control manager: %w", err)
	}
	defer m.Disconnect()
	if s, err := m.OpenService(name); err == nil {
		s.Close()
		return fmt.Errorf("%s: %w", name, ErrExists)
	}
	s, err := m.CreateService(name, exe, mgr.Config{DisplayName: display, StartType: mgr.StartAutomatic,
		Description: "records Windows telemetry and runs Sigma, YARA and IOC detection (edr live)"}, args...)
	if errors.Is(err, windows.ERROR_SERVICE_EXISTS) {
		return fmt.Errorf("%s: %w", name, ErrExists)
	}
	if err != nil {
		return fmt.Errorf("creating service %s: %w", name, err)
	}
	defer s.Close()
	// The service's own event source in the Application log, so that a
	// refusal to start (a writable config or rules folder) and its start
	// and stop are written under its name. A source left by an earlier
	// install is reused.
	if err := eventlog.InstallAsEventCreate(name, eventlog.Error|eventlog.Warning|eventlog.Info); err != nil &&
		!strings.Contains(err.Error(), "already exists") {
		return fmt.Errorf("registering the event log source %s: %w", name, err)
	}
	return nil
}

func (c scm) Start(name string) error {
	return c.with(name, func(s *mgr.Service) error { return s.Start() })
}

// Stop asks the service to stop and waits for it (up to the SCM's usual
// 30 s; the service drains its queues within that).
func (c scm) Stop(name string) error {
	return c.with(name, func(s *mgr.Service) error {
		st, err := s.Control(svc.Stop)
		if err != nil {
			return err
		}
		for deadline := time.Now().Add(30 * time.Second); st.State != svc.Stopped; {
			if time.Now().After(deadline) {
				return fmt.Errorf("service %s did not stop within 30 s (state %d)", name, st.State)
			}
			time.Sleep(300 * time.Millisecond)
			if st, err = s.Query(); err != nil {
				return err
			}
		}
		return nil
	})
}

func (c scm) Remove(name string) error {
	return c.with(name, func(s *mgr.Service) error {
		if err := s.Delete(); err != nil {
			return err
		}
		_ = eventlog.Remove(name) // gone already (removed by hand) is fine
		return nil
	})
}

// EventLog writes to the service's event source (Application log); it
// does nothing when the source cannot be opened (not installed).
func EventLog(level string, id uint32, msg string) {
	l, err := eventlog.Open(Name)
	if err != nil {
		return
	}
	defer l.Close()
	switch level {
	case "error":
		_ = l.Error(id, msg)
	case "warning":
		_ = l.Warning(id, msg)
	default:
		_ = l.Info(id, msg)
	}
}

func (c scm) Status(name string) (State, error) {
	var out State
	err := c.with(name, func(s *mgr.Service) error {
		st, err := s.Query()
		if err != nil {
			return err
		}
		out = fromSvc(st.State)
		return nil
	})
	return out, err
}

func fromSvc(s svc.State) State {
	switch s {
	case svc.StartPending:
		return StartPending
	case svc.Running:
		return Running
	case svc.StopPending:
		return StopPending
	}
	return Stopped
}

// ToSvc maps the state machine's state to what is reported to the SCM.
func ToSvc(s State) svc.Status {
	switch s {
	case StartPending:
		return svc.Status{State: svc.StartPending}
	case Running:
		return svc.Status{State: svc.Running, Accepts: svc.AcceptStop | svc.AcceptShutdown}
	case StopPending:
		return svc.Status{State: svc.StopPending, WaitHint: 30000}
	}
	return svc.Status{State: svc.Stopped}
}
