// Command edr is the one CLI of edr: flag parsing and wiring only. Each
// subcommand lives in its own file and registers itself with register, so
// adding a command never edits this file.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"

	"github.com/urfave/cli/v2"
)

var commands []*cli.Command

// register adds a subcommand; called from init functions of the command files.
func register(c *cli.Command) { commands = append(commands, c) }

// exitError carries a process exit code out of a command's Action.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// exitf returns an error that makes edr exit with code after printing msg.
func exitf(code int, format string, args ...any) error {
	return &exitError{code: code, err: fmt.Errorf(format, args...)}
}

func newApp() *cli.App {
	sort.Slice(commands, func(i, j int) bool { return commands[i].Name < commands[j].Name })
	return &cli.App{
		Name:                 "edr",
		Usage:                "record-and-replay detection lab for Windows telemetry",
		Commands:             commands,
		Flags:                profileFlags,
		Before:               startProfiles,
		After:                stopProfiles,
		EnableBashCompletion: true,
		HideHelpCommand:      true,
		ExitErrHandler:       func(*cli.Context, error) {}, // main decides the exit code
	}
}

func main() {
	os.Exit(run(os.Args))
}

func run(args []string) int { return runContext(context.Background(), args) }

// runContext runs edr with a context (the Windows service cancels it on a
// stop request).
func runContext(ctx context.Context, args []string) int {
	err := newApp().RunContext(ctx, args)
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil && ee.err.Error() != "" {
			fmt.Fprintln(os.Stderr, "edr:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(os.Stderr, "edr:", err)
	return 1
}
