//go:build windows

package etw

import (
	"errors"
	"syscall"
	"unsafe"

	"github.com/0xrawsec/golang-etw/etw"
	"golang.org/x/sys/windows"

	"github.com/edr-lab/edr/capture/raw"
	"github.com/edr-lab/edr/capture/tamper"
)

var procEnumerateTraceGuidsEx = windows.NewLazySystemDLL("advapi32.dll").NewProc("EnumerateTraceGuidsEx")

const (
	traceGuidQueryInfo      = 2    // TRACE_QUERY_INFO_CLASS TraceGuidQueryInfo
	errorWMIGUIDNotFound    = 4200 // ERROR_WMI_GUID_NOT_FOUND: no such provider registered
	errorInsufficientBuffer = 122
)

// Probe reads the state of ETW sessions for tamper.Poller: ControlTrace
// QUERY says whether the session exists (and its LoggerId), and
// EnumerateTraceGuidsEx(TraceGuidQueryInfo) whether that logger still
// enables each provider. A provider no process has registered (a
// user-mode provider whose process is not running) cannot be checked and
// counts as enabled.
type Probe struct{}

// Query implements tamper.Probe.
func (Probe) Query(session string, ids []raw.ProviderID) (tamper.State, error) {
	name, err := syscall.UTF16PtrFromString(session)
	if err != nil {
		return tamper.State{}, err
	}
	q := newProps(session)
	err = etw.ControlTrace(0, name, q, etw.EVENT_TRACE_CONTROL_QUERY)
	if errors.Is(err, etw.ERROR_WMI_INSTANCE_NOT_FOUND) {
		return tamper.State{}, nil
	}
	if err != nil {
		return tamper.State{}, err
	}
	logger := uint16(q.Wnode.Union1) // HistoricalContext: the session handle, LoggerId in its low 16 bits
	st := tamper.State{Present: true, Enabled: map[raw.ProviderID]bool{}}
	for _, id := range ids {
		on, err := enabledIn(id, logger)
		if err != nil {
			return tamper.State{}, err
		}
		st.Enabled[id] = on
	}
	return st, nil
}

func enabledIn(id raw.ProviderID, logger uint16) (bool, error) {
	g := winGUID(id)
	buf := make([]byte, 4096)
	for {
		var n uint32
		r, _, _ := procEnumerateTraceGuidsEx.Call(traceGuidQueryInfo, uintptr(unsafe.Pointer(&g)), unsafe.Sizeof(g),
			uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), uintptr(unsafe.Pointer(&n)))
		switch r {
		case 0:
		case errorInsufficientBuffer:
			if int(n) <= len(buf) {
				return false, syscall.Errno(r)
			}
			buf = make([]byte, n)
			continue
		case errorWMIGUIDNotFound:
			return true, nil
		default:
			return false, syscall.Errno(r)
		}
		on, known, err := tamper.EnabledIn(buf[:n], logger)
		return on || !known, err
	}
}

// winGUID is a text-order provider id in Windows' GUID layout.
func winGUID(id raw.ProviderID) etw.GUID {
	g := etw.GUID{Data1: uint32(id[0])<<24 | uint32(id[1])<<16 | uint32(id[2])<<8 | uint32(id[3]),
		Data2: uint16(id[4])<<8 | uint16(id[5]), Data3: uint16(id[6])<<8 | uint16(id[7])}
	copy(g.Data4[:], id[8:])
	return g
}

// Watched is what tamper.Poller should find running: each session and
// the providers this capture enabled in it.
func (c *Capture) Watched() []tamper.Want {
	var out []tamper.Want
	for _, s := range c.sessions {
		w := tamper.Want{Session: s.name}
		for _, p := range s.providers {
			id, err := raw.ParseGUID(p.GUID)
			if err != nil {
				continue // the table's GUIDs parse (they came from raw.ProviderID)
			}
			w.Providers = append(w.Providers, tamper.Provider{Name: p.Name, GUID: id})
		}
		out = append(out, w)
	}
	return out
}
