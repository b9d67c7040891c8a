//go:build !windows

package eventlog

import (
	"context"

	"github.com/edr-lab/edr/event"
)

// Source is the running Event Log subscriptions (Windows only; see
// eventlog_windows.go). Here it is never started.
type Source struct{}

// Start fails with ErrUnsupported outside Windows.
func Start(context.Context, Config) (*Source, error) { return nil, ErrUnsupported }

// Events is nil: nothing is delivered.
func (*Source) Events() <-chan *event.Event { return nil }

// Stats is zero.
func (*Source) Stats() Stats { return Stats{} }

// Stop does nothing.
func (*Source) Stop() error { return nil }
