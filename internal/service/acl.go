package service

import (
	"fmt"
	"strings"
)

// Well-known SIDs of the ACL model.
const (
	SIDSystem           = "S-1-5-18"
	SIDAdministrators   = "S-1-5-32-544"
	SIDTrustedInstaller = "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464"
	SIDEveryone         = "S-1-1-0"
	SIDAuthenticated    = "S-1-5-11"
	SIDUsers            = "S-1-5-32-545"
	SIDCreatorOwner     = "S-1-3-0"
)

// Access rights that let a principal change a file or folder, its content
// or who may change it (FILE_WRITE_DATA/ADD_FILE, FILE_APPEND_DATA/
// ADD_SUBDIRECTORY, FILE_WRITE_EA, FILE_DELETE_CHILD, DELETE, WRITE_DAC,
// WRITE_OWNER, GENERIC_ALL, GENERIC_WRITE). Reading, executing and
// attributes are not writes.
const (
	RightWriteData    = 0x2
	RightAppendData   = 0x4
	RightWriteEA      = 0x10
	RightDeleteChild  = 0x40
	RightDelete       = 0x10000
	RightWriteDAC     = 0x40000
	RightWriteOwner   = 0x80000
	RightGenericAll   = 0x10000000
	RightGenericWrite = 0x40000000
	// RightsWrite is every right above.
	RightsWrite = RightWriteData | RightAppendData | RightWriteEA | RightDeleteChild | RightDelete | RightWriteDAC |
		RightWriteOwner | RightGenericAll | RightGenericWrite
	// RightsRead is read and execute (FILE_GENERIC_READ | FILE_GENERIC_EXECUTE).
	RightsRead = 0x1200a9
	// RightsFull is FILE_ALL_ACCESS.
	RightsFull = 0x1f01ff
)

// ACEType is an access control entry's kind.
type ACEType uint8

const (
	Allow ACEType = iota
	Deny
)

// ACE is one entry of a DACL, in the model.
type ACE struct {
	Type ACEType
	SID  string
	Mask uint32
	// InheritOnly entries apply to children only, not to the object.
	InheritOnly bool
	// Inherit makes the entry apply to files and folders below (OI|CI).
	Inherit bool
}

// Descriptor is a file's or folder's owner and DACL, in the model. A nil
// DACL with NullDACL set grants everyone everything (Windows' null DACL);
// an empty DACL grants nothing.
type Descriptor struct {
	Owner    string
	DACL     []ACE
	NullDACL bool
}

// Finding is one principal that may write a path although it is neither
// SYSTEM, Administrators nor TrustedInstaller.
type Finding struct {
	SID    string
	Rights uint32 // the write rights it holds (0 for an owner)
	Why    string
}

func (f Finding) String() string {
	if f.Rights == 0 {
		return fmt.Sprintf("%s (%s)", f.SID, f.Why)
	}
	return fmt.Sprintf("%s (%s, rights 0x%x)", f.SID, f.Why, f.Rights)
}

// Trusted reports the principals allowed to write edr's files.
func Trusted(sid string) bool {
	return sid == SIDSystem || sid == SIDAdministrators || sid == SIDTrustedInstaller
}

// WritableByOthers lists who else may write: an untrusted owner (an owner
// may always rewrite the DACL), a null DACL (everyone), and every untrusted
// principal an allow entry grants a write right that no earlier deny entry
// (for it or for Everyone) takes away, in DACL order as Windows evaluates
// it. Entries that only children inherit, and CREATOR OWNER (replaced on
// inheritance), do not apply to the object.
func (d Descriptor) WritableByOthers() []Finding {
	var out []Finding
	if d.Owner == "" || !Trusted(d.Owner) {
		out = append(out, Finding{SID: d.Owner, Why: "owner: may change the DACL"})
	}
	if d.NullDACL {
		return append(out, Finding{SID: SIDEveryone, Rights: RightsFull, Why: "no DACL: everyone has full access"})
	}
	seen := map[string]bool{}
	for _, a := range d.DACL {
		if a.Type != Allow || a.InheritOnly || Trusted(a.SID) || a.SID == SIDCreatorOwner || seen[a.SID] {
			continue
		}
		seen[a.SID] = true
		if g := d.granted(a.SID) & RightsWrite; g != 0 {
			out = append(out, Finding{SID: a.SID, Rights: g, Why: "allowed to write"})
		}
	}
	return out
}

// granted is the rights the DACL grants sid, deny entries first come first
// as in Windows' ordered evaluation.
func (d Descriptor) granted(sid string) uint32 {
	var denied, granted uint32
	for _, a := range d.DACL {
		if a.InheritOnly || a.SID != sid && a.SID != SIDEveryone {
			continue
		}
		if a.Type == Deny {
			denied |= a.Mask &^ granted
		} else {
			granted |= a.Mask &^ denied
		}
	}
	return granted
}

// Guard is the descriptor service install gives the config file and the
// rules, recordings, alerts and logs folders: owned by Administrators,
// inheritance from the parent cut, full control for SYSTEM and
// Administrators, read and execute for authenticated users.
func Guard() Descriptor {
	return Descriptor{Owner: SIDAdministrators, DACL: []ACE{
		{Type: Allow, SID: SIDSystem, Mask: RightsFull, Inherit: true},
		{Type: Allow, SID: SIDAdministrators, Mask: RightsFull, Inherit: true},
		{Type: Allow, SID: SIDAuthenticated, Mask: RightsRead, Inherit: true},
	}}
}

// GuardError says which guarded paths others may write.
type GuardError struct {
	Path     string
	Findings []Finding
}

func (e *GuardError) Error() string {
	parts := make([]string, len(e.Findings))
	for i, f := range e.Findings {
		parts[i] = f.String()
	}
	return fmt.Sprintf("%s is writable by others than SYSTEM and Administrators: %s (run edr service install again, or fix its ACL): refusing to run, since that would let them blind or steer the EDR",
		e.Path, strings.Join(parts, "; "))
}

// SecurityReader reads a path's descriptor (Windows: GetNamedSecurityInfo).
type SecurityReader interface {
	Read(path string) (Descriptor, error)
}

// CheckGuarded refuses (a *GuardError, or the read error naming the path)
// when any path is writable by others.
func CheckGuarded(r SecurityReader, paths []string) error {
	for _, p := range paths {
		d, err := r.Read(p)
		if err != nil {
			return fmt.Errorf("reading the ACL of %s: %w", p, err)
		}
		if f := d.WritableByOthers(); len(f) > 0 {
			return &GuardError{Path: p, Findings: f}
		}
	}
	return nil
}
