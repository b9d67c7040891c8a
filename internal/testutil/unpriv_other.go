//go:build !unix

package testutil

import "testing"

// Unprivileged is true where permission bits are not Unix's: the caller
// skips (see unpriv_unix.go).
func Unprivileged(t *testing.T) bool {
	t.Skip("permission-error tests need Unix permissions")
	return false
}
