package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/urfave/cli/v2"
)

// leafCommands lists every command that runs (with its path of names),
// subcommands included, so that a new command is covered by the tests
// below without editing them.
func leafCommands(prefix []string, cmds []*cli.Command) (paths [][]string, leaves []*cli.Command) {
	for _, c := range cmds {
		p := append(append([]string{}, prefix...), c.Name)
		if len(c.Subcommands) > 0 {
			ps, ls := leafCommands(p, c.Subcommands)
			paths, leaves = append(paths, ps...), append(leaves, ls...)
			continue
		}
		paths, leaves = append(paths, p), append(leaves, c)
	}
	return paths, leaves
}

// flagSample is an argument list setting f (its first name) to a valid
// value of its type.
func flagSample(t *testing.T, f cli.Flag) []string {
	name := "--" + f.Names()[0]
	switch f.(type) {
	case *cli.BoolFlag:
		return []string{name}
	case *cli.StringFlag, *cli.StringSliceFlag, *cli.PathFlag, *cli.GenericFlag:
		return []string{name, "v"}
	case *cli.IntFlag, *cli.Int64Flag, *cli.UintFlag, *cli.Uint64Flag:
		return []string{name, "3"}
	case *cli.Float64Flag:
		return []string{name, "1.5"}
	case *cli.DurationFlag:
		return []string{name, "2s"}
	}
	if _, ok := f.(*wholeValuesFlag); ok {
		return []string{name, "alerts.match_debug=full"}
	}
	t.Errorf("no sample value for flag %s of type %T: add one", name, f)
	return nil
}

// Every flag of every command is accepted before, between and after the
// positional arguments (`edr inspect REC --json`), with its value when it
// takes one; "--" still ends the flags.
func TestFlagsAfterPositionalArgumentsInEveryCommand(t *testing.T) {
	app := newApp()
	paths, leaves := leafCommands(nil, app.Commands)
	require.NotEmpty(t, leaves)
	type seen struct {
		set  bool
		args []string
	}
	var got seen
	var flagName string
	for i, c := range leaves {
		action := c.Action
		c.Action = func(ctx *cli.Context) error {
			got = seen{set: ctx.IsSet(flagName), args: ctx.Args().Slice()}
			return nil
		}
		defer func(c *cli.Command) { c.Action = action }(c)
		cmd := strings.Join(paths[i], " ")
		for _, f := range c.Flags {
			if f.Names()[0] == "help" {
				continue
			}
			flagName = f.Names()[0]
			sample := flagSample(t, f)
			if sample == nil {
				continue
			}
			for _, tc := range [][]string{
				append([]string{"P1", "P2"}, sample...),           // after
				append(append([]string{"P1"}, sample...), "P2"),   // between
				append(append([]string{}, sample...), "P1", "P2"), // before
			} {
				got = seen{}
				args := append(append([]string{"edr"}, paths[i]...), tc...)
				err := runApp(app, args)
				require.NoError(t, err, "%s %v", cmd, tc)
				assert.True(t, got.set, "%s %v: %s not set", cmd, tc, flagName)
				assert.Equal(t, []string{"P1", "P2"}, got.args, "%s %v", cmd, tc)
			}
			// after "--", a flag is a positional argument
			got = seen{}
			args := append(append(append([]string{"edr"}, paths[i]...), "P1", "--"), sample...)
			require.NoError(t, runApp(app, args), "%s", cmd)
			assert.False(t, got.set, "%s: %s after --", cmd, flagName)
			assert.Equal(t, append([]string{"P1"}, sample...), got.args, "%s after --", cmd)
		}
	}
}

// The commands the README writes this way, run for real.
func TestInspectAndValidateWithTrailingJSONFlag(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir+"/r.yml", "title: T\nid: 11111111-1111-1111-1111-111111111111\nlogsource:\n  category: process_creation\n  product: windows\n"+
		"detection:\n  sel:\n    Image|endswith: '\\x.exe'\n  condition: sel\nlevel: high\n")
	out, code := edr(t, "rules", "validate", dir+"/r.yml", "--json")
	assert.Equal(t, 0, code, out)
	assert.Contains(t, out, `"status":"compiled"`, out)
	assert.NotContains(t, out, "--json", out)
}
