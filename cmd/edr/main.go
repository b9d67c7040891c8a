// Command edr is the one CLI of edr: flag parsing and wiring only. Each
// subcommand lives in its own file and registers itself with register, so
// adding a command never edits this file.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/edr-lab/edr/internal/termsafe"
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

// usageError makes a flag that does not parse exit 2 (usage), like every
// usage error a command finds itself.
func usageError(_ *cli.Context, err error, _ bool) error {
	return &exitError{code: 2, err: err}
}

func setUsageError(cs []*cli.Command) {
	for _, c := range cs {
		c.OnUsageError = usageError
		setUsageError(c.Subcommands)
	}
}

func newApp() *cli.App {
	sort.Slice(commands, func(i, j int) bool { return commands[i].Name < commands[j].Name })
	setUsageError(commands)
	return &cli.App{
		OnUsageError:         usageError,
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
	app := newApp()
	err := app.RunContext(ctx, reorderArgs(app, args))
	if err == nil {
		return 0
	}
	if msg := errorText(err); msg != "" {
		fmt.Fprintln(os.Stderr, msg)
	}
	return exitCode(err)
}

// printSafe renders human-readable output that quotes untrusted data
// (host, file and rule names, event fields, error messages) and writes it
// with control bytes escaped and long lines cut (termsafe).
func printSafe(w io.Writer, render func(io.Writer)) {
	var b strings.Builder
	render(&b)
	_, _ = io.WriteString(w, termsafe.Text(b.String()))
}

// errorText is how an error is printed: "edr: " and the message, with
// control bytes escaped and long lines cut (messages quote rule files,
// host and file names); "" for an exit code without a message.
func errorText(err error) string {
	if err.Error() == "" {
		return ""
	}
	return "edr: " + termsafe.Text(err.Error())
}

// exitCode is the exit code of an error: an exitError's own, cli's exit
// errors are usage (an unknown command or help topic), anything else a
// runtime failure.
func exitCode(err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	var ec cli.ExitCoder
	if errors.As(err, &ec) {
		return 2
	}
	return 1
}
