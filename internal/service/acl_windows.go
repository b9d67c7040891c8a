//go:build windows

package service

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/windows"
)

// NewSecurityReader reads descriptors with GetNamedSecurityInfo.
func NewSecurityReader() (SecurityReader, error) { return winReader{}, nil }

type winReader struct{}

func (winReader) Read(path string) (Descriptor, error) {
	sd, err := windows.GetNamedSecurityInfo(path, windows.SE_FILE_OBJECT, windows.OWNER_SECURITY_INFORMATION|windows.DACL_SECURITY_INFORMATION)
	if err != nil {
		return Descriptor{}, err
	}
	var d Descriptor
	if owner, _, err := sd.Owner(); err == nil && owner != nil {
		d.Owner = owner.String()
	}
	dacl, _, err := sd.DACL()
	if err != nil || dacl == nil {
		// No DACL at all: everyone has full access.
		d.NullDACL = true
		return d, nil
	}
	for i := uint32(0); i < uint32(dacl.AceCount); i++ {
		var ace *windows.ACCESS_ALLOWED_ACE
		if err := windows.GetAce(dacl, i, &ace); err != nil {
			return Descriptor{}, fmt.Errorf("ACE %d: %w", i, err)
		}
		var t ACEType
		switch ace.Header.AceType {
		case windows.ACCESS_ALLOWED_ACE_TYPE:
			t = Allow
		case windows.ACCESS_DENIED_ACE_TYPE:
			t = Deny
		default:
			continue // audit, object and callback entries: not modelled
		}
		sid := (*windows.SID)(unsafe.Pointer(&ace.SidStart))
		d.DACL = append(d.DACL, ACE{Type: t, SID: sid.String(), Mask: uint32(ace.Mask),
			InheritOnly: ace.Header.AceFlags&windows.INHERIT_ONLY_ACE != 0})
	}
	return d, nil
}

// ApplyGuard gives path the Guard descriptor: owner Administrators, a
// protected DACL (nothing inherited from the parent) with its entries.
func ApplyGuard(path string) error {
	g := Guard()
	owner, err := windows.StringToSid(g.Owner)
	if err != nil {
		return err
	}
	var entries []windows.EXPLICIT_ACCESS
	for _, a := range g.DACL {
		sid, err := windows.StringToSid(a.SID)
		if err != nil {
			return err
		}
		inherit := uint32(windows.NO_INHERITANCE)
		if a.Inherit {
			inherit = windows.SUB_CONTAINERS_AND_OBJECTS_INHERIT
		}
		mode := windows.ACCESS_MODE(windows.GRANT_ACCESS)
		if a.Type == Deny {
			mode = windows.DENY_ACCESS
		}
		entries = append(entries, windows.EXPLICIT_ACCESS{AccessPermissions: windows.ACCESS_MASK(a.Mask), AccessMode: mode, Inheritance: inherit,
			Trustee: windows.TRUSTEE{TrusteeForm: windows.TRUSTEE_IS_SID, TrusteeValue: windows.TrusteeValueFromSID(sid)}})
	}
	acl, err := windows.ACLFromEntries(entries, nil)
	if err != nil {
		return err
	}
	if err := windows.SetNamedSecurityInfo(path, windows.SE_FILE_OBJECT,
		windows.OWNER_SECURITY_INFORMATION|windows.DACL_SECURITY_INFORMATION|windows.PROTECTED_DACL_SECURITY_INFORMATION, owner, nil, acl, nil); err != nil {
		return fmt.Errorf("setting the ACL of %s: %w", path, err)
	}
	return nil
}
