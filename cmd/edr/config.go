package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/edr-lab/edr/config"
	"github.com/urfave/cli/v2"
)

// configFlags are the flags every command that reads the configuration
// takes: the file and generic overrides (highest precedence).
func configFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "config", Usage: "config file (TOML; default: ./" + config.DefaultFile + " when present)"},
		&wholeValuesFlag{cli.StringSliceFlag{Name: "set", Usage: "override a key: section.key=value (repeatable; lists as JSON arrays)"}},
	}
}

// wholeValuesFlag is a repeatable string flag that keeps each value whole:
// cli.StringSliceFlag splits values at commas, which breaks
// --set 'allowlist.paths=["C:\\A\\","D:\\B\\"]' and
// --set logging.filter=warn,recording=debug. The separator can only be
// switched off for a whole app, where other flags (--host a,b) rely on it.
// Apply makes a fresh value on every parse, so in-process runs (tests) do not
// accumulate values; read it with c.Value(name).([]string).
type wholeValuesFlag struct{ cli.StringSliceFlag }

func (f *wholeValuesFlag) Apply(set *flag.FlagSet) error {
	v := &wholeValues{}
	for _, name := range f.Names() {
		set.Var(v, name, f.Usage)
	}
	return nil
}

type wholeValues []string

func (v *wholeValues) Set(s string) error { *v = append(*v, s); return nil }
func (v *wholeValues) String() string     { return strings.Join(*v, " ") }
func (v *wholeValues) Get() any           { return []string(*v) }

// setValues returns the --set values of c, each whole.
func setValues(c *cli.Context) []string {
	v, _ := c.Value("set").([]string)
	return v
}

// configPath is the config file a command reads: --config, else the one
// config.Find finds ("" when none).
func configPath(c *cli.Context) string {
	if c.IsSet("config") {
		return c.String("config")
	}
	return config.Find()
}

// loadConfig builds the effective configuration of a command: defaults,
// the config file, EDR__ environment variables, then --set overrides and
// the command's own flags (flagKeys maps a flag name to its config key;
// only flags given on the command line apply).
func loadConfig(c *cli.Context, flagKeys map[string]string) (*config.Config, error) {
	cfg, err := config.Load(configPath(c), os.Environ())
	if err != nil {
		return nil, err
	}
	for _, kv := range setValues(c) {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("--set %s: want section.key=value", kv)
		}
		if err := cfg.SetFlag(strings.TrimSpace(k), v, "--set "+strings.TrimSpace(k)); err != nil {
			return nil, err
		}
	}
	// Command flags beat --set: apply them in the command's flag order.
	for _, f := range c.Command.Flags {
		name := f.Names()[0]
		key, ok := flagKeys[name]
		if !ok || !c.IsSet(name) {
			continue
		}
		if err := cfg.SetFlag(key, fmt.Sprint(c.Value(name)), "--"+name); err != nil {
			return nil, err
		}
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

func init() {
	register(&cli.Command{
		Name:  "config",
		Usage: "show the effective configuration or print the example config file",
		Subcommands: []*cli.Command{
			{
				Name:  "show",
				Usage: "print the effective configuration and where each value came from (default, file, env, flag, inherited)",
				Description: "Precedence: flags (--set) > EDR__SECTION__KEY environment variables > the config file > defaults.\n" +
					"The text output is itself a valid config file. Exit code 2 when the configuration is invalid.",
				Flags: append(configFlags(), &cli.BoolFlag{Name: "json", Usage: "one JSON object: {section: {key: {value, source, where}}}"}),
				Action: func(c *cli.Context) error {
					if c.NArg() > 0 {
						return exitf(2, "config show: unexpected argument %q", c.Args().First())
					}
					cfg, err := loadConfig(c, nil)
					if err != nil {
						return exitf(2, "%v", err)
					}
					if c.Bool("json") {
						b, err := cfg.ShowJSON()
						if err != nil {
							return exitf(1, "config show: %v", err)
						}
						_, err = fmt.Fprintf(c.App.Writer, "%s\n", b)
						return err
					}
					_, err = fmt.Fprint(c.App.Writer, cfg.Show())
					return err
				},
			},
			{
				Name:  "example",
				Usage: "print the commented config file with every default (the repository's config.toml)",
				Action: func(c *cli.Context) error {
					_, err := fmt.Fprint(c.App.Writer, config.ExampleTOML())
					return err
				},
			},
		},
	})
}
