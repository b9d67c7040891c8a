package main

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// runApp runs the CLI with flags allowed after positional arguments.
func runApp(app *cli.App, args []string) error {
	return app.Run(reorderArgs(app, args))
}

// reorderArgs moves the flags a command finds after its positional
// arguments in front of them (`edr inspect REC --json` becomes
// `edr inspect --json REC`): urfave/cli v2, like the flag package, stops
// at the first positional argument and would read "--json" as a path.
// The command's own flag definitions say which flags take a value (the
// next argument moves with them); "--" still ends the flags, and what
// follows it stays positional. Commands with subcommands are walked down
// to the one that runs; an unknown command is left as is.
func reorderArgs(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	out := []string{args[0]}
	flags, cmds, rest := app.Flags, app.Commands, args[1:]
	for top := true; ; top = false {
		n := leadingFlags(flags, rest)
		if n == len(rest) || rest[n] == "--" {
			return append(out, rest...)
		}
		cmd := findCommand(cmds, rest[n])
		if cmd == nil && top { // not a command: cli reports it
			return append(out, rest...)
		}
		if cmd == nil { // the command runs: the rest are its arguments
			return append(out, interspersed(flags, rest)...)
		}
		out, rest = append(out, rest[:n+1]...), rest[n+1:]
		// cli adds a help subcommand to every command once run: whether
		// a command runs or has subcommands is told by the argument
		// after it, not by Subcommands.
		flags, cmds = cmd.Flags, cmd.Subcommands
	}
}

// leadingFlags counts the arguments that are flags (with their values)
// before the first positional argument or "--".
func leadingFlags(flags []cli.Flag, args []string) int {
	i := 0
	for i < len(args) && args[i] != "--" && isFlagArg(args[i]) {
		i += flagArgs(flags, args[i:])
	}
	return min(i, len(args))
}

// interspersed puts a leaf command's flags first and its positional
// arguments after them, each group in its original order.
func interspersed(flags []cli.Flag, args []string) []string {
	var fl, pos []string
	dashed := false // a positional argument needs "--" to stay one
	for i := 0; i < len(args); {
		a := args[i]
		switch {
		case a == "--":
			pos = append(pos, args[i+1:]...)
			for _, p := range args[i+1:] {
				dashed = dashed || isFlagArg(p)
			}
			i = len(args)
		case isFlagArg(a):
			n := min(flagArgs(flags, args[i:]), len(args)-i)
			fl = append(fl, args[i:i+n]...)
			i += n
		default:
			pos = append(pos, a)
			i++
		}
	}
	if dashed {
		fl = append(fl, "--")
	}
	return append(fl, pos...)
}

// isFlagArg tells a flag from a positional argument ("-" is stdin, a
// positional argument).
func isFlagArg(a string) bool { return len(a) > 1 && a[0] == '-' }

// flagArgs is how many arguments the flag at args[0] spans: 2 when it
// takes a value given as the next argument, else 1 (a boolean, a
// --name=value, or a flag the command does not define: parsing then
// reports it).
func flagArgs(flags []cli.Flag, args []string) int {
	name := strings.TrimLeft(args[0], "-")
	if strings.Contains(name, "=") {
		return 1
	}
	for _, f := range flags {
		for _, n := range f.Names() {
			if n != name {
				continue
			}
			if v, ok := f.(interface{ TakesValue() bool }); ok && v.TakesValue() {
				return 2
			}
			return 1
		}
	}
	return 1
}

func findCommand(cmds []*cli.Command, name string) *cli.Command {
	for _, c := range cmds {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}
