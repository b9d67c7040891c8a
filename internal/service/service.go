// Package service holds the portable parts of edr's Windows service: the
// command line the service control manager runs, config path resolution,
// the service state machine, and the ACL model that decides whether a path
// is writable by anyone but SYSTEM and Administrators. The Windows calls
// (golang.org/x/sys/windows/svc and svc/mgr, GetNamedSecurityInfo) are in
// the //go:build windows files, behind the Manager and SecurityReader
// interfaces.
package service

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Name is the service's name; DisplayName what services.msc shows.
const (
	Name        = "edr"
	DisplayName = "edr live detection and recording"
)

// Errors of a Manager.
var (
	ErrExists       = errors.New("service already installed (edr service uninstall first)")
	ErrNotInstalled = errors.New("service not installed (edr service install --config FILE first)")
	ErrUnsupported  = errors.New("the edr service runs only on Windows (on this OS run edr live in the foreground)")
)

// Manager is the service control manager (Windows: svc/mgr).
type Manager interface {
	Install(name, display, exe string, args []string) error
	Start(name string) error
	Stop(name string) error
	Remove(name string) error
	Status(name string) (State, error)
}

// ResolveConfig makes the service's config path absolute against cwd (the
// service runs from another directory) and checks that it is a file.
func ResolveConfig(path, cwd string) (string, error) {
	if path == "" {
		return "", errors.New("service install needs --config FILE (the service reads no config from its working directory)")
	}
	if !filepath.IsAbs(path) {
		if !filepath.IsAbs(cwd) {
			return "", fmt.Errorf("working directory %q is not absolute", cwd)
		}
		path = filepath.Join(cwd, path)
	}
	path = filepath.Clean(path)
	fi, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("config %s: %w", path, err)
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("config %s: not a regular file", path)
	}
	return path, nil
}

// Args is the command line the service control manager runs after the
// executable: edr service run --config ABS.
func Args(configAbs string) []string {
	return []string{"service", "run", "--config", configAbs}
}

// State is a service's state as the control manager knows it.
type State uint8

const (
	Stopped State = iota
	StartPending
	Running
	StopPending
)

var stateNames = [...]string{"stopped", "start pending", "running", "stop pending"}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "unknown"
}

// Event moves the state machine.
type Event uint8

const (
	EvStart   Event = iota // the manager asks to start
	EvStarted              // live is up: sources and sinks open
	EvStop                 // the manager asks to stop (or shutdown)
	EvExited               // live returned (drained, or failed)
)

var eventNames = [...]string{"start", "started", "stop", "exited"}

func (e Event) String() string {
	if int(e) < len(eventNames) {
		return eventNames[e]
	}
	return "event?"
}

// Next is the state after e, or an error for a transition the service
// never makes (e.g. started while stopped).
func (s State) Next(e Event) (State, error) {
	switch {
	case s == Stopped && e == EvStart:
		return StartPending, nil
	case s == StartPending && e == EvStarted:
		return Running, nil
	case (s == StartPending || s == Running || s == StopPending) && e == EvStop:
		return StopPending, nil
	case s != Stopped && e == EvExited:
		return Stopped, nil
	}
	return s, fmt.Errorf("service: %s while %s", e, s)
}

// AcceptsStop reports whether the manager may send a stop now (Windows:
// svc.AcceptStop|AcceptShutdown in the reported status).
func (s State) AcceptsStop() bool { return s == Running || s == StartPending }
