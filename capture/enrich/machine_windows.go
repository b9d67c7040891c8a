//go:build windows

package enrich

import "golang.org/x/sys/windows/registry"

// LocalMachineID reads the MachineGuid Windows generates at setup.
func LocalMachineID() (MachineID, error) {
	k, err := registry.OpenKey(registry.LOCAL_MACHINE, `SOFTWARE\Microsoft\Cryptography`, registry.QUERY_VALUE|registry.WOW64_64KEY)
	if err != nil {
		return MachineID{}, err
	}
	defer k.Close()
	s, _, err := k.GetStringValue("MachineGuid")
	if err != nil {
		return MachineID{}, err
	}
	return ParseMachineID(s)
}
