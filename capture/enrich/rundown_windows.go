//go:build windows

package enrich

import (
	"errors"
	"unsafe"

	"golang.org/x/sys/windows"
)

// RunningProcesses lists the processes running now (Toolhelp snapshot) for
// Seed, when no ETW rundown is at hand. Command lines are not included (they
// live in each process's memory; the Kernel-Process rundown carries them).
// A process that cannot be opened (protected, or gone) is listed with what
// the snapshot has: PID, parent and the executable's base name.
func RunningProcesses() ([]RunningProcess, error) {
	snap, err := windows.CreateToolhelp32Snapshot(windows.TH32CS_SNAPPROCESS, 0)
	if err != nil {
		return nil, err
	}
	defer windows.CloseHandle(snap)
	var out []RunningProcess
	var pe windows.ProcessEntry32
	pe.Size = uint32(unsafe.Sizeof(pe))
	for err = windows.Process32First(snap, &pe); err == nil; err = windows.Process32Next(snap, &pe) {
		p := RunningProcess{PID: pe.ProcessID, ParentPID: pe.ParentProcessID, Image: windows.UTF16ToString(pe.ExeFile[:])}
		describe(&p)
		out = append(out, p)
	}
	if !errors.Is(err, windows.ERROR_NO_MORE_FILES) {
		return out, err
	}
	return out, nil
}

// describe adds the full image path, start time and user of p where the
// process can be opened.
func describe(p *RunningProcess) {
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, p.PID)
	if err != nil {
		return
	}
	defer windows.CloseHandle(h)
	buf := make([]uint16, windows.MAX_LONG_PATH)
	n := uint32(len(buf))
	if windows.QueryFullProcessImageName(h, 0, &buf[0], &n) == nil {
		p.Image = windows.UTF16ToString(buf[:n])
	}
	var created, exited, kernel, user windows.Filetime
	if windows.GetProcessTimes(h, &created, &exited, &kernel, &user) == nil {
		p.Start = created.Nanoseconds()
	}
	var tok windows.Token
	if windows.OpenProcessToken(h, windows.TOKEN_QUERY, &tok) == nil {
		if tu, err := tok.GetTokenUser(); err == nil {
			p.User = tu.User.Sid.String()
		}
		tok.Close()
	}
}
