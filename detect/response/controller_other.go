//go:build !windows

package response

import "os"

// DefaultController returns the platform's process controller. Outside
// Windows edr replays and tests but does not terminate processes: Open
// fails with ErrUnsupported (counted as a failed action).
func DefaultController() Controller { return unsupported{} }

type unsupported struct{}

func (unsupported) Open(uint32) (Handle, error) { return nil, ErrUnsupported }
func (unsupported) Self() uint32                { return uint32(os.Getpid()) }
