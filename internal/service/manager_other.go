//go:build !windows

package service

// NewManager returns the platform's service control manager: outside
// Windows there is none.
func NewManager() (Manager, error) { return nil, ErrUnsupported }

// NewSecurityReader returns the platform's ACL reader: outside Windows
// there is none.
func NewSecurityReader() (SecurityReader, error) { return nil, ErrUnsupported }

// ApplyGuard gives path the Guard descriptor (Windows only).
func ApplyGuard(string) error { return ErrUnsupported }
