//go:build windows

package response

import (
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/windows"
)

// DefaultController returns the Windows process controller.
func DefaultController() Controller { return winController{} }

type winController struct{}

func (winController) Self() uint32 { return windows.GetCurrentProcessId() }

// Open opens the process with just the rights needed to check its identity
// and terminate it.
func (winController) Open(pid uint32) (Handle, error) {
	h, err := windows.OpenProcess(windows.PROCESS_TERMINATE|windows.PROCESS_QUERY_LIMITED_INFORMATION|windows.SYNCHRONIZE, false, pid)
	if err != nil {
		if errors.Is(err, windows.ERROR_INVALID_PARAMETER) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("OpenProcess %d: %w", pid, err)
	}
	return &winHandle{h: h, pid: pid}, nil
}

type winHandle struct {
	h   windows.Handle
	pid uint32
}

func (w *winHandle) Identity() (Identity, error) {
	var creation, exit, kernel, user windows.Filetime
	if err := windows.GetProcessTimes(w.h, &creation, &exit, &kernel, &user); err != nil {
		return Identity{}, fmt.Errorf("GetProcessTimes: %w", err)
	}
	// A process that has exited but whose handle is still open has an
	// exit time; treat it as gone.
	if ev, _ := windows.WaitForSingleObject(w.h, 0); ev == windows.WAIT_OBJECT_0 {
		return Identity{}, ErrNotFound
	}
	buf := make([]uint16, windows.MAX_LONG_PATH)
	n := uint32(len(buf))
	if err := windows.QueryFullProcessImageName(w.h, 0, &buf[0], &n); err != nil {
		return Identity{}, fmt.Errorf("QueryFullProcessImageName: %w", err)
	}
	return Identity{
		PID:   w.pid,
		Start: time.Unix(0, creation.Nanoseconds()).UTC(),
		Image: windows.UTF16ToString(buf[:n]),
	}, nil
}

func (w *winHandle) Terminate() error {
	if err := windows.TerminateProcess(w.h, 1); err != nil {
		return fmt.Errorf("TerminateProcess %d: %w", w.pid, err)
	}
	return nil
}

func (w *winHandle) Close() error { return windows.CloseHandle(w.h) }
