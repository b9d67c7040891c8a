//go:build !windows

package main

import (
	"github.com/edr-lab/edr/internal/service"
	"github.com/urfave/cli/v2"
)

func serviceRun(*cli.Context) error { return exitf(2, "service run: %v", service.ErrUnsupported) }
